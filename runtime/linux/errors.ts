// Errors of the libc layer: every failed syscall becomes a SyscallError naming the call and errno.
import { constants } from 'node:os';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);

/** The symbolic name of an errno value ("EPERM"), or "E<n>" when unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** A libc call failed. `syscall` is the call, `errno` its number, `errnoName` e.g. "EINVAL". */
export class SyscallError extends Error {
  readonly code = 'SyscallFailed';
  readonly errnoName: string;
  constructor(readonly syscall: string, readonly errno: number, detail: string, reason: string) {
    super(`${syscall}(${detail}): ${errnoName(errno)} (${reason})`);
    this.name = 'SyscallError';
    this.errnoName = errnoName(errno);
  }
}
