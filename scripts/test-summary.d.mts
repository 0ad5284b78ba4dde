/** Types of test-summary.mjs, for the test that checks it (apps/api/src/npm-test-summary.test.ts). */
export interface WorkspaceResult {
  name: string;
  dir: string;
  report?: unknown;
}
export function summarise(
  results: WorkspaceResult[],
  run: { turboStatus: number | null; expectAll?: boolean },
): { ok: boolean; lines: string[] };
