// Real containers (root): namespaces seen from inside, overlay copy-on-write, /proc masking, CRI
// logs, exec, bad entrypoints, stop with grace period, and cleanup that leaves nothing behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerRuntime, type ContainerRootfs } from '../../runtime/index';
import { alive, busyboxRootfs, enterTestNetns, mountsUnder, runId, shimCommand, tearDownRuntime, until } from './runtime-helpers';

const id = runId();
const stateDir = `/tmp/orch-test-${id}`;
let leaveNetns: () => void = () => undefined;
let rt: ContainerRuntime;
let image: ContainerRootfs;
let sandboxId: string;
let cgroupDirs: string[] = [];

const RUN = `orch-test-${id}`;
const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [PF] /;

async function runToExit(name: string, args: string[], extra: Record<string, unknown> = {}) {
  const cid = await rt.createContainer(sandboxId, { name, image, command: args, ...extra });
  await rt.startContainer(cid);
  const st = await rt.waitContainer(cid, 20_000);
  return { cid, st, log: readFileSync(st.logPath, 'utf8') };
}

function logText(log: string): string {
  return log.split('\n').filter(Boolean).map((l) => l.replace(LOG_LINE, '')).join('\n');
}

describe('runtime: containers', () => {
  beforeAll(async () => {
    leaveNetns = enterTestNetns(`orch-test-${id}`);
    const lower = busyboxRootfs();
    image = { lowerDirs: [lower], config: { Env: ['PATH=/bin', 'FROM_IMAGE=1'], Cmd: ['sh'], WorkingDir: '/' }, imageDigest: 'sha256:test' };
    rt = await ContainerRuntime.open({ stateDir, cgroupParent: RUN, shimCommand: shimCommand(), warmShims: 2 });
    cgroupDirs = Object.values(rt.cgroups.parentDirs);
    sandboxId = rt.runPodSandbox({ name: 'pod-a', hostname: 'pod-a-host', hosts: '127.0.0.1 localhost\n10.42.0.5 pod-a-host\n', resolvConf: 'nameserver 10.43.0.10\n' }).id;
  }, 120_000);

  afterAll(() => tearDownRuntime(rt, stateDir, leaveNetns), 60_000);

  it('runs the workload as PID 1 with its own hostname, mounts and process view', async () => {
    const { st, log } = await runToExit('ns', ['sh', '-c',
      'hostname; echo pid1=$(cat /proc/1/cmdline | tr "\\0" " "); ps -o pid,args; mount | head -1; cat /etc/hosts /etc/resolv.conf; echo env=$FROM_IMAGE; ls /dev/pts/ptmx /dev/shm /dev/mqueue >/dev/null && echo devok; readlink /dev/ptmx; readlink /dev/fd; id'], {});
    expect({ exitCode: st.exitCode, reason: st.reason, message: st.message }).toEqual({ exitCode: 0, reason: 'Completed', message: undefined });
    const out = logText(log);
    expect(out).toContain('pod-a-host');
    expect(out).toMatch(/pid1=sh -c hostname/);
    // ps sees only the container's processes: sh (1) and ps itself
    const psLines = out.split('\n').filter((l) => /^\s*\d+ /.test(l));
    expect(psLines.map((l) => l.trim().split(/\s+/)[0])).toEqual(['1', expect.stringMatching(/^\d+$/)]);
    expect(out).toMatch(/^overlay on \/ type overlay/m);
    expect(out).toContain('10.42.0.5 pod-a-host');
    expect(out).toContain('nameserver 10.43.0.10');
    expect(out).toContain('env=1');
    expect(out).toContain('devok');
    expect(out).toContain('pts/ptmx\n/proc/self/fd');
    expect(out).toContain('uid=0(root) gid=0(root)');
  });

  it('masks and write-protects /proc paths, keeps /sys read-only, and drops capabilities', async () => {
    const { log } = await runToExit('proc', ['sh', '-c',
      'echo keys=$(wc -c < /proc/keys); echo tl=$(wc -c < /proc/timer_list); echo 1 > /proc/sys/kernel/domainname || echo sysro; touch /sys/x || echo sysfsro; grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status; ls /sys/firmware | wc -l']);
    const out = logText(log);
    expect(out).toContain('keys=0');
    expect(out).toContain('tl=0');
    expect(out).toContain('sysro');
    expect(out).toContain('sysfsro');
    // containerd's 14 default capabilities = 0xa80425fb
    expect(out).toMatch(/CapEff:\s+00000000a80425fb/);
  });

  it('writes copy-on-write: the image layer is never touched', async () => {
    const lower = image.lowerDirs[0];
    const { cid, st } = await runToExit('cow', ['sh', '-c', 'echo changed > /etc/passwd && echo new > /newfile && rm /bin/true && cat /etc/passwd'], {});
    expect(st.exitCode).toBe(0);
    expect(readFileSync(join(lower, 'etc', 'passwd'), 'utf8')).toContain('root:x:0:0');
    expect(existsSync(join(lower, 'newfile'))).toBe(false);
    expect(existsSync(join(lower, 'bin', 'true'))).toBe(true);
    expect(readFileSync(join(stateDir, cid, 'upper', 'newfile'), 'utf8')).toBe('new\n');
  });

  it('runs as a user from the image, with the working dir and volume mounts asked for', async () => {
    const vol = join(stateDir, 'vol');
    mkdirSync(vol, { recursive: true, mode: 0o777 });
    chmodSync(vol, 0o777);
    writeFileSync(join(vol, 'data'), 'from-host\n');
    const { log } = await runToExit('user', ['sh', '-c', 'id; pwd; cat /data/data; touch /data/x || echo rofail; touch /rw/y && echo rwok; grep CapEff /proc/self/status'], {
      user: 'app', workingDir: '/work/dir',
      mounts: [{ hostPath: vol, containerPath: '/data', readOnly: true }, { hostPath: vol, containerPath: '/rw' }],
    });
    const out = logText(log);
    expect(out).toMatch(/uid=1000\(app\) gid=1000\(app\) groups=.*2000\(extra\)/);
    expect(out).toContain('/work/dir');
    expect(out).toContain('from-host');
    expect(out).toContain('rofail');
    expect(out).toContain('rwok');
    expect(out).toMatch(/CapEff:\s+0000000000000000/);
    expect(existsSync(join(vol, 'y'))).toBe(true);
  });

  it('reports a bad entrypoint as the container reason, like Kubernetes', async () => {
    const notFound = await runToExit('bad1', ['no-such-program']);
    expect(notFound.st.state).toBe('exited');
    expect(notFound.st.reason).toBe('StartError');
    expect(notFound.st.exitCode).toBe(128);
    expect(notFound.st.message).toContain('exec: "no-such-program": executable file not found in $PATH');
    const perm = await runToExit('bad2', ['/etc/notexec']);
    expect(perm.st.reason).toBe('StartError');
    expect(perm.st.message).toContain('permission denied');
    const format = await runToExit('bad3', ['/bin/garbage']);
    expect(format.st.message).toContain('exec format error');
  });

  it('execs inside a running container and writes CRI logs with rotation', async () => {
    const cid = await rt.createContainer(sandboxId, {
      name: 'logs', image, command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "line $i"; echo "err $i" >&2; sleep 0.01; done'],
      logMaxBytes: 4096, logMaxFiles: 3,
    });
    const st = await rt.startContainer(cid);
    expect(st.state).toBe('running');
    const r = await rt.execSync(cid, ['sh', '-c', 'hostname; echo pid=$$; cat /proc/1/cmdline | head -c 2; echo; echo oops >&2; exit 7']);
    expect(r.exitCode).toBe(7);
    expect(r.stdout).toContain('pod-a-host');
    expect(r.stdout).toMatch(/pid=\d+/);
    expect(r.stdout).not.toContain('pid=1\n');
    expect(r.stdout).toContain('sh');
    expect(r.stderr).toBe('oops\n');
    await until(() => existsSync(`${st.logPath}.2`), 20_000, 'two rotations');
    const files = readdirSync(join(st.logPath, '..')).filter((f) => f.startsWith('container.log'));
    expect(files.sort()).toEqual(['container.log', 'container.log.1', 'container.log.2']);
    const rotated = readFileSync(`${st.logPath}.1`, 'utf8').split('\n').filter(Boolean);
    for (const l of rotated) expect(l).toMatch(LOG_LINE);
    expect(rotated.some((l) => / stdout F line \d+$/.test(l))).toBe(true);
    expect(rotated.some((l) => / stderr F err \d+$/.test(l))).toBe(true);
    const stats = rt.containerStats(cid);
    expect(stats.cpuUsageNs).toBeGreaterThan(0);
    expect(stats.pidsCurrent).toBeGreaterThanOrEqual(1);
    const stopped = await rt.stopContainer(cid, 1);
    // sh as PID 1 has no TERM handler: the kernel ignores SIGTERM for it, SIGKILL follows the grace
    expect(stopped.exitCode).toBe(137);
  });

  it('exec with a TTY, with resize', async () => {
    const cid = await rt.createContainer(sandboxId, { name: 'tty', image, command: ['sleep', '60'] });
    await rt.startContainer(cid);
    const s = await rt.exec(cid, { args: ['sh', '-c', 'tty; stty size; read x; stty size; echo got=$x'], tty: true, stdin: true, rows: 24, cols: 80 });
    let out = '';
    s.on('stdout', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('24 80'), 10_000, 'first stty size');
    s.resize(50, 132);
    s.write('hello\n');
    expect(await s.exit).toBe(0);
    expect(out).toMatch(/\/dev\/pts\/\d+/);
    expect(out).toContain('50 132');
    expect(out).toContain('got=hello');
    await rt.stopContainer(cid, 0);
  });

  it('stops with a grace period: a TERM handler gets to exit on its own', async () => {
    const cid = await rt.createContainer(sandboxId, { name: 'grace', image, command: ['sh', '-c', 'trap "echo bye; exit 3" TERM; while true; do sleep 0.05; done'] });
    await rt.startContainer(cid);
    const t0 = Date.now();
    const st = await rt.stopContainer(cid, 10);
    expect(st.exitCode).toBe(3);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(readFileSync(st.logPath, 'utf8')).toMatch(/stdout F bye/);
  });

  it('shares one PID namespace between the containers of a shareProcessNamespace pod', async () => {
    const sb = rt.runPodSandbox({ name: 'pod-shared', hostname: 'shared', shareProcessNamespace: true });
    expect(sb.pidnsPath).toBeDefined();
    const a = await rt.createContainer(sb.id, { name: 'a', image, command: ['sleep', '31'] });
    await rt.startContainer(a);
    const b = await rt.createContainer(sb.id, { name: 'b', image, command: ['sh', '-c', 'ps -o pid,args'] });
    await rt.startContainer(b);
    const st = await rt.waitContainer(b, 10_000);
    const out = logText(readFileSync(st.logPath, 'utf8'));
    expect(out).toMatch(/^\s*1 .*orch-pause pause$/m);
    expect(out).toMatch(/sleep 31/);
    await rt.removePodSandbox(sb.id);
  });

  it('attaches to a container\'s stdin', async () => {
    const cid = await rt.createContainer(sandboxId, { name: 'stdin', image, command: ['sh', '-c', 'read x; echo got=$x'], stdin: true });
    await rt.startContainer(cid);
    const a = await rt.attach(cid);
    let live = '';
    a.on('stdout', (d: Buffer) => (live += d.toString()));
    a.write('over-attach\n');
    const st = await rt.waitContainer(cid, 10_000);
    expect(st.exitCode).toBe(0);
    expect(readFileSync(st.logPath, 'utf8')).toMatch(/stdout F got=over-attach\n/);
    await until(() => live.includes('got=over-attach'), 5000, 'the attached output');
    a.close();
  });

  it('runs a container on a TTY', async () => {
    const { st, log } = await runToExit('main-tty', ['sh', '-c', 'tty; stty size'], { tty: true });
    expect(st.exitCode).toBe(0);
    expect(logText(log)).toMatch(/\/dev\/pts\/0/);
  });

  it('removes containers and sandboxes without leaving mounts, cgroups or processes', async () => {
    const sb = rt.runPodSandbox({ name: 'pod-b', hostname: 'pod-b' });
    expect(mountsUnder(stateDir)).toContain(sb.netnsPath);
    const cid = await rt.createContainer(sb.id, { name: 'c', image, command: ['sleep', '100'] });
    const st = await rt.startContainer(cid);
    const pid = st.pid!;
    const shimPid = st.shimPid!;
    expect({ pid: alive(pid), shim: alive(shimPid), st: st.state, msg: st.message }).toEqual({ pid: true, shim: true, st: 'running', msg: undefined });
    // the container's rootfs mount lives only in the shim's mount namespace
    expect(mountsUnder(join(stateDir, cid))).toEqual([]);
    await rt.removePodSandbox(sb.id);
    await until(() => !alive(pid) && !alive(shimPid), 10_000, 'container and shim gone');
    expect(mountsUnder(join(stateDir, 'sandboxes', sb.id))).toEqual([]);
    expect(existsSync(join(stateDir, cid))).toBe(false);
    for (const d of cgroupDirs) expect(existsSync(join(d, sb.id))).toBe(false);
  });
});
