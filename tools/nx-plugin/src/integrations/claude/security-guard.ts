/**
 * The PreToolUse security guard: refuses destructive shell commands before
 * Claude Code runs them (the seed's security-guard, 000 "Hook System";
 * Claude Code's contract: exit code 2 with the reason on stderr blocks the
 * tool call).
 *
 * The command is tokenised with shell-quote (quotes, `$VAR`, operators), split
 * into simple commands at `;`, `&&`, `||`, `|`, `&`, and each is checked after
 * dropping wrappers (`sudo`, `env X=y`, `nice`, `nohup`, `time`, `command`,
 * `exec`, `xargs`) and reserved words (`{`, `if`, `then`, ...), and
 * re-checking the script of `bash -c`/`-lc`/`sh -ec`, `eval`, `$( )` and
 * backquotes. Unquoted line breaks separate commands, as in the shell.
 * Refused:
 *  - a recursive `rm` of `/`, `/*`, `~`, `~/`, `$HOME`, or a
 *    top-level system directory (`/usr`, `/etc`, `/home`, ...);
 *  - `mkfs*`, `wipefs`, `fdisk`/`sfdisk`/`parted` writes, `dd of=/dev/<disk>`,
 *    `shred` of a device, `> /dev/sd*` style redirection onto a disk;
 *  - `git push --force`/`-f`/`--force-with-lease`/`+ref` onto main or master,
 *    `git push --delete`/`:main` of main or master, and a bare forced push;
 *  - `chmod -R`/`chown -R` on `/`, and the classic fork bomb.
 */
import { parse, type ParseEntry } from 'shell-quote';

/** Why a command is refused, or null. */
export type GuardVerdict = { blocked: true; reason: string } | { blocked: false };

/** Shell reserved words that can precede a command (`{ rm -rf /; }`, `if true; then rm -rf /; fi`). */
const RESERVED = new Set(['{', '}', 'if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', '!', 'case', 'esac', 'in']);
const WRAPPERS = new Set(['sudo', 'doas', 'nice', 'nohup', 'time', 'command', 'exec', 'builtin', 'xargs', 'timeout', 'stdbuf']);
const SYSTEM_DIRS = new Set(['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib64', '/opt', '/proc', '/root', '/sbin', '/sys', '/usr', '/var', '/srv']);
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
      if (op === '>' || op === '>>' || op === '>|' || op === '<>') {
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

/** Drops wrapper commands and leading `VAR=value` assignments. */
function unwrap(argv: string[]): string[] {
  let a = argv;
  for (;;) {
    if (a.length && (RESERVED.has(a[0]) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(a[0]))) a = a.slice(1);
    else if (a[0] === 'env') a = a.slice(1).filter((x, i, arr) => !(i < arr.findIndex((y) => !/=|^-/.test(y)) && (/=/.test(x) || x.startsWith('-'))));
    else if (a.length && WRAPPERS.has(a[0])) {
      a = a.slice(1);
      while (a.length && a[0].startsWith('-')) a = a.slice(/^-(n|u|g|s|k|signal)$/.test(a[0]) ? 2 : 1);
      if (argv[0] === 'timeout' && a.length && /^[0-9.]+[smhd]?$/.test(a[0])) a = a.slice(1);
    } else return a;
  }
}

function isHome(p: string): boolean {
  return p === '~' || p === '~/' || p === '$HOME' || p === '$HOME/' || p === '${HOME}' || p === '${HOME}/' || /^\/root\/?$/.test(p);
}

function dangerousRmTarget(p: string): boolean {
  if (!p) return false;
  // `dir/*` is as bad as `dir` for the directories below.
  const base = p.endsWith('/*') ? p.slice(0, -2) || '/' : p;
  const t = base.replace(/\/+$/, '') || '/';
  return SYSTEM_DIRS.has(t) || isHome(base) || /^\/home\/[^/]+\/?$/.test(base);
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
  if (bad !== undefined) return `recursive rm of ${bad === '/*' ? 'everything under /' : bad} would destroy the system or the home directory`;
  return null;
}

function checkGitPush(argv: string[]): string | null {
  const i = argv.indexOf('push');
  if (argv[0] !== 'git' || i < 0) return null;
  const args = argv.slice(i + 1);
  const force = args.some((a) => a === '-f' || a === '--force' || a.startsWith('--force-with-lease') || a === '--force-if-includes' || /^-[a-zA-Z]*f[a-zA-Z]*$/.test(a));
  const del = args.some((a) => a === '-d' || a === '--delete');
  const refs = args.filter((a) => !a.startsWith('-')).slice(1); // after the remote
  const dst = (r: string) => r.replace(/^\+/, '').split(':').pop()!.replace(/^refs\/heads\//, '');
  // HEAD may be main: a forced push of it is treated like one of main.
  const hitsProtected = refs.some((r) => PROTECTED_BRANCHES.has(dst(r)) || dst(r) === 'HEAD');
  const plusProtected = refs.some((r) => r.startsWith('+') && PROTECTED_BRANCHES.has(dst(r)));
  const deleteProtected = refs.some((r) => /^:/.test(r) && PROTECTED_BRANCHES.has(dst(r))) || (del && hitsProtected);
  if (deleteProtected) return 'deleting the main branch on the remote is not allowed';
  if ((force && (hitsProtected || refs.length === 0)) || plusProtected) {
    return `a forced push ${refs.length ? 'to main/master' : 'of the current branch (it may be main)'} rewrites shared history; push a branch and open a pull request`;
  }
  return null;
}

function checkDisk(argv: string[], redirects: { op: string; target: string }[]): string | null {
  const cmd = argv[0] ?? '';
  const disk = (p: string) => /^\/dev\/(sd[a-z]+[0-9]*|hd[a-z]+[0-9]*|vd[a-z]+[0-9]*|xvd[a-z]+[0-9]*|nvme[0-9]+n[0-9]+(p[0-9]+)?|mmcblk[0-9]+(p[0-9]+)?|disk[0-9]+s?[0-9]*|md[0-9]+|dm-[0-9]+|mapper\/.+)$/.test(p);
  if (/^mkfs(\..+)?$/.test(cmd) || cmd === 'mke2fs' || cmd === 'mkswap' || cmd === 'wipefs') return `${cmd} formats or wipes a device`;
  if (cmd === 'dd') {
    const of = argv.find((a) => a.startsWith('of='));
    if (of && disk(of.slice(3))) return `dd onto the device ${of.slice(3)} destroys its contents`;
  }
  if ((cmd === 'shred' || cmd === 'blkdiscard') && argv.slice(1).some(disk)) return `${cmd} of a device destroys its contents`;
  if ((cmd === 'fdisk' || cmd === 'sfdisk' || cmd === 'parted' || cmd === 'sgdisk') && argv.slice(1).some(disk) && !argv.includes('-l') && !argv.includes('--list')) {
    return `${cmd} rewrites the partition table of a device`;
  }
  const r = redirects.find((x) => disk(x.target));
  if (r) return `redirecting output onto the device ${r.target} destroys its contents`;
  return null;
}

function checkPermissions(argv: string[]): string | null {
  const cmd = argv[0];
  if ((cmd === 'chmod' || cmd === 'chown' || cmd === 'chgrp') && argv.some((a) => a === '-R' || a === '--recursive' || /^-[a-zA-Z]*R/.test(a))) {
    const t = argv.slice(1).filter((a) => !a.startsWith('-')).slice(1);
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

/**
 * Checks one shell command line (module doc).
 * @returns `{blocked: true, reason}` for a destructive command.
 */
export function checkCommand(command: string, depth = 0): GuardVerdict {
  if (FORK_BOMB.test(command)) return { blocked: true, reason: 'a fork bomb exhausts the machine' };
  // Backquoted substitutions run too: check their contents.
  if (depth < 3) {
    for (const m of command.matchAll(/`([^`]*)`/g)) {
      const inner = checkCommand(m[1], depth + 1);
      if (inner.blocked) return inner;
    }
  }
  let entries: ParseEntry[];
  try {
    // Keep variables literal ($HOME stays "$HOME") instead of expanding them.
    entries = parse(separateLines(command), (name) => `$${name}`);
  } catch {
    return { blocked: false };
  }
  for (const c of simpleCommands(entries)) {
    const argv = unwrap(c.argv);
    const name = (argv[0] ?? '').replace(/^.*\//, '');
    const a = [name, ...argv.slice(1)];
    if (depth < 3 && (name === 'bash' || name === 'sh' || name === 'zsh' || name === 'dash' || name === 'ksh')) {
      // -c, or combined flags with c (-lc, -ec): the script is the next non-flag argument.
      const ci = a.findIndex((x, i) => i > 0 && /^-[A-Za-z]*c[A-Za-z]*$/.test(x));
      const script = ci > 0 ? a.slice(ci + 1).find((x) => !x.startsWith('-')) : undefined;
      if (script) {
        const inner = checkCommand(script, depth + 1);
        if (inner.blocked) return inner;
      }
    }
    if (depth < 3 && name === 'eval' && a.length > 1) {
      const inner = checkCommand(a.slice(1).join(' '), depth + 1);
      if (inner.blocked) return inner;
    }
    const reason =
      (name === 'rm' ? checkRm(a) : null) ?? checkGitPush(a) ?? checkDisk(a, c.redirects) ?? checkPermissions(a);
    if (reason) return { blocked: true, reason };
  }
  return { blocked: false };
}
