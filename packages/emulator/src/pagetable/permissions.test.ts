import { describe, expect, it } from 'vitest';
import {
  ACCESS_BIT,
  DENIAL_NAMES,
  DENIED_EXEC,
  DENIED_PRIVILEGE,
  DENIED_READ,
  DENIED_WRITE,
  PERMISSION_OK,
  PERM_EXEC,
  PERM_PRIV,
  PERM_READ,
  PERM_RWX,
  PERM_WRITE,
  checkPermission,
  formatProt,
  parseProt,
} from './permissions';

describe('permission checks of one access against a leaf', () => {
  it('allows an access whose bit is set and denies it, naming the access, when it is not', () => {
    expect(checkPermission(PERM_READ, ACCESS_BIT.read, false)).toBe(PERMISSION_OK);
    expect(checkPermission(PERM_READ, ACCESS_BIT.write, false)).toBe(DENIED_WRITE);
    expect(checkPermission(PERM_READ, ACCESS_BIT.exec, false)).toBe(DENIED_EXEC);
    expect(checkPermission(PERM_WRITE, ACCESS_BIT.read, false)).toBe(DENIED_READ);
    expect(checkPermission(PERM_WRITE, ACCESS_BIT.write, false)).toBe(PERMISSION_OK);
    expect(checkPermission(PERM_EXEC, ACCESS_BIT.exec, false)).toBe(PERMISSION_OK);
    expect(checkPermission(PERM_EXEC, ACCESS_BIT.read, false)).toBe(DENIED_READ);
  });

  it('a leaf with no permission denies every access', () => {
    expect(checkPermission(0, PERM_READ, true)).toBe(DENIED_READ);
    expect(checkPermission(0, PERM_WRITE, true)).toBe(DENIED_WRITE);
    expect(checkPermission(0, PERM_EXEC, true)).toBe(DENIED_EXEC);
  });

  it('rwx allows every access at either privilege', () => {
    for (const access of ['read', 'write', 'exec'] as const) {
      expect(checkPermission(PERM_RWX, ACCESS_BIT[access], false)).toBe(PERMISSION_OK);
      expect(checkPermission(PERM_RWX, ACCESS_BIT[access], true)).toBe(PERMISSION_OK);
    }
  });

  it('denies a user request to a privileged-only page and allows a privileged one (IOMMU_PRIV, U/S=0, reference §8)', () => {
    for (const access of ['read', 'write', 'exec'] as const) {
      expect(checkPermission(PERM_RWX | PERM_PRIV, ACCESS_BIT[access], false)).toBe(DENIED_PRIVILEGE);
      expect(checkPermission(PERM_RWX | PERM_PRIV, ACCESS_BIT[access], true)).toBe(PERMISSION_OK);
    }
    // A privileged request to a page that is not privileged-only is allowed too.
    expect(checkPermission(PERM_READ, PERM_READ, true)).toBe(PERMISSION_OK);
  });

  it('reports a missing access bit before the privilege on a privileged-only page', () => {
    expect(checkPermission(PERM_READ | PERM_PRIV, PERM_WRITE, false)).toBe(DENIED_WRITE);
    expect(checkPermission(PERM_READ | PERM_PRIV, PERM_WRITE, true)).toBe(DENIED_WRITE);
  });

  it('names each verdict', () => {
    expect(DENIAL_NAMES[PERMISSION_OK]).toBe('ok');
    expect(DENIAL_NAMES[DENIED_READ]).toBe('read');
    expect(DENIAL_NAMES[DENIED_WRITE]).toBe('write');
    expect(DENIAL_NAMES[DENIED_EXEC]).toBe('exec');
    expect(DENIAL_NAMES[DENIED_PRIVILEGE]).toBe('privilege');
  });
});

describe('protection strings', () => {
  it('parses letters in any order', () => {
    expect(parseProt('r')).toBe(PERM_READ);
    expect(parseProt('rw')).toBe(PERM_READ | PERM_WRITE);
    expect(parseProt('wr')).toBe(PERM_READ | PERM_WRITE);
    expect(parseProt('xrp')).toBe(PERM_READ | PERM_EXEC | PERM_PRIV);
    expect(parseProt('rwxp')).toBe(PERM_RWX | PERM_PRIV);
    expect(parseProt('-')).toBe(0);
  });

  it('formats in canonical rwxp order, "-" for nothing', () => {
    expect(formatProt(PERM_READ | PERM_WRITE)).toBe('rw');
    expect(formatProt(PERM_EXEC | PERM_READ)).toBe('rx');
    expect(formatProt(PERM_PRIV | PERM_WRITE)).toBe('wp');
    expect(formatProt(PERM_RWX | PERM_PRIV)).toBe('rwxp');
    expect(formatProt(0)).toBe('-');
  });

  it('round-trips every permission combination through formatProt and parseProt', () => {
    for (let perms = 0; perms < 16; perms++) {
      const text = formatProt(perms);
      expect(parseProt(text)).toBe(perms);
      expect(formatProt(parseProt(text))).toBe(text);
    }
  });

  it('refuses empty strings, repeated, unknown and upper-case letters with EINVAL (reason bad-prot)', () => {
    for (const bad of ['', 'rr', 'rwr', 'rwq', 'R', 'RW', 'r w', '--', '-r', 'rwxpp']) {
      expect(() => parseProt(bad), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'EINVAL', reason: 'bad-prot' }),
      );
    }
  });

  it('refuses a non-string with EINVAL', () => {
    expect(() => parseProt(3 as never)).toThrow(
      expect.objectContaining({ code: 'EINVAL', reason: 'bad-prot' }),
    );
  });

  it('refuses p where privileged-only mappings are not allowed, and names the field in the message', () => {
    expect(() => parseProt('rp', { allowPrivileged: false, what: 'mmap prot' })).toThrow(
      expect.objectContaining({
        code: 'EINVAL',
        reason: 'bad-prot',
        message: expect.stringContaining('mmap prot'),
      }),
    );
    expect(parseProt('rwx', { allowPrivileged: false })).toBe(PERM_RWX);
  });
});
