import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
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
});
