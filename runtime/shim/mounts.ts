// The shim's half of the container filesystem, made in the shim's own mount namespace before the
// container's first process starts: the overlay root, /dev, /sys, volumes. /proc, masked and
// read-only paths and pivot_root are orch-init's half (they need the new PID namespace).
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as libc from '../linux/libc';
import type { ShimMount } from './spec';
import { resolveInRoot } from './rootfs';

export class KernelFeatureError extends Error {
  readonly code = 'KernelFeatureMissing';
}

/** Mounts the overlay root: lowerDirs (top-most first) read-only, upper and work dirs for writes. */
export function mountOverlay(target: string, lowerDirs: string[], upperDir: string, workDir: string): void {
  for (const d of [target, upperDir, workDir]) mkdirSync(d, { recursive: true });
  if (lowerDirs.length === 0) throw new Error('rootfs has no lower directories');
  const data = `lowerdir=${lowerDirs.join(':')},upperdir=${upperDir},workdir=${workDir}`;
  if (data.length > 4000) throw new Error(`overlay mount options are ${data.length} bytes; the kernel takes one page (shorter state paths or fewer layers)`);
  try {
    libc.mount('overlay', target, 'overlay', 0, data);
  } catch (err) {
    const fs = readFileSync('/proc/filesystems', 'utf8');
    if (!/\toverlay$/m.test(fs)) throw new KernelFeatureError('overlayfs not available: /proc/filesystems has no overlay');
    throw err;
  }
}

const DEVICES: Array<[string, number, number]> = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
];

/** /dev as runc builds it: a tmpfs with the standard nodes, devpts (own instance), shm, mqueue. */
export function mountDev(rootfs: string): void {
  const dev = `${rootfs}/dev`;
  mkdirSync(dev, { recursive: true });
  libc.mount('tmpfs', dev, 'tmpfs', libc.MS_NOSUID | libc.MS_STRICTATIME, 'mode=755,size=65536k');
  for (const [name, major, minor] of DEVICES) libc.mknodChar(`${dev}/${name}`, 0o666, major, minor);
  for (const d of ['pts', 'shm', 'mqueue']) mkdirSync(`${dev}/${d}`);
  libc.mount('devpts', `${dev}/pts`, 'devpts', libc.MS_NOSUID | libc.MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=0620,gid=5');
  libc.mount('shm', `${dev}/shm`, 'tmpfs', libc.MS_NOSUID | libc.MS_NOEXEC | libc.MS_NODEV, 'mode=1777,size=65536k');
  libc.mount('mqueue', `${dev}/mqueue`, 'mqueue', libc.MS_NOSUID | libc.MS_NOEXEC | libc.MS_NODEV);
  for (const [link, target] of [['ptmx', 'pts/ptmx'], ['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'],
    ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['core', '/proc/kcore']]) {
    symlinkSync(target, `${dev}/${link}`);
  }
}

/** /sys read-only (it shows the sandbox's network devices: the shim is in its net namespace). */
export function mountSys(rootfs: string): void {
  const sys = resolveInRoot(rootfs, '/sys');
  mkdirSync(sys, { recursive: true });
  libc.mount('sysfs', sys, 'sysfs', libc.MS_RDONLY | libc.MS_NOSUID | libc.MS_NOEXEC | libc.MS_NODEV);
}

/** A bind mount of a host file or directory; the destination is created like the source's kind. */
export function mountBind(rootfs: string, m: ShimMount): void {
  const dest = resolveInRoot(rootfs, m.destination);
  const isDir = statSync(m.source).isDirectory();
  if (!existsSync(dest)) {
    if (isDir) mkdirSync(dest, { recursive: true });
    else {
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, '');
    }
  }
  libc.mount(m.source, dest, null, libc.MS_BIND | libc.MS_REC);
  if (m.readOnly) libc.mount(m.source, dest, null, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY | libc.MS_REC);
}
