// libc through koffi: the syscalls Node does not expose (namespaces, mounts, capabilities, rlimits,
// ptys). Loaded lazily on first use so importing this file costs nothing. Every failure throws a
// SyscallError carrying the syscall name and errno.
import { constants as osConstants } from 'node:os';
import koffi from 'koffi';
import { SyscallError } from './errors';

export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_STRICTATIME = 1 << 24;
export const MNT_DETACH = 2;

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
const { ENODATA } = osConstants.errno;

export const RLIMIT = {
  CPU: 0, FSIZE: 1, DATA: 2, STACK: 3, CORE: 4, RSS: 5, NPROC: 6, NOFILE: 7, MEMLOCK: 8, AS: 9,
  LOCKS: 10, SIGPENDING: 11, MSGQUEUE: 12, NICE: 13, RTPRIO: 14, RTTIME: 15,
} as const;

const TIOCSWINSZ = 0x5414;
const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const O_RDWR = 2;
const O_NOCTTY = 0o400;
const O_CLOEXEC = 0o2000000;
const SYS_pivot_root = 155;

interface Bindings {
  unshare(flags: number): number;
  setns(fd: number, nstype: number): number;
  mount(src: string | null, target: string, fstype: string | null, flags: number, data: string | null): number;
  umount2(target: string, flags: number): number;
  sethostname(name: string, len: number): number;
  mknod(path: string, mode: number, dev: bigint): number;
  lsetxattr(path: string, name: string, value: Buffer, size: number, flags: number): number;
  lgetxattr(path: string, name: string, value: Buffer, size: number): number;
  prctl(option: number, a: number, b: number, c: number, d: number): number;
  syscall2(nr: number, a: string, b: string): number;
  gettid(): number;
  prlimit(pid: number, resource: number, newLimit: { rlim_cur: bigint; rlim_max: bigint } | null, old: null): number;
  posix_openpt(flags: number): number;
  grantpt(fd: number): number;
  unlockpt(fd: number): number;
  ptsname_r(fd: number, buf: Buffer, len: number): number;
  ioctl_winsize(fd: number, req: number, ws: { ws_row: number; ws_col: number; ws_xpixel: number; ws_ypixel: number }): number;
  ioctl_int(fd: number, req: number, value: number[]): number;
  strerror(errno: number): string;
}

let bound: Bindings | undefined;

function libc(): Bindings {
  if (bound) return bound;
  const lib = koffi.load('libc.so.6');
  const rlimit = koffi.struct('orch_rlimit', { rlim_cur: 'uint64_t', rlim_max: 'uint64_t' });
  const winsize = koffi.struct('orch_winsize', { ws_row: 'uint16_t', ws_col: 'uint16_t', ws_xpixel: 'uint16_t', ws_ypixel: 'uint16_t' });
  bound = {
    unshare: lib.func('int unshare(int flags)'),
    setns: lib.func('int setns(int fd, int nstype)'),
    mount: lib.func('int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    sethostname: lib.func('int sethostname(const char *name, size_t len)'),
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
    prctl: lib.func('int prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d)'),
    syscall2: lib.func('long syscall(long nr, const char *a, const char *b)'),
    gettid: lib.func('int gettid()'),
    prlimit: lib.func('prlimit', 'int', ['int', 'int', koffi.pointer(rlimit), 'void *']),
    posix_openpt: lib.func('int posix_openpt(int flags)'),
    grantpt: lib.func('int grantpt(int fd)'),
    unlockpt: lib.func('int unlockpt(int fd)'),
    ptsname_r: lib.func('int ptsname_r(int fd, _Out_ uint8_t *buf, size_t len)'),
    ioctl_winsize: lib.func('ioctl', 'int', ['int', 'unsigned long', koffi.pointer(winsize)]),
    ioctl_int: lib.func('ioctl', 'int', ['int', 'unsigned long', koffi.inout(koffi.pointer('int'))]),
    strerror: lib.func('const char *strerror(int errnum)'),
  } as unknown as Bindings;
  return bound;
}

function fail(syscall: string, detail: string): never {
  const errno = koffi.errno();
  throw new SyscallError(syscall, errno, detail, libc().strerror(errno));
}

function check(ret: number, syscall: string, detail: string): number {
  if (ret < 0) fail(syscall, detail);
  return ret;
}

/** unshare(2) for the calling thread (Node's main thread when called from JS). */
export function unshare(flags: number): void {
  check(libc().unshare(flags), 'unshare', `0x${flags.toString(16)}`);
}

/** setns(2); works for net, ipc, uts, pid (children only) and cgroup, not mnt, in Node. */
export function setns(fd: number, nstype: number): void {
  check(libc().setns(fd, nstype), 'setns', `${fd}, 0x${nstype.toString(16)}`);
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  check(libc().mount(source, target, fstype, flags, data), 'mount', `${source ?? 'none'}, ${target}, ${fstype ?? 'none'}, 0x${flags.toString(16)}`);
}

export function umount2(target: string, flags = 0): void {
  check(libc().umount2(target, flags), 'umount2', target);
}

export function sethostname(name: string): void {
  check(libc().sethostname(name, Buffer.byteLength(name)), 'sethostname', name);
}

/** Linux makedev(3): the dev_t of (major, minor). */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

/** mknod(2): `mode` carries the file type (S_IFCHR, S_IFBLK, S_IFIFO) and permissions. */
export function mknod(path: string, mode: number, dev: bigint = 0n): void {
  check(libc().mknod(path, mode, dev), 'mknod', path);
}

/** mknod(2) of a character device (major, minor). */
export function mknodChar(path: string, mode: number, major: number, minor: number): void {
  mknod(path, S_IFCHR | mode, makedev(major, minor));
}

/** lsetxattr(2): overlay's opaque marker (trusted.overlay.opaque) and tar-carried xattrs. */
export function lsetxattr(path: string, name: string, value: Buffer | string): void {
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(value);
  check(libc().lsetxattr(path, name, buf, buf.length, 0), 'lsetxattr', `${path}, ${name}`);
}

/** lgetxattr(2): the attribute's value, or undefined when the file has none of that name. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const buf = Buffer.alloc(4096);
  const n = libc().lgetxattr(path, name, buf, buf.length);
  if (n < 0) {
    if (koffi.errno() === ENODATA) return undefined;
    fail('lgetxattr', `${path}, ${name}`);
  }
  return buf.subarray(0, n);
}

export function prctl(option: number, a = 0, b = 0, c = 0, d = 0): number {
  return check(libc().prctl(option, a, b, c, d), 'prctl', String(option));
}

/** pivot_root(2) through syscall(2): glibc has no wrapper. */
export function pivotRoot(newRoot: string, putOld: string): void {
  check(libc().syscall2(SYS_pivot_root, newRoot, putOld), 'pivot_root', `${newRoot}, ${putOld}`);
}

export function gettid(): number {
  return libc().gettid();
}

/** prlimit(2) on another process: sets soft and hard limits (undefined hard = soft). */
export function prlimit(pid: number, resource: number, soft: bigint, hard: bigint = soft): void {
  check(libc().prlimit(pid, resource, { rlim_cur: soft, rlim_max: hard }, null), 'prlimit', `${pid}, ${resource}`);
}

/** A new pseudo-terminal: the master fd and the slave's path (/dev/pts/N). */
export function openPty(): { master: number; slavePath: string } {
  const c = libc();
  const master = check(c.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), 'posix_openpt', 'O_RDWR');
  check(c.grantpt(master), 'grantpt', String(master));
  check(c.unlockpt(master), 'unlockpt', String(master));
  const buf = Buffer.alloc(128);
  const err = c.ptsname_r(master, buf, buf.length);
  if (err !== 0) throw new SyscallError('ptsname_r', err, String(master), c.strerror(err));
  return { master, slavePath: buf.subarray(0, buf.indexOf(0)).toString() };
}

/**
 * A new pseudo-terminal from a given devpts instance's ptmx (a container's own /dev/pts/ptmx, so
 * the slave appears inside the container): the master fd and the slave's number.
 */
export function openPtyAt(ptmxPath: string, openSync: (p: string, flags: number) => number): { master: number; index: number } {
  const master = openSync(ptmxPath, O_RDWR | O_NOCTTY | O_CLOEXEC);
  const c = libc();
  const unlock = [0];
  check(c.ioctl_int(master, TIOCSPTLCK, unlock), 'ioctl', `${ptmxPath}, TIOCSPTLCK`);
  const n = [0];
  check(c.ioctl_int(master, TIOCGPTN, n), 'ioctl', `${ptmxPath}, TIOCGPTN`);
  return { master, index: n[0] };
}

/** TIOCSWINSZ on a terminal fd. */
export function setWindowSize(fd: number, rows: number, cols: number): void {
  check(libc().ioctl_winsize(fd, TIOCSWINSZ, { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 }), 'ioctl', `${fd}, TIOCSWINSZ`);
}
