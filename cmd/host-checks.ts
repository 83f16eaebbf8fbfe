// What `orch check-config` verifies about this host (k3s has the same command): the native addons
// load, and the kernel has what a node needs: namespaces orch may create, cgroup controllers,
// overlayfs and iptables. Read-only: it changes nothing on the host.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareNativeAddons, selfCommand } from './native-addons';

export type CheckStatus = 'ok' | 'warn' | 'missing';

/** One line of the report. `required` checks decide whether the host passes. */
export interface HostCheck {
  group: 'native' | 'namespaces' | 'cgroups' | 'filesystems' | 'networking';
  name: string;
  status: CheckStatus;
  required: boolean;
  detail: string;
}

export interface HostReport {
  kernel: string;
  cgroupVersion: 'v1' | 'v2' | 'hybrid' | 'none';
  checks: HostCheck[];
  /** Every required check is ok. */
  pass: boolean;
}

/** The namespaces a pod sandbox and its containers need, with their CLONE_* flags (linux/sched.h). */
export const NAMESPACE_FLAGS = {
  mnt: 0x00020000,
  uts: 0x04000000,
  ipc: 0x08000000,
  pid: 0x20000000,
  net: 0x40000000,
  cgroup: 0x02000000,
} as const;
export type NamespaceName = keyof typeof NAMESPACE_FLAGS;

export interface UnshareProbe {
  pid: number;
  /** getpid() through koffi, to prove the FFI path works. */
  ffiPid: number;
  results: Record<NamespaceName, { ok: boolean; errno?: string }>;
}

function errnoName(n: number): string {
  const hit = Object.entries(os.constants.errno).find(([, v]) => v === n);
  return hit ? hit[0] : `errno ${n}`;
}

/**
 * Calls unshare(2) once per namespace type through koffi, in THIS process: run it only in a
 * throw-away child (`orch check-config --probe-unshare`), since it moves the calling thread into
 * new namespaces.
 */
export async function probeUnshareHere(): Promise<UnshareProbe> {
  // koffi is imported where it is used (see docs/architecture.md, build/).
  const koffi = (await import('koffi')).default;
  const libc = koffi.load('libc.so.6');
  const unshare = libc.func('int unshare(int flags)');
  const getpid = libc.func('int getpid()');
  const results = {} as UnshareProbe['results'];
  for (const [name, flag] of Object.entries(NAMESPACE_FLAGS) as [NamespaceName, number][]) {
    const rc = unshare(flag) as number;
    results[name] = rc === 0 ? { ok: true } : { ok: false, errno: errnoName(koffi.errno()) };
  }
  return { pid: process.pid, ffiPid: getpid() as number, results };
}

function runUnshareProbe(): UnshareProbe | Error {
  const self = selfCommand(['check-config', '--probe-unshare']);
  const r = spawnSync(self.file, self.args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error) return r.error;
  if (r.status !== 0) return new Error(`probe exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  try {
    return JSON.parse(r.stdout) as UnshareProbe;
  } catch (err) {
    return new Error(`probe printed no JSON: ${(err as Error).message}: ${r.stdout.slice(0, 200)}`);
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

interface CgroupMount { mountPoint: string; fsType: 'cgroup' | 'cgroup2'; options: string[] }

/** cgroup mounts from /proc/self/mountinfo (fields: ... mountpoint ... - fstype source superopts). */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [fsType, , superOpts = ''] = right.split(' ');
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    const mountPoint = left.split(' ')[4]?.replace(/\\040/g, ' ');
    if (mountPoint) out.push({ mountPoint, fsType, options: superOpts.split(',') });
  }
  return out;
}

function findOnPath(cmd: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const file = path.join(dir, cmd);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      continue;
    }
  }
  return undefined;
}

function nativeChecks(probe: UnshareProbe | Error): HostCheck[] {
  const checks: HostCheck[] = [];
  const ffi: HostCheck = { group: 'native', name: 'ffi (koffi -> libc)', status: 'missing', required: true, detail: '' };
  if (probe instanceof Error) ffi.detail = probe.message;
  else if (probe.ffiPid !== probe.pid) ffi.detail = `getpid() returned ${probe.ffiPid}, expected ${probe.pid}`;
  else Object.assign(ffi, { status: 'ok', detail: `getpid() = ${probe.ffiPid}` });
  checks.push(ffi);
  const sqlite: HostCheck = { group: 'native', name: 'sqlite (better-sqlite3)', status: 'missing', required: true, detail: '' };
  try {
    const { betterSqlite3Binding } = prepareNativeAddons();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(':memory:', betterSqlite3Binding ? { nativeBinding: betterSqlite3Binding as never } : {});
    const row = db.prepare('select sqlite_version() as v').get() as { v: string };
    db.close();
    Object.assign(sqlite, { status: 'ok', detail: `SQLite ${row.v}` });
  } catch (err) {
    sqlite.detail = (err as Error).message;
  }
  checks.push(sqlite);
  return checks;
}

function namespaceChecks(probe: UnshareProbe | Error): HostCheck[] {
  const checks: HostCheck[] = [];
  for (const name of Object.keys(NAMESPACE_FLAGS) as NamespaceName[]) {
    const kernel = fs.existsSync(`/proc/self/ns/${name}`);
    const check: HostCheck = { group: 'namespaces', name, status: 'missing', required: true, detail: '' };
    if (!kernel) check.detail = `kernel has no ${name} namespaces (/proc/self/ns/${name})`;
    else if (probe instanceof Error) check.detail = `unshare probe failed: ${probe.message}`;
    else if (probe.results[name]?.ok) Object.assign(check, { status: 'ok', detail: 'unshare() works' });
    else {
      const errno = probe.results[name]?.errno ?? 'unknown';
      check.detail = `unshare() failed with ${errno}${errno === 'EPERM' ? ' (orch needs root or CAP_SYS_ADMIN)' : ''}`;
    }
    checks.push(check);
  }
  const maxUserNs = readText('/proc/sys/user/max_user_namespaces')?.trim();
  checks.push({
    group: 'namespaces', name: 'user', required: false,
    status: fs.existsSync('/proc/self/ns/user') && maxUserNs !== '0' ? 'ok' : 'warn',
    detail: `max_user_namespaces=${maxUserNs ?? 'unknown'} (not used by orch today)`,
  });
  return checks;
}

/** What the cgroup checks read: /proc/self/mountinfo, /proc/cgroups, and a cgroup2 mount's cgroup.controllers. */
export interface CgroupInputs {
  mountinfo: string;
  procCgroups: string;
  readControllers(cgroup2MountPoint: string): string;
}

/** The cgroup version and the controllers a pod's cgroups need; pure, so v1, v2 and hybrid hosts are testable anywhere. */
export function assessCgroups(input: CgroupInputs): { version: HostReport['cgroupVersion']; checks: HostCheck[] } {
  const mounts = parseCgroupMounts(input.mountinfo);
  const v2 = mounts.find((m) => m.fsType === 'cgroup2');
  const v1 = mounts.filter((m) => m.fsType === 'cgroup');
  const v2Controllers = v2 ? input.readControllers(v2.mountPoint).trim().split(/\s+/).filter(Boolean) : [];
  // /proc/cgroups lists v1 controllers and whether the kernel enabled them.
  const enabledV1 = new Set(input.procCgroups.split('\n')
    .filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/))
    .filter((f) => f[3] === '1').map((f) => f[0]));
  const mountedV1 = new Set(v1.flatMap((m) => m.options));
  let version: HostReport['cgroupVersion'] = 'none';
  if (v2 && v2.mountPoint === '/sys/fs/cgroup') version = 'v2';
  else if (v1.length && v2) version = 'hybrid';
  else if (v1.length) version = 'v1';
  const checks: HostCheck[] = [{
    group: 'cgroups', name: 'hierarchy', required: true, status: version === 'none' ? 'missing' : 'ok',
    detail: version === 'none' ? 'no cgroup filesystem mounted'
      : `${version}${v2 ? `, cgroup2 at ${v2.mountPoint}` : ''}${v1.length ? `, ${v1.length} v1 hierarchies` : ''}`,
  }];
  const wanted: [string, boolean][] = [['cpu', true], ['memory', true], ['pids', true], ['cpuset', false], ['io', false], ['freezer', false]];
  for (const [controller, required] of wanted) {
    const v1Name = controller === 'io' ? 'blkio' : controller;
    let where = '';
    if (version !== 'v2' && enabledV1.has(v1Name) && mountedV1.has(v1Name)) where = `v1 (${v1Name})`;
    else if (v2Controllers.includes(controller)) where = `v2 (${v2?.mountPoint})`;
    // cgroup v2 has no freezer controller: every cgroup has cgroup.freeze.
    else if (controller === 'freezer' && version === 'v2') where = 'v2 (cgroup.freeze, built in)';
    checks.push({
      group: 'cgroups', name: controller, required,
      status: where ? 'ok' : required ? 'missing' : 'warn',
      detail: where || 'controller not available',
    });
  }
  return { version, checks };
}

function cgroupChecks(): { version: HostReport['cgroupVersion']; checks: HostCheck[] } {
  return assessCgroups({
    mountinfo: readText('/proc/self/mountinfo') ?? '',
    procCgroups: readText('/proc/cgroups') ?? '',
    readControllers: (mountPoint) => readText(path.join(mountPoint, 'cgroup.controllers')) ?? '',
  });
}

function filesystemChecks(kernel: string): HostCheck[] {
  const filesystems = readText('/proc/filesystems') ?? '';
  const overlay: HostCheck = { group: 'filesystems', name: 'overlay', required: true, status: 'missing', detail: '' };
  if (/\boverlay$/m.test(filesystems)) Object.assign(overlay, { status: 'ok', detail: 'in /proc/filesystems' });
  else if (fs.existsSync(`/lib/modules/${kernel}/kernel/fs/overlayfs`)) {
    Object.assign(overlay, { status: 'warn', detail: 'module present but not loaded: modprobe overlay' });
  } else overlay.detail = 'not in /proc/filesystems and no overlayfs module';
  return [overlay];
}

function networkingChecks(): HostCheck[] {
  const checks: HostCheck[] = [];
  for (const [cmd, required] of [['iptables', true], ['iptables-restore', true], ['ip', true]] as const) {
    const file = findOnPath(cmd);
    const check: HostCheck = { group: 'networking', name: cmd, required, status: file ? 'ok' : 'missing', detail: file ?? 'not found on PATH' };
    if (file && cmd === 'iptables') {
      // `iptables --version` reads nothing from the kernel's tables; it names the backend.
      const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 5_000 });
      if (r.status === 0) check.detail = `${file}: ${r.stdout.trim()}`;
    }
    checks.push(check);
  }
  const forward = readText('/proc/sys/net/ipv4/ip_forward')?.trim();
  checks.push({ group: 'networking', name: 'ip_forward', required: false, status: forward === '1' ? 'ok' : 'warn',
    detail: `net.ipv4.ip_forward=${forward ?? 'unknown'} (routing pod traffic between nodes needs 1)` });
  return checks;
}

/** Runs every check (the unshare probe in a child process) and says whether the host passes. */
export function checkHost(): HostReport {
  const kernel = os.release();
  const probe = runUnshareProbe();
  const cgroups = cgroupChecks();
  const checks = [...nativeChecks(probe), ...namespaceChecks(probe), ...cgroups.checks, ...filesystemChecks(kernel), ...networkingChecks()];
  return { kernel, cgroupVersion: cgroups.version, checks, pass: checks.every((c) => !c.required || c.status === 'ok') };
}
