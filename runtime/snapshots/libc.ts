// The two syscalls unpacking needs that Node lacks: mknod (overlay whiteouts are 0/0 character
// devices; FIFOs and device nodes in layers) and lsetxattr (opaque directories are marked with
// trusted.overlay.opaque=y; tar entries may carry xattrs). Bound through koffi on first use.
import { constants } from 'node:os';
import koffi from 'koffi';
import { SnapshotSyscallError } from './errors';

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

interface Bindings {
  mknod: (path: string, mode: number, dev: bigint) => number;
  lsetxattr: (path: string, name: string, value: Buffer, size: number, flags: number) => number;
  lgetxattr: (path: string, name: string, value: Buffer | null, size: number) => number;
}

let bound: Bindings | undefined;
function libc(): Bindings {
  if (bound) return bound;
  const lib = koffi.load('libc.so.6');
  bound = {
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)') as unknown as Bindings['mknod'],
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)') as unknown as Bindings['lsetxattr'],
    lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)') as unknown as Bindings['lgetxattr'],
  };
  return bound;
}

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);

function fail(syscall: string, path: string): never {
  const errno = koffi.errno();
  throw new SnapshotSyscallError(syscall, errno, errnoNames.get(errno) ?? `E${errno}`, path);
}

/** Linux makedev(3). */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function mknod(path: string, mode: number, dev: bigint = 0n): void {
  if (libc().mknod(path, mode, dev) !== 0) fail('mknod', path);
}

export function lsetxattr(path: string, name: string, value: Buffer | string): void {
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(value);
  if (libc().lsetxattr(path, name, buf, buf.length, 0) !== 0) fail(`lsetxattr ${name}`, path);
}

/** The xattr's value, or undefined when the file has no such attribute. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const buf = Buffer.alloc(4096);
  const n = libc().lgetxattr(path, name, buf, buf.length);
  if (n < 0) {
    if (koffi.errno() === constants.errno.ENODATA) return undefined;
    fail(`lgetxattr ${name}`, path);
  }
  return buf.subarray(0, n);
}
