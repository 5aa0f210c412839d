// The patch series: headers, application order, and failures that name the patch and hunk (GNU patch).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyPatchSeries, describePatchFailure, parsePatchHeader, PatchError, readPatchSeries } from './patches';

const HEADER =
  'Subject: change line 2\nFixes: line 2 was wrong,\n  and this continues it\nUpstream: none\nTest: regressions/x.c\n\n';
const diff = (from: string, to: string) =>
  `--- a/llvm/lib/Target/M68k/A.cpp\n+++ b/llvm/lib/Target/M68k/A.cpp\n@@ -1,3 +1,3 @@\n line1\n-${from}\n+${to}\n line3\n`;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextrust-patches-'));
  fs.mkdirSync(path.join(dir, 'src/llvm/lib/Target/M68k'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src/llvm/lib/Target/M68k/A.cpp'), 'line1\nline2\nline3\n');
  fs.mkdirSync(path.join(dir, 'patches'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('parsePatchHeader', () => {
  it('reads the four fields, joining continuation lines', () => {
    expect(parsePatchHeader('p.patch', HEADER + diff('line2', 'lineB'))).toEqual({
      subject: 'change line 2',
      fixes: 'line 2 was wrong, and this continues it',
      upstream: 'none',
      test: 'regressions/x.c',
    });
  });

  it.each(['Subject', 'Fixes', 'Upstream', 'Test'])('names the patch and the missing field %s', (field) => {
    const text =
      HEADER.split('\n')
        .filter((l) => !l.startsWith(field))
        .join('\n') + diff('line2', 'lineB');
    expect(() => parsePatchHeader('0007-x.patch', text)).toThrow(
      new PatchError(
        `0007-x.patch: header field '${field}:' missing (each patch starts with Subject:, Fixes:, Upstream:, Test:)`,
      ),
    );
  });

  it('refuses a header without a diff', () => {
    expect(() => parsePatchHeader('0001-empty.patch', HEADER)).toThrow('0001-empty.patch: no diff after the header');
  });
});

describe('applyPatchSeries', () => {
  it('applies the series in file-name order (the second builds on the first)', async () => {
    fs.writeFileSync(path.join(dir, 'patches/0002-second.patch'), HEADER + diff('lineB', 'lineC'));
    fs.writeFileSync(path.join(dir, 'patches/0001-first.patch'), HEADER + diff('line2', 'lineB'));
    const series = readPatchSeries(path.join(dir, 'patches'));
    expect(series.map((p) => p.file)).toEqual(['0001-first.patch', '0002-second.patch']);
    expect(series[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    await applyPatchSeries(path.join(dir, 'patches'), series, path.join(dir, 'src'));
    expect(fs.readFileSync(path.join(dir, 'src/llvm/lib/Target/M68k/A.cpp'), 'utf8')).toBe('line1\nlineC\nline3\n');
  });

  it('names the patch and the hunk that does not apply, and leaves the file as it was', async () => {
    fs.writeFileSync(path.join(dir, 'patches/0001-stale.patch'), HEADER + diff('lineX', 'lineY'));
    const series = readPatchSeries(path.join(dir, 'patches'));
    await expect(applyPatchSeries(path.join(dir, 'patches'), series, path.join(dir, 'src'))).rejects.toThrow(
      `${path.join(dir, 'patches/0001-stale.patch')}: hunk #1 of llvm/lib/Target/M68k/A.cpp does not apply (at line 1)`,
    );
    expect(fs.readFileSync(path.join(dir, 'src/llvm/lib/Target/M68k/A.cpp'), 'utf8')).toBe('line1\nline2\nline3\n');
    expect(fs.readdirSync(path.join(dir, 'src/llvm/lib/Target/M68k'))).toEqual(['A.cpp']);
  });

  it('says when a patch was already applied', () => {
    expect(
      describePatchFailure(
        'checking file llvm/lib/Target/M68k/A.cpp\nReversed (or previously applied) patch detected!  Skipping patch.\n',
      ),
    ).toBe('llvm/lib/Target/M68k/A.cpp already has this change');
  });
});
