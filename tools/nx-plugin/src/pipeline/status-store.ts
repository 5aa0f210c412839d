/**
 * The pipeline's status: current phase, phase history and activities, in a
 * machine-readable log and a human-readable Markdown view of the same state.
 *
 * Files in the status directory (default `projects/ci-status`, or
 * `--status-dir` / `NEXTRUST_STATUS_DIR`):
 *  - `pipeline-log.jsonl`: activities, one JSON object per line, appended;
 *  - `pipeline-state.json`: current phase and phase history (small; replaced
 *    atomically), with its last good copy in `.last-good/`;
 *  - `pipeline-log.md`: the Markdown view, re-rendered (atomically) after
 *    every change from the state and the log's tail;
 *  - `archive/pipeline-log-YYYY-MM.jsonl`: rotated activities;
 *  - `corrupt/`: torn or invalid data moved aside, never dropped;
 *  - `.status.lock`: the lock (proper-lockfile) every writer holds.
 *
 * A status writer that re-reads and rewrites one whole JSON file on every
 * append is quadratic in the number of entries, and one that waits for its
 * lock forever hangs CI behind a killed writer. Here an append is one line
 * added under the lock (constant work: the Markdown view reads only the last
 * 64 KiB), the lock times out with a clear error, a writer killed while
 * holding it leaves a lock that goes stale after STALE_MS, and a writer killed
 * mid-line leaves a torn tail that the next writer moves to `corrupt/`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { redactDeep } from '../ai/redact';
import { ConfigError } from '../config/project-config';
import { type Phase, type PhasesFile, PHASES_FILE, phasesFileSchema } from './phases';
import { readWithLastGood } from './validated-file';

/** Default status directory, relative to the workspace root. */
export const DEFAULT_STATUS_DIR = 'projects/ci-status';
/** Activities log file name. */
export const ACTIVITY_LOG = 'pipeline-log.jsonl';
/** State file name. */
export const STATE_FILE = 'pipeline-state.json';
/** Markdown view file name. */
export const MARKDOWN_VIEW = 'pipeline-log.md';
/** Default wait for the lock before giving up (ms). */
export const DEFAULT_LOCK_TIMEOUT_MS = 15_000;
/** A lock not refreshed for this long belongs to a dead writer (ms; proper-lockfile's minimum is 2000). */
export const STALE_MS = 3_000;
/** Activities shown in the Markdown view. */
const MARKDOWN_RECENT = 25;
/** Bytes read from the end of the log for the Markdown view. */
const TAIL_BYTES = 64 * 1024;

/** Idempotency keys name files under idempotency/: no dots or slashes. */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{1,128}$/;

/** Activity type names: lowercase words joined by `_` (`build_failure`). */
export const activityTypeSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'expected a type like build_failure (lowercase, digits, _)');

/** One activity, one line of pipeline-log.jsonl. */
export const activitySchema = z
  .object({
    /** ISO 8601 UTC time it was recorded. */
    timestamp: z.string().datetime(),
    type: activityTypeSchema,
    /** Free-form data; `message` is shown in the Markdown view. */
    details: z.record(z.string(), z.unknown()),
    /** Current phase id when it was recorded. */
    phase: z.string().optional(),
    /** Idempotency key, when the writer gave one (see idempotency.ts). */
    key: z.string().optional(),
  })
  .strict();
/** One activity. */
export type Activity = z.output<typeof activitySchema>;

/** Status of a phase. */
export const phaseStatusSchema = z.enum(['in_progress', 'completed', 'failed', 'blocked']);
/** Status of a phase. */
export type PhaseStatus = z.output<typeof phaseStatusSchema>;

/** A phase as run: the `current_phase` object of `nextrust status --json`. */
export const phaseRecordSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().min(1),
    status: phaseStatusSchema,
    started_at: z.string().datetime(),
    updated_at: z.string().datetime(),
    ended_at: z.string().datetime().optional(),
    message: z.string().optional(),
  })
  .strict();
/** A phase as run. */
export type PhaseRecord = z.output<typeof phaseRecordSchema>;

/** pipeline-state.json. */
export const pipelineStateSchema = z
  .object({
    schema_version: z.literal(1),
    current_phase: phaseRecordSchema.nullable(),
    /** Earlier phases, oldest first. */
    phase_history: z.array(phaseRecordSchema),
  })
  .strict();
/** The pipeline state. */
export type PipelineState = z.output<typeof pipelineStateSchema>;

/** A problem found while reading (a torn line, a corrupt state file): reported, never hidden. */
export interface StatusWarning {
  file: string;
  line?: number;
  message: string;
}

/** Everything `nextrust status --json` prints: current phase, phase history, activities, plus warnings. */
export interface PipelineStatus extends PipelineState {
  activities: Activity[];
  warnings: StatusWarning[];
}

/** A file of the status directory that a write cannot use; thrown before anything is changed. */
export class StatusFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`status file ${file}: ${problem}; nothing was changed`);
    this.name = 'StatusFileError';
  }
}

/** Thrown by a change of the current phase when no phase is set. */
export class NoCurrentPhaseError extends Error {
  constructor() {
    super('no current phase: set one first with `nextrust set-phase <id>`');
    this.name = 'NoCurrentPhaseError';
  }
}

/** Thrown when the lock cannot be taken in time. */
export class LockTimeoutError extends Error {
  constructor(
    readonly dir: string,
    readonly timeoutMs: number,
  ) {
    super(
      `could not lock the status directory ${dir} within ${timeoutMs} ms: another nextrust process is writing it ` +
        `(a crashed writer's lock goes stale after ${STALE_MS} ms; raise the wait with NEXTRUST_LOCK_TIMEOUT_MS)`,
    );
    this.name = 'LockTimeoutError';
  }
}

/** Options of a StatusStore. */
export interface StatusStoreOptions {
  /** Wait for the lock (ms); default NEXTRUST_LOCK_TIMEOUT_MS (of `env`) or 15000. */
  lockTimeoutMs?: number;
  /** Environment read for NEXTRUST_LOCK_TIMEOUT_MS (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Clock, for tests of rotation. */
  now?: () => Date;
}

/** Result of a rotation. */
export interface RotationResult {
  /** Activities moved to the archive. */
  archived: number;
  /** Activities left in the active log. */
  kept: number;
  /** Invalid lines moved to corrupt/. */
  quarantined: number;
  /** Archive files written (relative to the status dir). */
  archiveFiles: string[];
  dryRun: boolean;
}

/** Options of a rotation (`nextrust rotate-status`; 30 days kept by default). */
export interface RotationOptions {
  /** Archive activities older than this many days (default 30). */
  maxAgeDays?: number;
  /** Then archive the oldest until the active log is at most this many bytes (default 4 MiB). */
  maxBytes?: number;
  dryRun?: boolean;
}

/**
 * Resolves the status directory: the `--status-dir` option, else
 * NEXTRUST_STATUS_DIR, else `<workspaceRoot>/projects/ci-status`.
 * @throws Error naming the option or variable when the path exists and is not a directory.
 */
export function resolveStatusDir(
  option: string | undefined,
  workspaceRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const given = option ? '--status-dir' : env.NEXTRUST_STATUS_DIR ? 'NEXTRUST_STATUS_DIR' : null;
  const dir = path.resolve(
    workspaceRoot,
    option || env.NEXTRUST_STATUS_DIR || path.join(workspaceRoot, DEFAULT_STATUS_DIR),
  );
  // A folder that does not exist yet is made by the first write; anything else must be a folder.
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir);
  } catch {
    st = undefined;
  }
  if (st && !st.isDirectory()) throw new Error(`${given ?? 'status directory'} ${dir}: not a directory`);
  return dir;
}

/** Finds the workspace root (the folder with nx.json) from `start` upwards; falls back to `start`. */
export function findWorkspaceRoot(start: string = process.cwd()): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'nx.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start);
  }
}

const EMPTY_STATE: PipelineState = { schema_version: 1, current_phase: null, phase_history: [] };

/**
 * The status directory's reader and writer. Safe for many processes at once:
 * every change happens under the directory's lock.
 */
export class StatusStore {
  readonly lockTimeoutMs: number;
  private readonly now: () => Date;

  /** @param dir the status directory (created on first write). */
  constructor(
    readonly dir: string,
    options: StatusStoreOptions = {},
  ) {
    const envTimeout = Number((options.env ?? process.env).NEXTRUST_LOCK_TIMEOUT_MS);
    this.lockTimeoutMs =
      options.lockTimeoutMs ?? (Number.isFinite(envTimeout) && envTimeout > 0 ? envTimeout : DEFAULT_LOCK_TIMEOUT_MS);
    this.now = options.now ?? (() => new Date());
  }

  /** Path of a file in the status directory. */
  file(name: string): string {
    return path.join(this.dir, name);
  }

  /**
   * Runs `fn` holding the directory's lock.
   * @throws LockTimeoutError when the lock is not free within lockTimeoutMs.
   */
  async withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    await fs.promises.mkdir(this.dir, { recursive: true });
    const stepMs = 25;
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(this.dir, {
        lockfilePath: this.file('.status.lock'),
        realpath: false,
        stale: STALE_MS,
        update: 1000,
        retries: {
          retries: Math.ceil(this.lockTimeoutMs / stepMs),
          factor: 1,
          minTimeout: stepMs,
          maxTimeout: stepMs,
          randomize: true,
        },
        onCompromised: () => {
          // Our lock was taken over as stale (this process stalled > STALE_MS): the
          // write in progress still completes atomically; nothing to undo.
        },
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOCKED') throw new LockTimeoutError(this.dir, this.lockTimeoutMs);
      throw e;
    }
    try {
      this.checkWritable();
      return await fn();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /**
   * Checks, before a write changes anything, that the files it writes can be written: the activity log, the state, the
   * Markdown view (regular files when they exist) and `.last-good/` (a folder when it exists), in a writable status
   * directory. Without this, a view that is a directory failed the command after the state had changed.
   * @throws StatusFileError naming the file and what it is.
   */
  private checkWritable(): void {
    const expect: [string, 'file' | 'folder'][] = [
      [ACTIVITY_LOG, 'file'],
      [STATE_FILE, 'file'],
      [MARKDOWN_VIEW, 'file'],
      ['.last-good', 'folder'],
      [path.join('.last-good', STATE_FILE), 'file'],
    ];
    for (const [name, kind] of expect) {
      const file = this.file(name);
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch {
        continue; // created by the write
      }
      if (kind === 'file' ? !st.isFile() : !st.isDirectory()) {
        throw new StatusFileError(
          file,
          `${st.isDirectory() ? 'a directory' : st.isFile() ? 'a regular file' : 'a special file'}, expected a ${kind === 'file' ? 'regular file' : 'folder'}`,
        );
      }
      try {
        fs.accessSync(file, fs.constants.W_OK);
      } catch {
        throw new StatusFileError(file, 'not writable');
      }
    }
    try {
      fs.accessSync(this.dir, fs.constants.W_OK);
    } catch {
      throw new StatusFileError(this.dir, 'not writable');
    }
  }

  /**
   * Appends one activity.
   * @param details free-form data (`message` is shown in the Markdown view); secrets in it are redacted.
   * @param options.key idempotency key (IDEMPOTENCY_KEY): an activity whose key was recorded is not recorded again.
   *   The key file is written after the line, so a writer killed between the two can
   *   cause a duplicate on retry, never a loss.
   * @returns whether it was recorded (false: duplicate key) and the activity.
   * @throws LockTimeoutError; ConfigError when the type is invalid.
   */
  async append(
    type: string,
    details: Record<string, unknown>,
    options: { key?: string } = {},
  ): Promise<{ recorded: boolean; activity: Activity }> {
    const typeCheck = activityTypeSchema.safeParse(type);
    if (!typeCheck.success)
      throw new ConfigError('(activity type)', `activity type '${type}': ${typeCheck.error.issues[0].message}`);
    if (options.key !== undefined && !IDEMPOTENCY_KEY.test(options.key)) {
      throw new ConfigError(
        '(idempotency key)',
        `idempotency key '${options.key}': expected 1-128 letters, digits, _ or - (it names a file)`,
      );
    }
    return this.withLock(async () => {
      const { state } = this.readStateUnlocked(true);
      // Secrets never reach the status files (see ai/redact.ts).
      const activity: Activity = { timestamp: this.now().toISOString(), type, details: redactDeep(details) };
      if (state.current_phase) activity.phase = state.current_phase.id;
      if (options.key) {
        activity.key = options.key;
        const keyFile = path.join(this.dir, 'idempotency', options.key);
        if (fs.existsSync(keyFile)) return { recorded: false, activity };
        await this.appendLine(activity);
        await fs.promises.mkdir(path.dirname(keyFile), { recursive: true });
        await fs.promises.writeFile(keyFile, activity.timestamp + '\n');
      } else {
        await this.appendLine(activity);
      }
      await this.renderMarkdown(state);
      return { recorded: true, activity };
    });
  }

  /** Appends a line to the log after moving any torn tail aside (lock held). */
  private async appendLine(activity: Activity): Promise<void> {
    const log = this.file(ACTIVITY_LOG);
    await this.repairTornTail(log);
    // One write() of one line on an O_APPEND descriptor.
    await fs.promises.appendFile(log, JSON.stringify(activity) + '\n');
  }

  /**
   * If the log does not end with a newline, a writer died mid-line: move the
   * fragment to corrupt/ and truncate the log to its last complete line.
   * @returns the fragment's size in bytes (0 when the log was whole).
   */
  async repairTornTail(log: string): Promise<number> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(log, 'r+');
    } catch {
      return 0;
    }
    try {
      const { size } = await handle.stat();
      if (size === 0) return 0;
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] === 0x0a) return 0;
      // Find the last newline, reading backwards in 64 KiB blocks.
      const block = Buffer.alloc(TAIL_BYTES);
      let end = size;
      let cut = 0;
      while (end > 0) {
        const start = Math.max(0, end - TAIL_BYTES);
        await handle.read(block, 0, end - start, start);
        const nl = block.subarray(0, end - start).lastIndexOf(0x0a);
        if (nl >= 0) {
          cut = start + nl + 1;
          break;
        }
        end = start;
      }
      const fragment = Buffer.alloc(size - cut);
      await handle.read(fragment, 0, fragment.length, cut);
      if ('activity' in parseActivityLine(fragment.toString('utf8'))) {
        // A whole activity that only lacks its newline (a writer killed between the two): keep it.
        await handle.write('\n', size);
        return 0;
      }
      await this.quarantine(ACTIVITY_LOG, fragment, 'torn');
      await handle.truncate(cut);
      return fragment.length;
    } finally {
      await handle.close();
    }
  }

  /** Saves bad data under corrupt/ with a timestamped name; returns its path. */
  private async quarantine(fromName: string, data: Buffer | string, why: string): Promise<string> {
    const dir = this.file('corrupt');
    await fs.promises.mkdir(dir, { recursive: true });
    const stamp = this.now().toISOString().replace(/[:.]/g, '-');
    const file = path.join(dir, `${fromName}.${stamp}.${process.pid}.${why}`);
    await fs.promises.appendFile(file, data);
    return file;
  }

  /**
   * Reads the state (no lock: the file is only ever replaced atomically).
   * A corrupt state file is reported and replaced by its last good copy.
   * @throws ConfigError when it is corrupt and no valid last good copy exists.
   */
  readState(): { state: PipelineState; warnings: StatusWarning[] } {
    return this.readStateUnlocked(false);
  }

  /** @param repair when true (lock held), a corrupt file is moved to corrupt/ and the last good copy restored. */
  private readStateUnlocked(repair: boolean): { state: PipelineState; warnings: StatusWarning[] } {
    const file = this.file(STATE_FILE);
    if (!fs.existsSync(file)) return { state: structuredClone(EMPTY_STATE), warnings: [] };
    try {
      // Only writers (holding the lock) refresh the last good copy: a reader that read an
      // older file must not overwrite a newer copy.
      const loaded = readWithLastGood(file, pipelineStateSchema, this.file('.last-good'), { refresh: false });
      if (!loaded.fallbackError) return { state: loaded.value, warnings: [] };
      const warnings: StatusWarning[] = [
        { file, message: `${loaded.fallbackError}; using its last good copy (.last-good/${STATE_FILE})` },
      ];
      if (repair) {
        const bad = fs.readFileSync(file);
        const stamp = this.now().toISOString().replace(/[:.]/g, '-');
        const dir = this.file('corrupt');
        fs.mkdirSync(dir, { recursive: true });
        const kept = path.join(dir, `${STATE_FILE}.${stamp}.${process.pid}.invalid`);
        fs.writeFileSync(kept, bad);
        writeFileAtomic.sync(file, JSON.stringify(loaded.value, null, 2) + '\n');
        warnings[0].message += `; the bad file was moved to ${path.relative(this.dir, kept)}`;
      }
      return { state: loaded.value, warnings };
    } catch (e) {
      if (e instanceof ConfigError)
        throw new ConfigError(
          file,
          `${e.message}\n(no last good copy to recover from: fix the file or move it away to start afresh)`,
        );
      throw e;
    }
  }

  /** Writes the state atomically and refreshes its last good copy (lock held). */
  private async writeState(state: PipelineState): Promise<void> {
    const text = JSON.stringify(pipelineStateSchema.parse(state), null, 2) + '\n';
    await writeFileAtomic(this.file(STATE_FILE), text);
    await fs.promises.mkdir(this.file('.last-good'), { recursive: true });
    await writeFileAtomic(path.join(this.file('.last-good'), STATE_FILE), text);
  }

  /**
   * Makes `phase` the current phase (the previous one goes to the history)
   * and records a `phase_started` activity.
   * @throws LockTimeoutError
   */
  async setPhase(phase: Phase, status: PhaseStatus = 'in_progress', message?: string): Promise<PipelineState> {
    return this.withLock(async () => {
      const { state } = this.readStateUnlocked(true);
      const at = this.now().toISOString();
      if (state.current_phase) {
        state.phase_history.push({ ...state.current_phase, ended_at: state.current_phase.ended_at ?? at });
      }
      state.current_phase = {
        id: phase.id,
        name: phase.name,
        status,
        started_at: at,
        updated_at: at,
        ...(message ? { message } : {}),
      };
      if (status === 'completed') state.current_phase.ended_at = at;
      await this.writeState(state);
      await this.appendLine({
        timestamp: at,
        type: 'phase_started',
        details: { phase: phase.id, status, ...(message ? { message } : {}) },
        phase: phase.id,
      });
      await this.renderMarkdown(state);
      return state;
    });
  }

  /**
   * Changes the current phase's status (e.g. completed) and records a `phase_status` activity.
   * @throws NoCurrentPhaseError when no phase is set; LockTimeoutError.
   */
  async updatePhaseStatus(status: PhaseStatus, message?: string): Promise<PipelineState> {
    return this.withLock(async () => {
      const { state } = this.readStateUnlocked(true);
      if (!state.current_phase) throw new NoCurrentPhaseError();
      const at = this.now().toISOString();
      state.current_phase = { ...state.current_phase, status, updated_at: at, ...(message ? { message } : {}) };
      if (status === 'completed' || status === 'failed') state.current_phase.ended_at = at;
      else delete state.current_phase.ended_at;
      await this.writeState(state);
      await this.appendLine({
        timestamp: at,
        type: 'phase_status',
        details: { phase: state.current_phase.id, status, ...(message ? { message } : {}) },
        phase: state.current_phase.id,
      });
      await this.renderMarkdown(state);
      return state;
    });
  }

  /**
   * Reads activities from the log as a stream (no lock: lines are appended
   * whole). Invalid lines are reported as warnings with their line numbers
   * and stay in the file; a torn last line is reported as torn.
   * @param limit keep only the last `limit` activities.
   */
  async readActivities(limit?: number): Promise<{ activities: Activity[]; warnings: StatusWarning[] }> {
    const file = this.file(ACTIVITY_LOG);
    const activities: Activity[] = [];
    const warnings: StatusWarning[] = [];
    if (!fs.existsSync(file)) return { activities, warnings };
    await forEachLine(file, (text, line, complete) => {
      const parsed = parseActivityLine(text);
      if ('error' in parsed) {
        warnings.push({
          file,
          line,
          message: complete
            ? parsed.error
            : 'torn last line (a writer died mid-write; the next append moves it to corrupt/)',
        });
        return;
      }
      activities.push(parsed.activity);
      if (limit !== undefined && activities.length > limit) activities.shift();
    });
    return { activities, warnings };
  }

  /** The whole status: state, activities (all, or the last `limit`) and warnings. */
  async status(limit?: number): Promise<PipelineStatus> {
    const { state, warnings } = this.readState();
    const read = await this.readActivities(limit);
    return { ...state, activities: read.activities, warnings: [...warnings, ...read.warnings] };
  }

  /** Loads phases.json (with last-good fallback); undefined when there is none. */
  loadPhases(): { phases?: PhasesFile; warning?: string } {
    const file = this.file(PHASES_FILE);
    if (!fs.existsSync(file) && !fs.existsSync(path.join(this.file('.last-good'), PHASES_FILE))) return {};
    const loaded = readWithLastGood(file, phasesFileSchema, this.file('.last-good'));
    return { phases: loaded.value, warning: loaded.fallbackError };
  }

  /** The last `n` valid activities (oldest first), reading only the log's last 64 KiB. */
  async tail(n: number): Promise<Activity[]> {
    const file = this.file(ACTIVITY_LOG);
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, 'r');
    } catch {
      return [];
    }
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - TAIL_BYTES);
      const buf = Buffer.alloc(size - start);
      await handle.read(buf, 0, buf.length, start);
      const lines = buf.toString('utf8').split('\n');
      if (start > 0) lines.shift(); // partial first line
      const out: Activity[] = [];
      for (let i = lines.length - 1; i >= 0 && out.length < n; i--) {
        const parsed = lines[i] ? parseActivityLine(lines[i]) : undefined;
        if (parsed && 'activity' in parsed) out.unshift(parsed.activity);
      }
      return out;
    } finally {
      await handle.close();
    }
  }

  /** Re-renders pipeline-log.md (lock held). */
  private async renderMarkdown(state: PipelineState): Promise<void> {
    let phases: PhasesFile | undefined;
    try {
      phases = this.loadPhases().phases;
    } catch {
      phases = undefined; // an invalid phases file is reported by the commands that use it
    }
    const md = renderStatusMarkdown(state, await this.tail(MARKDOWN_RECENT), phases, this.now());
    // A derived view, re-rendered on every change: atomic (rename) but not fsynced.
    await writeFileAtomic(this.file(MARKDOWN_VIEW), md, { fsync: false });
  }

  /**
   * Moves old activities to `archive/pipeline-log-YYYY-MM.jsonl` (by age, then
   * by size) and invalid lines to corrupt/; the active log is replaced atomically.
   * @throws LockTimeoutError
   */
  async rotate(options: RotationOptions = {}): Promise<RotationResult> {
    const maxAgeDays = options.maxAgeDays ?? 30;
    const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    const dryRun = options.dryRun ?? false;
    return this.withLock(async () => {
      const file = this.file(ACTIVITY_LOG);
      const result: RotationResult = { archived: 0, kept: 0, quarantined: 0, archiveFiles: [], dryRun };
      if (!fs.existsSync(file)) return result;
      if (!dryRun) await this.repairTornTail(file);
      const cutoff = this.now().getTime() - maxAgeDays * 86_400_000;
      const kept: string[] = [];
      const old: { month: string; text: string }[] = [];
      const bad: string[] = [];
      await forEachLine(file, (text, _line, complete) => {
        const parsed = parseActivityLine(text);
        if ('error' in parsed) {
          if (complete) bad.push(text);
          return;
        }
        const t = Date.parse(parsed.activity.timestamp);
        if (t < cutoff) old.push({ month: parsed.activity.timestamp.slice(0, 7), text });
        else kept.push(text);
      });
      let keptBytes = kept.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
      while (kept.length && keptBytes > maxBytes) {
        const text = kept.shift()!;
        keptBytes -= Buffer.byteLength(text) + 1;
        old.push({ month: (JSON.parse(text) as Activity).timestamp.slice(0, 7), text });
      }
      result.archived = old.length;
      result.kept = kept.length;
      result.quarantined = bad.length;
      const byMonth = new Map<string, string[]>();
      for (const o of old) byMonth.set(o.month, [...(byMonth.get(o.month) ?? []), o.text]);
      result.archiveFiles = [...byMonth.keys()].sort().map((m) => `archive/pipeline-log-${m}.jsonl`);
      if (dryRun || (!old.length && !bad.length)) return result;
      await fs.promises.mkdir(this.file('archive'), { recursive: true });
      for (const [month, lines] of byMonth) {
        await fs.promises.appendFile(this.file(`archive/pipeline-log-${month}.jsonl`), lines.join('\n') + '\n');
      }
      if (bad.length) await this.quarantine(ACTIVITY_LOG, bad.join('\n') + '\n', 'invalid');
      await writeFileAtomic(file, kept.length ? kept.join('\n') + '\n' : '');
      const { state } = this.readStateUnlocked(true);
      await this.renderMarkdown(state);
      return result;
    });
  }
}

/** Parses one log line into an activity, or says what is wrong with it. */
export function parseActivityLine(text: string): { activity: Activity } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { error: `not valid JSON: ${(e as Error).message}` };
  }
  const r = activitySchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { error: `field '${issue.path.join('.') || '(root)'}': ${issue.message}` };
  }
  return { activity: r.data };
}

/**
 * Calls `fn` for each line of a file, streaming (64 KiB reads).
 * `complete` is false only for a last line without its newline.
 */
export async function forEachLine(
  file: string,
  fn: (text: string, line: number, complete: boolean) => void,
): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  const buf = Buffer.allocUnsafe(TAIL_BYTES);
  // The unfinished line as pieces, joined once when its newline arrives: a line of any length costs linear time
  // (joining the carry to every read re-scanned it, quadratic on a long line).
  let pieces: string[] = [];
  let line = 0;
  try {
    const decoder = new StringDecoder('utf8');
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (!bytesRead) break;
      const chunk = decoder.write(buf.subarray(0, bytesRead));
      let start = 0;
      for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
        pieces.push(chunk.slice(start, nl));
        const p = pieces.length === 1 ? pieces[0] : pieces.join('');
        pieces = [];
        line++;
        if (p.trim()) fn(p, line, true);
        start = nl + 1;
      }
      if (start < chunk.length) pieces.push(chunk.slice(start));
    }
    const rest = pieces.join('') + decoder.end();
    if (rest.trim()) fn(rest, line + 1, false);
  } finally {
    await handle.close();
  }
}

/**
 * Renders the Markdown view (`pipeline-log.md`): title, last update, current
 * phase, the phase checklist, recent activities (newest last).
 */
export function renderStatusMarkdown(
  state: PipelineState,
  recent: Activity[],
  phases: PhasesFile | undefined,
  now: Date,
): string {
  const out: string[] = ['# NeXTRust CI Pipeline Status', `*Last updated: ${now.toISOString()}*`, ''];
  const cur = state.current_phase;
  const curPhase = cur && phases?.phases.find((p) => p.id === cur.id);
  out.push(
    cur
      ? `## Current Phase: ${curPhase ? `${curPhase.number} - ` : ''}${cur.name} (${cur.status.replace('_', ' ')})`
      : '## Current Phase: none set',
  );
  if (cur?.message) out.push('', cur.message);
  if (phases) {
    out.push('');
    const done = new Set(
      [...state.phase_history, ...(cur ? [cur] : [])].filter((p) => p.status === 'completed').map((p) => p.id),
    );
    for (const p of phases.phases) {
      const mark = done.has(p.id) ? 'x' : ' ';
      const note =
        cur?.id === p.id && cur.status !== 'completed' ? ` (${cur.status.replace('_', ' ').toUpperCase()})` : '';
      out.push(`- [${mark}] Phase ${p.number}: ${p.name}${note}`);
    }
  }
  out.push('', '## Recent Activities');
  if (!recent.length) out.push('- none yet');
  for (const a of recent) {
    const msg = typeof a.details.message === 'string' ? a.details.message : summarizeDetails(a.details);
    out.push(`- ${a.timestamp.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} - ${a.type}${msg ? `: ${oneLine(msg)}` : ''}`);
  }
  return out.join('\n') + '\n';
}

function summarizeDetails(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
    .slice(0, 4)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? t.slice(0, 200) + '…' : t;
}
