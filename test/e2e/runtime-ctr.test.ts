// The whole node runtime from the CLI's side: an image imported by the image service runs as a
// container whose shim is the real `orch shim` (the CLI in its hidden mode, from source), and
// `orch ctr ps|inspect|exec|logs|rm` see and act on it from another process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openNodeRuntime, type NodeRuntime } from '../../runtime/index';
import { buildBusyboxImage } from '../fixtures/images/busybox';
import { alive, enterTestNetns, removeTree, runId, until } from './runtime-helpers';

const execFileAsync = promisify(execFile);
const repo = join(__dirname, '..', '..');
const orch = [process.execPath, '--import', 'tsx', join(repo, 'cmd', 'orch.ts')];
const id = runId();
const dataDir = `/tmp/orch-test-${id}`;
let leaveNetns: () => void = () => undefined;
let node: NodeRuntime;
let sandboxId: string;

async function ctr(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(orch[0], [...orch.slice(1), 'ctr', ...args, '--data-dir', dataDir], { cwd: repo, timeout: 30_000 });
}

describe('runtime: orch ctr and images', () => {
  beforeAll(async () => {
    leaveNetns = enterTestNetns(`orch-test-${id}`);
    node = await openNodeRuntime({ dataDir, cgroupParent: `orch-test-${id}`, shimCommand: [...orch, 'shim'], warmShims: 1 });
    const fixture = await buildBusyboxImage();
    await node.images.importArchive(fixture.dockerArchive);
    sandboxId = node.containers.runPodSandbox({ name: 'web', hostname: 'web-0' }).id;
  }, 180_000);

  afterAll(async () => {
    try {
      for (const s of node?.containers.listPodSandboxes() ?? []) await node.containers.removePodSandbox(s.id);
      await node?.close();
      await node?.containers.cgroups.removeParent();
    } finally {
      removeTree(dataDir);
      leaveNetns();
    }
  }, 60_000);

  it('runs an imported image and reports an unknown one', async () => {
    await expect(node.containers.createContainer(sandboxId, { name: 'ghost', image: 'no-such-image:latest' }))
      .rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    const cid = await node.containers.createContainer(sandboxId, { name: 'app', image: 'busybox:latest', command: ['sh', '-c', 'echo hello from $ORCH_FIXTURE; exec sleep 60'] });
    const st = await node.containers.startContainer(cid);
    expect({ state: st.state, message: st.message }).toEqual({ state: 'running', message: undefined });
    expect(st.image).toBe('busybox:latest');
    expect(st.imageDigest).toMatch(/^sha256:/);

    const ps = (await ctr('ps')).stdout;
    expect(ps).toMatch(new RegExp(`^${cid.slice(0, 13)}\\s+app\\s+running\\s+${st.pid}\\s`, 'm'));
    const inspect = JSON.parse((await ctr('inspect', cid.slice(0, 8))).stdout);
    expect(inspect.pid).toBe(st.pid);
    expect(inspect.sandbox.netnsPath).toContain(sandboxId);
    expect((await ctr('exec', 'app', 'hostname')).stdout).toBe('web-0\n');
    await until(async () => (await ctr('logs', 'app')).stdout === 'hello from busybox\n', 10_000, 'the log line');
    expect((await ctr('rm', '--force', 'app')).stdout.trim()).toBe(cid);
    await until(() => !alive(st.pid!), 10_000, 'the workload to end');
    expect(node.containers.listContainers()).toEqual([]);
  }, 120_000);
});
