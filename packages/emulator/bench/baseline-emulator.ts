/**
 * The emulator as it was before fault flows (issue 11), for measuring the fault path before and after in
 * the same run: its sources at BEFORE_FLOWS are taken out of git into bench/.baseline/ (ignored by git)
 * once, and imported from there. Without git or without that commit (a shallow clone), there is no
 * "before" and the caller says so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { System } from '../src/system';

/** The last commit of the emulator without flows. */
export const BEFORE_FLOWS = '3e27755';

const here = dirname(fileURLToPath(import.meta.url));

/** The old System class, or a reason it cannot be had. */
export async function baselineSystem(): Promise<{ System: typeof System } | { missing: string }> {
  const dir = join(here, '.baseline', BEFORE_FLOWS);
  const entry = join(dir, 'packages', 'emulator', 'src', 'system.ts');
  if (!existsSync(entry)) {
    try {
      const root = execFileSync('git', ['rev-parse', '--show-toplevel'], {
        cwd: here,
        encoding: 'utf8',
      }).trim();
      const archive = execFileSync('git', ['archive', BEFORE_FLOWS, 'packages/emulator/src'], {
        cwd: root,
        maxBuffer: 64 * 2 ** 20,
      });
      mkdirSync(dir, { recursive: true });
      execFileSync('tar', ['-x', '-C', dir], { input: archive });
    } catch (error) {
      return {
        missing: `the emulator at ${BEFORE_FLOWS} is not in this clone's git history (${String(error).split('\n')[0]})`,
      };
    }
  }
  // The old sources resolve their dependencies (pure-rand, typebox) from this package's node_modules.
  return (await import(pathToFileURL(entry).href)) as { System: typeof System };
}
