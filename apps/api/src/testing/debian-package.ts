/**
 * Suites that drive a Debian package for real (redis-server, chromium). On a developer's machine without the
 * package such a suite is skipped with one line naming the package and the command that installs it; under
 * CI=true (.ci/run installs both) a missing package is a failed test, so CI can never pass with them skipped.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { describe, it } from 'vitest';

export interface DebianPackage {
  /** The Debian package's name, as apt-get knows it. */
  name: string;
  /** Its program: a name looked up on PATH, or an absolute path. */
  binary: string;
}

export interface PackageCheck {
  present: boolean;
  /** The binary's full path when present. */
  path?: string;
  /** The one line told when it is missing. */
  message: string;
  /** Missing where it must be present (CI=true). */
  mustFail: boolean;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where `binary` is: itself when absolute, else the first PATH entry that holds it. */
export function findBinary(binary: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (isAbsolute(binary)) return executable(binary) ? binary : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const path = join(dir, binary);
    if (executable(path)) return path;
  }
  return undefined;
}

export function checkDebianPackage(pkg: DebianPackage, env: NodeJS.ProcessEnv = process.env): PackageCheck {
  const path = findBinary(pkg.binary, env);
  const install = `apt-get install -y ${pkg.name}`;
  if (path) return { present: true, path, message: '', mustFail: false };
  const ci = env.CI === 'true' || env.CI === '1';
  return {
    present: false,
    message: ci
      ? `${pkg.binary} is missing under CI=true: .ci/run must install Debian's ${pkg.name} (${install}).`
      : `SKIPPED: ${pkg.binary} not found; install Debian's ${pkg.name} to run these tests (${install}).`,
    mustFail: ci,
  };
}

/**
 * Checks the package for a suite: returns whether the suite can run. When it cannot, prints the one line, and
 * under CI=true registers a failing test in its place.
 */
export function requireDebianPackage(suite: string, pkg: DebianPackage): PackageCheck {
  const check = checkDebianPackage(pkg);
  if (check.present) return check;
  console.warn(`[${suite}] ${check.message}`);
  if (check.mustFail)
    describe(suite, () => {
      it(`needs Debian's ${pkg.name}`, () => {
        throw new Error(check.message);
      });
    });
  return check;
}

export const REDIS_SERVER: DebianPackage = {
  name: 'redis-server',
  binary: process.env.REDIS_SERVER ?? 'redis-server',
};
export const CHROMIUM: DebianPackage = { name: 'chromium', binary: '/usr/bin/chromium' };
