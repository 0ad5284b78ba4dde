// `npm test`: every workspace's tests through turbo, then one summary line over all of them.
// Each workspace's Vitest writes a JSON report to test-results/vitest.json; this reads them back.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// Every workspace the root package.json names (a "dir/*" pattern: each folder in dir).
const patterns = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
const workspaces = patterns.flatMap((pattern) => {
  if (!pattern.endsWith('/*')) return existsSync(join(root, pattern)) ? [join(root, pattern)] : [];
  const dir = join(root, pattern.slice(0, -2));
  return existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => join(dir, entry.name))
    : [];
});
const reportOf = (workspace) => join(workspace, 'test-results', 'vitest.json');
for (const workspace of workspaces) rmSync(reportOf(workspace), { force: true });

const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
};
const turbo = spawnSync('npx', ['turbo', 'run', 'test', '--continue', '--concurrency=1', '--output-logs=full', ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
});

const totals = { files: 0, filesFailed: 0, tests: 0, passed: 0, failed: 0, skipped: 0, workspaces: 0 };
for (const workspace of workspaces) {
  if (!existsSync(reportOf(workspace))) continue;
  const report = JSON.parse(readFileSync(reportOf(workspace), 'utf8'));
  totals.workspaces += 1;
  totals.files += report.numTotalTestSuites ?? report.testResults.length;
  totals.filesFailed += report.numFailedTestSuites ?? 0;
  totals.tests += report.numTotalTests;
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests;
  totals.skipped += report.numPendingTests + (report.numTodoTests ?? 0);
}

const failedPart = totals.failed ? `${totals.failed} failed | ` : '';
const skippedPart = totals.skipped ? ` | ${totals.skipped} skipped` : '';
const ok = turbo.status === 0 && totals.failed === 0 && totals.workspaces > 0;
console.log(
  `\n All workspaces (${totals.workspaces})  Tests  ${failedPart}${totals.passed} passed${skippedPart} (${totals.tests})  ${ok ? 'PASS' : 'FAIL'}`,
);
process.exit(ok ? 0 : turbo.status || 1);
