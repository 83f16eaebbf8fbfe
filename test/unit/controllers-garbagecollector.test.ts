import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { startControllers, type Harness } from './helpers/harness';
import { pod } from './helpers/objects';
import { waitFor } from './helpers/wait';

let h: Harness | undefined;
afterEach(async () => { await h?.stop(); h = undefined; });

const rs = (name: string) => ({ metadata: { name, namespace: 'default' }, spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [] } } } });
const ownedBy = (o: any, block = true) => [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.metadata.name, uid: o.metadata.uid, controller: true, blockOwnerDeletion: block }];

describe('garbage collector', () => {
  it('Background: deletes dependents once the owner is gone, and keeps those with another live owner', async () => {
    h = await startControllers(['garbagecollector']);
    const { f } = h;
    const [a] = f.seed(R.replicasets, rs('a'));
    const [b] = f.seed(R.replicasets, rs('b'));
    f.seed(R.pods, pod('only-a', { ownerReferences: ownedBy(a) }),
      pod('a-and-b', { ownerReferences: [...ownedBy(a), { ...ownedBy(b)[0], controller: false }] }));
    await f.settle();
    await f.delete(R.replicasets, 'default', 'a', { propagationPolicy: 'Background' });
    await waitFor(() => !f.peek(R.pods, 'default', 'only-a'), 3000, 'only-a collected');
    await waitFor(() => f.peek(R.pods, 'default', 'a-and-b')?.metadata.ownerReferences?.length === 1, 3000, 'dangling ref dropped');
    expect(f.peek(R.pods, 'default', 'a-and-b')!.metadata.ownerReferences![0].name).toBe('b');
    expect(f.writes('delete', 'pods').map((w) => w.name)).toEqual(['only-a']);
  });

  it('Foreground: deletes dependents first, then removes foregroundDeletion so the owner goes', async () => {
    h = await startControllers(['garbagecollector']);
    const { f } = h;
    const [a] = f.seed(R.replicasets, rs('a'));
    f.seed(R.pods, pod('p1', { ownerReferences: ownedBy(a) }), pod('p2', { ownerReferences: ownedBy(a) }));
    await f.settle();
    const res = await f.delete(R.replicasets, 'default', 'a', { propagationPolicy: 'Foreground' });
    expect(res?.metadata.finalizers).toEqual(['foregroundDeletion']);
    await waitFor(() => !f.peek(R.replicasets, 'default', 'a'), 3000, 'owner gone');
    expect(f.all(R.pods)).toHaveLength(0);
    // The pods were deleted before the owner's finalizer was removed.
    const order = f.actions.filter((x) => (x.verb === 'delete' && x.resource === 'pods') || (x.verb === 'update' && x.resource === 'replicasets.apps')).map((x) => x.verb);
    expect(order).toEqual(['delete', 'delete', 'update']);
  });

  it('Orphan: removes the owner reference from dependents and lets the owner go', async () => {
    h = await startControllers(['garbagecollector']);
    const { f } = h;
    const [a] = f.seed(R.replicasets, rs('a'));
    f.seed(R.pods, pod('p1', { ownerReferences: ownedBy(a) }));
    await f.settle();
    await f.delete(R.replicasets, 'default', 'a', { propagationPolicy: 'Orphan' });
    await waitFor(() => !f.peek(R.replicasets, 'default', 'a'), 3000, 'owner gone');
    await f.settle();
    const p = f.peek(R.pods, 'default', 'p1')!;
    expect(p.metadata.ownerReferences ?? []).toEqual([]);
  });
});
