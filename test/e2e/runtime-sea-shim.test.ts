// Containers whose shim is the single executable itself (`dist/orch shim`, what the runtime uses
// by default inside dist/orch): the container runs, answers exec, and the shim stays small, because
// dist/orch's bootstrap (build/sea-main.cjs) evaluates only the shim's bundle, not the whole CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerRuntime, type ContainerRootfs } from '../../runtime/index';
import { ensureBuiltExecutable } from '../integration/helpers/executable';
import { busyboxRootfs, enterTestNetns, runId, tearDownRuntime, until } from './runtime-helpers';

const id = runId();
const RUN = `orch-test-${id}`;
const stateDir = `/tmp/${RUN}`;
/**
 * The bound on a running container's shim: measured 9-10 MiB; the whole CLI bundle evaluated in
 * the shim (before the bootstrap) measured 33 MiB, so this fails if that ever comes back.
 */
const SHIM_PRIVATE_DIRTY_MAX_MIB = 16;
/** After a 50 MB burst of output through the CRI log: measured 14-15 MiB (plain node alike). */
const SHIM_AFTER_LOG_BURST_MAX_MIB = 24;

let leaveNetns: () => void = () => undefined;
let rt: ContainerRuntime | undefined;
let exe: string;
let cacheHome: string;
let sandboxId: string;
let image: ContainerRootfs;
const savedEnv = { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME, ORCH_SEA_TRACE: process.env.ORCH_SEA_TRACE };

/** smaps_rollup fields of one process, in KiB. */
function smaps(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

describe('runtime: the shim is dist/orch itself', () => {
  beforeAll(async () => {
    exe = realpathSync(ensureBuiltExecutable());
    // The shims inherit this: koffi's addon is extracted to a temp cache, not the machine's, and
    // each shim writes which bundle it evaluated to its stderr file (<pool socket>.log).
    cacheHome = mkdtempSync(join(tmpdir(), `${RUN}-cache-`));
    process.env.XDG_CACHE_HOME = cacheHome;
    process.env.ORCH_SEA_TRACE = '1';
    leaveNetns = enterTestNetns(RUN);
    rt = await ContainerRuntime.open({ stateDir, cgroupParent: RUN, shimCommand: [exe, 'shim'], warmShims: 1 });
    sandboxId = rt.runPodSandbox({ name: 'sea', hostname: 'sea-host' }).id;
    image = { lowerDirs: [busyboxRootfs()], config: { Env: ['PATH=/bin'] }, imageDigest: 'sha256:test' };
  }, 360_000);

  afterAll(async () => {
    try {
      await tearDownRuntime(rt, stateDir, leaveNetns);
    } finally {
      rmSync(cacheHome, { recursive: true, force: true });
      for (const [k, v] of Object.entries(savedEnv)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }, 60_000);

  it('runs a container, execs in it, and its shim stays under the memory bound', async () => {
    const cid = await rt!.createContainer(sandboxId, { name: 'web', image, command: ['sh', '-c', 'echo hello from $(hostname); exec sleep 3600'] });
    const st = await rt!.startContainer(cid);
    expect(st.state).toBe('running');
    await until(() => readFileSync(st.logPath, 'utf8').includes('stdout F hello from sea-host'), 20_000, 'the container\'s first line');

    // The container's parent is the executable in its shim mode.
    const shimPid = rt!.containerStatus(cid).shimPid!;
    expect(realpathSync(`/proc/${shimPid}/exe`)).toBe(exe);
    expect(readFileSync(`/proc/${shimPid}/cmdline`, 'utf8').split('\0')[0]).toBe('orch-shim'); // runShim's process.title
    const r = await rt!.execSync(cid, ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; hostname']);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'sleep 3600 \nsea-host\n' });

    // Every shim the pool started evaluated the shim bundle, with its code cache.
    const logs = readdirSync(join(stateDir, 'pool')).filter((f) => f.endsWith('.sock.log'));
    expect(logs.length).toBeGreaterThanOrEqual(1);
    for (const f of logs) {
      expect(readFileSync(join(stateDir, 'pool', f), 'utf8')).toMatch(/^orch sea: shim bundle \d+ bytes, code cache \d+ bytes accepted$/m);
    }

    const m = smaps(shimPid);
    console.log(`dist/orch shim of a running container: Rss ${m.Rss} kB, Pss ${m.Pss} kB, Private_Clean ${m.Private_Clean} kB, ` +
      `Private_Dirty ${m.Private_Dirty} kB, Anonymous ${m.Anonymous} kB (bound ${SHIM_PRIVATE_DIRTY_MAX_MIB} MiB)`);
    expect(m.Private_Dirty! / 1024).toBeLessThan(SHIM_PRIVATE_DIRTY_MAX_MIB);
    expect(m.Anonymous! / 1024).toBeLessThan(SHIM_PRIVATE_DIRTY_MAX_MIB);

    const stopped = await rt!.stopContainer(cid, 5);
    expect(stopped.state).toBe('exited');
    await rt!.removeContainer(cid);
  }, 120_000);

  it('stays small after writing a 50 MB burst of output to the CRI log', async () => {
    const cid = await rt!.createContainer(sandboxId, {
      name: 'chatty', image, logMaxBytes: 8 << 20, logMaxFiles: 2,
      command: ['sh', '-c', 'yes "a chatty container writes this line over and over 0123456789" | head -c 50000000; echo; echo burst-done; exec sleep 3600'],
    });
    const st = await rt!.startContainer(cid);
    // the last line may land in the newest file or, if it rotated on that write, in .1
    const logged = () => [st.logPath, `${st.logPath}.1`].some((f) => existsSync(f) && readFileSync(f, 'utf8').includes(' stdout F burst-done\n'));
    await until(logged, 60_000, 'the end of the burst in the log');
    const m = smaps(rt!.containerStatus(cid).shimPid!);
    console.log(`dist/orch shim after a 50 MB log burst: Private_Dirty ${m.Private_Dirty} kB, Anonymous ${m.Anonymous} kB (bound ${SHIM_AFTER_LOG_BURST_MAX_MIB} MiB)`);
    expect(m.Private_Dirty! / 1024).toBeLessThan(SHIM_AFTER_LOG_BURST_MAX_MIB);
    await rt!.removeContainer(cid);
  }, 120_000);
});
