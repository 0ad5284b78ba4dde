/**
 * Typed errors. Every public call that refuses its input throws an EmulatorError before it changes
 * anything. `code` is stable and machine-readable; the kernel's errno name where the kernel has one
 * (so a refusal reads like the driver's), a lab-specific name otherwise. `reason` narrows the code where
 * one errno covers several cases (for example EINVAL for a misaligned map and for a bad PASID).
 */

/** Linux errno values, for the codes that have one (include/uapi/asm-generic/errno*.h). */
export const ERRNO = {
  EPERM: 1,
  ESRCH: 3,
  ENOENT: 2,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ESPIPE: 29,
  ERANGE: 34,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
} as const;

export type ErrnoCode = keyof typeof ERRNO;

/** Lab-specific codes: no errno fits, or the refusal is about the lab itself rather than a kernel call. */
export type LabCode =
  /** The call does not exist under the IOMMU's kernel profile (e.g. a feature call under `mainline`). */
  | 'EPROFILE'
  /** A system config is malformed or refers to something that does not exist. */
  | 'ECONFIG';

export type ErrorCode = ErrnoCode | LabCode;

export interface EmulatorErrorOptions {
  /** Narrower, stable sub-code, e.g. 'misaligned', 'overlap', 'out-of-range', 'not-mapped'. */
  reason?: string;
  /** The kernel profile that refused the call, when the profile decided. */
  profile?: string;
  /** Where in a config document the problem is (JSON pointer-like path). */
  path?: string;
}

export class EmulatorError extends Error {
  override readonly name = 'EmulatorError';
  readonly code: ErrorCode;
  readonly reason: string | undefined;
  readonly profile: string | undefined;
  readonly path: string | undefined;

  constructor(code: ErrorCode, message: string, options: EmulatorErrorOptions = {}) {
    super(message);
    this.code = code;
    this.reason = options.reason;
    this.profile = options.profile;
    this.path = options.path;
  }

  /** The negative errno a kernel call would have returned, when the code is an errno. */
  get errno(): number | undefined {
    return this.code in ERRNO ? -ERRNO[this.code as ErrnoCode] : undefined;
  }

  toJSON(): { code: ErrorCode; message: string; reason?: string; profile?: string; path?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      ...(this.profile === undefined ? {} : { profile: this.profile }),
      ...(this.path === undefined ? {} : { path: this.path }),
    };
  }
}

export function fail(code: ErrorCode, message: string, options?: EmulatorErrorOptions): never {
  throw new EmulatorError(code, message, options);
}

export function isEmulatorError(value: unknown): value is EmulatorError {
  return value instanceof EmulatorError;
}
