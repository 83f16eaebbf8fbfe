// Shared by the runtime e2e tests and benchmark: a busybox rootfs from the host's static busybox,
// the shim bundled with esbuild (plain node starts it fast), a throwaway network namespace for the
// test process, and cleanup of everything a run made.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { buildSync } from 'esbuild';
import * as libc from '../../runtime/linux/libc';
import type { ContainerRuntime } from '../../runtime/index';

const repo = join(__dirname, '..', '..');

export const runId = (): string => randomBytes(4).toString('hex');

const APPLETS = ['sh', 'ls', 'cat', 'echo', 'sleep', 'true', 'false', 'ps', 'hostname', 'id', 'mount', 'env', 'pwd',
  'head', 'dd', 'tr', 'touch', 'mkdir', 'yes', 'kill', 'tty', 'stty', 'wc', 'grep', 'seq', 'whoami', 'sed'];

/** A minimal busybox rootfs (cached per busybox binary): /bin applets, /etc/passwd and group. */
export function busyboxRootfs(): string {
  const hash = createHash('sha256').update(readFileSync('/bin/busybox')).update('v2').digest('hex').slice(0, 12);
  const dir = join(repo, '.cache', `runtime-busybox-${hash}`);
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.${process.pid}`;
  mkdirSync(join(tmp, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(tmp, 'bin', 'busybox'));
  chmodSync(join(tmp, 'bin', 'busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('/bin/busybox', join(tmp, 'bin', a));
  for (const d of ['etc', 'tmp', 'root', 'home/app', 'proc', 'sys', 'dev']) mkdirSync(join(tmp, d), { recursive: true });
  chmodSync(join(tmp, 'tmp'), 0o1777);
  writeFileSync(join(tmp, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(tmp, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n');
  writeFileSync(join(tmp, 'etc', 'notexec'), 'not a program\n');
  writeFileSync(join(tmp, 'bin', 'garbage'), 'garbage that is not an executable format\n');
  chmodSync(join(tmp, 'bin', 'garbage'), 0o755);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** The shim bundled into one JS file (koffi stays external, resolved from the repo). */
export function shimBundle(): string {
  const out = join(repo, '.cache', 'orch-shim.js');
  buildSync({
    entryPoints: [join(repo, 'runtime', 'shim', 'entry.ts')], bundle: true, platform: 'node', target: 'node20',
    format: 'cjs', outfile: out, external: ['koffi'], logLevel: 'error', minify: true,
  });
  return out;
}

/** The shim command for tests: plain node with small heaps, running the bundle. */
export function shimCommand(): string[] {
  return [process.execPath, '--max-semi-space-size=1', '--max-old-space-size=32', shimBundle()];
}

/** Moves this process's main thread into a fresh network namespace; returns the undo. */
export function enterTestNetns(name: string): () => void {
  execFileSync('ip', ['netns', 'add', name]);
  const own = openSync('/proc/thread-self/ns/net', 'r');
  const target = openSync(`/run/netns/${name}`, 'r');
  libc.setns(target, libc.CLONE_NEWNET);
  closeSync(target);
  return () => {
    libc.setns(own, libc.CLONE_NEWNET);
    closeSync(own);
    spawnSync('ip', ['netns', 'del', name]);
  };
}

/** Mount points of the host (this mount namespace) below a directory. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(dir));
}

/** Unmounts what is left below dir (deepest first) and removes it. */
export function removeTree(dir: string): void {
  for (const m of mountsUnder(dir).sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true });
}

/** A test's teardown: every sandbox and its containers, the runtime, its cgroup parent, its state dir, its netns. */
export async function tearDownRuntime(rt: ContainerRuntime | undefined, stateDir: string, leaveNetns: () => void): Promise<void> {
  try {
    for (const s of rt?.listPodSandboxes() ?? []) await rt!.removePodSandbox(s.id);
    await rt?.close();
    await rt?.cgroups.removeParent();
  } finally {
    removeTree(stateDir);
    leaveNetns();
  }
}

/** True when a process with this PID exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
