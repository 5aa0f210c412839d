// The Previous backend's own logic: machine per CPU, settings and the messages for what is missing, the
// previous.cfg it writes (checked against the key table of Previous's src/configuration.c that the test
// fixture fake-previous.js carries), executable formats, and the guest script run by a real sh (dash) on a
// shared folder written by prepareShare.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  caseScript,
  executableFormat,
  GUEST_SCRIPT,
  machineFor,
  MACHINES,
  prepareShare,
  previousConfig,
  previousSettings,
  PREVIOUS_ENV,
  PreviousSetupError,
  type MachineSpec,
} from './previous';
import { emulatorTestsTargets } from '../graph/emulator-tests-targets';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fake = require('../../test/fixtures/fake-previous.js') as {
  KEYS: Record<string, Record<string, string>>;
  parseConfig: (
    text: string,
    file: string,
    fail: (m: string) => never,
  ) => Record<string, Record<string, boolean | number | string>>;
};
const parse = (text: string) =>
  fake.parseConfig(text, 'previous.cfg', (m) => {
    throw new Error(m);
  });

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-previous-spec-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function file(name: string, size: number, mode = 0o644): string {
  const f = path.join(tmp, name);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, Buffer.alloc(size, 0x4e));
  fs.chmodSync(f, mode);
  return f;
}

describe('machineFor', () => {
  it('maps the 68030 to the NeXT Computer and the 68040 to the NeXTcube, with their ROM keys', () => {
    const m030 = machineFor('m68030') as MachineSpec;
    expect(m030).toMatchObject({ name: 'cube030', romKey: 'szRom030FileName', cpu: 'm68030' });
    expect(m030.system).toMatchObject({ nMachineType: '0', nCpuLevel: '3', n_FPUType: '68882', bTurbo: 'FALSE' });
    const m040 = machineFor('m68040') as MachineSpec;
    expect(m040).toMatchObject({ name: 'cube040', romKey: 'szRom040FileName', romExample: 'Rev_2.5_v66.BIN' });
    expect(m040.system).toMatchObject({ nMachineType: '1', nCpuLevel: '4', n_FPUType: '68040', nSCSI: 'TRUE' });
    expect(machineFor('m68040', 'station-turbo')).toMatchObject({
      romKey: 'szRomTurboFileName',
      system: { nMachineType: '2', bTurbo: 'TRUE', bNBIC: 'FALSE', nCpuFreq: '33' },
    });
  });

  it('refuses the 68000 and 68060 with the reason, and a machine of the other CPU', () => {
    expect(machineFor('m68000')).toBe(
      'm68000: no NeXT machine has a 68000: NeXTSTEP needs a 68030 or 68040 with its paged MMU, which the 68000 lacks (use m68030 or m68040, or the qemu emulator for 68000 programs)',
    );
    expect(machineFor('m68060')).toMatch(/^m68060: no NeXT machine has a 68060, and the NeXT ROMs/);
    expect(machineFor('m68030', 'station')).toBe(
      'NEXTRUST_PREVIOUS_MACHINE=station: the NeXTstation (68040) has a m68040, not the m68030 of this run (machines for m68030: cube030)',
    );
    expect(machineFor('m68040', 'slab')).toBe(
      'NEXTRUST_PREVIOUS_MACHINE=slab: expected one of cube030 (68030) or cube040, station, cube040-turbo, station-turbo (68040)',
    );
    expect(() => machineFor('m68020')).toThrow(/unknown CPU variant 'm68020'/);
  });
});

describe('previousSettings', () => {
  it('names every missing item by variable and what it must hold, before anything runs', () => {
    let err: unknown;
    try {
      previousSettings('m68040', { PATH: path.join(tmp, 'empty-path') }, tmp);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PreviousSetupError);
    expect((err as PreviousSetupError).problems).toEqual([
      'NEXTRUST_PREVIOUS_ROM is not set: the path of a NeXT ROM image for the NeXTcube (68040), such as Rev_2.5_v66.BIN (65536 or 131072 bytes; you supply it, none is shipped here)',
      'NEXTRUST_PREVIOUS_DISK is not set: the path of a SCSI hard disk image with NeXTSTEP installed (3.3 runs on every machine Previous emulates) whose /etc/rc.local starts the nextrust-run script',
      "NEXTRUST_PREVIOUS is not set and neither 'previous' nor 'Previous' is on PATH: set it to the Previous executable, release 3.8 or later (built from https://previous.alternative-system.com/, it is build/src/Previous)",
    ]);
    expect((err as Error).message).toMatch(
      /^the previous emulator cannot run the m68040 tests; nothing was run:\n {2}- /,
    );
    expect((err as Error).message).toMatch(/See docs\/emulator-tests.md, "The Previous emulator".$/);
  });

  it('the ROM message names the 68030 ROM on the m68030', () => {
    expect(() => previousSettings('m68030', { PATH: '' }, tmp)).toThrow(
      'NEXTRUST_PREVIOUS_ROM is not set: the path of a NeXT ROM image for the NeXT Computer (68030 NeXTcube), such as Rev_1.0_v41.BIN',
    );
  });

  it('checks that the files exist and the ROM has a NeXT ROM size; finds previous on PATH; resolves relative paths', () => {
    const bin = path.join(tmp, 'bin');
    file('bin/previous', 10, 0o755);
    file('roms/rev25.bin', 131_072);
    file('roms/short.bin', 1000);
    file('disks/ns33.img', 4096);
    file('disks/empty.img', 0);
    const ok = previousSettings(
      'm68040',
      {
        PATH: `${path.join(tmp, 'nothing')}:${bin}`,
        NEXTRUST_PREVIOUS_ROM: 'roms/rev25.bin',
        NEXTRUST_PREVIOUS_DISK: 'disks/ns33.img',
      },
      tmp,
    );
    expect(ok).toMatchObject({
      emulator: path.join(bin, 'previous'),
      rom: path.join(tmp, 'roms/rev25.bin'),
      disk: path.join(tmp, 'disks/ns33.img'),
      guestFormats: ['mach-o'],
      bootTimeoutMs: 600_000,
      window: false,
    });
    expect(ok.machine.name).toBe('cube040');
    let err: PreviousSetupError | undefined;
    try {
      previousSettings(
        'm68040',
        {
          PATH: bin,
          NEXTRUST_PREVIOUS: path.join(tmp, 'roms/rev25.bin'),
          NEXTRUST_PREVIOUS_ROM: 'roms/short.bin',
          NEXTRUST_PREVIOUS_DISK: 'disks/empty.img',
          NEXTRUST_PREVIOUS_GUEST_FORMATS: 'mach-o,coff',
          NEXTRUST_PREVIOUS_BOOT_TIMEOUT_MS: '10s',
        },
        tmp,
      );
    } catch (e) {
      err = e as PreviousSetupError;
    }
    expect(err?.problems).toEqual([
      expect.stringMatching(/^NEXTRUST_PREVIOUS_ROM=roms\/short.bin: 1000 bytes, not a NeXT ROM image: the path of/),
      expect.stringMatching(/^NEXTRUST_PREVIOUS_DISK=disks\/empty.img: empty: the path of a SCSI hard disk image/),
      expect.stringMatching(/^NEXTRUST_PREVIOUS=.*roms\/rev25.bin: not an executable file: the Previous executable/),
      'NEXTRUST_PREVIOUS_GUEST_FORMATS=mach-o,coff: expected a comma-separated list of mach-o, elf',
      'NEXTRUST_PREVIOUS_BOOT_TIMEOUT_MS=10s: expected a positive whole number of ms',
    ]);
    expect(() =>
      previousSettings('m68040', { NEXTRUST_PREVIOUS_ROM: 'roms/none.bin', NEXTRUST_PREVIOUS_DISK: 'disks' }, tmp),
    ).toThrow(/NEXTRUST_PREVIOUS_ROM=roms\/none.bin: no such file\n {2}- NEXTRUST_PREVIOUS_DISK=disks: not a file/);
  });

  it('a CPU without a NeXT machine is refused alone, whatever else is set', () => {
    expect(() => previousSettings('m68060', {}, tmp)).toThrow(
      /cannot run the m68060 tests; nothing was run:\n {2}- m68060: no NeXT machine has a 68060/,
    );
  });
});

describe('previousConfig', () => {
  const input = (m: MachineSpec) => ({
    machine: m,
    rom: '/roms/Rev 2.5.BIN',
    disk: '/disks/ns33.img',
    share: '/run/share',
    printerDir: '/run/home',
  });

  it("uses only keys of Previous's tables with values of their types, for every machine", () => {
    for (const m of Object.values(MACHINES)) {
      const cfg = parse(previousConfig(input(m)));
      expect(cfg.ROM).toEqual({ [m.romKey]: '/roms/Rev 2.5.BIN' });
      expect(cfg.System.nMachineType).toBe(Number(m.system.nMachineType));
      expect(cfg.System.nCpuLevel).toBe(m.cpu === 'm68030' ? 3 : 4);
      expect(cfg.System.n_FPUType).toBe(m.cpu === 'm68030' ? 68882 : 68040);
    }
  });

  it('boots the disk from SCSI target 0, shares the folder over the internal NFS server, opens no dialog', () => {
    const cfg = parse(previousConfig(input(MACHINES.cube040)));
    expect(cfg.ConfigDialog).toEqual({ bShowConfigDialogAtStartup: false });
    expect(cfg.Boot.nBootDevice).toBe(1);
    expect(cfg.HardDisk).toMatchObject({
      szImageName0: '/disks/ns33.img',
      nDeviceType0: 1,
      bDiskInserted0: true,
      bWriteProtected0: false,
      nDeviceType1: 0,
      nDeviceType6: 0,
    });
    expect(cfg.Ethernet).toMatchObject({
      bEthernetConnected: true,
      nHostInterface: 0,
      szNFSPathName0: '/run/share',
      szNFSPathName1: '',
    });
    expect(cfg.Sound).toEqual({ bEnableMicrophone: false, bEnableSound: false });
    expect(cfg.Log).toMatchObject({ sLogFileName: 'stderr', bConfirmQuit: false });
    expect(cfg.Printer.szPrintToFileName).toBe('/run/home');
  });

  it('refuses paths Previous cannot read back', () => {
    expect(() => previousConfig({ ...input(MACHINES.cube040), disk: 'disks/ns33.img' })).toThrow(
      'the disk image "disks/ns33.img" cannot be written to previous.cfg: expected an absolute path on one line without leading or trailing blanks',
    );
    expect(() => previousConfig({ ...input(MACHINES.cube040), share: '/run/a\nb' })).toThrow(/the shared folder/);
    expect(() => previousConfig({ ...input(MACHINES.cube040), rom: '/' + 'r'.repeat(1100) })).toThrow(
      /the line of szRom040FileName is 1120 characters; Previous reads at most 1022/,
    );
  });

  it("the fake's table refuses a key Previous does not have", () => {
    const text = previousConfig(input(MACHINES.cube040)).replace('szNFSPathName0', 'szNFSroot');
    expect(() => parse(text)).toThrow("unknown key 'szNFSroot' in [Ethernet]");
  });
});

describe('executableFormat', () => {
  it('tells m68k Mach-O from m68k ELF and from anything else', () => {
    const macho = path.join(tmp, 'macho');
    fs.writeFileSync(macho, Buffer.from('feedface00000006000000010000000200000000', 'hex'));
    expect(executableFormat(macho)).toBe('mach-o');
    expect(executableFormat('/usr/m68k-linux-gnu/lib/crt1.o')).toBe('elf');
    expect(executableFormat(process.execPath)).toBeNull(); // the host's ELF
    fs.writeFileSync(macho, Buffer.from('feedface00000007', 'hex')); // MH_MAGIC, CPU_TYPE_I386
    expect(executableFormat(macho)).toBeNull();
  });
});

describe('the guest script under a real sh', () => {
  // dash stands in for NeXTSTEP's sh; the programs are host shell scripts.
  const sh = '/bin/dash';

  it('runs each listed case from the shared folder, writing output, status (128 + n for a signal) and done', () => {
    expect(fs.existsSync('/usr/etc/halt')).toBe(false); // the script's last step must do nothing here
    const share = path.join(tmp, 'share1');
    const prog = file('progs/echoer', 0, 0o755);
    fs.writeFileSync(prog, '#!/bin/sh\necho "argc=$# 1=[$1] 2=[$2]"\ncat\necho "to stderr" >&2\nexit 3\n');
    const killer = file('progs/killer', 0, 0o755);
    fs.writeFileSync(killer, '#!/bin/sh\necho before\nkill -TERM $$\n');
    const ids = prepareShare(share, [
      { name: 'echo args', program: prog, args: ['a b', "it's"], stdin: 'line in\n', timeoutMs: 1000 },
      { name: 'killed', program: killer, args: [], timeoutMs: 1000 },
    ]);
    expect(ids).toEqual(['001-echo_args', '002-killed']);
    fs.writeFileSync(path.join(share, 'nextrust/runlist'), ids.join('\n') + '\n');
    const r = spawnSync(sh, ['-c', GUEST_SCRIPT, 'nextrust-run', share], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = (f: string) => fs.readFileSync(path.join(share, 'nextrust/out', f), 'utf8');
    expect(out('001-echo_args.stdout')).toBe("argc=2 1=[a b] 2=[it's]\nline in\n");
    expect(out('001-echo_args.stderr')).toBe('to stderr\n');
    expect(out('001-echo_args.status')).toBe('3\n');
    expect(out('002-killed.stdout')).toBe('before\n');
    expect(out('002-killed.status')).toBe('143\n');
    expect(fs.readdirSync(path.join(share, 'nextrust/out')).sort()).toEqual([
      '001-echo_args.started',
      '001-echo_args.status',
      '001-echo_args.stderr',
      '001-echo_args.stdout',
      '002-killed.started',
      '002-killed.status',
      '002-killed.stderr',
      '002-killed.stdout',
      'done',
    ]);
  });

  it('without a run list it gives up after its 60 tries and leaves the folder alone', () => {
    const share = path.join(tmp, 'share-empty');
    fs.mkdirSync(share);
    // A `sleep` that returns at once keeps the two minutes of waiting out of the test.
    const fakeBin = path.join(tmp, 'fast-sleep');
    fs.mkdirSync(fakeBin);
    fs.writeFileSync(path.join(fakeBin, 'sleep'), '#!/bin/sh\necho slept >> "$0.count"\n', { mode: 0o755 });
    const r = spawnSync(sh, ['-c', GUEST_SCRIPT, 'nextrust-run', share], {
      encoding: 'utf8',
      env: { PATH: `${fakeBin}:/usr/bin:/bin` },
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(fakeBin, 'sleep.count'), 'utf8').split('\n').filter(Boolean)).toHaveLength(60);
    expect(fs.readdirSync(share)).toEqual([]);
  });

  it('caseScript quotes every word so sh passes arguments through unchanged', () => {
    const args = ['', ' lead', "q'uote", 'd"q', '$HOME', '`id`', 'back\\slash', 'new\nline'];
    const script = caseScript('x', 'printf', args).replace("exec './bin/printf'", "exec printf '[%s]'");
    expect(execFileSync(sh, ['-c', script], { encoding: 'utf8' })).toBe(args.map((a) => `[${a}]`).join(''));
  });

  it('docs/emulator-tests.md carries the script exactly', () => {
    const docs = fs.readFileSync(path.join(__dirname, '../../../../docs/emulator-tests.md'), 'utf8');
    expect(docs).toContain('```sh\n' + GUEST_SCRIPT + '```');
  });
});

describe('cache inputs', () => {
  it('emulator-tests:test hashes every setting that changes what runs (all but the window and the boot timeout)', () => {
    const project = emulatorTestsTargets(
      { kind: 'emulator-tests', buildProject: 'rust-target', testsDir: 'tests', emulator: 'previous', timeoutMs: 1000 },
      { projectName: 'emulator-tests', projectRoot: 'projects/emulator-tests', distDir: 'dist', workspaceRoot: tmp },
    );
    const envs = (project.targets!.test.inputs as { env?: string }[]).map((i) => i.env).filter(Boolean);
    expect(envs.sort()).toEqual(
      Object.values(PREVIOUS_ENV)
        .filter((v) => v !== PREVIOUS_ENV.window && v !== PREVIOUS_ENV.bootTimeoutMs)
        .sort(),
    );
  });
});
