// Covers toJUnitXml: well-formed XML 1.0 (checked by a strict @xmldom/xmldom parse), counts and times, failure
// elements, and escaping of special characters.
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { toJUnitXml } from './junit';
import type { CaseResult } from './results';

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

/** XML 1.0 production [2] Char (https://www.w3.org/TR/xml/#NT-Char): a character outside it is forbidden. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
/** Markup whose content is literal text, where `&` and `]]>` are no references or ends: CDATA sections, comments, PIs. */
const LITERAL_MARKUP = /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g;
/** An `&` that starts no reference (XML 1.0 [67] Reference, [66] CharRef; names approximated by Unicode letters). */
const BARE_AMPERSAND = /&(?!(?:[\p{L}_:][\p{L}\p{N}_.:\u00B7-]*|#[0-9]+|#x[0-9A-Fa-f]+);)/u;
/** A start, end or empty-element tag, with `>` allowed inside its quoted attribute values. */
const TAG = /<[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>/g;

/**
 * Parses `xml` with @xmldom/xmldom, strictly, as the test oracle of well-formed XML 1.0
 * (https://www.w3.org/TR/xml/): every warning, error and fatal error xmldom reports fails the parse
 * (by default it only logs warnings and errors and goes on; note that its warning for U+FFFD, a legal
 * character, fails it too). Line endings are normalised as XML 1.0 does (CR LF and CR to LF, section
 * 2.11), not with xmldom's default, which also folds U+0085, U+2028 and U+2029 (XML 1.1).
 *
 * xmldom 0.9's parser leaves some well-formedness rules unchecked; they are checked here on top:
 *  - characters outside [2] Char in text and PIs, raw or as character references:
 *    xmldom's own XMLSerializer with `requireWellFormed: true` on the parsed document; in attribute
 *    values (which that serializer does not check): each parsed value against [2] Char;
 *  - an `&` that starts no reference, in text or an attribute value ([10] AttValue, [14] CharData):
 *    xmldom keeps `x & y` as text;
 *  - `]]>` in character data ([14] CharData): xmldom keeps it as text.
 * @returns the parsed document.
 * @throws Error `not well-formed XML: <what>` at the first problem found.
 */
function parseStrict(xml: string): Document {
  let doc: Document;
  try {
    doc = new DOMParser({
      normalizeLineEndings: (source) => source.replace(/\r\n?/g, '\n'),
      onError: (level, msg) => {
        throw new Error(`${level}: ${msg}`);
      },
    }).parseFromString(xml, 'text/xml');
    // Each top-level node but the XML declaration, which xmldom keeps as a PI whose target, `xml`, its serializer refuses.
    for (const node of Array.from(doc.childNodes)) {
      if (node.nodeType !== node.PROCESSING_INSTRUCTION_NODE || node.nodeName !== 'xml')
        new XMLSerializer().serializeToString(node, { requireWellFormed: true });
    }
  } catch (e) {
    throw new Error(`not well-formed XML: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  for (const el of Array.from(doc.getElementsByTagName('*'))) {
    for (const a of Array.from(el.attributes)) {
      if (NOT_XML_CHAR.test(a.value))
        throw new Error(`not well-formed XML: attribute ${a.name} of <${el.tagName}> has a character outside Char`);
    }
  }
  const outsideLiteral = xml.replace(LITERAL_MARKUP, '');
  const bare = BARE_AMPERSAND.exec(outsideLiteral);
  if (bare)
    throw new Error(
      `not well-formed XML: & that starts no reference: ${JSON.stringify(outsideLiteral.slice(bare.index, bare.index + 20))}`,
    );
  const charData = outsideLiteral.replace(TAG, '');
  if (charData.includes(']]>')) throw new Error('not well-formed XML: ]]> in character data');
  return doc;
}

const attrs = (el: Element): Record<string, string> =>
  Object.fromEntries(Array.from(el.attributes).map((a) => [a.name, a.value]));
const children = (el: Element, name: string): Element[] =>
  Array.from(el.childNodes).filter(
    (n): n is Element => n.nodeType === n.ELEMENT_NODE && (n as Element).tagName === name,
  );
/** The root element of a document that has one. */
const rootOf = (doc: Document): Element => {
  if (!doc.documentElement) throw new Error('no root element');
  return doc.documentElement;
};

describe('the strict parser used here (@xmldom/xmldom, every report a failure)', () => {
  it('accepts well-formed XML, including & and ]]> where XML 1.0 allows them', () => {
    const ok =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<a t="x &gt; ]]> y &#65;"><b>x &amp; y ]]&gt; &#x1F600;</b><![CDATA[ a & b ]] ]]><!-- & ]]> --><?pi & ]]> ?></a>\n';
    const doc = parseStrict(ok);
    expect(attrs(rootOf(doc)).t).toBe('x > ]]> y A');
    expect(children(rootOf(doc), 'b')[0].textContent).toBe('x & y ]]> 😀');
  });

  it.each([
    ['a mismatched end tag', '<a><b></a>'],
    ['an & that starts no reference, in text', '<a>x & y</a>'],
    ['an & that starts no reference, in an attribute', '<a t="x & y"/>'],
    ['an undeclared entity', '<a>&nbsp;</a>'],
    [']]> in text', '<a>x ]]> y</a>'],
    ['< in an attribute', '<a t="<"/>'],
    ['a control character in text', '<a>\u0001</a>'],
    ['a control character as a reference in text', '<a>&#1;</a>'],
    ['a control character in an attribute', '<a t="\u001b"/>'],
    ['a control character as a reference in an attribute', '<a t="&#x1b;"/>'],
    ['U+FFFE', '<a>\uFFFE</a>'],
    ['two root elements', '<a/><b/>'],
    ['text after the root element', '<a/>x'],
    ['an unclosed element', '<a><b>'],
  ])('rejects %s', (_what, xml) => {
    expect(() => parseStrict(xml)).toThrow(/^not well-formed XML: /);
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
  const root = rootOf(parseStrict(xml));
  const suite = children(root, 'testsuite')[0];
  const testcases = children(suite, 'testcase');

  it('is well-formed XML with a UTF-8 declaration and a trailing newline', () => {
    expect(() => parseStrict(xml)).not.toThrow();
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
    expect(() => parseStrict(empty)).not.toThrow();
    const r = rootOf(parseStrict(empty));
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
    expect(() => parseStrict(xml)).not.toThrow();
  });

  it('escapes <, & and ]]> in text so they never appear raw', () => {
    const outText = xml.slice(xml.indexOf('<system-out>') + '<system-out>'.length, xml.indexOf('</system-out>'));
    expect(outText).not.toMatch(/[<]/);
    expect(outText).not.toContain(']]>');
    expect(outText.replace(/&(lt|gt|amp|quot|apos);/g, '')).not.toContain('&');
  });

  it('round-trips text and attributes exactly through the parser', () => {
    const root = rootOf(parseStrict(xml));
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
    expect(() => parseStrict(out)).not.toThrow();
    expect(
      children(children(children(rootOf(parseStrict(out)), 'testsuite')[0], 'testcase')[0], 'system-out')[0]
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
      children(children(children(rootOf(parseStrict(out)), 'testsuite')[0], 'testcase')[0], 'system-out')[0]
        .textContent,
    ).toBe(text);
  });

  // 2. The same gap writes "&nbsp;" verbatim: a reference to an undeclared entity, not well-formed XML.
  it('stays well-formed when stdout has an HTML entity such as "&nbsp;"', () => {
    const out = toJUnitXml('s', [caseResult({ stdout: 'a&nbsp;b\n' })]);
    expect(() => parseStrict(out)).not.toThrow();
  });

  // 3. Control characters (ANSI escapes, BEL, NUL, ...) from a program's output are written verbatim;
  //    XML 1.0 forbids them, so strict JUnit readers reject the file.
  it('emits no characters XML 1.0 forbids when stdout has control characters', () => {
    const out = toJUnitXml('s', [caseResult({ stdout: 'red: \u001b[31mX\u001b[0m bell\u0007 nul\u0000 soh\u0001\n' })]);
    expect(() => parseStrict(out)).not.toThrow();
  });

  it('emits no characters XML 1.0 forbids when a case name or an error message (attributes) has them', () => {
    const out = toJUnitXml('s', [
      caseResult({ name: 'esc\u001bname', passed: false, error: 'qemu: \u001b[1mfatal\u001b[0m\u0000', exitCode: 1 }),
    ]);
    const tc = children(children(rootOf(parseStrict(out)), 'testsuite')[0], 'testcase')[0];
    expect(attrs(tc).name).toBe('esc\\x1bname');
    expect(attrs(children(tc, 'failure')[0]).message).toBe('qemu: \\x1b[1mfatal\\x1b[0m\\x00');
  });
});
