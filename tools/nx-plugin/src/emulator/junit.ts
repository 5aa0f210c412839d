/**
 * JUnit XML for emulator test results, in the common Ant/Surefire shape that
 * CI systems read (testsuites > testsuite > testcase with failure and
 * system-out/system-err). Built with xmlbuilder2; every text and attribute
 * goes through xmlText first: xmlbuilder2 leaves an `&` that already starts an
 * entity (`&amp;`, `&nbsp;`) as it is, and writes control characters raw, both
 * of which would corrupt the output or make it ill-formed XML 1.0.
 */
import { create } from 'xmlbuilder2';
import type { CaseResult } from './results';

/**
 * Makes program output safe for xmlbuilder2: `&` becomes `&amp;` (xmlbuilder2
 * keeps that and escapes `<`, `>`, quotes), and characters XML 1.0 forbids
 * (C0 controls but tab/newline/CR, U+FFFE/U+FFFF, lone surrogates) become
 * visible `\xNN` / `\uNNNN` escapes.
 */
export function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(
    // eslint-disable-next-line no-control-regex -- the characters XML 1.0 forbids are what this finds
    /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    (c) => {
      const code = c.charCodeAt(0);
      return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    },
  );
}

/**
 * Renders results as JUnit XML.
 * @param suiteName e.g. `emulator-tests.m68040`.
 */
export function toJUnitXml(suiteName: string, cases: CaseResult[]): string {
  const failures = cases.filter((c) => !c.passed).length;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const totalMs = cases.reduce((s, c) => s + c.durationMs, 0);
  const name = xmlText(suiteName);
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites', {
    name,
    tests: cases.length,
    failures,
    time: seconds(totalMs),
  });
  const suite = root.ele('testsuite', {
    name,
    tests: cases.length,
    failures,
    errors: 0,
    skipped: 0,
    time: seconds(totalMs),
  });
  for (const c of cases) {
    const tc = suite.ele('testcase', { classname: name, name: xmlText(c.name), time: seconds(c.durationMs) });
    // A retried case says so (testcase properties, as pytest's record_property writes them).
    if (c.retry) {
      const props = tc.ele('properties');
      props.ele('property', { name: 'retried', value: c.retry.class });
      props.ele('property', {
        name: 'first-attempt',
        value: xmlText(c.retry.first.error ?? `exit ${c.retry.first.exitCode}`),
      });
    }
    if (!c.passed) {
      const msgs = c.assertions.filter((a) => !a.passed).map((a) => a.message);
      if (c.error) msgs.unshift(c.error);
      tc.ele('failure', { message: xmlText(msgs.join('; ')), type: c.timedOut ? 'timeout' : 'assertion' }).txt(
        xmlText(msgs.join('\n')),
      );
    }
    if (c.stdout) tc.ele('system-out').txt(xmlText(c.stdout));
    if (c.stderr) tc.ele('system-err').txt(xmlText(c.stderr));
  }
  return root.end({ prettyPrint: true }) + '\n';
}
