import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { makeContext } from '../../server/controllers/controller';
import { ReplicaSetController, deletionRank } from '../../server/controllers/replicaset/replicaset';
import { FakeCluster } from './helpers/fake-cluster';
import { startControllers, type Harness } from './helpers/harness';
import { markPodsReady } from './helpers/hollow';
import { pod } from './helpers/objects';
import { waitFor } from './helpers/wait';

function rs(name: string, replicas: number, extra: any = {}) {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', generation: 1 },
    spec: {
      replicas, minReadySeconds: extra.minReadySeconds ?? 0,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  };
}

let h: Harness | undefined;
afterEach(async () => { await h?.stop(); h = undefined; });

describe('ReplicaSet controller: sync against the fake cluster', () => {
  it('creates the missing pods from the template with a controller ownerReference, and never twice', async () => {
    const f = new FakeCluster();
    const [set] = f.seed(R.replicasets, rs('web', 3));
    const ctx = makeContext(f, { clock: { now: () => f.now } });
    const c = new ReplicaSetController(ctx);
    ctx.informers.start();
    await ctx.informers.waitForCacheSync();
    await c.sync('default/web');
    // The informer has not seen the pods yet: expectations stop a second round of creates.
    await c.sync('default/web').catch((e) => { if (e.reason !== 'Conflict') throw e; });
    const creates = f.writes('create', 'pods');
    expect(creates).toHaveLength(3);
    for (const w of creates) {
      expect(w.object.metadata.generateName).toBe('web-');
      expect(w.object.metadata.labels).toEqual({ app: 'web' });
      expect(w.object.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
    await (ctx.recorder('replicaset-controller') as any).flush();
    expect(f.all(R.events).map((e) => `${e.reason}: ${e.message}`)).toEqual(['SuccessfulCreate: Created 3 pods']);
    ctx.informers.shutdown();
  });

  it('converges replicas, adopts orphans, releases pods it no longer selects, and reports status', async () => {
    h = await startControllers(['replicaset']);
    const { f } = h;
    f.seed(R.pods, pod('orphan', { labels: { app: 'web' } }));
    await f.create(R.replicasets, 'default', rs('web', 3));
    await waitFor(() => f.all(R.pods).length === 3, 3000, '3 pods');
    const orphan = f.peek(R.pods, 'default', 'orphan')!;
    expect(orphan.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: 'web', controller: true });
    await markPodsReady(f, { assignTo: 'n1' });
    await waitFor(() => f.peek(R.replicasets, 'default', 'web')!.status?.readyReplicas === 3, 3000, 'ready 3');
    expect(f.peek(R.replicasets, 'default', 'web')!.status).toEqual({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
    // Relabel one pod: the RS releases it and creates a replacement.
    const victim = f.all(R.pods).find((p) => p.metadata.name !== 'orphan')!;
    await f.patch(R.pods, 'default', victim.metadata.name!, 'merge', { metadata: { labels: { app: 'debug' } } });
    await waitFor(() => f.all(R.pods).filter((p) => p.metadata.labels?.app === 'web').length === 3, 3000, 'replacement');
    await waitFor(() => !f.peek(R.pods, 'default', victim.metadata.name!)!.metadata.ownerReferences?.length, 3000, 'released');
  });

  it('scales down deleting unscheduled, then pending, then not-ready pods first', async () => {
    h = await startControllers(['replicaset']);
    const { f } = h;
    await f.create(R.replicasets, 'default', rs('web', 4));
    await waitFor(() => f.all(R.pods).length === 4, 3000);
    const [a, b] = f.all(R.pods);
    await markPodsReady(f, { assignTo: 'n1', filter: (p) => p.metadata.name !== a.metadata.name && p.metadata.name !== b.metadata.name });
    await f.patch(R.pods, 'default', b.metadata.name!, 'merge', { spec: { nodeName: 'n1' } });
    await waitFor(() => f.peek(R.replicasets, 'default', 'web')!.status?.readyReplicas === 2, 3000);
    await f.patch(R.replicasets, 'default', 'web', 'merge', { spec: { replicas: 1 } });
    await waitFor(() => f.all(R.pods).length === 1, 3000, 'scaled to 1');
    const deleted = f.writes('delete', 'pods').map((w) => w.name);
    expect(deleted.slice(0, 2)).toEqual([a.metadata.name, b.metadata.name]);
    expect(f.writes('delete', 'pods')).toHaveLength(3);
  });

  it('counts availableReplicas only after minReadySeconds', async () => {
    h = await startControllers(['replicaset']);
    const { f } = h;
    await f.create(R.replicasets, 'default', rs('web', 2, { minReadySeconds: 30 }));
    await waitFor(() => f.all(R.pods).length === 2, 3000);
    await markPodsReady(f, { assignTo: 'n1' });
    await waitFor(() => f.peek(R.replicasets, 'default', 'web')!.status?.readyReplicas === 2, 3000);
    expect(f.peek(R.replicasets, 'default', 'web')!.status.availableReplicas).toBe(0);
    f.now += 31_000;
    await h.mgr.controllers[0].sync('default/web');
    expect(f.peek(R.replicasets, 'default', 'web')!.status.availableReplicas).toBe(2);
  });

  it('deletionRank orders pods as upstream prefers to delete them', () => {
    const mk = (name: string, o: any) => ({ ...pod(name), ...o, metadata: { ...pod(name).metadata, creationTimestamp: o.created ?? '2025-01-01T00:00:00Z' } });
    const ready = { type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' };
    const pods = [
      mk('ready-old', { spec: { nodeName: 'n' }, status: { phase: 'Running', conditions: [ready] } }),
      mk('unscheduled', { status: { phase: 'Pending' } }),
      mk('pending', { spec: { nodeName: 'n' }, status: { phase: 'Pending' } }),
      mk('notready', { spec: { nodeName: 'n' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } }),
    ];
    expect(pods.sort(deletionRank).map((p) => p.metadata.name)).toEqual(['unscheduled', 'pending', 'notready', 'ready-old']);
  });
});
