/**
 * Process entry of `nextrust hook <event>` (bin/nextrust.js routes here
 * directly, without loading the rest of the CLI): reads the payload from
 * stdin, dispatches, prints, exits. One line per invocation goes to
 * `.claude/hook-logs/<YYYY-MM-DD>.log` (event, tool, exit code, ms).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dispatchHook } from './dispatcher';

/** Runs the hook for `event`, reading stdin to its end. */
export async function hookMain(event: string): Promise<number> {
  const started = Date.now();
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const stdin = Buffer.concat(chunks).toString('utf8');
  const out = await dispatchHook(event, stdin);
  if (out.stdout) process.stdout.write(out.stdout);
  if (out.stderr) process.stderr.write(out.stderr);
  try {
    const dir = path.join(process.env.CLAUDE_PROJECT_DIR ?? process.cwd(), '.claude', 'hook-logs');
    fs.mkdirSync(dir, { recursive: true });
    const tool = /"tool_name"\s*:\s*"([^"]*)"/.exec(stdin)?.[1] ?? '-';
    fs.appendFileSync(path.join(dir, `${new Date().toISOString().slice(0, 10)}.log`), `${new Date().toISOString()} ${event} ${tool} exit=${out.exitCode} ${Date.now() - started}ms\n`);
  } catch {
    // logging is best effort
  }
  return out.exitCode;
}

if (require.main === module || process.env.NEXTRUST_HOOK_MAIN === '1') {
  void hookMain(process.argv[2] ?? '').then((code) => {
    process.exitCode = code;
  });
}
