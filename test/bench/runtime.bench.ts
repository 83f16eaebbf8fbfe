// Container start latency and memory, orch next to Debian's runc on the same busybox rootfs, in
// the same run. Everything happens inside a throwaway network namespace; all state is removed.
//   npm run bench -- runtime
// The shim is the esbuild bundle under plain node (as the tests run it); ORCH_BENCH_SHIM=dist uses
// `dist/orch shim` for every phase. The 50-container memory phase also runs once with dist/orch's
// shim in every run (private_mb_per_container_sea), dist/orch rebuilt first when it is stale;
// ORCH_BENCH_SEA=<path> measures another orch executable there instead (an older build, say).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerRuntime, type ContainerRootfs } from '../../runtime/index';
import { busyboxRootfs, enterTestNetns, removeTree, runId, shimCommand as bundleShimCommand } from '../e2e/runtime-helpers';
import { ensureBuiltExecutable } from '../integration/helpers/executable';

const RUNS = 50;
const COLD_RUNS = 10;
const LONG_RUNNING = 50;
const RUNC = '/usr/sbin/runc';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (x: number) => x.toFixed(1);

/** Private_Clean + Private_Dirty (+ hugetlb) of one process, bytes. */
function privateBytes(pid: number): number {
  let kb = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
    const m = /^Private_\w+:\s+(\d+) kB/.exec(line);
    if (m) kb += Number(m[1]);
  }
  return kb * 1024;
}

/** 50 long-running containers on a pool pre-warmed with 50 shims: start time and private memory. */
async function longRunning(opts: { stateDir: string; cgroupParent: string; shim: string[]; sandboxId: string; image: ContainerRootfs }) {
  const rt = await ContainerRuntime.open({ stateDir: opts.stateDir, cgroupParent: opts.cgroupParent, shimCommand: opts.shim, warmShims: LONG_RUNNING });
  await rt.waitForWarmShims(120_000);
  const t50 = process.hrtime.bigint();
  const ids: string[] = [];
  for (let i = 0; i < LONG_RUNNING; i++) {
    const cid = await rt.createContainer(opts.sandboxId, { name: `long-${i}`, image: opts.image, command: ['sleep', '3600'] });
    await rt.startContainer(cid);
    ids.push(cid);
  }
  const start50 = ms(t50);
  await rt.close(); // retire the idle warm shims before measuring
  await new Promise((r) => setTimeout(r, 1000));
  let shimBytes = 0;
  let workloadBytes = 0;
  for (const cid of ids) {
    const st = rt.containerStatus(cid);
    shimBytes += privateBytes(st.shimPid!);
    workloadBytes += privateBytes(st.pid!);
  }
  const reopened = await ContainerRuntime.open({ stateDir: opts.stateDir, cgroupParent: opts.cgroupParent, warmShims: 0 });
  for (const cid of ids) await reopened.removeContainer(cid);
  await reopened.close();
  const mib = (b: number) => b / LONG_RUNNING / 1048576;
  return { start50, perContainerMb: mib(shimBytes + workloadBytes), shimMb: mib(shimBytes), workloadMb: mib(workloadBytes) };
}

async function main(): Promise<void> {
  const seaShim = [process.env.ORCH_BENCH_SEA || ensureBuiltExecutable(), 'shim'];
  const shimIsSea = process.env.ORCH_BENCH_SHIM === 'dist';
  const shimCommand = () => (shimIsSea ? seaShim : bundleShimCommand());
  const id = runId();
  const stateDir = `/tmp/orch-bench-${id}`;
  const runcRoot = `/tmp/orch-bench-${id}-runc`;
  // dist/orch's shims extract koffi's addon here (they inherit the variable), not to the machine's cache
  const addonCache = `/tmp/orch-bench-${id}-cache`;
  process.env.XDG_CACHE_HOME = addonCache;
  const leaveNetns = enterTestNetns(`orch-bench-${id}`);
  const rootfs = busyboxRootfs();
  const image: ContainerRootfs = { lowerDirs: [rootfs], config: { Env: ['PATH=/bin'] }, imageDigest: 'sha256:bench' };
  let rt: ContainerRuntime | undefined;
  try {
    // ---- runc, same rootfs (read-only root), same namespace set; runs interleaved with orch's ----
    const bundle = join(runcRoot, 'bundle');
    mkdirSync(bundle, { recursive: true });
    execFileSync(RUNC, ['spec'], { cwd: bundle });
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    spec.root = { path: rootfs, readonly: true };
    spec.process.terminal = false;
    spec.process.env = ['PATH=/bin'];
    spec.hostname = 'runc';
    const runcStart: number[] = [];
    const runcTrue: number[] = [];
    const runc = (args: string[], stdio: 'ignore' | 'pipe' = 'ignore') => {
      const r = spawnSync(RUNC, ['--root', join(runcRoot, 'state'), ...args], { cwd: bundle, stdio });
      if (r.status !== 0) throw new Error(`runc ${args.join(' ')} failed: ${r.stderr?.toString() ?? r.status}`);
    };
    // ---- orch, warm shims ----
    rt = await ContainerRuntime.open({ stateDir, cgroupParent: `orch-bench-${id}`, shimCommand: shimCommand(), warmShims: 2 });
    const sandboxId = rt.runPodSandbox({ name: 'bench', hostname: 'bench' }).id;
    const startMs: number[] = [];
    const trueMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await rt.waitForWarmShims();
      let t0 = process.hrtime.bigint();
      let cid = await rt.createContainer(sandboxId, { name: `sleep-${i}`, image, command: ['sleep', '60'] });
      await rt.startContainer(cid);
      startMs.push(ms(t0));
      await rt.removeContainer(cid);

      await rt.waitForWarmShims();
      t0 = process.hrtime.bigint();
      cid = await rt.createContainer(sandboxId, { name: `true-${i}`, image, command: ['/bin/true'] });
      await rt.startContainer(cid);
      const st = await rt.waitContainer(cid, 10_000);
      trueMs.push(ms(t0));
      if (st.exitCode !== 0) throw new Error(`/bin/true exited ${st.exitCode}: ${st.message ?? ''}`);
      await rt.removeContainer(cid);

      // the same iteration with runc, so both see the same machine load
      spec.linux.cgroupsPath = `/orch-bench-${id}-runc/s${i}`;
      spec.process.args = ['sleep', '60'];
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
      t0 = process.hrtime.bigint();
      runc(['run', '-d', `s${i}`]);
      runcStart.push(ms(t0));
      runc(['delete', '-f', `s${i}`]);

      spec.linux.cgroupsPath = `/orch-bench-${id}-runc/t${i}`;
      spec.process.args = ['/bin/true'];
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
      t0 = process.hrtime.bigint();
      runc(['run', `t${i}`]);
      runcTrue.push(ms(t0));
      spawnSync(RUNC, ['--root', join(runcRoot, 'state'), 'delete', '-f', `t${i}`], { stdio: 'ignore' });
    }
    await rt.close();

    // ---- orch, cold shims (a shim started on the critical path) ----
    rt = await ContainerRuntime.open({ stateDir, cgroupParent: `orch-bench-${id}`, shimCommand: shimCommand(), warmShims: 0 });
    const coldMs: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      const t0 = process.hrtime.bigint();
      const cid = await rt.createContainer(sandboxId, { name: `cold-${i}`, image, command: ['sleep', '60'] });
      await rt.startContainer(cid);
      coldMs.push(ms(t0));
      await rt.removeContainer(cid);
    }
    await rt.close();

    // ---- 50 long-running containers: total start time and private memory; again with dist/orch's shim ----
    const long = await longRunning({ stateDir, cgroupParent: `orch-bench-${id}`, shim: shimCommand(), sandboxId, image });
    const longSea = shimIsSea ? long : await longRunning({ stateDir, cgroupParent: `orch-bench-${id}`, shim: seaShim, sandboxId, image });
    const { start50, perContainerMb } = long;

    console.log(`shim for the phases below: ${shimIsSea ? 'dist/orch shim (ORCH_BENCH_SHIM=dist)' : 'the shim bundle under plain node'}`);
    console.log(`orch  create+start (warm shim) to running: median ${fmt(median(startMs))} ms, p90 ${fmt(pct(startMs, 90))} ms over ${RUNS}`);
    console.log(`orch  create+start (warm shim) to /bin/true exited: median ${fmt(median(trueMs))} ms, p90 ${fmt(pct(trueMs, 90))} ms over ${RUNS}`);
    console.log(`orch  create+start (cold shim, node started on the critical path) to running: median ${fmt(median(coldMs))} ms over ${COLD_RUNS}`);
    console.log(`runc  run -d to running: median ${fmt(median(runcStart))} ms, p90 ${fmt(pct(runcStart, 90))} ms over ${RUNS}`);
    console.log(`runc  run /bin/true to exit: median ${fmt(median(runcTrue))} ms, p90 ${fmt(pct(runcTrue, 90))} ms over ${RUNS}`);
    console.log(`orch  ${LONG_RUNNING} sleep containers: started in ${fmt(start50)} ms (pool pre-warmed with ${LONG_RUNNING} shims); private memory per container ${fmt(perContainerMb)} MiB (shim ${fmt(long.shimMb)} + workload ${fmt(long.workloadMb)})`);
    console.log(`orch  ${LONG_RUNNING} sleep containers with ${seaShim.join(' ')}: started in ${fmt(longSea.start50)} ms; private memory per container ${fmt(longSea.perContainerMb)} MiB (shim ${fmt(longSea.shimMb)} + workload ${fmt(longSea.workloadMb)})`);
    console.log(`runtime: start_median_ms=${fmt(median(startMs))} true_exit_median_ms=${fmt(median(trueMs))} runc_start_median_ms=${fmt(median(runcStart))} private_mb_per_container=${fmt(perContainerMb)} private_mb_per_container_sea=${fmt(longSea.perContainerMb)} start50_total_ms=${Math.round(start50)}`);
  } finally {
    if (rt) {
      const cleanup = await ContainerRuntime.open({ stateDir, cgroupParent: `orch-bench-${id}`, warmShims: 0 });
      for (const s of cleanup.listPodSandboxes()) await cleanup.removePodSandbox(s.id);
      await cleanup.close();
      await cleanup.cgroups.removeParent().catch((err) => console.error(String(err)));
    }
    spawnSync('sh', ['-c', `for c in $(${RUNC} --root ${runcRoot}/state list -q 2>/dev/null); do ${RUNC} --root ${runcRoot}/state delete -f $c; done`], { stdio: 'ignore' });
    for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'devices', 'freezer', 'blkio', 'systemd', 'unified']) {
      const d = `/sys/fs/cgroup/${c}/orch-bench-${id}-runc`;
      if (existsSync(d)) try { rmdirSync(d); } catch (err) { console.error(String(err)); }
    }
    rmSync(runcRoot, { recursive: true, force: true });
    rmSync(addonCache, { recursive: true, force: true });
    removeTree(stateDir);
    leaveNetns();
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
