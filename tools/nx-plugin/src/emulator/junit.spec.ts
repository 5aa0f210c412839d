// Covers toJUnitXml: well-formed XML parsed back with xmlbuilder2, counts and times, failure elements, and escaping of special characters.
import { DOMParser } from '@xmldom/xmldom';
import { toJUnitXml } from './junit';
import type { CaseResult } from './run-tests';

/** A passing case; override fields to shape it. */
function caseResult(o: Partial<CaseResult> = {}): CaseResult {
  return {
    name: 'hello',
    program: 'hello',
    cpu: 'm68040',
    passed: true,
    command: 'qemu-m68k -cpu m68040 dist/rust-target/m68040/hello',
    exitCode: 0,
    timedOut: false,
    durationMs: 100,
    stdout: '',
    stderr: '',
    error: null,
    assertions: [],
    ...o,
  };
}

const failedExit = {
  assertion: { type: 'exit_code' as const, expected: 0 },
  passed: false,
  message: 'expected exit code 0, got exit code 101',
};
const passedContains = {
  assertion: { type: 'output_contains' as const, pattern: 'hi', stream: 'stdout' as const },
  passed: true,
  message: 'stdout contains "hi"',
};
const failedMatches = {
  assertion: { type: 'output_matches' as const, pattern: '^ok$', stream: 'stderr' as const },
  passed: false,
  message: 'stderr does not match /^ok$/',
};

/**
 * Problems that make `xml` not well-formed XML 1.0 (a strict check: the
 * xmlbuilder2 parser is lenient, e.g. it accepts unclosed elements).
 */
function wellFormednessProblems(xml: string): string[] {
  const problems: string[] = [];
  const illegal = xml.match(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g);
  if (illegal) problems.push(`characters not allowed in XML 1.0: ${illegal.map((c) => JSON.stringify(c)).join(' ')}`);
  const body = xml.replace(/^<\?xml[^?]*\?>/, '');
  const entity = /&(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const attr = /\s+[A-Za-z_:][\w:.-]*="([^"]*)"/g;
  const stack: string[] = [];
  let roots = 0;
  for (const token of body.match(/<[^>]*>|[^<]+/g) ?? []) {
    if (token.startsWith('<')) {
      const m = /^<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"]*")*)\s*(\/?)>$/.exec(token);
      if (!m) {
        problems.push(`malformed tag ${token}`);
        continue;
      }
      const [, close, name, attrs, selfClose] = m;
      for (const [, value] of attrs.matchAll(attr)) {
        if (/[<&]/.test(value.replace(entity, ''))) problems.push(`unescaped < or & in attribute of ${name}`);
      }
      if (close) {
        if (stack.pop() !== name) problems.push(`mismatched </${name}>`);
      } else {
        if (stack.length === 0) roots++;
        if (!selfClose) stack.push(name);
      }
    } else {
      if (stack.length === 0 && token.trim()) problems.push(`text outside the root element: ${JSON.stringify(token)}`);
      if (/&/.test(token.replace(entity, ''))) problems.push(`unescaped & in ${JSON.stringify(token)}`);
      if (token.includes(']]>')) problems.push(`]]> in text ${JSON.stringify(token)}`);
    }
  }
  if (stack.length) problems.push(`unclosed elements: ${stack.join(', ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}

/** The parts of the xmlbuilder2 DOM these tests read (the workspace has no DOM lib types). */
interface XmlElement {
  nodeType: number;
  tagName: string;
  textContent: string | null;
  attributes: ArrayLike<{ name: string; value: string }>;
  childNodes: ArrayLike<XmlElement>;
}

/** Parses the XML with xmlbuilder2 and returns the DOM document. */
/** Parses with @xmldom/xmldom (a conforming parser; xmlbuilder2's own parser decodes character references twice). */
function parse(xml: string): { documentElement: XmlElement } {
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level: string, msg: string) => {
      if (level !== 'warning') errors.push(msg);
    },
  }).parseFromString(xml, 'text/xml');
  if (errors.length) throw new Error(`not well-formed: ${errors.join('; ')}`);
  return doc as unknown as { documentElement: XmlElement };
}

const attrs = (el: XmlElement): Record<string, string> =>
  Object.fromEntries(Array.from(el.attributes).map((a) => [a.name, a.value]));
const children = (el: XmlElement, name: string): XmlElement[] =>
  Array.from(el.childNodes).filter((n) => n.nodeType === 1 && n.tagName === name);

describe('the strict well-formedness check used here', () => {
  it('finds the problems it is meant to find', () => {
    expect(wellFormednessProblems('<?xml version="1.0"?>\n<a><b>x &amp; y</b></a>\n')).toEqual([]);
    expect(wellFormednessProblems('<a><b></a>')).not.toEqual([]);
    expect(wellFormednessProblems('<a>x & y</a>')).not.toEqual([]);
    expect(wellFormednessProblems('<a>x ]]> y</a>')).not.toEqual([]);
    expect(wellFormednessProblems('<a t="<"/>')).not.toEqual([]);
    expect(wellFormednessProblems('<a>\u0001</a>')).not.toEqual([]);
    expect(wellFormednessProblems('<a/><b/>')).not.toEqual([]);
  });
});

describe('toJUnitXml', () => {
  const cases = [
    caseResult({
      name: 'hello',
      durationMs: 1500,
      stdout: 'Hello from Rust on the Motorola 68k!\n',
      assertions: [passedContains],
    }),
    caseResult({
      name: 'panic',
      passed: false,
      exitCode: 101,
      durationMs: 250,
      stderr: 'panicked\n',
      assertions: [failedExit, passedContains, failedMatches],
    }),
    caseResult({
      name: 'slow',
      passed: false,
      exitCode: null,
      timedOut: true,
      durationMs: 30000,
      error: 'timed out after 30000 ms',
      assertions: [failedExit],
    }),
  ];
  const xml = toJUnitXml('emulator-tests.m68040', cases);
  const doc = parse(xml);
  const root = doc.documentElement;
  const suite = children(root, 'testsuite')[0];
  const testcases = children(suite, 'testcase');

  it('is well-formed XML with a UTF-8 declaration and a trailing newline', () => {
    expect(wellFormednessProblems(xml)).toEqual([]);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(xml.endsWith('</testsuites>\n')).toBe(true);
  });

  it('has the Ant/Surefire shape: testsuites > testsuite > testcase', () => {
    expect(root.tagName).toBe('testsuites');
    expect(children(root, 'testsuite')).toHaveLength(1);
    expect(testcases.map((t) => attrs(t).name)).toEqual(['hello', 'panic', 'slow']);
    for (const t of testcases) expect(attrs(t).classname).toBe('emulator-tests.m68040');
  });

  it('counts tests and failures, and sums the time in seconds', () => {
    expect(attrs(root)).toEqual({ name: 'emulator-tests.m68040', tests: '3', failures: '2', time: '31.750' });
    expect(attrs(suite)).toEqual({
      name: 'emulator-tests.m68040',
      tests: '3',
      failures: '2',
      errors: '0',
      skipped: '0',
      time: '31.750',
    });
    expect(testcases.map((t) => attrs(t).time)).toEqual(['1.500', '0.250', '30.000']);
  });

  it('adds a failure only to failed cases, with the failed assertions (and the error first)', () => {
    expect(children(testcases[0], 'failure')).toHaveLength(0);

    const [panicFailure] = children(testcases[1], 'failure');
    expect(attrs(panicFailure)).toEqual({
      message: 'expected exit code 0, got exit code 101; stderr does not match /^ok$/',
      type: 'assertion',
    });
    expect(panicFailure.textContent).toBe('expected exit code 0, got exit code 101\nstderr does not match /^ok$/');

    const [slowFailure] = children(testcases[2], 'failure');
    expect(attrs(slowFailure)).toEqual({
      message: 'timed out after 30000 ms; expected exit code 0, got exit code 101',
      type: 'timeout',
    });
    expect(slowFailure.textContent).toBe('timed out after 30000 ms\nexpected exit code 0, got exit code 101');
  });

  it('adds system-out and system-err only when there is output', () => {
    expect(children(testcases[0], 'system-out').map((e) => e.textContent)).toEqual([
      'Hello from Rust on the Motorola 68k!\n',
    ]);
    expect(children(testcases[0], 'system-err')).toHaveLength(0);
    expect(children(testcases[1], 'system-out')).toHaveLength(0);
    expect(children(testcases[1], 'system-err').map((e) => e.textContent)).toEqual(['panicked\n']);
    expect(children(testcases[2], 'system-out')).toHaveLength(0);
    expect(children(testcases[2], 'system-err')).toHaveLength(0);
  });

  it('writes an empty suite for no cases', () => {
    const empty = toJUnitXml('emulator-tests.m68000', []);
    expect(wellFormednessProblems(empty)).toEqual([]);
    const r = parse(empty).documentElement;
    expect(attrs(r)).toMatchObject({ tests: '0', failures: '0', time: '0.000' });
    expect(children(children(r, 'testsuite')[0], 'testcase')).toHaveLength(0);
  });
});

describe('toJUnitXml escaping', () => {
  const nasty = 'if a < b && c > d then <tag attr="x"> \'q\' ]]> <![CDATA[ x ]]> & done &\n';
  const xml = toJUnitXml('suite <&> "quoted"', [
    caseResult({
      name: 'weird',
      passed: false,
      stdout: nasty,
      stderr: `err: ${nasty}`,
      error: 'cannot run <qemu> & friends: "ENOENT"',
      assertions: [{ ...failedMatches, message: 'stdout does not match /^a<b&c]]>$/' }],
    }),
  ]);

  it('stays well-formed', () => {
    expect(wellFormednessProblems(xml)).toEqual([]);
  });

  it('escapes <, & and ]]> in text so they never appear raw', () => {
    const outText = xml.slice(xml.indexOf('<system-out>') + '<system-out>'.length, xml.indexOf('</system-out>'));
    expect(outText).not.toMatch(/[<]/);
    expect(outText).not.toContain(']]>');
    expect(outText.replace(/&(lt|gt|amp|quot|apos);/g, '')).not.toContain('&');
  });

  it('round-trips text and attributes exactly through the parser', () => {
    const root = parse(xml).documentElement;
    expect(attrs(root).name).toBe('suite <&> "quoted"');
    const tc = children(children(root, 'testsuite')[0], 'testcase')[0];
    expect(children(tc, 'system-out')[0].textContent).toBe(nasty);
    expect(children(tc, 'system-err')[0].textContent).toBe(`err: ${nasty}`);
    const failure = children(tc, 'failure')[0];
    expect(attrs(failure).message).toBe('cannot run <qemu> & friends: "ENOENT"; stdout does not match /^a<b&c]]>$/');
    expect(failure.textContent).toBe('cannot run <qemu> & friends: "ENOENT"\nstdout does not match /^a<b&c]]>$/');
  });

  it('keeps tabs, newlines and non-ASCII text', () => {
    const text = 'col1\tcol2\nÄ 68040 → 😀\n';
    const out = toJUnitXml('s', [caseResult({ stdout: text })]);
    expect(wellFormednessProblems(out)).toEqual([]);
    expect(
      children(children(children(parse(out).documentElement, 'testsuite')[0], 'testcase')[0], 'system-out')[0]
        .textContent,
    ).toBe(text);
  });

  // Regressions of two bugs found here (fixed by xmlText in junit.ts):
  //
  // 1. xmlbuilder2 3.x does not escape an "&" that already starts an entity-like sequence
  //    (`&name;`, `&#123;`), so output containing e.g. "&amp;" is read back as "&".
  it('keeps entity-like text such as "&amp;" in stdout unchanged through a round trip', () => {
    const text = 'AT&amp;T &lt;tag&gt; &#65;\n';
    const out = toJUnitXml('s', [caseResult({ stdout: text })]);
    expect(
      children(children(children(parse(out).documentElement, 'testsuite')[0], 'testcase')[0], 'system-out')[0]
        .textContent,
    ).toBe(text);
  });

  // 2. The same gap writes "&nbsp;" verbatim: a reference to an undeclared entity, not well-formed XML.
  it('stays well-formed when stdout has an HTML entity such as "&nbsp;"', () => {
    const out = toJUnitXml('s', [caseResult({ stdout: 'a&nbsp;b\n' })]);
    expect(wellFormednessProblems(out)).toEqual([]);
  });

  // 3. Control characters (ANSI escapes, BEL, NUL, ...) from a program's output are written verbatim;
  //    XML 1.0 forbids them, so strict JUnit readers reject the file.
  it('emits no characters XML 1.0 forbids when stdout has control characters', () => {
    const out = toJUnitXml('s', [caseResult({ stdout: 'red: \u001b[31mX\u001b[0m bell\u0007 nul\u0000 soh\u0001\n' })]);
    expect(wellFormednessProblems(out)).toEqual([]);
  });
});
