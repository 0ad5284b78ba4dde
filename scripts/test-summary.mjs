// The closing lines of `npm test` from each workspace's Vitest JSON report: a totals line, a FAILED line for
// every failing test file and for every workspace that did not report, and the plain line
// `N passed, N failed, N skipped`.
import { relative } from 'node:path';

/**
 * @param {{ name: string, dir: string, report?: object }[]} results a workspace each; no report: its tests did
 *   not run to the end (type errors, a crash)
 * @param {{ turboStatus: number | null, expectAll?: boolean }} run turbo's exit status; expectAll: false when a
 *   filter ran only some workspaces
 */
export function summarise(results, { turboStatus, expectAll = true }) {
  const totals = { tests: 0, passed: 0, failed: 0, skipped: 0 };
  const failures = [];
  const missing = [];
  for (const { name, dir, report } of results) {
    if (!report) {
      if (expectAll) missing.push(name);
      continue;
    }
    totals.tests += report.numTotalTests;
    totals.passed += report.numPassedTests;
    totals.failed += report.numFailedTests;
    totals.skipped += report.numPendingTests + (report.numTodoTests ?? 0);
    for (const file of report.testResults) {
      if (file.status !== 'failed') continue;
      const failed = file.assertionResults.filter((test) => test.status === 'failed').length;
      // A file that failed to load has no failed test of its own: it counts as one failure.
      if (failed === 0) totals.failed += 1;
      const why = failed > 0 ? `${failed} failed` : (file.message || 'failed to run').split('\n')[0];
      failures.push(`${name}: ${relative(dir, file.name)} (${why})`);
    }
  }
  const failed = totals.failed + missing.length;
  const ok = turboStatus === 0 && failed === 0 && totals.tests > 0;
  const reported = results.filter((result) => result.report).length;
  const lines = [
    `All workspaces (${reported} of ${results.length})  Tests  ${totals.failed ? `${totals.failed} failed | ` : ''}${totals.passed} passed${totals.skipped ? ` | ${totals.skipped} skipped` : ''} (${totals.tests})  ${ok ? 'PASS' : 'FAIL'}`,
    ...failures.map((line) => `FAILED  ${line}`),
    ...missing.map((name) => `FAILED  ${name}: its tests did not run to a report (see its output above)`),
  ];
  if (!ok && failed === 0) lines.push(`FAILED  turbo exited with ${turboStatus} (see the output above)`);
  lines.push(`${totals.passed} passed, ${failed} failed, ${totals.skipped} skipped`);
  return { ok, lines };
}
