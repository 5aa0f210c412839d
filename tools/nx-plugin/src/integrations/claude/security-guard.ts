/**
 * The PreToolUse security guard: refuses destructive shell commands before
 * Claude Code runs them (Claude Code's contract: exit code 2 with the reason
 * on stderr blocks the tool call;
 * https://docs.anthropic.com/en/docs/claude-code/hooks).
 *
 * The command is tokenised with shell-quote (quotes, `$VAR`, operators), split
 * into simple commands at `;`, `&&`, `||`, `|`, `&`, and each is checked after
 * dropping wrappers (`sudo`, `env X=y`, `nice`, `nohup`, `time`, `command`,
 * `exec`, `xargs`, by any path, with their options), reserved words (`{`,
 * `if`, `then`, ...) and function headers, and re-checking the script of
 * `bash -c`/`-lc`/`sh -ec`, `eval`, and every `$( )`, `<( )` and backquote
 * substitution, quoted or not. Unquoted line breaks separate commands, as in
 * the shell.
 *
 * It fails closed: a command it cannot analyse is not allowed silently but
 * answered with `ask` (Claude Code asks the user): text shell-quote cannot
 * parse, a variable or substitution in command position (`$X -rf ~`), `eval`
 * of anything but literal words, a script of `bash -c` that is not literal,
 * shells or substitutions nested deeper than MAX_DEPTH, and commands longer
 * than MAX_COMMAND_CHARS.
 * Refused:
 *  - a recursive `rm` of `/`, `/*`, `~`, `~/`, `$HOME`, or a
 *    top-level system directory (`/usr`, `/etc`, `/home`, ...);
 *  - `mkfs*`, `wipefs`, `fdisk`/`sfdisk`/`parted` writes, `dd of=/dev/<disk>`,
 *    `shred` of a device, `> /dev/sd*` style redirection onto a disk;
 *  - `git push --force`/`-f`/`--force-with-lease`/`+ref` onto main or master,
 *    `git push --delete`/`:main` of main or master, and a bare forced push;
 *  - `chmod -R`/`chown -R` on `/`, and the classic fork bomb.
 */
import * as path from 'node:path';
import { parse, type ParseEntry } from 'shell-quote';

/**
 * The guard's answer: blocked with the danger named; or not blocked, with `ask` set when the command could not
 * be analysed (the reason), for the user to decide.
 */
export type GuardVerdict = { blocked: true; reason: string } | { blocked: false; ask?: string };

/** Nesting of shells (`bash -c`), `eval` and substitutions analysed; deeper is `ask`. */
export const MAX_DEPTH = 3;
/** Longest command analysed (characters); longer is `ask`. */
export const MAX_COMMAND_CHARS = 100_000;

/** Shell reserved words that can precede a command (`{ rm -rf /; }`, `if true; then rm -rf /; fi`). */
const RESERVED = new Set([
  '{',
  '}',
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'while',
  'until',
  '!',
  'case',
  'esac',
  'in',
]);
const WRAPPERS = new Set([
  'sudo',
  'doas',
  'nice',
  'nohup',
  'time',
  'command',
  'exec',
  'builtin',
  'xargs',
  'timeout',
  'stdbuf',
]);
const SYSTEM_DIRS = new Set([
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib64',
  '/opt',
  '/proc',
  '/root',
  '/sbin',
  '/sys',
  '/usr',
  '/var',
  '/srv',
]);
const PROTECTED_BRANCHES = new Set(['main', 'master']);

function isOp(e: ParseEntry): e is Extract<ParseEntry, { op: unknown }> {
  return typeof e === 'object' && e !== null && 'op' in e;
}

/** Splits tokens into simple commands (argv lists) and redirection targets. */
function simpleCommands(entries: ParseEntry[]): { argv: string[]; redirects: { op: string; target: string }[] }[] {
  const out: { argv: string[]; redirects: { op: string; target: string }[] }[] = [{ argv: [], redirects: [] }];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const cur = out[out.length - 1];
    if (isOp(e) && e.op === 'glob') {
      cur.argv.push((e as { pattern: string }).pattern);
    } else if (isOp(e)) {
      const op = e.op as string;
      if (op === '>' || op === '>>' || op === '>|' || op === '<>' || op === '&>' || op === '&>>' || op === '>&') {
        const next = entries[i + 1];
        if (typeof next === 'string') {
          cur.redirects.push({ op, target: next });
          i++;
        }
      } else if (op !== '<') {
        // ;, &&, ||, |, &, and ( ) of subshells and $( ) substitutions: a new simple command.
        out.push({ argv: [], redirects: [] });
      }
    } else if (typeof e === 'string') {
      cur.argv.push(e);
    } else if (typeof e === 'object' && e !== null && 'pattern' in e) {
      cur.argv.push((e as { pattern: string }).pattern);
    }
  }
  return out.filter((c) => c.argv.length || c.redirects.length);
}

/** Options of the wrappers that take a value in the next word (`sudo -u root`, `env -u X`, `nice -n 5`). */
const WRAPPER_VALUE_OPTIONS: Record<string, RegExp> = {
  sudo: /^-[ugCDhprtTU]$/,
  doas: /^-[uC]$/,
  env: /^-[uCS]$/,
  nice: /^-n$/,
  timeout: /^-[ks]$|^--signal$|^--kill-after$/,
  stdbuf: /^-[ioe]$/,
  xargs: /^-[IdEeLnPs]$/,
};

/** The command name of a word: its last path component (`/usr/bin/sudo` is `sudo`). */
function commandName(word: string): string {
  return word.replace(/^.*\//, '');
}

/** Drops wrapper commands (with their options), function headers and leading `VAR=value` assignments. */
function unwrap(argv: string[]): string[] {
  let a = argv;
  for (;;) {
    const name = commandName(a[0] ?? '');
    if (a.length && (RESERVED.has(a[0]) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(a[0]))) a = a.slice(1);
    else if (a[0] === 'function' && a.length > 1) a = a.slice(2);
    else if (a.length && (WRAPPERS.has(name) || name === 'env')) {
      const valueOption = WRAPPER_VALUE_OPTIONS[name];
      a = a.slice(1);
      while (a.length && (a[0].startsWith('-') || (name === 'env' && a[0].includes('=')))) {
        if (a[0] === '--') {
          a = a.slice(1);
          break;
        }
        a = a.slice(valueOption?.test(a[0]) ? 2 : 1);
      }
      if (name === 'timeout' && a.length && /^[0-9.]+[smhd]?$/.test(a[0])) a = a.slice(1);
    } else return a;
  }
}

function isHome(p: string): boolean {
  // `$HOME`, `${HOME}` and the parameter forms `${HOME:?}`, `${HOME:-x}` (shell-quote gives `$HOME:?`).
  // `${HOME:-x}` and friends expand to $HOME whenever it is set (shell-quote drops the braces, so where
  // the default word ends is lost): any `$HOME:` word counts as home.
  if (/^\$\{?HOME:/.test(p)) return true;
  const q = p.replace(/^\$\{?HOME\}?/, '$HOME');
  return q === '~' || q === '~/' || q === '$HOME' || q === '$HOME/' || /^\/root\/?$/.test(q);
}

/** `/./`, `/usr/../`, `~/.`: the path the shell would reach (lexically), keeping a trailing slash. */
function normalizeTarget(p: string): string {
  if (!p.startsWith('/') && !p.startsWith('~') && !p.startsWith('$')) return p;
  const [head, ...rest] = p.split('/');
  const tail = path.posix.normalize(`/${rest.join('/')}`);
  return head + (tail === '/' && !p.slice(head.length).startsWith('/') ? '' : tail);
}

function dangerousRmTarget(raw: string): boolean {
  if (!raw) return false;
  const p = normalizeTarget(raw);
  // `dir/*` is as bad as `dir` for the directories below.
  const base = p.endsWith('/*') ? p.slice(0, -2) || '/' : p;
  const t = base.replace(/\/+$/, '') || '/';
  return SYSTEM_DIRS.has(t) || isHome(base) || isHome(t) || /^\/home\/[^/]+\/?$/.test(base);
}

function checkRm(argv: string[]): string | null {
  // Recursive alone is enough: `rm -r /` prompts, but not in a non-interactive hook's shell.
  let recursive = false;
  const targets: string[] = [];
  let endOfOptions = false;
  for (const a of argv.slice(1)) {
    if (!endOfOptions && a === '--') endOfOptions = true;
    else if (!endOfOptions && a.startsWith('--')) {
      if (a === '--recursive') recursive = true;
    } else if (!endOfOptions && /^-[A-Za-z]+$/.test(a)) {
      if (/[rR]/.test(a)) recursive = true;
    } else targets.push(a);
  }
  if (!recursive) return null;
  const bad = targets.find(dangerousRmTarget);
  if (bad !== undefined)
    return `recursive rm of ${bad === '/*' ? 'everything under /' : bad} would destroy the system or the home directory`;
  return null;
}

function checkGitPush(argv: string[]): string | null {
  const i = argv.indexOf('push');
  if (argv[0] !== 'git' || i < 0) return null;
  const args = argv.slice(i + 1);
  const force = args.some(
    (a) =>
      a === '-f' ||
      a === '--force' ||
      a.startsWith('--force-with-lease') ||
      a === '--force-if-includes' ||
      /^-[a-zA-Z]*f[a-zA-Z]*$/.test(a),
  );
  // --mirror makes the remote's refs (main among them) equal the local ones, forcing and deleting.
  if (args.includes('--mirror'))
    return 'git push --mirror overwrites and deletes every branch on the remote, main included';
  const del = args.some((a) => a === '-d' || a === '--delete');
  const refs = args.filter((a) => !a.startsWith('-')).slice(1); // after the remote
  const dst = (r: string) =>
    r
      .replace(/^\+/, '')
      .split(':')
      .pop()!
      .replace(/^refs\/heads\//, '');
  // HEAD may be main: a forced push of it is treated like one of main.
  const hitsProtected = refs.some((r) => PROTECTED_BRANCHES.has(dst(r)) || dst(r) === 'HEAD');
  const plusProtected = refs.some((r) => r.startsWith('+') && (PROTECTED_BRANCHES.has(dst(r)) || dst(r) === 'HEAD'));
  const deleteProtected = refs.some((r) => /^:/.test(r) && PROTECTED_BRANCHES.has(dst(r))) || (del && hitsProtected);
  if (deleteProtected) return 'deleting the main branch on the remote is not allowed';
  if ((force && (hitsProtected || refs.length === 0)) || plusProtected) {
    return `a forced push ${refs.length ? 'to main/master' : 'of the current branch (it may be main)'} rewrites shared history; push a branch and open a pull request`;
  }
  return null;
}

function checkDisk(argv: string[], redirects: { op: string; target: string }[]): string | null {
  const cmd = argv[0] ?? '';
  const disk = (p: string) =>
    /^\/dev\/(sd[a-z]+[0-9]*|hd[a-z]+[0-9]*|vd[a-z]+[0-9]*|xvd[a-z]+[0-9]*|nvme[0-9]+n[0-9]+(p[0-9]+)?|mmcblk[0-9]+(p[0-9]+)?|disk[0-9]+s?[0-9]*|md[0-9]+|dm-[0-9]+|mapper\/.+)$/.test(
      p,
    );
  if (/^mkfs(\..+)?$/.test(cmd) || cmd === 'mke2fs' || cmd === 'mkswap' || cmd === 'wipefs')
    return `${cmd} formats or wipes a device`;
  if (cmd === 'dd') {
    const of = argv.find((a) => a.startsWith('of='));
    if (of && disk(of.slice(3))) return `dd onto the device ${of.slice(3)} destroys its contents`;
  }
  if ((cmd === 'shred' || cmd === 'blkdiscard') && argv.slice(1).some(disk))
    return `${cmd} of a device destroys its contents`;
  if (
    (cmd === 'fdisk' || cmd === 'sfdisk' || cmd === 'parted' || cmd === 'sgdisk') &&
    argv.slice(1).some(disk) &&
    !argv.includes('-l') &&
    !argv.includes('--list')
  ) {
    return `${cmd} rewrites the partition table of a device`;
  }
  const r = redirects.find((x) => disk(x.target));
  if (r) return `redirecting output onto the device ${r.target} destroys its contents`;
  return null;
}

function checkPermissions(argv: string[]): string | null {
  const cmd = argv[0];
  if (
    (cmd === 'chmod' || cmd === 'chown' || cmd === 'chgrp') &&
    argv.some((a) => a === '-R' || a === '--recursive' || /^-[a-zA-Z]*R/.test(a))
  ) {
    const t = argv
      .slice(1)
      .filter((a) => !a.startsWith('-'))
      .slice(1);
    const bad = t.find(dangerousRmTarget);
    if (bad !== undefined) return `recursive ${cmd} of ${bad} breaks the system`;
  }
  return null;
}

/**
 * Makes line breaks command separators, as the shell does (shell-quote reads
 * them as spaces): an unquoted newline becomes `;`, a backslash-newline
 * continuation disappears.
 */
function separateLines(command: string): string {
  let out = '';
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) {
        out += c + command[++i];
        continue;
      }
      out += c;
    } else if (c === '\\' && command[i + 1] === '\n') {
      i++;
    } else if (c === '\\' && i + 1 < command.length) {
      out += c + command[++i];
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === '\n' || c === '\r') {
      out += ' ; ';
    } else {
      out += c;
    }
  }
  return out;
}

const FORK_BOMB = /:\s*\(\s*\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:/;

/** What a command substitution becomes in the line the guard parses: a word whose value is only known at run time. */
const SUBSTITUTED = '$__substitution';
/** What a process substitution becomes: the file name bash passes (bash(1), "Process Substitution"). */
const PROCESS_SUBSTITUTED = '/dev/fd/63';

/**
 * The command substitutions `$( )`, process substitutions `<( )` / `>( )` and backquotes of a command line, outermost
 * first, whether quoted with `"` or not (single quotes stop them, as in the shell).
 * @returns `bodies`: their texts; `line`: the command line with each replaced by one word ($__substitution, or
 *   /dev/fd/63 for a process substitution), so that the line parses as the shell reads it; null when a substitution is
 *   not closed (the line cannot be analysed).
 */
export function scanSubstitutions(command: string): { bodies: string[]; line: string } | null {
  const out: string[] = [];
  let line = '';
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (c === '\\' && quote !== "'") {
      line += command.slice(i, i + 2);
      i++;
      continue;
    }
    if (quote === "'") {
      if (c === "'") quote = null;
      line += c;
      continue;
    }
    if (c === '"') quote = quote === '"' ? null : '"';
    else if (c === "'" && !quote) quote = "'";
    else if (c === '`') {
      let j = i + 1;
      while (j < command.length && command[j] !== '`') j += command[j] === '\\' ? 2 : 1;
      if (j >= command.length) return null;
      // Inside backquotes a backslash quotes only `$`, `` ` `` and `\` (bash(1), "Command Substitution").
      out.push(command.slice(i + 1, j).replace(/\\([\\`$])/g, '$1'));
      line += SUBSTITUTED;
      i = j;
      continue;
    } else if ((c === '$' || ((c === '<' || c === '>') && !quote)) && command[i + 1] === '(') {
      // Find the matching parenthesis, skipping quoted text and escapes inside.
      let depth = 0;
      let inner: "'" | '"' | null = null;
      let j = i + 1;
      for (; j < command.length; j++) {
        const d = command[j];
        if (d === '\\' && inner !== "'") {
          j++;
          continue;
        }
        if (inner) {
          if (d === inner) inner = null;
          continue;
        }
        if (d === "'" || d === '"') inner = d;
        else if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
      }
      if (j >= command.length) return null;
      out.push(command.slice(i + 2, j));
      line += c === '$' ? SUBSTITUTED : PROCESS_SUBSTITUTED;
      i = j;
      continue;
    }
    line += c;
  }
  return { bodies: out, line };
}

/**
 * The bodies of the substitutions of a command line (scanSubstitutions).
 * @returns null when a substitution is not closed.
 */
export function substitutions(command: string): string[] | null {
  return scanSubstitutions(command)?.bodies ?? null;
}

const SHELLS = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh', 'fish']);

/**
 * Checks one shell command line (module doc).
 * @param depth nesting level of this line (shells, eval, substitutions); callers pass nothing.
 * @returns `{blocked: true, reason}` for a destructive command; `{blocked: false, ask}` for one it cannot analyse.
 */
export function checkCommand(command: string, depth = 0): GuardVerdict {
  if (command.length > MAX_COMMAND_CHARS)
    return { blocked: false, ask: `the command is ${command.length} characters long, over ${MAX_COMMAND_CHARS}` };
  if (FORK_BOMB.test(command)) return { blocked: true, reason: 'a fork bomb exhausts the machine' };
  let ask: string | undefined;
  /** Checks a nested script: its verdict if blocked; remembers the first reason to ask. */
  const nested = (script: string): GuardVerdict | null => {
    if (depth >= MAX_DEPTH) {
      ask ??= `shells, eval or substitutions nested deeper than ${MAX_DEPTH}`;
      return null;
    }
    // shell-quote keeps `\`` inside double quotes escaped where the shell unescapes it, but inside single
    // quotes it stays: a script with `\`` is checked both ways.
    for (const text of script.includes('\\`') ? [script, script.replace(/\\`/g, '`')] : [script]) {
      const v = checkCommand(text, depth + 1);
      if (v.blocked) return v;
      if (v.ask) ask ??= v.ask;
    }
    return null;
  };
  // Substitutions run wherever they are, inside double quotes too.
  const scanned = scanSubstitutions(command);
  if (scanned === null) return { blocked: false, ask: 'a substitution is not closed' };
  for (const body of scanned.bodies) {
    const v = nested(body);
    if (v) return v;
  }
  let entries: ParseEntry[];
  try {
    // Each substitution is one word ($__substitution) here; variables stay literal ($HOME stays "$HOME").
    entries = parse(separateLines(scanned.line), (name) => `$${name}`);
  } catch (e) {
    return { blocked: false, ask: `the shell syntax cannot be read (${(e as Error).message})` };
  }
  for (const c of simpleCommands(entries)) {
    const argv = unwrap(c.argv);
    if (!argv.length && !c.redirects.length) continue;
    const first = argv[0] ?? '';
    // What runs is decided at run time: nothing to check against.
    if (first.includes('$') || first.includes('`')) {
      ask ??= `the command name ${first.slice(0, 40)} is only known when it runs`;
      continue;
    }
    // A wrapper given the whole command as one word (`sudo -s 'rm -rf ~'`): check that word as a command line.
    if (/\s/.test(first)) {
      const v = nested(argv.join(' '));
      if (v) return v;
      continue;
    }
    const name = commandName(first);
    const a = [name, ...argv.slice(1)];
    if (SHELLS.has(name)) {
      // -c, or combined flags with c (-lc, -ec): the script is the next non-flag argument.
      const ci = a.findIndex((x, i) => i > 0 && /^-[A-Za-z]*c[A-Za-z]*$/.test(x));
      const script = ci > 0 ? a.slice(ci + 1).find((x) => !x.startsWith('-')) : undefined;
      if (script !== undefined) {
        if (script.includes('$')) ask ??= `the script of ${name} -c is only known when it runs`;
        const v = nested(script);
        if (v) return v;
      }
    }
    if (name === 'eval' && a.length > 1) {
      const script = a.slice(1).join(' ');
      if (script.includes('$')) ask ??= 'eval of text that is only known when it runs';
      const v = nested(script);
      if (v) return v;
    }
    const reason =
      (name === 'rm' ? checkRm(a) : null) ?? checkGitPush(a) ?? checkDisk(a, c.redirects) ?? checkPermissions(a);
    if (reason) return { blocked: true, reason };
  }
  return ask ? { blocked: false, ask } : { blocked: false };
}
