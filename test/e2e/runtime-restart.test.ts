// A container outlives the process that started it: the caller is SIGKILLed, a new runtime
// instance re-adopts the container through its shim, sees it running, execs in it, stops it and
// gets its exit code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { ContainerRuntime } from '../../runtime/index';
import { alive, enterTestNetns, removeTree, runId, until } from './runtime-helpers';

const id = runId();
const stateDir = `/tmp/orch-test-${id}`;
const cgroupParent = `orch-test-${id}`;
let leaveNetns: () => void = () => undefined;
let rt: ContainerRuntime | undefined;
let childPid: number | undefined;

describe('runtime: restart of the caller', () => {
  beforeAll(() => {
    leaveNetns = enterTestNetns(`orch-test-${id}`);
  });

  afterAll(async () => {
    try {
      if (childPid && alive(childPid)) process.kill(childPid, 'SIGKILL');
      if (!rt) rt = await ContainerRuntime.open({ stateDir, cgroupParent, warmShims: 0 });
      for (const s of rt.listPodSandboxes()) await rt.removePodSandbox(s.id);
      await rt.close();
      await rt.cgroups.removeParent();
    } finally {
      removeTree(stateDir);
      leaveNetns();
    }
  }, 60_000);

  it('re-adopts a running container after its caller was killed', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'runtime-restart-child.ts'), stateDir, cgroupParent], { stdio: ['ignore', 'pipe', 'inherit'] });
    childPid = child.pid;
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const line = await until(() => out.split('\n').find((l) => l.startsWith('{')), 60_000, 'the child to start a container');
    const started = JSON.parse(line!) as { sandboxId: string; containerId: string; pid: number; shimPid: number };
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(alive(started.pid)).toBe(true);
    expect(alive(started.shimPid)).toBe(true);

    rt = await ContainerRuntime.open({ stateDir, cgroupParent, warmShims: 0 });
    const st = rt.containerStatus(started.containerId);
    expect(st.state).toBe('running');
    expect(st.pid).toBe(started.pid);
    expect(rt.listContainers({ state: 'running' }).map((c) => c.id)).toEqual([started.containerId]);
    const r = await rt.execSync(started.containerId, ['hostname']);
    expect(r.stdout).toBe('survivor\n');

    const stopped = await rt.stopContainer(started.containerId, 10);
    expect(stopped.state).toBe('exited');
    expect(stopped.exitCode).toBe(42);
    expect(readFileSync(stopped.logPath, 'utf8')).toMatch(/stdout F started\n.*stdout F terminated\n/);
    await until(() => !alive(started.shimPid) && !alive(started.pid), 10_000, 'shim and workload gone');
  }, 90_000);
});
