import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { isClaimOwnerUpToDate, updateClaimOwnerRefs } from '../../server/controllers/statefulset/claims';
import { startControllers, type Harness } from './helpers/harness';
import { startHollowKubelet } from './helpers/hollow';
import { waitFor } from './helpers/wait';

let h: Harness | undefined;
let kubelet: { stop(): Promise<void> } | undefined;
afterEach(async () => { await kubelet?.stop(); kubelet = undefined; await h?.stop(); h = undefined; });

const sts = (extra: any = {}) => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default' },
  spec: {
    replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } },
    template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: extra.image ?? 'pg:1' }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    ...(extra.spec ?? {}),
  },
});

describe('StatefulSet controller', () => {
  it('creates ordinals in order with stable names, hostnames and claims', async () => {
    h = await startControllers(['statefulset']);
    const { f } = h;
    await f.create(R.statefulsets, 'default', sts());
    // OrderedReady: nothing after db-0 until db-0 is Running and Ready.
    await waitFor(() => f.all(R.pods).length === 1, 3000);
    await f.settle();
    expect(f.all(R.pods).map((p) => p.metadata.name)).toEqual(['db-0']);
    kubelet = startHollowKubelet(f, { assignTo: 'n1' });
    await waitFor(() => f.peek(R.statefulsets, 'default', 'db')?.status?.readyReplicas === 3, 5000, '3 ready');
    const creates = f.writes('create', 'pods').map((w) => w.name);
    expect(creates).toEqual(['db-0', 'db-1', 'db-2']);
    const p1 = f.peek(R.pods, 'default', 'db-1')!;
    expect(p1.spec).toMatchObject({ hostname: 'db-1', subdomain: 'db' });
    expect(p1.metadata.labels).toMatchObject({ 'statefulset.kubernetes.io/pod-name': 'db-1', 'apps.kubernetes.io/pod-index': '1' });
    expect(p1.spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-1' } }]);
    expect(f.all(R.persistentvolumeclaims).map((c) => c.metadata.name)).toEqual(['data-db-0', 'data-db-1', 'data-db-2']);
    const st = f.peek(R.statefulsets, 'default', 'db')!.status;
    expect(st.currentRevision).toBe(st.updateRevision);
  });

  it('rolls updates from the highest ordinal down to the partition; scales down from the top', async () => {
    h = await startControllers(['statefulset']);
    const { f } = h;
    kubelet = startHollowKubelet(f, { assignTo: 'n1' });
    await f.create(R.statefulsets, 'default', sts({ spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } } }));
    await waitFor(() => f.peek(R.statefulsets, 'default', 'db')?.status?.readyReplicas === 3, 5000);
    f.clearActions();
    await f.patch(R.statefulsets, 'default', 'db', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'pg:2' }] } } } });
    await waitFor(() => { const s = f.peek(R.statefulsets, 'default', 'db')!.status; return s.updatedReplicas === 2 && s.readyReplicas === 3; }, 5000, 'partitioned rollout');
    expect(f.writes('delete', 'pods').map((w) => w.name)).toEqual(['db-2', 'db-1']);
    expect(f.peek(R.pods, 'default', 'db-0')!.spec.containers[0].image).toBe('pg:1');
    const st = f.peek(R.statefulsets, 'default', 'db')!.status;
    expect(st.currentRevision).not.toBe(st.updateRevision);
    f.clearActions();
    await f.patch(R.statefulsets, 'default', 'db', 'merge', { spec: { replicas: 1 } });
    await waitFor(() => f.all(R.pods).length === 1, 5000, 'scaled down');
    expect(f.writes('delete', 'pods').map((w) => w.name)).toEqual(['db-2', 'db-1']);
    expect(f.all(R.persistentvolumeclaims)).toHaveLength(3);
  });
  describe('persistentVolumeClaimRetentionPolicy', () => {
    const owners = (f: any, name: string) => (f.peek(R.persistentvolumeclaims, 'default', name)?.metadata.ownerReferences ?? [])
      .map((r: any) => `${r.kind}/${r.name}${r.controller ? '' : '(non-controller)'}`).sort();
    const policy = (whenDeleted: string, whenScaled: string) => ({ spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted, whenScaled } } });

    for (const [whenDeleted, whenScaled, expected] of [
      ['Retain', 'Retain', []], ['Delete', 'Retain', ['StatefulSet/db']], ['Retain', 'Delete', []], ['Delete', 'Delete', ['StatefulSet/db']],
    ] as Array<[string, string, string[]]>) {
      it(`whenDeleted ${whenDeleted}, whenScaled ${whenScaled}: claims of running ordinals owned by ${expected.join(',') || 'nobody'}; scale-down hands claims to the pod only with whenScaled Delete`, async () => {
        h = await startControllers(['statefulset']);
        const { f } = h;
        kubelet = startHollowKubelet(f, { assignTo: 'n1' });
        await f.create(R.statefulsets, 'default', sts(policy(whenDeleted, whenScaled)));
        await waitFor(() => f.peek(R.statefulsets, 'default', 'db')?.status?.readyReplicas === 3, 5000, '3 ready');
        await f.settle();
        for (const c of ['data-db-0', 'data-db-1', 'data-db-2']) expect(owners(f, c)).toEqual(expected);
        const setUid = f.peek(R.statefulsets, 'default', 'db')!.metadata.uid;
        if (expected.length) expect(f.peek(R.persistentvolumeclaims, 'default', 'data-db-0')!.metadata.ownerReferences![0]).toEqual({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: setUid, controller: true, blockOwnerDeletion: true });
        f.clearActions();
        const podUids = new Map(f.all(R.pods).map((p) => [p.metadata.name, p.metadata.uid]));
        await f.patch(R.statefulsets, 'default', 'db', 'merge', { spec: { replicas: 1 } });
        await waitFor(() => f.all(R.pods).length === 1, 5000, 'scaled down');
        await f.settle();
        const scaled = whenScaled === 'Delete';
        for (const o of [1, 2]) {
          const refs = f.peek(R.persistentvolumeclaims, 'default', `data-db-${o}`)!.metadata.ownerReferences ?? [];
          expect(refs.map((r: any) => `${r.kind}/${r.name}`)).toEqual(scaled ? [`Pod/db-${o}`] : expected);
          if (scaled) expect(refs[0]).toMatchObject({ uid: podUids.get(`db-${o}`), controller: true });
        }
        expect(owners(f, 'data-db-0')).toEqual(expected);
        if (scaled) {
          // Each condemned pod's claim got its owner before the pod was deleted.
          const order = f.writes().filter((w) => w.verb === 'update' || w.verb === 'delete').map((w) => `${w.verb}:${w.name}`);
          expect(order.indexOf('update:data-db-2')).toBeLessThan(order.indexOf('delete:db-2'));
          expect(order.indexOf('update:data-db-1')).toBeLessThan(order.indexOf('delete:db-1'));
        } else {
          expect(f.writes('update', 'persistentvolumeclaims')).toHaveLength(0);
        }
      });
    }

    it('updates claim owners when the policy changes, both ways', async () => {
      h = await startControllers(['statefulset']);
      const { f } = h;
      kubelet = startHollowKubelet(f, { assignTo: 'n1' });
      await f.create(R.statefulsets, 'default', sts({ spec: { replicas: 2 } }));
      await waitFor(() => f.peek(R.statefulsets, 'default', 'db')?.status?.readyReplicas === 2, 5000, '2 ready');
      expect(owners(f, 'data-db-0')).toEqual([]);
      await f.patch(R.statefulsets, 'default', 'db', 'merge', policy('Delete', 'Retain'));
      await waitFor(() => owners(f, 'data-db-0').length === 1 && owners(f, 'data-db-1').length === 1, 5000, 'set refs added');
      expect(owners(f, 'data-db-1')).toEqual(['StatefulSet/db']);
      await f.patch(R.statefulsets, 'default', 'db', 'merge', policy('Retain', 'Retain'));
      await waitFor(() => owners(f, 'data-db-0').length === 0 && owners(f, 'data-db-1').length === 0, 5000, 'set refs removed');
      // Another owner of a claim is kept when ours are scrubbed.
      const c = f.peek(R.persistentvolumeclaims, 'default', 'data-db-1')!;
      c.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', uid: 'cm-uid' }];
      await f.update(R.persistentvolumeclaims, c);
      await f.patch(R.statefulsets, 'default', 'db', 'merge', policy('Delete', 'Delete'));
      await waitFor(() => owners(f, 'data-db-1').length === 2, 5000, 'set ref added beside the other owner');
      expect(owners(f, 'data-db-1')).toEqual(['ConfigMap/keep(non-controller)', 'StatefulSet/db']);
    });

    it('whenScaled Delete: scaling back up waits until the scaled-down pod\'s claim is gone', async () => {
      h = await startControllers(['statefulset']);
      const { f } = h;
      kubelet = startHollowKubelet(f, { assignTo: 'n1' });
      await f.create(R.statefulsets, 'default', sts({ spec: { replicas: 2, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' } } }));
      await waitFor(() => f.peek(R.statefulsets, 'default', 'db')?.status?.readyReplicas === 2, 5000, '2 ready');
      await f.patch(R.statefulsets, 'default', 'db', 'merge', { spec: { replicas: 1 } });
      await waitFor(() => f.all(R.pods).length === 1, 5000, 'scaled down');
      // No garbage collector here: the claim stays, owned by the deleted pod db-1.
      expect(owners(f, 'data-db-1')).toEqual(['Pod/db-1']);
      f.clearActions();
      await f.patch(R.statefulsets, 'default', 'db', 'merge', { spec: { replicas: 2 } });
      await waitFor(() => f.peek(R.statefulsets, 'default', 'db')?.status?.observedGeneration === f.peek(R.statefulsets, 'default', 'db')?.metadata.generation, 5000, 'observed');
      // One more sync of the settled state still creates nothing.
      await f.settle();
      await h.mgr.controllers[0].sync('default/db');
      expect(f.writes('create', 'pods')).toHaveLength(0);
      expect(f.peek(R.pods, 'default', 'db-1')).toBeUndefined();
      // The collector deletes it: db-1 comes back with a fresh claim.
      await f.delete(R.persistentvolumeclaims, 'default', 'data-db-1');
      await waitFor(() => f.peek(R.statefulsets, 'default', 'db')?.status?.readyReplicas === 2, 5000, 'db-1 back');
      expect(f.writes('create', 'persistentvolumeclaims').map((w) => w.name)).toEqual(['data-db-1']);
      expect(owners(f, 'data-db-1')).toEqual([]);
    });

    it('leaves claims with stale references or another controller alone', () => {
      const set = { metadata: { name: 'db', uid: 'set-2' }, spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } } };
      const pod = { metadata: { name: 'db-0', uid: 'pod-1' } };
      const stale = { metadata: { name: 'data-db-0', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'set-1', controller: true }] } };
      expect(isClaimOwnerUpToDate(stale, set, pod, false)).toBe(true);
      const other = { metadata: { name: 'data-db-0', ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Backup', name: 'b', uid: 'b-1', controller: true }] } };
      expect(isClaimOwnerUpToDate(other, set, pod, false)).toBe(true);
      // Ours beside another controller: scrubbed, none added.
      const both = { metadata: { name: 'data-db-0', ownerReferences: [...other.metadata.ownerReferences, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'set-2', controller: true }] } };
      expect(isClaimOwnerUpToDate(both, set, pod, false)).toBe(false);
      updateClaimOwnerRefs(both, set, pod, false);
      expect(both.metadata.ownerReferences.map((r) => r.kind)).toEqual(['Backup']);
      // A non-controller reference of ours is turned into a controller one.
      const plain: any = { metadata: { name: 'data-db-0', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'set-2' }] } };
      expect(isClaimOwnerUpToDate(plain, set, pod, false)).toBe(false);
      updateClaimOwnerRefs(plain, set, pod, false);
      expect(plain.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'set-2', controller: true, blockOwnerDeletion: true }]);
      expect(isClaimOwnerUpToDate(plain, set, pod, false)).toBe(true);
    });
  });
});
