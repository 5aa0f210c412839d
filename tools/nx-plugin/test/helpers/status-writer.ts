/**
 * Test helper for status-concurrency.spec.ts: a writer process using the
 * real StatusStore. Run:
 *   node -r @swc-node/register status-writer.ts MODE DIR WRITER [COUNT] [STOP_FILE]
 *
 * Modes:
 *  - `append`: appends COUNT activities `concurrency_test` {writer, seq, message},
 *    seq 0..COUNT-1 (COUNT 0: no limit), stopping early once STOP_FILE exists;
 *    after each append has resolved it prints `recorded WRITER SEQ` (stdout to a
 *    pipe is synchronous on Linux, so a printed line was recorded even if the
 *    process is killed right after).
 *  - `hold`: takes the status lock, prints `locked`, and sleeps until killed.
 *  - `tear`: takes the status lock, writes a partial activity line (no newline,
 *    cut inside a UTF-8 character) to pipeline-log.jsonl as a writer killed
 *    mid-write leaves it, prints `torn <fragment as base64>`, and sleeps until killed.
 * It prints `ready` first (once the store module is loaded) and `done` at the end.
 * With WRITER_GO_FILE set, it waits after `ready` until that file exists, so
 * that the test can start all writers at the same moment.
 */
import * as fs from 'node:fs';
import { ACTIVITY_LOG, StatusStore } from '../../src/pipeline/status-store';

/** The partial line `tear` writes: an activity cut inside a multi-byte character. */
export function tornFragment(writer: string): Buffer {
  const whole = Buffer.from(
    JSON.stringify({
      timestamp: new Date().toISOString(),
      type: 'torn_write',
      details: { writer, message: 'größe ✓✓✓' },
    }) + '\n',
  );
  // Cut inside the second ✓ (3 bytes in UTF-8) so that the fragment is not valid UTF-8 at its end.
  const cut = whole.indexOf(Buffer.from('✓✓')) + 4;
  return whole.subarray(0, cut);
}

const say = (line: string) => process.stdout.write(line + '\n');
const sleepForever = () => new Promise<never>(() => setInterval(() => undefined, 60_000));

async function main(): Promise<void> {
  const [mode, dir, writer, countArg, stopFile] = process.argv.slice(2);
  if (!mode || !dir || !writer)
    throw new Error('usage: status-writer.ts append|hold|tear DIR WRITER [COUNT] [STOP_FILE]');
  const store = new StatusStore(dir, { lockTimeoutMs: Number(process.env.WRITER_LOCK_TIMEOUT_MS ?? 30_000) });
  say('ready');
  const go = process.env.WRITER_GO_FILE;
  while (go && !fs.existsSync(go)) await new Promise((r) => setTimeout(r, 5));
  if (mode === 'append') {
    const count = Number(countArg ?? 0);
    for (let seq = 0; (count === 0 || seq < count) && !(stopFile && fs.existsSync(stopFile)); seq++) {
      const r = await store.append('concurrency_test', { writer, seq, message: `${writer} #${seq}` });
      if (!r.recorded) throw new Error(`append ${writer} #${seq} not recorded`);
      say(`recorded ${writer} ${seq}`);
      // Looping writers pause between appends, as real ones do work in between: the lock
      // (proper-lockfile: polling, no queue) is not fair, and a writer that re-takes it at once
      // can starve the others for as long as it keeps looping.
      if (count === 0) await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
    }
  } else if (mode === 'hold') {
    await store.withLock(async () => {
      say('locked');
      await sleepForever();
    });
  } else if (mode === 'tear') {
    await store.withLock(async () => {
      const fragment = tornFragment(writer);
      fs.appendFileSync(store.file(ACTIVITY_LOG), fragment);
      say(`torn ${fragment.toString('base64')}`);
      await sleepForever();
    });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  say('done');
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`status-writer: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  });
}
