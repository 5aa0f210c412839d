/**
 * The Previous backend of the emulator tests: runs NeXTSTEP programs on an emulated NeXT machine
 * (Previous, https://previous.alternative-system.com/) booted from a disk image the user supplies, with a
 * NeXT ROM the user supplies.
 *
 * How a run works (each fact from Previous's source, release 4.4; file names are relative to its tree,
 * https://sourceforge.net/p/previous/code/HEAD/tree/trunk/):
 *  - Previous takes no command-line options (src/main.c calls no option parser); it reads its settings from
 *    `$HOME/.config/previous/previous.cfg` on Linux (src/paths.c: HATARI_HOME_DIR; src/configuration.c:
 *    Configuration_SetDefault names `<home dir>/previous.cfg`). So each run gets a folder of its own, the
 *    emulator runs with HOME set to `<run>/home`, and the configuration is written there.
 *  - The configuration is an INI file of `key = value` lines under `[Section]` headers; the keys are those of
 *    the Config_Tag tables in src/configuration.c, read by src/cfgopts.c (booleans TRUE/FALSE, the value is the
 *    rest of the line trimmed, a line holds at most 1022 characters: fgets into 1024 bytes). Unknown keys are
 *    silently ignored there, so every key written here is one of those tables' (the test suite's fake Previous
 *    checks them).
 *  - Previous's internal NFS server (since 2.3; several shares since 3.8) exports `szNFSPathName0` of
 *    `[Ethernet]` as `nfs:/` over its SLiRP network; its internal NetInfo server lists the mount `nfs:/` at
 *    `/Net` with the options `rw,net` (src/slirp/netinfo.c), so a NeXTSTEP 3.3 guest sees the folder under
 *    `/Net` without any setup (filesharing.howto.txt). That folder is the run's `share/`.
 *  - Previous quits when the guest powers the machine down (src/rtcnvram.c: the RTC's power-down bit calls
 *    Main_RequestQuit).
 *
 * The guest side is a shell script on the user's disk image (GUEST_SCRIPT, started from /etc/rc.local) that
 * runs each listed program from the shared folder and writes its output and exit status there:
 *
 *   share/nextrust/runlist          case ids, one a line, in run order
 *   share/nextrust/cases/<id>.sh    `exec ./bin/<program> '<arg>'...` (run by sh in share/nextrust)
 *   share/nextrust/cases/<id>.stdin the case's standard input (empty without `stdin`)
 *   share/nextrust/bin/<program>    the executable
 *   share/nextrust/out/<id>.started written by the guest before the program starts
 *   share/nextrust/out/<id>.stdout, .stderr   the program's output
 *   share/nextrust/out/<id>.status  its exit status as the guest's sh reports it (128 + n for signal n),
 *                                   written last, by rename
 *   share/nextrust/out/done         written after the last case, by rename
 *
 * The host watches `out/`: a case's time limit runs from its `.started`; a case over its limit has the emulator
 * killed and the cases after it run in a fresh boot.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpuInfo } from '../toolchain/cpu';
import { shellQuote } from '../util/exec';

/** The NeXT machines Previous emulates that a CPU variant can use (src/includes/configuration.h: MACHINETYPE). */
export type PreviousMachine = 'cube030' | 'cube040' | 'station' | 'cube040-turbo' | 'station-turbo';

/** What the `[System]`, `[Memory]` and `[ROM]` sections say for one machine. */
export interface MachineSpec {
  name: PreviousMachine;
  /** For messages, e.g. "NeXTcube (68040)". */
  label: string;
  /** The configuration's CPU variant. */
  cpu: 'm68030' | 'm68040';
  /** `[System]` values, as written. */
  system: Record<string, string>;
  /** `[Memory]` bank sizes in MiB (src/configuration.c: Configuration_SetSystemDefaults). */
  memoryBanksMiB: [number, number, number, number];
  /** The `[ROM]` key Previous loads for this machine (src/rom.c: rom_load). */
  romKey: 'szRom030FileName' | 'szRom040FileName' | 'szRomTurboFileName';
  /** The ROM image Previous's defaults name for this machine (src/configuration.c). */
  romExample: string;
}

const B = (v: boolean) => (v ? 'TRUE' : 'FALSE');

/**
 * `[System]` of a machine, as Configuration_SetSystemDefaults in Previous's src/configuration.c sets it:
 * nMachineType 0 NeXT Computer (68030 cube), 1 NeXTcube (68040), 2 NeXTstation; nCpuLevel 3 = 68030,
 * 4 = 68040 (src/m68000.c); n_FPUType 68882 or 68040 (the 68040's own FPU); nSCSI and nRTC are read as
 * booleans (NCR53C90A, MCCS1850 when TRUE).
 */
function system(o: { type: number; turbo: boolean; level: 3 | 4; nbic: boolean }): Record<string, string> {
  const c030 = o.level === 3;
  return {
    nMachineType: String(o.type),
    bColor: 'FALSE',
    bTurbo: B(o.turbo),
    bNBIC: B(o.nbic),
    bADB: B(o.turbo),
    nSCSI: B(!c030),
    nRTC: B(o.turbo),
    nCpuLevel: String(o.level),
    nCpuFreq: o.turbo ? '33' : '25',
    bCompatibleCpu: 'TRUE',
    bRealtime: 'FALSE',
    nDSPType: '2',
    bDSPMemoryExpansion: B(!c030),
    n_FPUType: c030 ? '68882' : '68040',
    bCompatibleFPU: 'TRUE',
    bMMU: 'TRUE',
  };
}

/** The machines, by name. */
export const MACHINES: Readonly<Record<PreviousMachine, MachineSpec>> = {
  cube030: {
    name: 'cube030',
    label: 'NeXT Computer (68030 NeXTcube)',
    cpu: 'm68030',
    system: system({ type: 0, turbo: false, level: 3, nbic: true }),
    memoryBanksMiB: [16, 16, 16, 16],
    romKey: 'szRom030FileName',
    romExample: 'Rev_1.0_v41.BIN',
  },
  cube040: {
    name: 'cube040',
    label: 'NeXTcube (68040)',
    cpu: 'm68040',
    system: system({ type: 1, turbo: false, level: 4, nbic: true }),
    memoryBanksMiB: [16, 16, 16, 16],
    romKey: 'szRom040FileName',
    romExample: 'Rev_2.5_v66.BIN',
  },
  station: {
    name: 'station',
    label: 'NeXTstation (68040)',
    cpu: 'm68040',
    system: system({ type: 2, turbo: false, level: 4, nbic: false }),
    memoryBanksMiB: [16, 16, 0, 0],
    romKey: 'szRom040FileName',
    romExample: 'Rev_2.5_v66.BIN',
  },
  'cube040-turbo': {
    name: 'cube040-turbo',
    label: 'NeXTcube Turbo (68040)',
    cpu: 'm68040',
    system: system({ type: 1, turbo: true, level: 4, nbic: true }),
    memoryBanksMiB: [32, 32, 32, 32],
    romKey: 'szRomTurboFileName',
    romExample: 'Rev_3.3_v74.BIN',
  },
  'station-turbo': {
    name: 'station-turbo',
    label: 'NeXTstation Turbo (68040)',
    cpu: 'm68040',
    system: system({ type: 2, turbo: true, level: 4, nbic: false }),
    memoryBanksMiB: [32, 32, 32, 32],
    romKey: 'szRomTurboFileName',
    romExample: 'Rev_3.3_v74.BIN',
  },
};

/** The machine used for a CPU variant when NEXTRUST_PREVIOUS_MACHINE is not set. */
export const DEFAULT_MACHINE: Readonly<Record<'m68030' | 'm68040', PreviousMachine>> = {
  m68030: 'cube030',
  m68040: 'cube040',
};

/** Why a CPU variant has no NeXT machine, for the variants that have none. */
export const UNSUPPORTED_CPUS: Readonly<Record<string, string>> = {
  m68000:
    'no NeXT machine has a 68000: NeXTSTEP needs a 68030 or 68040 with its paged MMU, which the 68000 lacks (use m68030 or m68040, or the qemu emulator for 68000 programs)',
  m68060:
    'no NeXT machine has a 68060, and the NeXT ROMs and NeXTSTEP support the 68030 and 68040 only (use m68030 or m68040, or the qemu emulator for 68060 programs)',
};

/** Sizes in bytes of NeXT ROM images: 64 KiB (Rev 0.8 and 1.x, 68030) and 128 KiB (Rev 2.x and 3.x, 68040). */
export const ROM_SIZES = [65_536, 131_072] as const;

/** Executable formats a guest can run: NeXTSTEP's Mach-O, or m68k ELF (a guest that runs Linux programs). */
export type ExecutableFormat = 'mach-o' | 'elf';

/** Settings of the Previous backend, from the environment (previousSettings). Paths absolute. */
export interface PreviousSettings {
  /** The Previous executable. */
  emulator: string;
  /** The NeXT ROM image. */
  rom: string;
  /** The NeXTSTEP SCSI disk image (used in place: the guest writes to it as on any boot). */
  disk: string;
  machine: MachineSpec;
  /** Formats the guest runs; other programs fail their case without a boot. */
  guestFormats: ExecutableFormat[];
  /** ms from launch until the guest starts the first case. */
  bootTimeoutMs: number;
  /** Show Previous's window (else SDL's dummy video and audio drivers). */
  window: boolean;
}

/** The environment variables the backend reads, for docs, messages and Nx inputs. */
export const PREVIOUS_ENV = {
  emulator: 'NEXTRUST_PREVIOUS',
  rom: 'NEXTRUST_PREVIOUS_ROM',
  disk: 'NEXTRUST_PREVIOUS_DISK',
  machine: 'NEXTRUST_PREVIOUS_MACHINE',
  guestFormats: 'NEXTRUST_PREVIOUS_GUEST_FORMATS',
  bootTimeoutMs: 'NEXTRUST_PREVIOUS_BOOT_TIMEOUT_MS',
  window: 'NEXTRUST_PREVIOUS_WINDOW',
} as const;

/** Default of NEXTRUST_PREVIOUS_BOOT_TIMEOUT_MS: a NeXTSTEP 3.3 boot takes one to two minutes in Previous. */
export const DEFAULT_BOOT_TIMEOUT_MS = 600_000;

/** The emulator's setup is incomplete or wrong; `problems` has one line per missing or bad item. */
export class PreviousSetupError extends Error {
  constructor(
    readonly cpu: string,
    readonly problems: string[],
  ) {
    super(
      `the previous emulator cannot run the ${cpu} tests; nothing was run:\n` +
        problems.map((p) => `  - ${p}`).join('\n') +
        `\nSee docs/emulator-tests.md, "The Previous emulator".`,
    );
    this.name = 'PreviousSetupError';
  }
}

/** The first executable named `names[i]` in PATH, or null. */
function onPath(names: string[], env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const n of names) {
      const f = path.join(dir, n);
      try {
        fs.accessSync(f, fs.constants.X_OK);
        if (fs.statSync(f).isFile()) return f;
      } catch {
        /* not here */
      }
    }
  }
  return null;
}

/**
 * The machine for a CPU variant.
 * @param requested NEXTRUST_PREVIOUS_MACHINE, or undefined for the default.
 * @returns the machine, or a problem line (an unsupported CPU, an unknown machine, a machine of the other CPU).
 */
export function machineFor(cpu: string, requested?: string): MachineSpec | string {
  cpuInfo(cpu);
  if (UNSUPPORTED_CPUS[cpu]) return `${cpu}: ${UNSUPPORTED_CPUS[cpu]}`;
  const c = cpu as 'm68030' | 'm68040';
  if (!requested) return MACHINES[DEFAULT_MACHINE[c]];
  const m = MACHINES[requested as PreviousMachine];
  const forCpu = (want: string) =>
    Object.values(MACHINES)
      .filter((x) => x.cpu === want)
      .map((x) => x.name)
      .join(', ');
  if (!m)
    return `${PREVIOUS_ENV.machine}=${requested}: expected one of ${forCpu('m68030')} (68030) or ${forCpu('m68040')} (68040)`;
  if (m.cpu !== c)
    return `${PREVIOUS_ENV.machine}=${requested}: the ${m.label} has a ${m.cpu}, not the ${cpu} of this run (machines for ${cpu}: ${forCpu(c)})`;
  return m;
}

/**
 * Reads and checks the backend's settings for one CPU variant.
 * @param env where NEXTRUST_PREVIOUS* are read (PREVIOUS_ENV).
 * @param baseDir relative paths in them are resolved against it (the workspace root).
 * @throws PreviousSetupError listing every missing or bad item, by variable name and what it must hold.
 */
export function previousSettings(cpu: string, env: NodeJS.ProcessEnv, baseDir: string): PreviousSettings {
  const machine = machineFor(cpu, env[PREVIOUS_ENV.machine] || undefined);
  if (typeof machine === 'string') throw new PreviousSetupError(cpu, [machine]);
  const problems: string[] = [];
  const file = (name: string, value: string): string | null => {
    const p = path.resolve(baseDir, value);
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      problems.push(`${name}=${value}: no such file`);
      return null;
    }
    if (!st.isFile()) {
      problems.push(`${name}=${value}: not a file`);
      return null;
    }
    return p;
  };

  const romWhat = `the path of a NeXT ROM image for the ${machine.label}, such as ${machine.romExample} (${ROM_SIZES.join(' or ')} bytes; you supply it, none is shipped here)`;
  let rom = '';
  if (!env[PREVIOUS_ENV.rom]) problems.push(`${PREVIOUS_ENV.rom} is not set: ${romWhat}`);
  else {
    const p = file(PREVIOUS_ENV.rom, env[PREVIOUS_ENV.rom]!);
    if (p) {
      const size = fs.statSync(p).size;
      if (!(ROM_SIZES as readonly number[]).includes(size))
        problems.push(`${PREVIOUS_ENV.rom}=${env[PREVIOUS_ENV.rom]}: ${size} bytes, not a NeXT ROM image: ${romWhat}`);
      else rom = p;
    }
  }

  const diskWhat =
    'the path of a SCSI hard disk image with NeXTSTEP installed (3.3 runs on every machine Previous emulates) whose /etc/rc.local starts the nextrust-run script';
  let disk = '';
  if (!env[PREVIOUS_ENV.disk]) problems.push(`${PREVIOUS_ENV.disk} is not set: ${diskWhat}`);
  else {
    const p = file(PREVIOUS_ENV.disk, env[PREVIOUS_ENV.disk]!);
    if (p && fs.statSync(p).size === 0)
      problems.push(`${PREVIOUS_ENV.disk}=${env[PREVIOUS_ENV.disk]}: empty: ${diskWhat}`);
    else if (p) disk = p;
  }

  const emuWhat =
    'the Previous executable, release 3.8 or later (built from https://previous.alternative-system.com/, it is build/src/Previous)';
  let emulator = '';
  if (env[PREVIOUS_ENV.emulator]) {
    const value = env[PREVIOUS_ENV.emulator]!;
    const p = value.includes('/') ? path.resolve(baseDir, value) : onPath([value], env);
    if (!p) problems.push(`${PREVIOUS_ENV.emulator}=${value}: not found on PATH: ${emuWhat}`);
    else {
      try {
        fs.accessSync(p, fs.constants.X_OK);
        if (!fs.statSync(p).isFile()) throw new Error('not a file');
        emulator = p;
      } catch {
        problems.push(`${PREVIOUS_ENV.emulator}=${value}: not an executable file: ${emuWhat}`);
      }
    }
  } else {
    const p = onPath(['previous', 'Previous'], env);
    if (!p)
      problems.push(
        `${PREVIOUS_ENV.emulator} is not set and neither 'previous' nor 'Previous' is on PATH: set it to ${emuWhat}`,
      );
    else emulator = p;
  }

  const formats = (env[PREVIOUS_ENV.guestFormats] || 'mach-o').split(',').map((s) => s.trim());
  const badFormat = formats.filter((f) => f !== 'mach-o' && f !== 'elf');
  if (badFormat.length)
    problems.push(
      `${PREVIOUS_ENV.guestFormats}=${env[PREVIOUS_ENV.guestFormats]}: expected a comma-separated list of mach-o, elf`,
    );

  let bootTimeoutMs = DEFAULT_BOOT_TIMEOUT_MS;
  const bt = env[PREVIOUS_ENV.bootTimeoutMs];
  if (bt) {
    if (!/^[1-9][0-9]*$/.test(bt))
      problems.push(`${PREVIOUS_ENV.bootTimeoutMs}=${bt}: expected a positive whole number of ms`);
    else bootTimeoutMs = Number(bt);
  }

  if (problems.length) throw new PreviousSetupError(cpu, problems);
  return {
    emulator,
    rom,
    disk,
    machine,
    guestFormats: formats as ExecutableFormat[],
    bootTimeoutMs,
    window: env[PREVIOUS_ENV.window] === '1',
  };
}

/** A path as a configuration value: absolute, one line, no surrounding blanks (src/cfgopts.c trims values). */
function cfgPath(what: string, p: string): string {
  if (!path.isAbsolute(p) || /[\r\n]/.test(p) || p.trim() !== p)
    throw new Error(
      `${what} ${JSON.stringify(p)} cannot be written to previous.cfg: expected an absolute path on one line without leading or trailing blanks`,
    );
  return p;
}

/** Inputs of previousConfig. Paths absolute. */
export interface PreviousConfigInput {
  machine: MachineSpec;
  rom: string;
  disk: string;
  /** The folder exported as the guest's `nfs:/`. */
  share: string;
  /** An existing folder for printer output (Previous refuses to start without it: src/dialog.c Dialog_CheckFiles). */
  printerDir: string;
}

/**
 * The previous.cfg of a run: the machine, its ROM, the disk as SCSI target 0 and boot device, Ethernet over
 * SLiRP with the share as the internal NFS server's export, no other drives or shares, no sound, no dialogs.
 * Keys and value formats are those of Previous's src/configuration.c and src/cfgopts.c.
 * @returns the file's text (LF line ends).
 * @throws Error when a path cannot be written (relative, multi-line, or a line over 1022 characters).
 */
export function previousConfig(c: PreviousConfigInput): string {
  const sections: [string, [string, string][]][] = [
    [
      'Log',
      [
        ['sLogFileName', 'stderr'],
        ['sTraceFileName', 'stderr'],
        // Alerts above LOG_FATAL would open dialogs that nobody answers (src/debug/log.h: LOG_FATAL = 0).
        ['nAlertDlgLogLevel', '0'],
        ['bConfirmQuit', 'FALSE'],
      ],
    ],
    ['ConfigDialog', [['bShowConfigDialogAtStartup', 'FALSE']]],
    ['Screen', [['bFullScreen', 'FALSE']]],
    [
      'Sound',
      [
        ['bEnableMicrophone', 'FALSE'],
        ['bEnableSound', 'FALSE'],
      ],
    ],
    ['Memory', c.machine.memoryBanksMiB.map((n, i) => [`nMemoryBankSize${i}`, String(n)] as [string, string])],
    [
      'Boot',
      [
        ['nBootDevice', '1'], // BOOT_SCSI (src/includes/configuration.h)
        ['bEnableDRAMTest', 'FALSE'],
        ['bEnablePot', 'TRUE'],
        ['bLoopPot', 'FALSE'],
        ['bVerbose', 'TRUE'],
      ],
    ],
    [
      'HardDisk',
      [
        ['szImageName0', cfgPath('the disk image', c.disk)],
        ['nDeviceType0', '1'], // SD_HARDDISK
        ['bDiskInserted0', 'TRUE'],
        ['bWriteProtected0', 'FALSE'],
        ...[1, 2, 3, 4, 5, 6].flatMap((i) => [
          [`nDeviceType${i}`, '0'] as [string, string], // SD_NONE
          [`bDiskInserted${i}`, 'FALSE'] as [string, string],
        ]),
      ],
    ],
    [
      'MagnetoOptical',
      [
        ['bDriveConnected0', 'FALSE'],
        ['bDriveConnected1', 'FALSE'],
      ],
    ],
    ['Floppy', [0, 1, 2, 3].map((i) => [`bDriveConnected${i}`, 'FALSE'] as [string, string])],
    [
      'Ethernet',
      [
        ['bEthernetConnected', 'TRUE'],
        ['nHostInterface', '0'], // ENET_SLIRP: the internal NFS and NetInfo servers live in SLiRP
        ['bNetworkTime', 'FALSE'],
        ['szNFSPathName0', cfgPath('the shared folder', c.share)],
        ['szNFSPathName1', ''],
        ['szNFSPathName2', ''],
        ['szNFSPathName3', ''],
      ],
    ],
    ['ROM', [[c.machine.romKey, cfgPath('the ROM image', c.rom)]]],
    [
      'Printer',
      [
        ['bPrinterConnected', 'FALSE'],
        ['szPrintToFileName', cfgPath('the printer folder', c.printerDir)],
      ],
    ],
    ['System', Object.entries(c.machine.system)],
    [
      'Dimension',
      [
        ['bEnabled0', 'FALSE'],
        ['bEnabled1', 'FALSE'],
        ['bEnabled2', 'FALSE'],
      ],
    ],
  ];
  const lines = [
    '# previous.cfg of one nextrust emulator test run (Previous reads it from $HOME/.config/previous/previous.cfg).',
    `# Machine: ${c.machine.label}.`,
  ];
  for (const [name, entries] of sections) {
    lines.push('', `[${name}]`);
    for (const [k, v] of entries) {
      const line = v === '' ? `${k} =` : `${k} = ${v}`;
      if (line.length > 1022)
        throw new Error(
          `previous.cfg: the line of ${k} is ${line.length} characters; Previous reads at most 1022 (src/cfgopts.c: fgets into 1024 bytes)`,
        );
      lines.push(line);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * The guest's script, to install on the disk image as /usr/local/bin/nextrust-run and start from /etc/rc.local
 * (`sh /usr/local/bin/nextrust-run &`). Written for the Bourne shell of NeXTSTEP (no functions, no `$(...)`).
 * Without a run list in the shared folder it exits after two minutes and changes nothing, so the image boots as
 * usual otherwise. docs/emulator-tests.md carries the same text.
 */
export const GUEST_SCRIPT = `#!/bin/sh
# nextrust-run: runs the programs that the nextrust emulator tests put into
# Previous's shared folder, records each one's output and exit status there,
# and halts the machine. Start it from /etc/rc.local:
#   sh /usr/local/bin/nextrust-run &
# The shared folder is Previous's NFS export nfs:/ (under /Net); a first
# argument names another place. Without a run list it exits and does nothing.
share=
tries=0
while [ -z "$share" ]; do
  for d in $1 /Net/nfs /Net; do
    if [ -z "$share" -a -f $d/nextrust/runlist ]; then share=$d; fi
  done
  if [ -z "$share" ]; then
    tries=\`expr $tries + 1\`
    if [ $tries -gt 60 ]; then exit 0; fi
    sleep 2
  fi
done
cd $share/nextrust || exit 1
for id in \`cat runlist\`; do
  : > out/$id.started
  sh cases/$id.sh < cases/$id.stdin > out/$id.stdout 2> out/$id.stderr
  echo $? > out/$id.tmp
  mv out/$id.tmp out/$id.status
done
sync
: > out/done.tmp
mv out/done.tmp out/done
sync
if [ -f /usr/etc/halt ]; then /usr/etc/halt; fi
`;

/** The format of an executable from its first bytes: Mach-O for the 680x0 (cctools' mach-o/loader.h: MH_MAGIC 0xfeedface, big-endian on the 68k, CPU_TYPE_MC680x0 = 6), m68k ELF (e_machine EM_68K = 4), or null. */
export function executableFormat(file: string): ExecutableFormat | null {
  const b = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  let n: number;
  try {
    n = fs.readSync(fd, b, 0, 20, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (n >= 8 && b.readUInt32BE(0) === 0xfeedface && b.readUInt32BE(4) === 6) return 'mach-o';
  if (n >= 20 && b.readUInt32BE(0) === 0x7f454c46 && b[5] === 2 && b.readUInt16BE(18) === 4) return 'elf';
  return null;
}

/** One program run of a Previous boot. */
export interface GuestCase {
  /** The case's name (test manifest). */
  name: string;
  /** The executable on the host. */
  program: string;
  args: string[];
  stdin?: string;
  /** ms, from the guest's `.started`. */
  timeoutMs: number;
}

/** How one case ended in the guest (the shape runEmulatorTests checks assertions against). */
export interface GuestRun {
  /** What ran, for the report. */
  command: string;
  stdout: string;
  stderr: string;
  /** stdout then stderr: the guest captures them to separate files, so their interleaving is lost. */
  all: string;
  /** The guest sh's exit status (128 + n for signal n), or null when it did not finish. */
  exitCode: number | null;
  timedOut: boolean;
  /** ms from the guest's `.started` to its `.status`, as the host saw them. */
  durationMs: number;
  /** Why the case has no exit status (the emulator crashed or the guest did not answer), else null. */
  error: string | null;
}

/** Case ids: `<n>-<name>` with n from 001, the name cut to safe file name characters. */
export function caseIds(cases: { name: string }[]): string[] {
  return cases.map(
    (c, i) => `${String(i + 1).padStart(3, '0')}-${c.name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60)}`,
  );
}

/** The text of `cases/<id>.sh`: runs the program with its arguments, quoted for sh. */
export function caseScript(name: string, programName: string, args: string[]): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `# ${name.replace(/[\r\n]/g, ' ')} (written by the nextrust emulator tests)\nexec ${['./bin/' + programName, ...args].map(q).join(' ')}\n`;
}

/**
 * Writes the shared folder of a run: `share/nextrust/` with bin/, cases/, an empty out/ (see the module doc).
 * Programs are copied (mode 0755) under their file names; two different files with one name are refused.
 * @returns the case ids, in order.
 * @throws Error when two cases' programs differ but share a file name.
 */
export function prepareShare(share: string, cases: GuestCase[]): string[] {
  const root = path.join(share, 'nextrust');
  for (const d of ['bin', 'cases', 'out']) fs.mkdirSync(path.join(root, d), { recursive: true });
  const ids = caseIds(cases);
  const copied = new Map<string, string>();
  cases.forEach((c, i) => {
    const base = path.basename(c.program);
    const prev = copied.get(base);
    if (prev && prev !== path.resolve(c.program))
      throw new Error(`two programs named ${base} (${prev}, ${c.program}): the shared folder's bin/ holds one`);
    if (!prev) {
      fs.copyFileSync(c.program, path.join(root, 'bin', base));
      fs.chmodSync(path.join(root, 'bin', base), 0o755);
      copied.set(base, path.resolve(c.program));
    }
    fs.writeFileSync(path.join(root, 'cases', `${ids[i]}.sh`), caseScript(c.name, base, c.args));
    fs.writeFileSync(path.join(root, 'cases', `${ids[i]}.stdin`), c.stdin ?? '');
  });
  return ids;
}

/** Options of runUnderPrevious. */
export interface PreviousRunOptions {
  settings: PreviousSettings;
  cases: GuestCase[];
  /** Environment the emulator runs with (HOME and the SDL drivers are set on top). */
  env: NodeJS.ProcessEnv;
  /** ms to wait, after the guest wrote `done`, for Previous to quit by itself before it is stopped. */
  shutdownGraceMs?: number;
  /** ms the guest may take from one case's status to the next case's start. */
  stepTimeoutMs?: number;
  /** Poll interval of the shared folder, ms. */
  pollMs?: number;
}

/** What runUnderPrevious returns: one GuestRun per case, in order, and what the emulator said. */
export interface PreviousRunReport {
  runs: GuestRun[];
  /** previous.cfg as written. */
  config: string;
  /** Previous's stdout and stderr over all boots of the run. */
  log: string;
  /** How many times Previous was started (a case over its time limit means another boot for the rest). */
  boots: number;
}

type Exit = { code: number | null; signal: NodeJS.Signals | null; error?: string };

/** A started emulator: its exit, once known. */
interface Boot {
  child: ChildProcess;
  exit: Exit | null;
  exited: Promise<Exit>;
}

function describeExit(e: Exit): string {
  if (e.error) return `could not be started (${e.error})`;
  return e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the cases in Previous: writes the run folder (share, HOME with previous.cfg), boots the machine, and
 * collects each case's files as the guest writes them. A case over its time limit has Previous (and anything it
 * started) killed, keeps the output written so far, and the remaining cases run in a new boot. When Previous
 * exits before the guest finished, or the guest does not start the first case within `bootTimeoutMs`, the
 * unfinished cases get an error naming what happened and the end of Previous's log. Never throws for how a
 * case or the emulator ended; the run folder is removed afterwards.
 * @throws Error when the run folder cannot be written.
 */
export async function runUnderPrevious(o: PreviousRunOptions): Promise<PreviousRunReport> {
  const s = o.settings;
  const poll = o.pollMs ?? 100;
  const stepTimeoutMs = o.stepTimeoutMs ?? 60_000;
  const graceMs = o.shutdownGraceMs ?? 30_000;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-previous-'));
  try {
    const share = path.join(runDir, 'share');
    const home = path.join(runDir, 'home');
    const cfgDir = path.join(home, '.config', 'previous');
    fs.mkdirSync(cfgDir, { recursive: true });
    const config = previousConfig({ machine: s.machine, rom: s.rom, disk: s.disk, share, printerDir: home });
    fs.writeFileSync(path.join(cfgDir, 'previous.cfg'), config);
    const ids = prepareShare(share, o.cases);
    const nx = path.join(share, 'nextrust');
    const out = (id: string, ext: string) => path.join(nx, 'out', `${id}.${ext}`);
    const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
    const doneFile = path.join(nx, 'out', 'done');
    const logFile = path.join(runDir, 'previous.log');
    const env: NodeJS.ProcessEnv = { ...o.env, HOME: home };
    if (!s.window) {
      // SDL 3 (Previous 4.x) and SDL 2 names of the video and audio driver hints (https://wiki.libsdl.org/SDL3/SDL_HINT_VIDEO_DRIVER).
      Object.assign(env, {
        SDL_VIDEO_DRIVER: 'dummy',
        SDL_VIDEODRIVER: 'dummy',
        SDL_AUDIO_DRIVER: 'dummy',
        SDL_AUDIODRIVER: 'dummy',
      });
    }
    const logTail = () => {
      const lines = read(logFile).trimEnd().split('\n');
      return lines.slice(-20).join('\n');
    };
    const command = (c: GuestCase) =>
      `${s.emulator} (${s.machine.label}; guest: ${['./bin/' + path.basename(c.program), ...c.args].map(shellQuote).join(' ')})`;

    const launch = (): Boot => {
      const fd = fs.openSync(logFile, 'a');
      // Its own process group, so that a kill also reaches what it started.
      const child = spawn(s.emulator, [], { cwd: runDir, env, stdio: ['ignore', fd, fd], detached: true });
      fs.closeSync(fd);
      const boot: Boot = { child, exit: null, exited: Promise.resolve({ code: null, signal: null }) };
      boot.exited = new Promise<Exit>((resolve) => {
        child.once('error', (e) => resolve((boot.exit = { code: null, signal: null, error: e.message })));
        child.once('exit', (code, signal) => resolve((boot.exit = { code, signal })));
      });
      return boot;
    };
    const kill = async (b: Boot) => {
      if (!b.exit && b.child.pid) {
        try {
          process.kill(-b.child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await b.exited;
    };
    /** Waits until `file` exists: 'ok', 'exited' (the emulator ended first) or 'timeout'. */
    const waitFor = async (file: string, deadline: number, b: Boot): Promise<'ok' | 'exited' | 'timeout'> => {
      for (;;) {
        if (fs.existsSync(file)) return 'ok';
        if (b.exit) return fs.existsSync(file) ? 'ok' : 'exited';
        if (Date.now() >= deadline) return 'timeout';
        await sleep(poll);
      }
    };

    const runs: (GuestRun | undefined)[] = o.cases.map(() => undefined);
    const finished = (i: number, started: number): GuestRun => {
      const stdout = read(out(ids[i], 'stdout'));
      const stderr = read(out(ids[i], 'stderr'));
      const status = read(out(ids[i], 'status')).trim();
      const code = /^[0-9]+$/.test(status) ? Number(status) : null;
      return {
        command: command(o.cases[i]),
        stdout,
        stderr,
        all: stdout + stderr,
        exitCode: code,
        timedOut: false,
        durationMs: Date.now() - started,
        error: code === null ? `the guest wrote the exit status ${JSON.stringify(status)}, not a number` : null,
      };
    };
    const unfinished = (i: number, error: string, extra: Partial<GuestRun> = {}): GuestRun => {
      const stdout = read(out(ids[i], 'stdout'));
      const stderr = read(out(ids[i], 'stderr'));
      return {
        command: command(o.cases[i]),
        stdout,
        stderr,
        all: stdout + stderr,
        exitCode: null,
        timedOut: false,
        durationMs: 0,
        error,
        ...extra,
      };
    };

    let next = 0;
    let boots = 0;
    while (next < o.cases.length) {
      fs.writeFileSync(path.join(nx, 'runlist'), ids.slice(next).join('\n') + '\n');
      fs.rmSync(doneFile, { force: true });
      boots++;
      const boot = launch();
      const launchedAt = Date.now();
      let relaunch = false;
      for (let i = next; i < o.cases.length; i++) {
        const first = i === next;
        const startDeadline = Date.now() + (first ? s.bootTimeoutMs : stepTimeoutMs);
        const st = await waitFor(out(ids[i], 'started'), startDeadline, boot);
        if (st !== 'ok') {
          const why =
            st === 'exited'
              ? `Previous ${describeExit(boot.exit!)} before the guest started this case`
              : first
                ? `the guest did not start the run list within ${Math.round((Date.now() - launchedAt) / 1000)} s of boot: the disk image must start the nextrust-run script from /etc/rc.local and see Previous's shared folder (docs/emulator-tests.md)`
                : `the guest did not start this case within ${stepTimeoutMs} ms of the previous one`;
          await kill(boot);
          for (let j = i; j < o.cases.length; j++)
            runs[j] = unfinished(j, `${why}; Previous's log ends:\n${logTail()}`);
          next = o.cases.length;
          break;
        }
        const started = Date.now();
        const done = await waitFor(out(ids[i], 'status'), started + o.cases[i].timeoutMs, boot);
        if (done === 'ok') {
          runs[i] = finished(i, started);
          continue;
        }
        if (done === 'timeout') {
          await kill(boot);
          runs[i] = unfinished(
            i,
            `timed out after ${o.cases[i].timeoutMs} ms (output so far kept; Previous was stopped and the cases after it run in a new boot)`,
            {
              timedOut: true,
              durationMs: Date.now() - started,
            },
          );
          next = i + 1;
          relaunch = true;
          break;
        }
        for (let j = i; j < o.cases.length; j++)
          runs[j] = unfinished(
            j,
            `Previous ${describeExit(boot.exit!)} ${j === i ? 'while this case was running' : 'before the guest started this case'}; Previous's log ends:\n${logTail()}`,
            j === i ? { durationMs: Date.now() - started } : {},
          );
        next = o.cases.length;
        break;
      }
      if (relaunch) continue;
      if (!boot.exit) {
        // All cases answered: let the guest finish (sync, halt); Previous quits on power-down, else it is stopped.
        const until = Date.now() + graceMs;
        await waitFor(doneFile, until, boot);
        while (!boot.exit && Date.now() < until) await sleep(poll);
        await kill(boot);
      }
      next = o.cases.length;
    }
    return { runs: runs.map((r, i) => r ?? unfinished(i, 'not run')), config, log: read(logFile), boots };
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}
