// Pure parts of the container runtime: cgroup mode detection and paths, v2 stats from cgroup files,
// Kubernetes' command merge, CRI log lines and rotation, orch-init's config encoding.
import { describe, expect, it, afterAll } from 'vitest';
import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCgroupManager, openCgroup, cgroupManagerFor, parseProcCgroup, sharesToWeight } from '../../runtime/cgroups/index';
import { mergeCommand } from '../../runtime/containers/runtime';
import { CriLogWriter } from '../../runtime/shim/log';
import { capabilityMask, encodeConfig } from '../../runtime/shim/init';
import { resolveInRoot, lookPath, resolveUser } from '../../runtime/shim/rootfs';

const tmp = mkdtempSync(join(tmpdir(), 'orch-unit-runtime-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HYBRID_MOUNTINFO = [
  '30 27 0:26 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '31 27 0:27 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
  '32 27 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '33 27 0:29 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '34 27 0:30 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '35 27 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const V2_MOUNTINFO = '40 27 0:40 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';

describe('cgroups', () => {
  it('treats a hybrid host (v1 controllers + empty cgroup2 mount) as v1, below our own cgroups', () => {
    const m = openCgroupManager('orch-x', { mountinfo: HYBRID_MOUNTINFO, procCgroup: '4:memory:/process_api/abc\n3:pids:/\n2:cpuacct:/\n1:cpu:/\n0::/\n' });
    expect(m.mode).toBe('v1');
    expect(m.parentDirs).toEqual({
      cpu: '/sys/fs/cgroup/cpu/orch-x', cpuacct: '/sys/fs/cgroup/cpuacct/orch-x',
      memory: '/sys/fs/cgroup/memory/process_api/abc/orch-x', pids: '/sys/fs/cgroup/pids/orch-x',
    });
    const ref = m.refFor('sb/c1');
    expect(ref.dirs.memory).toBe('/sys/fs/cgroup/memory/process_api/abc/orch-x/sb/c1');
    expect(cgroupManagerFor(ref, 'sb/c1').parentDirs).toEqual(m.parentDirs);
  });

  it('uses the unified tree on a v2 host, relative to this process\'s cgroup', () => {
    const m = openCgroupManager('orch', { mountinfo: V2_MOUNTINFO, procCgroup: '0::/system.slice/orch.service\n' });
    expect(m.mode).toBe('v2');
    expect(m.parentDirs).toEqual({ unified: '/sys/fs/cgroup/system.slice/orch.service/orch' });
    const ref = m.refFor('sb/c1');
    expect(cgroupManagerFor(ref, 'sb/c1').parentDirs).toEqual(m.parentDirs);
    expect(parseProcCgroup('12:cpu,cpuacct:/a\n0::/b\n')).toEqual(new Map([['cpu', '/a'], ['cpuacct', '/a'], ['', '/b']]));
  });

  it('reads v2 stats and OOM kills from the cgroup files', () => {
    const dir = join(tmp, 'v2');
    fs.mkdirSync(dir);
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\n');
    writeFileSync(join(dir, 'memory.current'), '1000000\n');
    writeFileSync(join(dir, 'memory.stat'), 'anon 600000\ninactive_file 300000\n');
    writeFileSync(join(dir, 'pids.current'), '3\n');
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
    expect(openCgroup({ mode: 'v2', dirs: { unified: dir } }).stats()).toEqual({
      cpuUsageNs: 1_500_000, memoryUsageBytes: 1_000_000, memoryWorkingSetBytes: 700_000, pidsCurrent: 3, oomKills: 1,
    });
  });

  it('converts cpu shares to v2 weights as Kubernetes does', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
  });
});

describe('command merge (Kubernetes rules)', () => {
  const image = { Entrypoint: ['/entry'], Cmd: ['default'] };
  it('keeps the image when nothing is given', () => expect(mergeCommand(image)).toEqual(['/entry', 'default']));
  it('args replace Cmd only', () => expect(mergeCommand(image, undefined, ['a'])).toEqual(['/entry', 'a']));
  it('command replaces Entrypoint and drops Cmd', () => expect(mergeCommand(image, ['/bin/x'])).toEqual(['/bin/x']));
  it('command and args together', () => expect(mergeCommand(image, ['/bin/x'], ['y'])).toEqual(['/bin/x', 'y']));
  it('Cmd alone', () => expect(mergeCommand({ Cmd: ['/bin/sh'] })).toEqual(['/bin/sh']));
});

describe('CRI log writer', () => {
  it('writes full and partial lines with nanosecond timestamps and rotates by size', () => {
    const path = join(tmp, 'c.log');
    const w = new CriLogWriter(path, 200, 3);
    w.write('stdout', Buffer.from('hello\nwor'));
    w.write('stdout', Buffer.from('ld\n'));
    w.write('stderr', Buffer.from('no newline'));
    w.end('stderr');
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello$/);
    expect(lines[1]).toMatch(/ stdout F world$/);
    expect(lines[2]).toMatch(/ stderr F no newline$/);
    w.write('stdout', Buffer.from('x'.repeat(20 * 1024) + '\n'));
    const rotated = [`${path}.2`, `${path}.1`].map((p) => readFileSync(p, 'utf8')).join('');
    expect(rotated).toMatch(/ stdout P x{16384}\n.* stdout F x{4096}\n$/);
    for (let i = 0; i < 20; i++) w.write('stdout', Buffer.from(`line ${i}\n`));
    w.close();
    expect(existsSync(`${path}.1`) && existsSync(`${path}.2`) && !existsSync(`${path}.3`)).toBe(true);
    const all = [`${path}.2`, `${path}.1`, path].map((p) => readFileSync(p, 'utf8')).join('');
    expect(all).toMatch(/ stdout F line 19\n$/);
  });
});

describe('orch-init config and rootfs lookups', () => {
  it('encodes capabilities and the packed config header', () => {
    expect(capabilityMask(['CAP_CHOWN', 'kill', 'CAP_NET_BIND_SERVICE'])).toBe((1n << 0n) | (1n << 5n) | (1n << 10n));
    const b = encodeConfig({ flags: 1, uid: 1000, gid: 1000, groups: [2000], capMask: 1n, rootfs: '/r', cwd: '/', masked: ['/proc/kcore'], readonly: [] });
    expect(b.readUInt32LE(0)).toBe(0x74696e6f);
    expect(b.readUInt32LE(8)).toBe(1000);
    expect(b.readUInt32LE(20)).toBe(2000);
    // then the namespace files, tty and program, empty here (spawn's argv and env are used)
    expect(b.subarray(176).toString()).toBe('/r\0/\0/proc/kcore\0\0\0\0\0\0\0');
  });

  it('resolves symlinks, users and PATH inside the rootfs, never on the host', () => {
    const root = join(tmp, 'rootfs');
    fs.mkdirSync(join(root, 'bin'), { recursive: true });
    fs.mkdirSync(join(root, 'etc'));
    fs.writeFileSync(join(root, 'bin', 'busybox'), '', { mode: 0o755 });
    fs.symlinkSync('/bin/busybox', join(root, 'bin', 'sh'));
    fs.symlinkSync('/', join(root, 'escape'));
    writeFileSync(join(root, 'etc', 'passwd'), 'app:x:1000:1000::/home/app:/bin/sh\n');
    writeFileSync(join(root, 'etc', 'group'), 'app:x:1000:\nwheel:x:10:app\n');
    expect(resolveInRoot(root, '/bin/sh')).toBe(join(root, 'bin', 'busybox'));
    expect(resolveInRoot(root, '/escape/../../etc/passwd')).toBe(join(root, 'etc', 'passwd'));
    expect(lookPath(root, 'sh', ['PATH=/usr/bin:/bin'])).toBe('/bin/sh');
    expect(() => lookPath(root, 'nope', ['PATH=/bin'])).toThrow('exec: "nope": executable file not found in $PATH');
    expect(resolveUser(root, 'app')).toEqual({ uid: 1000, gid: 1000, additionalGids: [10], home: '/home/app' });
    expect(resolveUser(root, '1000:10').gid).toBe(10);
    expect(() => resolveUser(root, 'ghost')).toThrow('unable to find user ghost');
  });
});
