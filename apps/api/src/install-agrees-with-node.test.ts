/**
 * `npm install` on a machine with the README's Node prints nothing a newcomer should act on: every package in
 * the lockfile accepts that Node (no EBADENGINE), and every install script is approved or refused by name in
 * the root package.json (no "install scripts not yet covered by allowScripts").
 */
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  engines: { node: string };
  allowScripts?: Record<string, boolean>;
};
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string }; hasInstallScript?: boolean; optional?: boolean }>;
};
const readme = readFileSync(new URL('README.md', root), 'utf8');
const oldestNode = semver.minVersion(manifest.engines.node)!.version;
const packages = Object.entries(lock.packages).filter(([path]) => path !== '');
const nameOf = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('npm install on the Node the README names', () => {
  it('the README quick start names the Node of package.json engines', () => {
    const major = semver.major(oldestNode);
    const minor = semver.minor(oldestNode);
    expect(readme).toContain(`Node ${major} (≥ ${major}.${minor})`);
  });

  it('every locked package accepts it (npm prints no EBADENGINE)', () => {
    const refusing = packages
      .filter(([, entry]) => entry.engines?.node && !semver.satisfies(oldestNode, entry.engines.node))
      .map(([path, entry]) => `${nameOf(path)} wants node ${entry.engines!.node}`);
    expect(refusing).toEqual([]);
  });

  it('every install script is approved or refused by name in allowScripts', () => {
    const allowed = manifest.allowScripts ?? {};
    const uncovered = packages
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([path]) => nameOf(path))
      .filter((name) => !(name in allowed));
    expect(uncovered).toEqual([]);
  });
});
