import { describe, expect, it } from 'vitest';
import {
  DENIED_EXEC,
  DENIED_PRIVILEGE,
  DENIED_READ,
  DENIED_WRITE,
  PERMISSION_OK,
  PERM_EXEC,
  PERM_PRIV,
  PERM_READ,
  PERM_WRITE,
  checkPermission,
  formatProt,
  parseProt,
} from './permissions';

describe('mapping permissions', () => {
  it('checks read, write and execute bits', () => {
    expect(checkPermission(PERM_READ, PERM_READ, false)).toBe(PERMISSION_OK);
    expect(checkPermission(PERM_READ, PERM_WRITE, false)).toBe(DENIED_WRITE);
    expect(checkPermission(PERM_WRITE, PERM_READ, false)).toBe(DENIED_READ);
    expect(checkPermission(PERM_READ | PERM_WRITE, PERM_EXEC, false)).toBe(DENIED_EXEC);
  });

  it('denies a user request to a privileged-only page and allows a privileged one (IOMMU_PRIV, U/S=0)', () => {
    expect(checkPermission(PERM_READ | PERM_PRIV, PERM_READ, false)).toBe(DENIED_PRIVILEGE);
    expect(checkPermission(PERM_READ | PERM_PRIV, PERM_READ, true)).toBe(PERMISSION_OK);
    expect(checkPermission(PERM_READ, PERM_READ, true)).toBe(PERMISSION_OK);
  });

  it('parses and formats protection strings', () => {
    expect(parseProt('rw')).toBe(PERM_READ | PERM_WRITE);
    expect(parseProt('xrp')).toBe(PERM_READ | PERM_EXEC | PERM_PRIV);
    expect(formatProt(parseProt('wr'))).toBe('rw');
    expect(formatProt(0)).toBe('-');
    expect(parseProt('-')).toBe(0);
  });

  it('refuses repeated or unknown letters, and p where it is not allowed', () => {
    for (const bad of ['rr', 'rwq', '', 'R'])
      expect(() => parseProt(bad)).toThrow(expect.objectContaining({ code: 'EINVAL', reason: 'bad-prot' }));
    expect(() => parseProt('rp', { allowPrivileged: false })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });
});
