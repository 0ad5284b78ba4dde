/**
 * Permissions of a mapping and of a request. A leaf carries read / write / execute bits and a
 * privileged-only bit, after Linux's IOMMU_PRIV ("the other permission flags only apply to accesses at the
 * higher privilege level", include/linux/iommu.h) and the U/S bit of x86 first-level tables: a user
 * (unprivileged) request to a privileged-only page is a permission fault.
 */
import { fail } from '../errors';

export const PERM_READ = 1;
export const PERM_WRITE = 2;
export const PERM_EXEC = 4;
export const PERM_PRIV = 8;
export const PERM_RWX = PERM_READ | PERM_WRITE | PERM_EXEC;

export type Access = 'read' | 'write' | 'exec';

export const ACCESS_BIT: Readonly<Record<Access, number>> = {
  read: PERM_READ,
  write: PERM_WRITE,
  exec: PERM_EXEC,
};

/** Why a permission check failed; PERMISSION_OK when it did not. */
export const PERMISSION_OK = 0;
export const DENIED_READ = 1;
export const DENIED_WRITE = 2;
export const DENIED_EXEC = 3;
export const DENIED_PRIVILEGE = 4;
export type PermissionVerdict = 0 | 1 | 2 | 3 | 4;

export const DENIAL_NAMES = ['ok', 'read', 'write', 'exec', 'privilege'] as const;
export type Denial = Exclude<(typeof DENIAL_NAMES)[number], 'ok'>;

/** Checks one access (a single ACCESS_BIT) against leaf permissions. Allocation-free: hot path. */
export function checkPermission(perms: number, accessBit: number, privileged: boolean): PermissionVerdict {
  if ((perms & accessBit) === 0) {
    return accessBit === PERM_WRITE ? DENIED_WRITE : accessBit === PERM_EXEC ? DENIED_EXEC : DENIED_READ;
  }
  if (!privileged && (perms & PERM_PRIV) !== 0) return DENIED_PRIVILEGE;
  return PERMISSION_OK;
}

/**
 * Parses a protection string made of the letters r, w, x and (where allowed) p for privileged-only,
 * in any order, each at most once: "rw", "rx", "rwp". "-" stands for no permission at all.
 */
export function parseProt(prot: string, options: { allowPrivileged?: boolean; what?: string } = {}): number {
  const what = options.what ?? 'prot';
  const letters = options.allowPrivileged === false ? 'rwx' : 'rwxp';
  if (prot === '-') return 0;
  if (
    typeof prot !== 'string' ||
    prot.length === 0 ||
    !new RegExp(`^[${letters}]+$`).test(prot) ||
    new Set(prot).size !== prot.length
  ) {
    fail(
      'EINVAL',
      `${what} ${JSON.stringify(prot)} must use the letters ${letters.split('').join(', ')} at most once each (e.g. "rw").`,
      {
        reason: 'bad-prot',
      },
    );
  }
  let bits = 0;
  if (prot.includes('r')) bits |= PERM_READ;
  if (prot.includes('w')) bits |= PERM_WRITE;
  if (prot.includes('x')) bits |= PERM_EXEC;
  if (prot.includes('p')) bits |= PERM_PRIV;
  return bits;
}

export function formatProt(perms: number): string {
  const text =
    (perms & PERM_READ ? 'r' : '') +
    (perms & PERM_WRITE ? 'w' : '') +
    (perms & PERM_EXEC ? 'x' : '') +
    (perms & PERM_PRIV ? 'p' : '');
  return text === '' ? '-' : text;
}
