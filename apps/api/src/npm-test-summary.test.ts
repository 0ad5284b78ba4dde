import { describe, expect, it } from 'vitest';
import { summarise } from '../../../scripts/test-summary.mjs';

const file = (name: string, status: string, tests: string[], message = '') => ({
  name,
  status,
  message,
  assertionResults: tests.map((testStatus) => ({ status: testStatus })),
});
const report = (files: ReturnType<typeof file>[]) => {
  const tests = files.flatMap((f) => f.assertionResults);
  const count = (status: string) => tests.filter((t) => t.status === status).length;
  return {
    numTotalTests: tests.length,
    numPassedTests: count('passed'),
    numFailedTests: count('failed'),
    numPendingTests: count('skipped'),
    numTodoTests: 0,
    testResults: files,
  };
};

describe('the closing lines of npm test', () => {
  it('end with the plain line "N passed, N failed, N skipped" alone', () => {
    const { ok, lines } = summarise(
      [
        {
          name: '@x/a',
          dir: '/r/a',
          report: report([file('/r/a/src/one.test.ts', 'passed', ['passed', 'skipped'])]),
        },
      ],
      { turboStatus: 0 },
    );
    expect(ok).toBe(true);
    expect(lines.at(-1)).toBe('1 passed, 0 failed, 1 skipped');
    expect(lines[0]).toMatch(/PASS$/);
  });

  it('name every failing workspace and test file, and a file that failed to load counts as a failure', () => {
    const { ok, lines } = summarise(
      [
        { name: '@x/a', dir: '/r/a', report: report([file('/r/a/src/ok.test.ts', 'passed', ['passed'])]) },
        {
          name: '@x/b',
          dir: '/r/b',
          report: report([
            file('/r/b/src/sweeps.test.ts', 'failed', ['passed', 'failed', 'failed']),
            file('/r/b/src/broken.test.ts', 'failed', [], 'SyntaxError: Unexpected token\n  at …'),
          ]),
        },
      ],
      { turboStatus: 1 },
    );
    expect(ok).toBe(false);
    expect(lines).toContain('FAILED  @x/b: src/sweeps.test.ts (2 failed)');
    expect(lines).toContain('FAILED  @x/b: src/broken.test.ts (SyntaxError: Unexpected token)');
    expect(lines.at(-1)).toBe('2 passed, 3 failed, 0 skipped');
  });

  it('a workspace whose tests did not report (a type error stopped them) fails by name', () => {
    const { ok, lines } = summarise(
      [
        { name: '@x/a', dir: '/r/a', report: report([file('/r/a/src/ok.test.ts', 'passed', ['passed'])]) },
        { name: '@x/web', dir: '/r/web' },
      ],
      { turboStatus: 1 },
    );
    expect(ok).toBe(false);
    expect(lines.some((line) => line.startsWith('FAILED  @x/web:'))).toBe(true);
    expect(lines.at(-1)).toBe('1 passed, 1 failed, 0 skipped');
  });

  it('a filtered run does not count the workspaces it left out', () => {
    const { ok, lines } = summarise(
      [
        { name: '@x/a', dir: '/r/a', report: report([file('/r/a/src/ok.test.ts', 'passed', ['passed'])]) },
        { name: '@x/web', dir: '/r/web' },
      ],
      { turboStatus: 0, expectAll: false },
    );
    expect(ok).toBe(true);
    expect(lines.at(-1)).toBe('1 passed, 0 failed, 0 skipped');
  });
});
