// Controllers and the scheduler inside a real `orch server` (in-process), driven by the real
// kubectl 1.32, on hollow nodes whose pods a test kubelet marks Running/Ready.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from './helpers/cluster';
import { startHollowCluster, type HollowCluster } from './helpers/hollow-cluster';
import { R, type ClusterClient } from '../../server/controllers/client';
import { waitFor } from '../unit/helpers/wait';

let h: HollowCluster | undefined;
let c: TestCluster;
const client = (): ClusterClient => h!.client();

beforeAll(async () => {
  h = await startHollowCluster({ nodes: ['hollow-1', 'hollow-2', 'hollow-3'], cpu: '2' });
  c = h.c;
}, 60_000);

afterAll(async () => { await h?.stop(); }, 60_000);

const deployment = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    kubernetes.io/change-cause: "deploy ${image}"
spec:
  replicas: 4
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: ${image}
        resources: {requests: {cpu: 100m}}
`;

async function podsByRS(): Promise<Map<string, number>> {
  const pods = (await client().list(R.pods, 'default', { labelSelector: 'app=web' })).items.filter((p) => !p.metadata.deletionTimestamp);
  const m = new Map<string, number>();
  for (const p of pods) { const o = p.metadata.ownerReferences?.[0]?.name ?? '-'; m.set(o, (m.get(o) ?? 0) + 1); }
  return m;
}

describe('controllers + scheduler in orch server, with kubectl', () => {
  it('rolls out, updates, shows history, undoes, and reports status as kubectl expects', async () => {
    await c.kubectlOk(['apply', '-f', '-'], { input: deployment('busybox:1') });
    const st = await c.kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 });
    expect(st).toContain('deployment "web" successfully rolled out');
    const pods = await c.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{"\\n"}{end}']);
    const lines = pods.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(l).toMatch(/^hollow-\d Running$/);

    await c.kubectlOk(['apply', '-f', '-'], { input: deployment('busybox:2') });
    expect(await c.kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 })).toContain('successfully rolled out');
    const hist = await c.kubectlOk(['rollout', 'history', 'deployment/web']);
    expect(hist).toMatch(/REVISION\s+CHANGE-CAUSE/);
    expect(hist).toMatch(/1\s+deploy busybox:1/);
    expect(hist).toMatch(/2\s+deploy busybox:2/);

    expect(await c.kubectlOk(['rollout', 'undo', 'deployment/web'])).toContain('deployment.apps/web rolled back');
    expect(await c.kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 })).toContain('successfully rolled out');
    const images = await c.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.containers[0].image}']);
    await waitFor(async () => (await c.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.containers[0].image}'])).split(' ').every((i) => i === 'busybox:1'), 30_000, `pods back on busybox:1 (${images})`);
    const hist2 = await c.kubectlOk(['rollout', 'history', 'deployment/web']);
    expect(hist2).toMatch(/2\s+deploy busybox:2/);
    expect(hist2).toMatch(/3\s+deploy busybox:1/);
    expect(hist2).not.toMatch(/^1\s/m);
    const describe = await c.kubectlOk(['describe', 'deployment', 'web']);
    expect(describe).toMatch(/Scaled up replica set web-\w+ from 0 to \d/);
    expect(describe).toMatch(/Available\s+True\s+MinimumReplicasAvailable/);
  }, 240_000);

  it('survives a server restart mid-rollout with no duplicate pods', async () => {
    await c.kubectlOk(['set', 'image', 'deployment/web', 'c=busybox:3']);
    await h!.stopKubelet();
    await c.restart();
    await h!.startKubelet();
    expect(await c.kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 })).toContain('successfully rolled out');
    await waitFor(async () => [...(await podsByRS()).values()].reduce((a, b) => a + b, 0) === 4, 30_000, '4 pods');
    const byRS = await podsByRS();
    expect([...byRS.values()]).toEqual([4]);
    const rss = (await client().list(R.replicasets, 'default', { labelSelector: 'app=web' })).items;
    for (const rs of rss) expect(byRS.get(rs.metadata.name!) ?? 0).toBe(rs.spec.replicas);
  }, 240_000);

  it('leaves an unschedulable pod Pending with the upstream FailedScheduling message in describe', async () => {
    await c.kubectlOk(['run', 'huge', '--image=busybox', '--overrides', JSON.stringify({ spec: { containers: [{ name: 'huge', image: 'busybox', resources: { requests: { cpu: '64' } } }] } })]);
    await waitFor(async () => (await c.kubectlOk(['get', 'pod', 'huge', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}'])) === 'Unschedulable', 30_000, 'PodScheduled=False');
    const d = await c.kubectlOk(['describe', 'pod', 'huge']);
    expect(d).toContain('FailedScheduling');
    expect(d).toContain('0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..');
    expect(await c.kubectlOk(['get', 'pod', 'huge', '-o', 'jsonpath={.status.phase}'])).toBe('Pending');
  }, 120_000);
});
