import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { startControllers, type Harness } from './helpers/harness';
import { pod } from './helpers/objects';
import { waitFor } from './helpers/wait';

let h: Harness | undefined;
afterEach(async () => { await h?.stop(); h = undefined; });

describe('local-path provisioner', () => {
  it('creates the default StorageClass, waits for the first consumer, then provisions a hostPath PV pinned to its node and binds', async () => {
    h = await startControllers(['localpath'], undefined, { dataDir: '/var/lib/orch-test' });
    const { f } = h;
    await waitFor(() => !!f.peek(R.storageclasses, '', 'local-path'), 3000, 'storage class');
    expect(f.peek(R.storageclasses, '', 'local-path')).toMatchObject({ provisioner: 'rancher.io/local-path', volumeBindingMode: 'WaitForFirstConsumer',
      metadata: { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } });
    const [claim] = f.seed(R.persistentvolumeclaims, { metadata: { name: 'data', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } });
    await f.settle();
    await waitFor(() => f.all(R.events).some((e) => e.reason === 'WaitForFirstConsumer'), 3000);
    expect(f.all(R.persistentvolumes)).toHaveLength(0);
    f.seed(R.pods, pod('user', { nodeName: 'node-a', spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] } }));
    await waitFor(() => f.peek(R.persistentvolumeclaims, 'default', 'data')?.status?.phase === 'Bound', 3000, 'bound');
    const pv = f.peek(R.persistentvolumes, '', `pvc-${claim.metadata.uid}`)!;
    expect(pv.spec.hostPath).toEqual({ path: `/var/lib/orch-test/storage/pvc-${claim.metadata.uid}_default_data`, type: 'DirectoryOrCreate' });
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0]).toEqual({ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-a'] });
    expect(pv.spec).toMatchObject({ capacity: { storage: '2Gi' }, storageClassName: 'local-path', claimRef: { name: 'data', namespace: 'default' } });
    const c = f.peek(R.persistentvolumeclaims, 'default', 'data')!;
    expect(c.spec.volumeName).toBe(pv.metadata.name);
    expect(c.status).toMatchObject({ phase: 'Bound', capacity: { storage: '2Gi' } });
    // Deleting the claim deletes the volume (reclaimPolicy Delete).
    await f.delete(R.persistentvolumeclaims, 'default', 'data');
    await waitFor(() => f.all(R.persistentvolumes).length === 0, 3000, 'reclaimed');
  });
});
