// pods/eviction against `orch server`: `kubectl drain` of a hollow node (pods marked Running and
// Ready by the test) blocked by a PodDisruptionBudget with upstream's 429 message, then allowed;
// the Eviction API directly (status recorded in the budget, pending pods ignore budgets, errors).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startTestCluster, waitFor, type TestCluster } from './helpers/cluster';

let c: TestCluster;
let dispatcher: Agent;

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await request(`${c.url}${path}`, {
    method: 'POST', dispatcher,
    headers: { authorization: `Bearer ${c.server!.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: JSON.parse(text) };
}

function eviction(name: string, ns = 'default', deleteOptions?: unknown): unknown {
  return { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns }, ...(deleteOptions ? { deleteOptions } : {}) };
}

/** A pod bound to `node`, marked Running and Ready as a kubelet would. */
async function runningPod(name: string, node: string, labels: Record<string, string>): Promise<void> {
  await c.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] } }),
  });
  await c.kubectlOk(['patch', 'pod', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })]);
}

beforeAll(async () => {
  c = await startTestCluster();
  dispatcher = new Agent({ connect: { ca: c.server!.pki.ca.certPem } });
  await c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'hollow-1', labels: { 'kubernetes.io/hostname': 'hollow-1' } } }) });
}, 60_000);

afterAll(async () => { await dispatcher?.close(); await c?.stop(); });

describe('pods/eviction', () => {
  it('kubectl drain is blocked by a PodDisruptionBudget, then proceeds', async () => {
    await runningPod('web-1', 'hollow-1', { app: 'web' });
    await runningPod('web-2', 'hollow-1', { app: 'web' });
    await c.kubectlOk(['create', 'pdb', 'web', '--selector=app=web', '--min-available=2']);
    const blocked = await c.kubectl(['drain', 'hollow-1', '--force', '--grace-period=0', '--timeout=4s'], { timeoutMs: 30_000 });
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toContain('Cannot evict pod as it would violate the pod\'s disruption budget.');
    expect(await c.kubectlOk(['get', 'pods', '-o', 'name'])).toContain('pod/web-1');
    // The node was cordoned by drain.
    expect(JSON.parse(await c.kubectlOk(['get', 'node', 'hollow-1', '-o', 'json'])).spec.unschedulable).toBe(true);
    // One disruption allowed: drain evicts the first pod, the second waits (still blocked).
    await c.kubectlOk(['patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":1}}']);
    const partial = await c.kubectl(['drain', 'hollow-1', '--force', '--grace-period=0', '--timeout=4s'], { timeoutMs: 30_000 });
    expect(partial.code).not.toBe(0);
    const left = (await c.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim().split('\n').filter(Boolean);
    expect(left).toHaveLength(1);
    await c.kubectlOk(['delete', 'pdb', 'web']);
    const ok = await c.kubectl(['drain', 'hollow-1', '--force', '--grace-period=0', '--timeout=20s'], { timeoutMs: 40_000 });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/evicted/);
    expect(ok.stdout).toContain('node/hollow-1 drained');
    expect((await c.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim()).toBe('');
  });

  it('answers the Eviction API: 429 with the budget\'s cause, budget status, graceful deletion', async () => {
    await runningPod('db-1', 'hollow-1', { app: 'db' });
    await runningPod('db-2', 'hollow-1', { app: 'db' });
    await runningPod('db-3', 'hollow-1', { app: 'db' });
    // Bare pods have no controller: as upstream, only an integer minAvailable counts them (maxUnavailable would expect 0 pods).
    await c.kubectlOk(['create', 'pdb', 'db', '--selector=app=db', '--min-available=2']);
    const first = await post('/api/v1/namespaces/default/pods/db-1/eviction', eviction('db-1'));
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ kind: 'Status', status: 'Success' });
    // A pod on a node is deleted gracefully: it stays, terminating, until its kubelet confirms.
    const pod = JSON.parse(await c.kubectlOk(['get', 'pod', 'db-1', '-o', 'json']));
    expect(pod.metadata.deletionTimestamp).toBeTruthy();
    // The eviction recorded db-1 in disruptedPods; the disruption controller then sees db-1 terminating,
    // counts it unhealthy and drops the entry (upstream): either way no further disruption is allowed.
    const pdb = JSON.parse(await c.kubectlOk(['get', 'pdb', 'db', '-o', 'json']));
    expect(pdb.status).toMatchObject({ disruptionsAllowed: 0, desiredHealthy: 2 });
    expect(Object.keys(pdb.status.disruptedPods ?? {})).toEqual(pdb.status.currentHealthy === 3 ? ['db-1'] : []);
    await waitFor(async () => JSON.parse(await c.kubectlOk(['get', 'pdb', 'db', '-o', 'json'])).status.currentHealthy === 2, 10_000, 'controller counts db-1 out');
    const second = await post('/api/v1/namespaces/default/pods/db-2/eviction', eviction('db-2'));
    expect(second.status).toBe(429);
    expect(second.json).toMatchObject({
      kind: 'Status', reason: 'TooManyRequests', code: 429,
      message: 'Cannot evict pod as it would violate the pod\'s disruption budget.',
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget db needs 2 healthy pods and has 2 currently' }] },
    });
    // Once the evicted pod is gone, the budget allows the next disruption.
    await c.kubectlOk(['delete', 'pod', 'db-1', '--grace-period=0', '--force']);
    // A replacement comes up (what a ReplicaSet would do for these pods): three healthy again, one may go.
    await runningPod('db-4', 'hollow-1', { app: 'db' });
    await waitFor(async () => JSON.parse(await c.kubectlOk(['get', 'pdb', 'db', '-o', 'json'])).status.disruptionsAllowed === 1, 10_000, 'budget allows one');
    const third = await post('/api/v1/namespaces/default/pods/db-2/eviction', eviction('db-2', 'default', { gracePeriodSeconds: 0 }));
    expect(third.status).toBe(201);
    expect((await c.kubectl(['get', 'pod', 'db-2'])).code).not.toBe(0);
  });

  it('evicts pending pods and pods without budgets at once; refuses a mismatched name and unknown pods', async () => {
    await c.kubectlOk(['run', 'pending', '--image=busybox', '--labels=app=db']);
    // The scheduler may bind it to the hollow node; either way it stays Pending and ignores the budget.
    expect((await post('/api/v1/namespaces/default/pods/pending/eviction', eviction('pending'))).status).toBe(201);
    await waitFor(async () => (await c.kubectl(['get', 'pod', 'pending'])).code !== 0 || JSON.parse((await c.kubectl(['get', 'pod', 'pending', '-o', 'json'])).stdout).metadata.deletionTimestamp, 10_000, 'pending pod goes');
    expect((await post('/api/v1/namespaces/default/pods/nope/eviction', eviction('nope'))).json).toMatchObject({ code: 404, message: 'pods "nope" not found' });
    expect((await post('/api/v1/namespaces/default/pods/db-3/eviction', eviction('other'))).json).toMatchObject({ code: 400, message: 'name in URL does not match name in Eviction object' });
  });
});
