// The disruption controller against the recording fake: PodDisruptionBudget status for integer and
// percentage minAvailable and maxUnavailable over a Deployment's pods, pods without a controller
// (upstream's UnmanagedPods / SyncFailed), controllers without a scale, custom resources with a
// scale subresource, selectors, disruptedPods expiry, the DisruptionAllowed condition, triggers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { R } from '../../server/controllers/client';
import { makeContext, type ControllerContext } from '../../server/controllers/controller';
import { DisruptionController } from '../../server/controllers/disruption/disruption';
import { rfc3339, type KubeObject } from '../../server/controllers/types';
import { FakeCluster } from './helpers/fake-cluster';
import { startControllers, type Harness } from './helpers/harness';
import { pod } from './helpers/objects';
import { waitFor } from './helpers/wait';

const CRDS = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };
const WIDGETS = { group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true };

function readyPod(name: string, owner: KubeObject | undefined, opts: { ready?: boolean; labels?: Record<string, string>; terminating?: boolean } = {}): KubeObject {
  const p = pod(name, { labels: opts.labels ?? { app: 'web' }, nodeName: 'n1', phase: 'Running' });
  if (owner) p.metadata.ownerReferences = [{ apiVersion: owner.apiVersion!, kind: owner.kind!, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true }];
  // The fake sets deletionTimestamp only through delete: a finalizer keeps the pod terminating.
  if (opts.terminating) p.metadata.finalizers = ['test/hold'];
  p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] };
  return p;
}

function pdb(name: string, spec: any, status?: any): KubeObject {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, ...(status ? { status } : {}) };
}

/** A Deployment of `replicas` whose ReplicaSet owns `pods` Ready pods web-0..; returns the objects. */
function seedDeployment(f: FakeCluster, replicas: number, pods: number) {
  const [dep] = f.seed(R.deployments, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas, selector: { matchLabels: { app: 'web' } } } });
  const [rs] = f.seed(R.replicasets, {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name: 'web-5d4f', namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: dep.metadata.uid!, controller: true }] },
    spec: { replicas, selector: { matchLabels: { app: 'web' } } },
  });
  const ps = f.seed(R.pods, ...Array.from({ length: pods }, (_, i) => readyPod(`web-${i}`, rs)));
  return { dep, rs, pods: ps };
}

async function started(f: FakeCluster): Promise<{ c: DisruptionController; ctx: ControllerContext; flush: () => Promise<void> }> {
  const ctx = makeContext(f, { clock: { now: () => f.now } });
  const c = new DisruptionController(ctx);
  ctx.informers.start();
  await ctx.informers.waitForCacheSync();
  return { c, ctx, flush: () => (ctx.recorder('controllermanager') as any).flush() };
}

const status = (f: FakeCluster, name: string) => f.peek(R.poddisruptionbudgets, 'default', name)!.status;
const figures = (st: any) => ({ expectedPods: st.expectedPods, desiredHealthy: st.desiredHealthy, currentHealthy: st.currentHealthy, disruptionsAllowed: st.disruptionsAllowed });
const events = (f: FakeCluster) => f.all(R.events).map((e) => `${e.type} ${e.reason} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`);

let stopCtx: ControllerContext | undefined;
let h: Harness | undefined;
afterEach(async () => { stopCtx?.informers.shutdown(); stopCtx = undefined; await h?.stop(); h = undefined; });

describe('disruption controller: budget figures', () => {
  it('integer minAvailable counts the matched pods; writes status, observedGeneration and DisruptionAllowed=True', async () => {
    const f = new FakeCluster();
    seedDeployment(f, 3, 3);
    f.seed(R.poddisruptionbudgets, pdb('web', { minAvailable: 2 }));
    const { c, ctx } = await started(f); stopCtx = ctx;
    await c.sync('default/web');
    const st = status(f, 'web');
    expect(st).toEqual({
      disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, observedGeneration: 1,
      conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 1, lastTransitionTime: rfc3339(f.now) }],
    });
    expect(f.writes('updateStatus', 'poddisruptionbudgets.policy')).toHaveLength(1);
    // Level-triggered: a second sync over the same state writes nothing.
    f.clearActions();
    await waitFor(() => c['pdbInformer'].store.get('default', 'web')?.status?.observedGeneration === 1, 2000, 'status in cache');
    await c.sync('default/web');
    expect(f.writes('updateStatus')).toHaveLength(0);
  });

  it('percentages and maxUnavailable take the Deployment\'s replicas (through its ReplicaSet), rounding up', async () => {
    const f = new FakeCluster();
    seedDeployment(f, 4, 3); // 4 wanted, 3 exist and are Ready
    f.seed(R.poddisruptionbudgets,
      pdb('min-pct', { minAvailable: '50%' }), pdb('min-pct-odd', { minAvailable: '30%' }),
      pdb('max-int', { maxUnavailable: 1 }), pdb('max-pct', { maxUnavailable: '30%' }), pdb('min-int', { minAvailable: 3 }));
    const { c, ctx } = await started(f); stopCtx = ctx;
    for (const n of ['min-pct', 'min-pct-odd', 'max-int', 'max-pct', 'min-int']) await c.sync(`default/${n}`);
    expect(figures(status(f, 'min-pct'))).toEqual({ expectedPods: 4, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 });
    // 30% of 4 = 1.2 -> 2 must stay.
    expect(figures(status(f, 'min-pct-odd'))).toEqual({ expectedPods: 4, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 });
    expect(figures(status(f, 'max-int'))).toEqual({ expectedPods: 4, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 });
    // 30% of 4 unavailable = 1.2 -> 2 may be unavailable, so 2 must stay.
    expect(figures(status(f, 'max-pct'))).toEqual({ expectedPods: 4, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 });
    expect(figures(status(f, 'min-int'))).toEqual({ expectedPods: 3, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 });
    expect(status(f, 'max-int').conditions).toEqual([{ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: 1, lastTransitionTime: rfc3339(f.now) }]);
  });

  it('unready and terminating pods are not healthy; a ReplicaSet and a StatefulSet without a Deployment count their own replicas', async () => {
    const f = new FakeCluster();
    const [rs] = f.seed(R.replicasets, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'default' }, spec: { replicas: 2 } });
    const [ss] = f.seed(R.statefulsets, { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'ss', namespace: 'default' }, spec: { replicas: 5 } });
    f.seed(R.pods, readyPod('a', rs), readyPod('b', rs, { ready: false }), readyPod('s-0', ss), readyPod('s-1', ss, { terminating: true }));
    await f.delete(R.pods, 'default', 's-1');
    f.seed(R.poddisruptionbudgets, pdb('web', { maxUnavailable: '20%' }));
    const { c, ctx } = await started(f); stopCtx = ctx;
    await c.sync('default/web');
    // 7 expected, 20% of 7 = 1.4 -> 2 unavailable allowed -> 5 must stay; healthy: a, s-0.
    expect(figures(status(f, 'web'))).toEqual({ expectedPods: 7, desiredHealthy: 5, currentHealthy: 2, disruptionsAllowed: 0 });
  });

  it('a custom resource with a scale subresource counts its specReplicasPath', async () => {
    const f = new FakeCluster();
    f.seed(CRDS as any, {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true, subresources: { scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size' } } }] },
    });
    const [w] = f.seed(WIDGETS as any, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' }, spec: { size: 4 } });
    f.seed(R.pods, readyPod('w-0', w), readyPod('w-1', w), readyPod('w-2', w));
    f.seed(R.poddisruptionbudgets, pdb('web', { minAvailable: '50%' }));
    const { c, ctx } = await started(f); stopCtx = ctx;
    await c.sync('default/web');
    expect(figures(status(f, 'web'))).toEqual({ expectedPods: 4, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 });
  });
});

describe('disruption controller: custom resources (through the controller manager)', () => {
  it('watches a custom resource once it controls a budget\'s pods: its scale change re-evaluates the budget', async () => {
    h = await startControllers(['disruption']);
    const { f } = h;
    await f.create(CRDS as any, '', {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true, subresources: { scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size' } } }] },
    });
    const w = await f.create(WIDGETS as any, 'default', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' }, spec: { size: 2 } });
    for (const n of ['w-0', 'w-1']) await f.create(R.pods, 'default', readyPod(n, w));
    await f.create(R.poddisruptionbudgets, 'default', pdb('web', { maxUnavailable: '50%' }));
    await waitFor(() => status(f, 'web')?.expectedPods === 2 && status(f, 'web')?.disruptionsAllowed === 1, 3000, 'expected 2');
    const cur = f.peek(WIDGETS as any, 'default', 'w')!;
    cur.spec.size = 6;
    await f.update(WIDGETS as any, cur);
    // 6 expected, 3 may be unavailable, 3 must stay: the 2 Ready pods allow nothing.
    await waitFor(() => status(f, 'web')?.expectedPods === 6, 3000, 'expected 6');
    expect(figures(status(f, 'web'))).toEqual({ expectedPods: 6, desiredHealthy: 3, currentHealthy: 2, disruptionsAllowed: 0 });
  });
});

describe('disruption controller: pods without a usable controller', () => {
  it('integer minAvailable needs no controller; percentages skip unmanaged pods with an UnmanagedPods warning', async () => {
    const f = new FakeCluster();
    const { rs } = seedDeployment(f, 2, 2);
    void rs;
    f.seed(R.pods, readyPod('bare-1', undefined), readyPod('bare-2', undefined));
    f.seed(R.poddisruptionbudgets, pdb('int', { minAvailable: 3 }), pdb('pct', { minAvailable: '50%' }));
    const { c, ctx, flush } = await started(f); stopCtx = ctx;
    await c.sync('default/int');
    await c.sync('default/pct');
    await flush();
    expect(figures(status(f, 'int'))).toEqual({ expectedPods: 4, desiredHealthy: 3, currentHealthy: 4, disruptionsAllowed: 1 });
    // Upstream: only the Deployment's 2 replicas are expected; all 4 Ready pods count as healthy.
    expect(figures(status(f, 'pct'))).toEqual({ expectedPods: 2, desiredHealthy: 1, currentHealthy: 4, disruptionsAllowed: 3 });
    expect(events(f)).toEqual(['Warning UnmanagedPods PodDisruptionBudget/pct: Pods selected by this PodDisruptionBudget (selector: app in (web)) were found '
      + 'to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. '
      + 'To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.']);
  });

  it('only unmanaged pods: nothing expected, so nothing may be disrupted', async () => {
    const f = new FakeCluster();
    f.seed(R.pods, readyPod('bare-1', undefined), readyPod('bare-2', undefined));
    f.seed(R.poddisruptionbudgets, pdb('web', { maxUnavailable: 1 }));
    const { c, ctx } = await started(f); stopCtx = ctx;
    await c.sync('default/web');
    expect(figures(status(f, 'web'))).toEqual({ expectedPods: 0, desiredHealthy: 0, currentHealthy: 2, disruptionsAllowed: 0 });
    expect(status(f, 'web').conditions[0]).toMatchObject({ status: 'False', reason: 'InsufficientPods' });
  });

  it('a controller without a scale, or one that is gone, fails the sync: disruptionsAllowed 0 and DisruptionAllowed=False/SyncFailed', async () => {
    const f = new FakeCluster();
    const [ds] = f.seed(R.daemonsets, { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default' }, spec: {} });
    f.seed(R.pods, readyPod('agent-x', ds, { labels: { app: 'agent' } }));
    f.seed(R.pods, { ...readyPod('orphaned', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'gone', uid: 'u-gone' } } as any, { labels: { app: 'gone' } }) });
    f.seed(R.poddisruptionbudgets,
      pdb('agent', { maxUnavailable: 1, selector: { matchLabels: { app: 'agent' } } }, { disruptionsAllowed: 1, observedGeneration: 1 }),
      pdb('gone', { minAvailable: '50%', selector: { matchLabels: { app: 'gone' } } }),
      pdb('agent-int', { minAvailable: 0, selector: { matchLabels: { app: 'agent' } } }));
    const { c, ctx, flush } = await started(f); stopCtx = ctx;
    await c.sync('default/agent');
    await c.sync('default/gone');
    await c.sync('default/agent-int');
    await flush();
    const a = status(f, 'agent');
    expect(a.disruptionsAllowed).toBe(0);
    expect(a.conditions).toEqual([{ type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: 'daemonsets.apps does not implement the scale subresource', observedGeneration: 1, lastTransitionTime: rfc3339(f.now) }]);
    expect(status(f, 'gone')).toMatchObject({ disruptionsAllowed: 0, conditions: [{ reason: 'SyncFailed', message: 'found no controllers for pod "orphaned"' }] });
    // An integer minAvailable never looks at controllers.
    expect(figures(status(f, 'agent-int'))).toEqual({ expectedPods: 1, desiredHealthy: 0, currentHealthy: 1, disruptionsAllowed: 1 });
    expect(events(f)).toEqual([
      'Warning CalculateExpectedPodCountFailed PodDisruptionBudget/agent: Failed to calculate the number of expected pods: daemonsets.apps does not implement the scale subresource',
      'Warning CalculateExpectedPodCountFailed PodDisruptionBudget/gone: Failed to calculate the number of expected pods: found no controllers for pod "orphaned"',
    ]);
  });
});

describe('disruption controller: selectors and disruptedPods', () => {
  it('policy/v1: an empty selector selects every pod of the namespace, a null one none (NoPods event)', async () => {
    const f = new FakeCluster();
    seedDeployment(f, 3, 3);
    f.seed(R.pods, { ...readyPod('elsewhere', undefined), metadata: { name: 'elsewhere', namespace: 'other', labels: { app: 'web' } } });
    f.seed(R.poddisruptionbudgets, pdb('all', { minAvailable: 1, selector: {} }), pdb('none', { minAvailable: 1, selector: null }));
    const { c, ctx, flush } = await started(f); stopCtx = ctx;
    await c.sync('default/all');
    await c.sync('default/none');
    await flush();
    expect(figures(status(f, 'all'))).toEqual({ expectedPods: 3, desiredHealthy: 1, currentHealthy: 3, disruptionsAllowed: 2 });
    expect(figures(status(f, 'none'))).toEqual({ expectedPods: 0, desiredHealthy: 1, currentHealthy: 0, disruptionsAllowed: 0 });
    expect(events(f)).toEqual(['Normal NoPods PodDisruptionBudget/none: No matching pods found']);
  });

  it('keeps a recent disruption (pod not healthy), requeues at its expiry, then drops it with a NotDeleted warning', async () => {
    const f = new FakeCluster();
    const { rs } = seedDeployment(f, 3, 3);
    f.seed(R.pods, readyPod('dying', rs, { terminating: true }));
    await f.delete(R.pods, 'default', 'dying');
    const t0 = f.now;
    f.seed(R.poddisruptionbudgets, pdb('web', { minAvailable: 2 }, {
      disruptedPods: { 'web-0': rfc3339(t0 - 30_000), dying: rfc3339(t0 - 10_000), vanished: rfc3339(t0 - 5_000) },
      disruptionsAllowed: 0, observedGeneration: 1,
    }));
    const { c, ctx, flush } = await started(f); stopCtx = ctx;
    const addAfter = vi.spyOn(c.queue, 'addAfter');
    await c.sync('default/web');
    // web-0 is still expected to go: not healthy; entries for the terminating and the vanished pod are removed.
    expect(status(f, 'web')).toMatchObject({ disruptedPods: { 'web-0': rfc3339(t0 - 30_000) }, expectedPods: 4, currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0 });
    expect(addAfter).toHaveBeenCalledWith('default/web', 90_000);
    // Two minutes after the eviction web-0 is still not terminating: forget it.
    f.now = t0 + 91_000;
    await waitFor(() => c['pdbInformer'].store.get('default', 'web')?.status?.disruptedPods?.vanished === undefined, 2000, 'status in cache');
    await c.sync('default/web');
    await flush();
    const st = status(f, 'web');
    expect(st.disruptedPods).toBeUndefined();
    expect(figures(st)).toEqual({ expectedPods: 4, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 });
    expect(st.conditions[0]).toMatchObject({ status: 'True', reason: 'SufficientPods', lastTransitionTime: rfc3339(t0 + 91_000) });
    expect(events(f)).toEqual(["Warning NotDeleted Pod/web-0: Pod was expected by PDB default/web to be deleted but it wasn't"]);
  });
});

describe('disruption controller: triggers (through the controller manager)', () => {
  it('follows pod readiness, pod deletion, a spec change and the Deployment\'s scale', async () => {
    h = await startControllers(['disruption']);
    const { f } = h;
    const { dep } = seedDeployment(f, 3, 3);
    await f.create(R.poddisruptionbudgets, 'default', pdb('web', { maxUnavailable: 1 }));
    await waitFor(() => status(f, 'web')?.disruptionsAllowed === 1, 3000, 'allowed 1');
    // A pod turns unready.
    const p0 = f.peek(R.pods, 'default', 'web-0')!;
    p0.status.conditions = [{ type: 'Ready', status: 'False' }];
    await f.updateStatus(R.pods, p0);
    await waitFor(() => status(f, 'web')?.currentHealthy === 2 && status(f, 'web')?.disruptionsAllowed === 0, 3000, 'healthy 2');
    // The Deployment scales to 5: expected 5, desired 4.
    const d = f.peek(R.deployments, 'default', 'web')!;
    d.spec.replicas = 5;
    await f.update(R.deployments, d);
    await waitFor(() => status(f, 'web')?.expectedPods === 5 && status(f, 'web')?.desiredHealthy === 4, 3000, 'expected 5');
    // The budget's spec changes: a new generation is observed.
    const b = f.peek(R.poddisruptionbudgets, 'default', 'web')!;
    b.spec = { ...b.spec, maxUnavailable: 3 };
    await f.update(R.poddisruptionbudgets, b);
    await waitFor(() => status(f, 'web')?.observedGeneration === 2 && status(f, 'web')?.disruptionsAllowed === 0 && status(f, 'web')?.desiredHealthy === 2, 3000, 'generation 2');
    // A pod is deleted: one fewer healthy.
    await f.delete(R.pods, 'default', 'web-1');
    await waitFor(() => status(f, 'web')?.currentHealthy === 1, 3000, 'healthy 1');
    expect(figures(status(f, 'web'))).toEqual({ expectedPods: 5, desiredHealthy: 2, currentHealthy: 1, disruptionsAllowed: 0 });
    void dep;
  });
});

describe('disruption controller: stale DisruptionTarget conditions', () => {
  function disrupted(name: string, ageMs: number, f: FakeCluster, extra: { reason?: string; phase?: string; terminating?: boolean } = {}): KubeObject {
    const p = readyPod(name, undefined, { terminating: extra.terminating });
    p.status.phase = extra.phase ?? 'Running';
    p.status.conditions.push({ type: 'DisruptionTarget', status: 'True', reason: extra.reason ?? 'PreemptionByScheduler', message: 'default-scheduler: preempting to accommodate a higher priority pod', lastTransitionTime: rfc3339(f.now - ageMs) });
    return p;
  }

  it('resets DisruptionTarget to False on a pod still not terminating 2 minutes later; waits before that', async () => {
    const f = new FakeCluster();
    f.seed(R.pods, disrupted('old', 150_000, f), disrupted('recent', 30_000, f));
    const { c, ctx } = await started(f); stopCtx = ctx;
    const addAfter = vi.spyOn(c.stalePodQueue, 'addAfter');
    await c.syncStalePodDisruption('default/recent');
    expect(addAfter).toHaveBeenCalledWith('default/recent', 90_000);
    await c.syncStalePodDisruption('default/old');
    expect(f.writes('updateStatus', 'pods').map((w) => w.name)).toEqual(['old']);
    expect(f.peek(R.pods, 'default', 'old')!.status.conditions).toEqual([
      { type: 'Ready', status: 'True' },
      { type: 'DisruptionTarget', status: 'False', lastTransitionTime: rfc3339(f.now) },
    ]);
    // Nothing left to do for it now.
    await waitFor(() => c['podInformer'].store.get('default', 'old')?.status.conditions[1].status === 'False', 2000, 'cache');
    expect(c.staleDisruptionIn(c['podInformer'].store.get('default', 'old')!)).toBeUndefined();
  });

  it('leaves terminating and finished pods, and the kubelet\'s own condition, alone', async () => {
    const f = new FakeCluster();
    f.seed(R.pods, disrupted('dying', 150_000, f, { terminating: true }), disrupted('done', 150_000, f, { phase: 'Failed' }), disrupted('kubelet', 150_000, f, { reason: 'TerminationByKubelet' }));
    await f.delete(R.pods, 'default', 'dying');
    const { c, ctx } = await started(f); stopCtx = ctx;
    for (const n of ['dying', 'done', 'kubelet']) await c.syncStalePodDisruption(`default/${n}`);
    expect(f.writes('updateStatus', 'pods')).toEqual([]);
  });

  it('the manager runs the second queue: a stale condition is cleared without calling sync by hand', async () => {
    h = await startControllers(['disruption']);
    const { f } = h;
    await f.create(R.pods, 'default', disrupted('old', 150_000, f));
    await waitFor(() => f.peek(R.pods, 'default', 'old')!.status.conditions.find((x: any) => x.type === 'DisruptionTarget').status === 'False', 3000, 'reset');
  });
});
