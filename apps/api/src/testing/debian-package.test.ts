import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDebianPackage } from './debian-package';

const dir = mkdtempSync(join(tmpdir(), 'iommu-lab-pkg-'));
const tool = join(dir, 'some-tool');
writeFileSync(tool, '#!/bin/sh\n');
chmodSync(tool, 0o755);
const pkg = { name: 'some-package', binary: 'some-tool' };

describe('suites that need a Debian package', () => {
  it('run when the binary is on PATH', () => {
    const check = checkDebianPackage(pkg, { PATH: `/nonexistent:${dir}` });
    expect(check).toMatchObject({ present: true, path: tool, mustFail: false });
  });

  it('skip with a line naming the package and its install command when it is missing', () => {
    const check = checkDebianPackage(pkg, { PATH: '/nonexistent' });
    expect(check.present).toBe(false);
    expect(check.mustFail).toBe(false);
    expect(check.message).toBe(
      "SKIPPED: some-tool not found; install Debian's some-package to run these tests (apt-get install -y some-package).",
    );
  });

  it('fail when it is missing under CI=true', () => {
    const check = checkDebianPackage(pkg, { PATH: '/nonexistent', CI: 'true' });
    expect(check.mustFail).toBe(true);
    expect(check.message).toContain('apt-get install -y some-package');
  });

  it('count a file that is not executable as missing', () => {
    const plain = join(dir, 'plain');
    writeFileSync(plain, '');
    chmodSync(plain, 0o644);
    expect(checkDebianPackage({ name: 'plain', binary: plain }, {}).present).toBe(false);
  });
});
