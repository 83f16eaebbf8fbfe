// The disruption controller inside a real `orch server` (in-process), seen through the real
// kubectl 1.32: a Deployment on hollow nodes (a test kubelet marks pods Running/Ready and finishes
// deletions), `kubectl create pdb`, `kubectl get pdb`'s ALLOWED DISRUPTIONS, evictions through the
// pods/eviction subresource (`kubectl create --raw`), cordoned nodes, and scale changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type TestCluster } from './helpers/cluster';
import { startHollowCluster, type HollowCluster } from './helpers/hollow-cluster';

const NODES = ['hollow-1', 'hollow-2', 'hollow-3'];
let h: HollowCluster | undefined;
let c: TestCluster;

beforeAll(async () => {
  h = await startHollowCluster({ nodes: NODES, cpu: '2' });
  c = h.c;
}, 60_000);

afterAll(async () => { await h?.stop(); }, 60_000);

async function pdbStatus(name: string): Promise<any> {
  return JSON.parse(await c.kubectlOk(['get', 'pdb', name, '-o', 'json'])).status ?? {};
}

/** `kubectl get pdb NAME` once its ALLOWED DISRUPTIONS column shows `allowed`; returns the table. */
async function tableWhenAllowed(name: string, allowed: number, timeoutMs = 15_000): Promise<string> {
  return waitFor(async () => {
    const out = await c.kubectlOk(['get', 'pdb', name]);
    const row = out.trim().split('\n')[1]?.trim().split(/\s+/) ?? [];
    return row[3] === String(allowed) ? out : undefined;
  }, timeoutMs, `pdb ${name} ALLOWED DISRUPTIONS ${allowed}`);
}

async function webPods(): Promise<any[]> {
  return JSON.parse(await c.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
}

function evict(pod: string) {
  return c.kubectl(['create', '--raw', `/api/v1/namespaces/default/pods/${pod}/eviction`, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: 'default' } }),
  });
}

describe('disruption controller in orch server, with kubectl', () => {
  it('kubectl get pdb shows the allowed disruptions, evictions use them up, scale changes move them', async () => {
    await c.kubectlOk(['create', 'deployment', 'web', '--image=busybox', '--replicas=3']);
    await waitFor(async () => (await webPods()).filter((p) => p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True')).length === 3, 20_000, '3 Ready pods');

    await c.kubectlOk(['create', 'pdb', 'web', '--selector=app=web', '--min-available=2']);
    const table = await tableWhenAllowed('web', 1);
    console.log(`$ kubectl get pdb web\n${table}`);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE$/);
    expect(table.split('\n')[1]).toMatch(/^web\s+2\s+N\/A\s+1\s+\S+$/);
    const st = await pdbStatus('web');
    expect(st).toMatchObject({ expectedPods: 3, currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, observedGeneration: 1 });
    expect(st.conditions).toEqual([expect.objectContaining({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 1 })]);

    // Cordon every node so the ReplicaSet's replacement stays Pending, then evict one pod.
    await c.kubectlOk(['cordon', ...NODES]);
    const [first, second] = (await webPods()).map((p) => p.metadata.name);
    const ok = await evict(first);
    expect(ok.code, ok.stderr).toBe(0);
    const after = await tableWhenAllowed('web', 0);
    console.log(`$ kubectl get pdb web   # after evicting ${first}\n${after}`);
    // The evicted pod is gone (its kubelet finished it) and its Pending replacement is not healthy.
    await waitFor(async () => { const s = await pdbStatus('web'); return s.currentHealthy === 2 && s.disruptionsAllowed === 0 && !s.disruptedPods; }, 15_000, 'healthy 2, no disruption pending');
    expect((await webPods()).map((p) => p.metadata.name)).not.toContain(first);
    expect(await pdbStatus('web')).toMatchObject({ currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0, conditions: [expect.objectContaining({ status: 'False', reason: 'InsufficientPods' })] });
    const refused = await evict(second);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Cannot evict pod as it would violate the pod\'s disruption budget.');

    // Uncordon: the replacement runs, one disruption is allowed again.
    await c.kubectlOk(['uncordon', ...NODES]);
    await tableWhenAllowed('web', 1, 20_000);

    // Scale up: five healthy pods over minAvailable 2.
    await c.kubectlOk(['scale', 'deployment', 'web', '--replicas=5']);
    console.log(`$ kubectl get pdb web   # after scaling to 5\n${await tableWhenAllowed('web', 3, 20_000)}`);

    // A percentage budget follows the Deployment's replicas: maxUnavailable 40% of 5 = 2 (rounded up).
    await c.kubectlOk(['delete', 'pdb', 'web']);
    await c.kubectlOk(['create', 'pdb', 'web-pct', '--selector=app=web', '--max-unavailable=40%']);
    await tableWhenAllowed('web-pct', 2);
    expect(await pdbStatus('web-pct')).toMatchObject({ expectedPods: 5, desiredHealthy: 3, currentHealthy: 5 });
    // Scale down to 2: 40% of 2 = 0.8, rounded up to 1 unavailable, so 1 must stay.
    await c.kubectlOk(['scale', 'deployment', 'web', '--replicas=2']);
    await waitFor(async () => { const s = await pdbStatus('web-pct'); return s.expectedPods === 2 && s.currentHealthy === 2; }, 20_000, 'expected 2');
    const scaled = await tableWhenAllowed('web-pct', 1);
    console.log(`$ kubectl get pdb web-pct   # after scaling to 2\n${scaled}`);
    expect(scaled.split('\n')[1]).toMatch(/^web-pct\s+N\/A\s+40%\s+1\s+\S+$/);
    expect(await pdbStatus('web-pct')).toMatchObject({ expectedPods: 2, desiredHealthy: 1, currentHealthy: 2, disruptionsAllowed: 1 });
  }, 120_000);

  it('a custom resource with a scale subresource: `kubectl scale` on it moves a percentage budget', async () => {
    await c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [{
          name: 'v1', served: true, storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } }, status: { type: 'object', properties: { size: { type: 'integer' } } } } } },
          subresources: { status: {}, scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size' } },
        }],
      },
    }) });
    await waitFor(async () => (await c.kubectl(['get', 'widgets'])).code === 0, 15_000, 'widgets served');
    await c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' }, spec: { size: 2 } }) });
    const uid = JSON.parse(await c.kubectlOk(['get', 'widget', 'w', '-o', 'json'])).metadata.uid;
    for (const n of ['w-0', 'w-1']) {
      await c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: n, namespace: 'default', labels: { app: 'widget' }, ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid, controller: true }] },
        spec: { nodeName: 'hollow-1', containers: [{ name: 'c', image: 'busybox' }] },
      }) });
    }
    await c.kubectlOk(['create', 'pdb', 'w', '--selector=app=widget', '--min-available=50%']);
    await tableWhenAllowed('w', 1, 20_000);
    expect(await pdbStatus('w')).toMatchObject({ expectedPods: 2, desiredHealthy: 1, currentHealthy: 2 });
    await c.kubectlOk(['scale', 'widget', 'w', '--replicas=4']);
    // 50% of 4 = 2 must stay; the 2 Ready pods allow nothing until the widget's operator adds pods.
    const table = await tableWhenAllowed('w', 0, 20_000);
    console.log(`$ kubectl get pdb w   # after kubectl scale widget w --replicas=4\n${table}`);
    expect(await pdbStatus('w')).toMatchObject({ expectedPods: 4, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0 });
  }, 60_000);
});
