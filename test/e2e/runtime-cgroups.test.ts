// cgroup limits hold for real containers: the seed's 20% CPU experiment measured from cpuacct, a
// memory hog OOM-killed and reported as OOMKilled, a pids limit refusing forks, and stats.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerRuntime, type ContainerRootfs } from '../../runtime/index';
import { busyboxRootfs, enterTestNetns, runId, shimCommand, tearDownRuntime } from './runtime-helpers';

const id = runId();
const stateDir = `/tmp/orch-test-${id}`;
let leaveNetns: () => void = () => undefined;
let rt: ContainerRuntime;
let image: ContainerRootfs;
let sandboxId: string;

describe('runtime: cgroups', () => {
  beforeAll(async () => {
    leaveNetns = enterTestNetns(`orch-test-${id}`);
    image = { lowerDirs: [busyboxRootfs()], config: { Env: ['PATH=/bin'] }, imageDigest: 'sha256:test' };
    rt = await ContainerRuntime.open({ stateDir, cgroupParent: `orch-test-${id}`, shimCommand: shimCommand(), warmShims: 1 });
    sandboxId = rt.runPodSandbox({ name: 'pod', hostname: 'pod' }).id;
  }, 120_000);

  afterAll(() => tearDownRuntime(rt, stateDir, leaveNetns), 60_000);

  it('holds a busy loop to about 20% of a CPU with quota 20000 over period 100000', async () => {
    const cid = await rt.createContainer(sandboxId, {
      name: 'busy', image, command: ['sh', '-c', 'while :; do :; done'], resources: { cpuQuotaUs: 20000, cpuPeriodUs: 100000, cpuShares: 512 },
    });
    await rt.startContainer(cid);
    const a = rt.containerStats(cid);
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, 2000));
    const b = rt.containerStats(cid);
    const wallNs = Number(process.hrtime.bigint() - t0);
    const share = (b.cpuUsageNs - a.cpuUsageNs) / wallNs;
    console.log(`cfs quota 20000/100000: busy loop used ${(share * 100).toFixed(1)}% of a CPU over ${(wallNs / 1e9).toFixed(2)} s`);
    expect(share).toBeGreaterThan(0.12);
    expect(share).toBeLessThan(0.26);
    const st = await rt.stopContainer(cid, 0);
    expect(st.exitCode).toBe(137);
  });

  it('kills a memory hog and reports OOMKilled', async () => {
    const cid = await rt.createContainer(sandboxId, {
      name: 'hog', image, command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=128M', 'count=1'], resources: { memoryLimitBytes: 32 * 1024 * 1024 },
    });
    await rt.startContainer(cid);
    const st = await rt.waitContainer(cid, 20_000);
    expect({ reason: st.reason, exitCode: st.exitCode }).toEqual({ reason: 'OOMKilled', exitCode: 137 });
  });

  it('refuses forks beyond the pids limit and reports stats', async () => {
    const cid = await rt.createContainer(sandboxId, {
      name: 'forks', image, command: ['sh', '-c', 'sleep 30 & sleep 30 & sleep 30 & exec sleep 30'], resources: { pidsLimit: 4 },
    });
    await rt.startContainer(cid);
    await new Promise((r) => setTimeout(r, 300));
    const stats = rt.containerStats(cid);
    expect(stats.pidsCurrent).toBe(4);
    expect(stats.memoryWorkingSetBytes).toBeGreaterThan(0);
    expect(stats.memoryWorkingSetBytes).toBeLessThanOrEqual(stats.memoryUsageBytes);
    await rt.stopContainer(cid, 0);

    const over = await rt.createContainer(sandboxId, {
      name: 'too-many', image, command: ['sh', '-c', 'sleep 30 & sleep 30 & sleep 30 & exec sleep 30'], resources: { pidsLimit: 3 },
    });
    await rt.startContainer(over);
    const st = await rt.waitContainer(over, 10_000);
    expect(st.reason).toBe('Error');
    expect(readFileSync(st.logPath, 'utf8')).toMatch(/stderr F sh: can't fork: Resource temporarily unavailable/);
  });

  it('detects the host cgroup mode and sits below this process\'s own cgroup', () => {
    const own = readFileSync('/proc/self/cgroup', 'utf8');
    if (rt.cgroups.mode === 'v1') {
      const mem = /:memory:(.*)$/m.exec(own)![1];
      expect(rt.cgroups.parentDirs.memory).toBe(join('/sys/fs/cgroup/memory', mem, `orch-test-${id}`));
    }
    for (const d of Object.values(rt.cgroups.parentDirs)) expect(existsSync(d)).toBe(true);
  });
});
