// `npm test`: every workspace's tests through turbo, then a summary over all of them (test-summary.mjs).
// Each workspace's Vitest writes a JSON report to test-results/vitest.json; this reads them back.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { summarise } from './test-summary.mjs';

const root = new URL('..', import.meta.url).pathname;
// Every workspace the root package.json names (a "dir/*" pattern: each folder in dir) that has tests.
const patterns = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
const workspaces = patterns
  .flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return existsSync(join(root, pattern)) ? [join(root, pattern)] : [];
    const dir = join(root, pattern.slice(0, -2));
    return existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => join(dir, entry.name))
      : [];
  })
  .map((dir) => {
    const manifest = join(dir, 'package.json');
    const pkg = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')) : {};
    return { dir, name: pkg.name ?? relative(root, dir), tested: Boolean(pkg.scripts?.test) };
  })
  .filter((workspace) => workspace.tested);
const reportOf = (workspace) => join(workspace.dir, 'test-results', 'vitest.json');
for (const workspace of workspaces) rmSync(reportOf(workspace), { force: true });

const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
};
const turbo = spawnSync(
  'npx',
  ['turbo', 'run', 'test', '--continue', '--concurrency=1', '--output-logs=full', ...process.argv.slice(2)],
  { cwd: root, env, stdio: 'inherit' },
);

// A filtered run (npm test -- --filter=…) leaves the other workspaces unreported on purpose.
const expectAll = !process.argv.slice(2).some((arg) => arg.startsWith('--filter'));
const results = workspaces.map((workspace) => ({
  ...workspace,
  report: existsSync(reportOf(workspace)) ? JSON.parse(readFileSync(reportOf(workspace), 'utf8')) : undefined,
}));
const { ok, lines } = summarise(results, { turboStatus: turbo.status, expectAll });
console.log(`\n${lines.join('\n')}`);
process.exit(ok ? 0 : turbo.status || 1);
