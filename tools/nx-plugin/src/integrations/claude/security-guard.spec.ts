import fc from 'fast-check';
import { checkCommand, scanSubstitutions, type GuardVerdict } from './security-guard';

function reasonOf(v: GuardVerdict): string {
  return v.blocked ? v.reason : '';
}

/**
 * Commands that must be blocked, each with a pattern its reason must match:
 * the reason names the danger (what would be destroyed or rewritten), not
 * just "blocked".
 */
const MUST_BLOCK: [command: string, reason: RegExp][] = [
  // recursive rm of / and its spellings
  ['rm -rf /', /recursive rm of \/ .*destroy/],
  ['sudo rm -rf /', /recursive rm of \/ /],
  ['rm -rf "/"', /recursive rm of \/ /],
  ["rm -rf '/'", /recursive rm of \/ /],
  ['rm -r -f /', /recursive rm of \/ /],
  ['rm -fr /', /recursive rm of \/ /],
  ['rm -Rf /', /recursive rm of \/ /],
  ['rm --recursive --force /', /recursive rm of \/ /],
  ['rm -rf --no-preserve-root /', /recursive rm of \/ /],
  ['rm -rf -- /', /recursive rm of \/ /],
  ['rm -rf //', /recursive rm of \/\/ /],
  ['/bin/rm -rf /', /recursive rm of \/ /],
  ['rm -rf /*', /recursive rm of everything under \//],
  ['rm -rf "/"*', /recursive rm of everything under \//],
  ['rm -rf ~', /recursive rm of ~ .*home directory/],
  ['rm -rf ~/', /recursive rm of ~\/ /],
  ['rm -rf ~/*', /recursive rm of ~\/\* /],
  ['rm -rf $HOME', /recursive rm of \$HOME /],
  ['rm -rf "$HOME"', /recursive rm of \$HOME /],
  ['rm -rf ${HOME}', /recursive rm of \$HOME /],
  ['rm -rf $HOME/', /recursive rm of \$HOME\/ /],
  ['rm -rf /home/user', /recursive rm of \/home\/user /],
  ['rm -rf /home/user/', /recursive rm of \/home\/user\/ /],
  ['rm -rf /usr', /recursive rm of \/usr /],
  ['rm -rf /etc/', /recursive rm of \/etc\/ /],
  // wrappers, assignments, nested shells
  ['env X=1 rm -rf /', /recursive rm of \/ /],
  ['env -i rm -rf /', /recursive rm of \/ /],
  ['X=1 rm -rf /', /recursive rm of \/ /],
  ['sudo -u root rm -rf /', /recursive rm of \/ /],
  ['nohup rm -rf / &', /recursive rm of \/ /],
  ['timeout 5 rm -rf /', /recursive rm of \/ /],
  ['nice -n 10 rm -rf /usr', /recursive rm of \/usr /],
  ['bash -c "rm -rf /"', /recursive rm of \/ /],
  ['/bin/bash -c "rm -rf ~"', /recursive rm of ~ /],
  [`sh -c "echo hi && rm -rf '/'"`, /recursive rm of \/ /],
  [`sh -c 'bash -c "rm -rf /"'`, /recursive rm of \/ /],
  [`bash -c 'rm -rf "$HOME"'`, /recursive rm of \$HOME /],
  // after an operator
  ['cd build && rm -rf /', /recursive rm of \/ /],
  ['true; rm -rf /', /recursive rm of \/ /],
  ['false || rm -rf /', /recursive rm of \/ /],
  ['echo y | rm -rf /', /recursive rm of \/ /],
  ['echo / | xargs rm -rf /', /recursive rm of \/ /],
  ['xargs rm -rf /', /recursive rm of \/ /],
  // disks
  ['mkfs /dev/sda1', /mkfs formats or wipes a device/],
  ['mkfs.ext4 /dev/sda1', /mkfs\.ext4 formats or wipes a device/],
  ['sudo mkfs -t ext4 /dev/sdb', /mkfs formats/],
  ['wipefs -a /dev/sda', /wipefs formats or wipes a device/],
  ['dd if=/dev/zero of=/dev/sda', /dd onto the device \/dev\/sda destroys its contents/],
  ['dd of=/dev/sda if=image.iso bs=4M', /dd onto the device \/dev\/sda /],
  ['sudo dd if=/dev/zero of=/dev/nvme0n1 bs=1M', /dd onto the device \/dev\/nvme0n1 /],
  ['echo x > /dev/sda', /redirecting output onto the device \/dev\/sda destroys/],
  ['cat /dev/urandom > /dev/nvme0n1', /redirecting output onto the device \/dev\/nvme0n1 /],
  ['shred /dev/sdb', /shred of a device destroys its contents/],
  ['shred -n 1 -z /dev/sdb', /shred of a device /],
  // git: forced pushes and deletions of main/master
  ['git push --force origin main', /forced push to main\/master rewrites shared history/],
  ['git push -f origin master', /forced push to main\/master /],
  ['git push --force-with-lease origin main', /forced push to main\/master /],
  ['git push --force-with-lease=main:abc123 origin main', /forced push to main\/master /],
  ['git push origin main --force', /forced push to main\/master /],
  ['git push origin +main', /forced push to main\/master /],
  ['git push origin +HEAD:main', /forced push to main\/master /],
  ['git push -f origin HEAD:main', /forced push to main\/master /],
  ['git push --force origin HEAD:refs/heads/master', /forced push to main\/master /],
  ['git -C repo push -f origin main', /forced push to main\/master /],
  ['echo ok; git push --force origin main', /forced push to main\/master /],
  ['git push origin :main', /deleting the main branch on the remote/],
  ['git push origin --delete main', /deleting the main branch on the remote/],
  ['git push -d origin master', /deleting the main branch on the remote/],
  ['git push -f', /forced push of the current branch \(it may be main\) rewrites shared history/],
  ['git push --force', /forced push of the current branch/],
  ['git push -f origin', /forced push of the current branch/],
  // permissions
  ['chmod -R 777 /', /recursive chmod of \/ breaks the system/],
  ['sudo chmod -R 777 /', /recursive chmod of \/ /],
  ['chmod --recursive 000 /etc', /recursive chmod of \/etc /],
  ['chown -R x ~', /recursive chown of ~ breaks the system/],
  ['chown -R nobody:nogroup /usr', /recursive chown of \/usr /],
  // the classic fork bomb, spaced and unspaced
  [':(){ :|:& };:', /fork bomb exhausts the machine/],
  [':() { : | : & }; :', /fork bomb/],
];

/** Commands that must run: harmless, or dangerous-looking text that is only data. */
const MUST_ALLOW: string[] = [
  'rm -rf dist',
  'rm -rf ./target',
  'rm -rf target/ node_modules/',
  'rm -rf /tmp/x',
  'rm -rf "$TMPDIR/nextrust"',
  'rm -rf ~/.cache/nextrust',
  'rm -r build',
  'rm -f /tmp/lock',
  'rm -f /', // not recursive: rm refuses a directory
  'echo "rm -rf /"',
  "echo 'rm -rf /'",
  "grep 'rm -rf /' file",
  'grep -rn "git push -f origin main" docs',
  'git commit -m "never rm -rf /"',
  'git push origin feature',
  'git push origin main', // not forced
  'git push',
  'git push --force origin feature',
  'git push --force-with-lease origin feature',
  'git push -f origin main:feature', // the destination is a branch
  'git push -u origin my-branch',
  'git push origin --delete old-feature',
  'git stash push -m main',
  'dd if=/dev/zero of=disk.img bs=1M count=16',
  'dd if=/dev/sda of=backup.img',
  'fdisk -l /dev/sda',
  'echo hi > /dev/null',
  'npx nx run rust-target:build --configuration=m68040',
  'npx nx run rust-target:build -c m68040',
  'npx nx run-many -t build --projects=rust-target,llvm-m68k',
  'cargo build --release',
  'cargo build',
  'ls -la /',
  'du -sh /usr',
  'chmod -R 755 dist',
  'chmod 777 /tmp/x',
  'chown -R me ./build',
  'find . -name "*.o" -delete',
  'bash -c "ls -la /"',
  'sh -c "rm -rf ./dist"',
];

describe('checkCommand: destructive commands are blocked with a reason naming the danger', () => {
  it.each(MUST_BLOCK)('blocks %s', (command, reason) => {
    const v = checkCommand(command);
    expect(v.blocked).toBe(true);
    expect(reasonOf(v)).toMatch(reason);
  });

  it('every reason is a readable sentence, not a code', () => {
    for (const [command] of MUST_BLOCK) {
      const r = reasonOf(checkCommand(command));
      expect(r.length).toBeGreaterThan(15);
      expect(r).toMatch(/destroy|wipes|rewrites|breaks|exhausts|not allowed/);
    }
  });
});

describe('checkCommand: ordinary work is allowed', () => {
  it.each(MUST_ALLOW)('allows %s', (command) => {
    expect(checkCommand(command)).toEqual({ blocked: false });
  });

  it('allows an empty command and whitespace', () => {
    expect(checkCommand('')).toEqual({ blocked: false });
    expect(checkCommand('   \n\t')).toEqual({ blocked: false });
  });

  it('does not throw on unbalanced quotes; it only allows when nothing destructive parses', () => {
    expect(() => checkCommand('echo "unterminated')).not.toThrow();
    expect(checkCommand('echo "unterminated').blocked).toBe(false);
  });
});

/**
 * The guard's own command names: a random token may spell one of these (say
 * `mkfs`, which is refused whatever its arguments), so the generator filters
 * them out; every other word, option and relative path is harmless.
 */
const GUARDED_NAMES = /^(mkfs(\..*)?|mke2fs|mkswap|wipefs)$/;

const wordChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789._'.split(''));
const restChar = fc.constantFrom(
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-=:,+@%/'.split(''),
);
/** A word or a relative path: never starts with `/`, `~`, `$`, `-`, or `+`. */
const word = fc.tuple(wordChar, fc.string({ unit: restChar, maxLength: 12 })).map(([a, b]) => a + b);
/** An option: `-x`, `-rf`, `--long-name`, `--opt=value`. */
const option = fc.oneof(
  fc
    .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzRF'.split('')), minLength: 1, maxLength: 4 })
    .map((s) => `-${s}`),
  fc
    .tuple(
      fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-'.split('')), minLength: 1, maxLength: 12 }),
      fc.option(word),
    )
    .map(([n, v]) => `--${n}${v ? `=${v}` : ''}`),
);
/** Real command names, including ones the guard inspects (rm, git, dd, chmod, sudo, bash). */
const commandName = fc.constantFrom(
  'rm',
  'git',
  'dd',
  'chmod',
  'chown',
  'sudo',
  'env',
  'xargs',
  'bash',
  'sh',
  'ls',
  'cargo',
  'npx',
  'echo',
  'shred',
  'fdisk',
  'nx',
  'cp',
  'mv',
);
const harmlessArgv = fc
  .tuple(fc.oneof(commandName, word), fc.array(fc.oneof(word, option, commandName), { maxLength: 10 }))
  .map(([cmd, args]) => [cmd, ...args])
  // A forced push whose refs are all random words is allowed, but `git push -f` with no ref at all is refused
  // (the current branch may be main), as are the guard's own names: keep those out of the "harmless" set.
  .filter((argv) => !argv.some((a) => GUARDED_NAMES.test(a)) && !(argv.includes('git') && argv.includes('push')));

/** Bypasses these tests found in an earlier guard, now blocked: newlines, empty arguments, combined flags, compound commands, substitutions, globs. */
const FORMER_BYPASSES: [command: string, why: string][] = [
  // shell-quote treats an unquoted newline as blank space, not as a command separator
  ['echo hi\nrm -rf /', 'newline separates commands'],
  ['cd /tmp\nrm -rf ~', 'newline separates commands'],
  ['ls\ngit push -f origin main', 'newline separates commands'],
  ['true\n dd if=/dev/zero of=/dev/sda', 'newline separates commands'],
  ['cargo build\n\nmkfs.ext4 /dev/sda1', 'newline separates commands'],
  // an empty argument is found first as "dangerous" ('' normalises to '/') but is falsy: the real target is never checked
  ['rm -rf "" /', "empty argument before the target (`if (bad)` on '')"],
  ["rm -rf '' ~", "empty argument before the target (`if (bad)` on '')"],
  ['rm -rf dist \\\n  /', "backslash-newline continuation parses as an empty argument ''"],
  ['chmod -R 777 "" /', "empty argument before the target (`if (bad)` on '')"],
  // `-c` combined with other shell flags
  ['bash -lc "rm -rf /"', 'combined flags -lc'],
  ['sh -ec "rm -rf /"', 'combined flags -ec'],
  // compound commands and substitutions
  ['{ rm -rf /; }', 'brace group: `{` is taken as the command name'],
  ['if true; then rm -rf /; fi', '`then` is taken as the command name'],
  ['echo $(rm -rf /)', 'command substitution $(...)'],
  ['echo `rm -rf /`', 'backtick substitution'],
  ['eval "rm -rf /"', 'eval of a string'],
  // globs under a system directory
  ['rm -rf /usr/*', 'glob under a system directory (only /* and ~/* are checked)'],
  ['chmod -R 777 /*', 'glob of / for chmod (rm checks /*, chmod does not)'],
];

describe('checkCommand: former bypasses', () => {
  it.each(FORMER_BYPASSES)('blocks %j (%s)', (command) => {
    expect(checkCommand(command).blocked).toBe(true);
  });
});

describe('checkCommand: properties', () => {
  it('never blocks and never throws for harmless argv tokens joined with spaces', () => {
    fc.assert(
      fc.property(harmlessArgv, (argv) => {
        const command = argv.join(' ');
        const v = checkCommand(command);
        if (v.blocked) throw new Error(`blocked harmless command ${JSON.stringify(command)}: ${v.reason}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('never blocks harmless git pushes to feature branches, forced or not', () => {
    const branch = word.filter((w) => !['main', 'master'].includes(w.replace(/^.*:/, '')) && !w.includes(':'));
    fc.assert(
      fc.property(
        fc.subarray(['-f', '--force', '--force-with-lease', '-u', '--set-upstream', '--tags']),
        fc.constantFrom('origin', 'upstream'),
        branch,
        (opts, remote, b) => {
          expect(checkCommand(['git', 'push', ...opts, remote, b].join(' '))).toEqual({ blocked: false });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws for arbitrary strings', () => {
    const shellish = fc.string({
      unit: fc.constantFrom(
        'rm',
        ' -rf',
        ' /',
        '~',
        '$HOME',
        '${',
        '}',
        '"',
        "'",
        '\\',
        '`',
        '$(',
        ')',
        '(',
        '{',
        ';',
        '&&',
        '||',
        '|',
        '&',
        '>',
        '<',
        '>>',
        '#',
        '*',
        '?',
        '[',
        ']',
        '\n',
        'bash -c ',
        'git push',
        ' -f',
        ' +main',
        ':',
        'dd of=',
        '/dev/sda',
        'sudo ',
        'env ',
        '=',
        'xargs',
      ),
      maxLength: 40,
    });
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), shellish),
        (s) => {
          const v = checkCommand(s);
          expect(typeof v.blocked).toBe('boolean');
          if (v.blocked) expect(v.reason.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('a destructive command stays blocked whatever harmless command precedes it', () => {
    fc.assert(
      fc.property(
        harmlessArgv,
        fc.constantFrom('; ', ' && ', ' || ', ' | ', ' & ', ';\n', ' &&\n'),
        fc.constantFrom(...MUST_BLOCK.map(([c]) => c).filter((c) => !c.startsWith(':'))),
        (argv, op, bad) => {
          expect(checkCommand(argv.join(' ') + op + bad).blocked).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

/** Destructive commands written the ways that once got through; each must be blocked, naming the danger. */
const WRAPPED_MUST_BLOCK: [command: string, reason: RegExp][] = [
  ['echo "$(rm -rf ~)"', /recursive rm of ~ /],
  ['echo "`rm -rf ~`"', /recursive rm of ~ /],
  ['cat <(rm -rf ~)', /recursive rm of ~ /],
  ['x=$(echo a; rm -rf /)', /recursive rm of \/ /],
  ['/usr/bin/sudo rm -rf /', /recursive rm of \/ /],
  ['sudo -u root -- rm -rf /', /recursive rm of \/ /],
  ['sudo -s rm -rf ~', /recursive rm of ~ /],
  ["sudo -s 'rm -rf ~'", /recursive rm of ~ /],
  ['env -u X rm -rf ~', /recursive rm of ~ /],
  ['/usr/bin/env -i PATH=/bin rm -rf ~', /recursive rm of ~ /],
  ['rm -rf /./', /recursive rm of \/\.\/ /],
  ['rm -rf /usr/../', /recursive rm of \/usr\/\.\.\/ /],
  ['rm -rf ~/.', /recursive rm of ~\/\. /],
  ['rm -rf "${HOME:?}"', /recursive rm of \$HOME:\? /],
  ['rm -rf "${HOME:-/tmp/x}"/', /recursive rm of /],
  ['git push origin +HEAD', /forced push/],
  ['git push --mirror', /--mirror overwrites/],
  ['git push --mirror origin', /--mirror overwrites/],
  ['function f { rm -rf ~; }; f', /recursive rm of ~ /],
  ['f() { rm -rf ~; }; f', /recursive rm of ~ /],
  ['ls &>/dev/sda', /onto the device \/dev\/sda/],
  ['echo hi >& /dev/sda', /onto the device \/dev\/sda/],
];

/** Commands that cannot be analysed: never allowed silently (blocked, or the user is asked). */
const MUST_NOT_PASS_SILENTLY = [
  'rm -rf ~; echo ${}',
  'X=rm; $X -rf ~',
  '$CMD /',
  '"$(echo rm)" -rf ~',
  'eval $(echo rm -rf /)',
  'eval "$PAYLOAD"',
  'bash -c "$SCRIPT"',
  `bash -c "bash -c \\"bash -c 'bash -c \\\\\\"rm -rf ~\\\\\\"'\\""`,
  'echo $(echo $(echo $(echo $(rm -rf ~))))',
  'echo "$(unclosed',
  `echo ${'a'.repeat(4_000_000)}`,
];

describe('checkCommand: wrappings and spellings that once got through', () => {
  it.each(WRAPPED_MUST_BLOCK)('blocks %s', (command, reason) => {
    const v = checkCommand(command);
    expect(v.blocked).toBe(true);
    expect(reasonOf(v)).toMatch(reason);
  });

  it.each(MUST_NOT_PASS_SILENTLY.map((c) => [c.length > 200 ? `${c.slice(0, 40)}… (${c.length} chars)` : c, c]))(
    'does not allow %s silently',
    (_shown, command) => {
      const v = checkCommand(command);
      expect(v.blocked || (v as { ask?: string }).ask).toBeTruthy();
    },
  );

  it('still allows ordinary commands with substitutions, variables and quoted danger in arguments', () => {
    for (const command of [
      'echo "$(date)"',
      'cd "$HOME" && ls',
      'FOO=1 npx nx run rust-target:build -c m68040',
      'git commit -m "docs: never run rm -rf ~"',
      "grep -rn 'rm -rf /' docs",
      'for f in *.ts; do echo "$f"; done',
      'bash -c "npm test"',
      'sudo -u builder make -j2',
      'env -u RUST_BACKTRACE cargo test',
      'git push origin HEAD:feature/x',
      'rm -rf ./dist /tmp/nextrust-*',
      'echo $(ls) $(ls)',
      'diff <(ls a) <(ls b)',
      'echo `git rev-parse HEAD` `date`',
      'cp "$(git rev-parse --show-toplevel)/README.md" /tmp/',
    ]) {
      expect([command, checkCommand(command)]).toEqual([command, { blocked: false }]);
    }
  });

  it('a substitution in command position is still only known at run time; one as an argument is a word', () => {
    expect(checkCommand('$(echo rm) -rf ~')).toEqual({
      blocked: false,
      ask: 'the command name $__substitution is only known when it runs',
    });
    expect(scanSubstitutions('echo "$(date)" <(ls) `pwd` \'$(x)\'')).toEqual({
      bodies: ['date', 'ls', 'pwd'],
      line: 'echo "$__substitution" /dev/fd/63 $__substitution \'$(x)\'',
    });
  });

  it('property: no wrapping of a destructive command passes', () => {
    const core = fc.constantFrom(
      'rm -rf ~',
      'rm -rf /',
      'rm -fr "$HOME"',
      'git push --force origin main',
      'dd if=/dev/zero of=/dev/sda',
      'mkfs.ext4 /dev/sdb1',
    );
    type Wrap = (c: string) => string;
    const wraps: Wrap[] = [
      (c) => `sudo ${c}`,
      (c) => `/usr/bin/sudo -u root ${c}`,
      (c) => `env A=1 ${c}`,
      (c) => `env -u X ${c}`,
      (c) => `nohup ${c} &`,
      (c) => `timeout 5 ${c}`,
      (c) => `bash -c '${c.replace(/'/g, `'\\''`)}'`,
      (c) => `sh -ec "${c.replace(/(["\\$`])/g, '\\$1')}"`,
      (c) => `echo "$(${c})"`,
      // Backquotes nest only escaped (bash pairs unescaped ones left to right).
      (c) => `echo \`${c.replace(/([\\`])/g, '\\$1')}\``,
      (c) => `true && ${c}`,
      (c) => `{ ${c}; }`,
      (c) => `if true; then ${c}; fi`,
      (c) => `(${c})`,
      (c) => `ls; ${c}`,
      (c) => `function g { ${c}; }; g`,
      (c) => `eval "${c.replace(/(["\\$`])/g, '\\$1')}"`,
    ];
    fc.assert(
      fc.property(
        core,
        fc.array(fc.integer({ min: 0, max: wraps.length - 1 }), { minLength: 1, maxLength: 4 }),
        (c, picks) => {
          const command = picks.reduce<string>((acc, i) => wraps[i](acc), c);
          const v = checkCommand(command);
          return v.blocked || Boolean((v as { ask?: string }).ask);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
