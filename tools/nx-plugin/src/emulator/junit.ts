/**
 * JUnit XML for emulator test results, in the common Ant/Surefire shape that
 * CI systems read (testsuites > testsuite > testcase with failure and
 * system-out/system-err). Built with xmlbuilder2, which escapes the text.
 */
import { create } from 'xmlbuilder2';
import type { CaseResult } from './run-tests';

/**
 * Renders results as JUnit XML.
 * @param suiteName e.g. `emulator-tests.m68040`.
 */
export function toJUnitXml(suiteName: string, cases: CaseResult[]): string {
  const failures = cases.filter((c) => !c.passed).length;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const totalMs = cases.reduce((s, c) => s + c.durationMs, 0);
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites', {
    name: suiteName,
    tests: cases.length,
    failures,
    time: seconds(totalMs),
  });
  const suite = root.ele('testsuite', { name: suiteName, tests: cases.length, failures, errors: 0, skipped: 0, time: seconds(totalMs) });
  for (const c of cases) {
    const tc = suite.ele('testcase', { classname: suiteName, name: c.name, time: seconds(c.durationMs) });
    if (!c.passed) {
      const msgs = c.assertions.filter((a) => !a.passed).map((a) => a.message);
      if (c.error) msgs.unshift(c.error);
      tc.ele('failure', { message: msgs.join('; '), type: c.timedOut ? 'timeout' : 'assertion' }).txt(msgs.join('\n'));
    }
    if (c.stdout) tc.ele('system-out').txt(c.stdout);
    if (c.stderr) tc.ele('system-err').txt(c.stderr);
  }
  return root.end({ prettyPrint: true }) + '\n';
}
