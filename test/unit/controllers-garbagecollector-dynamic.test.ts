// The garbage collector over every deletable resource: kinds outside the old fixed list, custom
// resources as owners and as dependents, CRDs that appear after start-up, owner kinds nobody
// serves, and the metadata-only caches of the collector's own monitors.
import { afterEach, describe, expect, it } from 'vitest';
import { R, type ResourceRef } from '../../server/controllers/client';
import { GarbageCollector } from '../../server/controllers/garbagecollector/garbagecollector';
import { CRD_RESOURCE, deletableBuiltins } from '../../server/controllers/garbagecollector/resources';
import type { KubeObject } from '../../server/controllers/types';
import { FakeCluster } from './helpers/fake-cluster';
import { startControllers, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait';

let h: Harness | undefined;
afterEach(async () => { await h?.stop(); h = undefined; });

const INGRESSES: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', kind: 'Ingress', namespaced: true };
const WIDGETS: ResourceRef = { group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true };
const GADGETS: ResourceRef = { group: 'example.com', version: 'v1', resource: 'gadgets', kind: 'Gadget', namespaced: true };

function crd(plural: string, kind: string, established = true): KubeObject {
  return {
    metadata: { name: `${plural}.example.com` },
    spec: {
      group: 'example.com', scope: 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      versions: [
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
      ],
    },
    status: { conditions: established ? [{ type: 'NamesAccepted', status: 'True' }, { type: 'Established', status: 'True' }] : [] },
  };
}

const cr = (name: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({ metadata: { name, namespace: 'default', ...extra }, spec: { size: 1 } });
const cm = (name: string, ownerReferences: any[]): KubeObject => ({ metadata: { name, namespace: 'default', ownerReferences }, data: { k: 'v'.repeat(100) } });
const refTo = (o: KubeObject, block = true) => ({ apiVersion: o.apiVersion!, kind: o.kind!, name: o.metadata.name!, uid: o.metadata.uid!, controller: true, blockOwnerDeletion: block });
const deployment = (name: string): KubeObject => ({
  metadata: { name, namespace: 'default' },
  spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [] } } },
});
const gc = (x: Harness) => x.mgr.controllers.find((c) => c.name === 'garbagecollector') as GarbageCollector;

describe('garbage collector over every deletable resource', () => {
  it('derives its built-in monitors from the scheme: every delete+list+watch resource but Events', () => {
    const ids = deletableBuiltins().map((r) => (r.group ? `${r.resource}.${r.group}` : r.resource));
    for (const id of ['pods', 'configmaps', 'ingresses.networking.k8s.io', 'roles.rbac.authorization.k8s.io', 'customresourcedefinitions.apiextensions.k8s.io', 'namespaces', 'leases.coordination.k8s.io']) {
      expect(ids).toContain(id);
    }
    expect(ids).not.toContain('events');
    expect(ids).not.toContain('events.events.k8s.io');
    expect(ids).not.toContain('bindings');
    expect(ids).not.toContain('tokenreviews.authentication.k8s.io');
  });

  it('Foreground deletion of an Ingress (outside the old fixed list) deletes its dependents, then finishes', async () => {
    h = await startControllers(['garbagecollector']);
    const { f } = h;
    const [ing] = f.seed(INGRESSES, { metadata: { name: 'web', namespace: 'default' }, spec: { rules: [] } });
    f.seed(R.configmaps, cm('web-cfg', [refTo(ing)]));
    await waitFor(() => gc(h!).monitor('ingresses.networking.k8s.io')?.synced === true, 3000, 'ingress monitor synced');
    const res = await f.delete(INGRESSES, 'default', 'web', { propagationPolicy: 'Foreground' });
    expect(res?.metadata.finalizers).toEqual(['foregroundDeletion']);
    await waitFor(() => !f.peek(INGRESSES, 'default', 'web'), 3000, 'ingress gone');
    expect(f.peek(R.configmaps, 'default', 'web-cfg')).toBeUndefined();
    const order = f.actions.filter((a) => (a.verb === 'delete' && a.resource === 'configmaps') || (a.verb === 'update' && a.resource === 'ingresses.networking.k8s.io')).map((a) => `${a.verb} ${a.resource}`);
    // The dependent was deleted (possibly by both the owner's and its own sync) before the finalizer went.
    expect(order.at(-1)).toBe('update ingresses.networking.k8s.io');
    expect(order.slice(0, -1).length).toBeGreaterThan(0);
    expect(new Set(order.slice(0, -1))).toEqual(new Set(['delete configmaps']));
  });

  it('Orphan deletion of an Ingress finishes and keeps the dependent', async () => {
    h = await startControllers(['garbagecollector']);
    const { f } = h;
    const [ing] = f.seed(INGRESSES, { metadata: { name: 'web', namespace: 'default' }, spec: {} });
    f.seed(R.configmaps, cm('web-cfg', [refTo(ing)]));
    await f.settle();
    await f.delete(INGRESSES, 'default', 'web', { propagationPolicy: 'Orphan' });
    await waitFor(() => !f.peek(INGRESSES, 'default', 'web'), 3000, 'ingress gone');
    await waitFor(() => (f.peek(R.configmaps, 'default', 'web-cfg')?.metadata.ownerReferences ?? []).length === 0, 3000, 'reference removed');
    expect(f.peek(R.configmaps, 'default', 'web-cfg')).toBeDefined();
  });

  it('a custom resource deleted in Background: its Deployment, ConfigMap and owned custom resource are collected', async () => {
    const f = new FakeCluster();
    f.seed(CRD_RESOURCE, crd('widgets', 'Widget'), crd('gadgets', 'Gadget'));
    h = await startControllers(['garbagecollector'], f);
    expect(gc(h).monitoredResources()).toEqual(expect.arrayContaining(['widgets.example.com', 'gadgets.example.com']));
    const [w] = f.seed(WIDGETS, cr('w1'));
    const [d] = f.seed(R.deployments, { ...deployment('w1-app'), metadata: { ...deployment('w1-app').metadata, ownerReferences: [refTo(w, false)] } });
    f.seed(R.configmaps, cm('w1-cfg', [refTo(w, false)]));
    f.seed(GADGETS, cr('g1', { ownerReferences: [refTo(w, false)] }));
    f.seed(R.configmaps, cm('other', [{ ...refTo(d), name: 'nope', uid: 'someone-else' }]));
    await f.settle();
    await f.delete(WIDGETS, 'default', 'w1', { propagationPolicy: 'Background' });
    await waitFor(() => !f.peek(R.deployments, 'default', 'w1-app') && !f.peek(R.configmaps, 'default', 'w1-cfg') && !f.peek(GADGETS, 'default', 'g1'), 3000, 'dependents of the widget collected');
    // The collector asked for exactly these deletions (and the dangling 'other' too: its owner never existed).
    expect(f.writes('delete').map((a) => `${a.resource}/${a.name}`).sort()).toEqual(['configmaps/other', 'configmaps/w1-cfg', 'deployments.apps/w1-app', 'gadgets.example.com/g1', 'widgets.example.com/w1']);
  });

  it('a custom resource deleted in Foreground waits for its blocking dependents, then goes', async () => {
    const f = new FakeCluster();
    f.seed(CRD_RESOURCE, crd('widgets', 'Widget'));
    h = await startControllers(['garbagecollector'], f);
    const [w] = f.seed(WIDGETS, cr('w1'));
    f.seed(R.configmaps, cm('w1-a', [refTo(w)]), cm('w1-b', [refTo(w)]));
    // A dependent with its own finalizer holds the owner until that finalizer is removed.
    f.seed(R.configmaps, { ...cm('w1-held', [refTo(w)]), metadata: { ...cm('w1-held', [refTo(w)]).metadata, finalizers: ['example.com/hold'] } });
    await f.settle();
    const res = await f.delete(WIDGETS, 'default', 'w1', { propagationPolicy: 'Foreground' });
    expect(res?.metadata.finalizers).toEqual(['foregroundDeletion']);
    await waitFor(() => !f.peek(R.configmaps, 'default', 'w1-a') && !f.peek(R.configmaps, 'default', 'w1-b'), 3000, 'free dependents deleted');
    await waitFor(() => !!f.peek(R.configmaps, 'default', 'w1-held')?.metadata.deletionTimestamp, 3000, 'held dependent terminating');
    // Still blocked: the held ConfigMap exists with blockOwnerDeletion.
    await f.settle();
    expect(f.peek(WIDGETS, 'default', 'w1')?.metadata.finalizers).toEqual(['foregroundDeletion']);
    const held = f.peek(R.configmaps, 'default', 'w1-held')!;
    held.metadata.finalizers = [];
    await f.update(R.configmaps, held);
    await waitFor(() => !f.peek(WIDGETS, 'default', 'w1'), 3000, 'widget gone after its last blocking dependent');
  });

  it('a CRD created after the collector started is picked up: its custom resources own and are owned', async () => {
    h = await startControllers(['garbagecollector']);
    const { f } = h;
    expect(gc(h).monitoredResources()).not.toContain('widgets.example.com');
    // Not Established yet: not monitored.
    f.seed(CRD_RESOURCE, crd('widgets', 'Widget', false));
    await f.settle();
    expect(gc(h).monitoredResources()).not.toContain('widgets.example.com');
    const c = f.peek(CRD_RESOURCE, '', 'widgets.example.com')!;
    c.status = crd('widgets', 'Widget').status;
    await f.updateStatus(CRD_RESOURCE, c);
    await waitFor(() => gc(h!).monitor('widgets.example.com')?.synced === true, 3000, 'widget monitor synced');
    const [w] = f.seed(WIDGETS, cr('w1'));
    f.seed(R.configmaps, cm('w1-cfg', [refTo(w)]));
    await f.settle();
    await f.delete(WIDGETS, 'default', 'w1');
    await waitFor(() => !f.peek(R.configmaps, 'default', 'w1-cfg'), 3000, 'ConfigMap of the late CRD collected');
  });

  it('a custom resource owned by a Deployment is collected when the Deployment goes', async () => {
    const f = new FakeCluster();
    f.seed(CRD_RESOURCE, crd('widgets', 'Widget'));
    h = await startControllers(['garbagecollector'], f);
    const [d] = f.seed(R.deployments, deployment('app'));
    f.seed(WIDGETS, cr('w1', { ownerReferences: [refTo(d)] }), cr('w2', { ownerReferences: [refTo(d), { apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', uid: f.seed(R.configmaps, cm('keep', []))[0].metadata.uid! }] }));
    await f.settle();
    await f.delete(R.deployments, 'default', 'app');
    await waitFor(() => !f.peek(WIDGETS, 'default', 'w1'), 3000, 'widget collected');
    await waitFor(() => f.peek(WIDGETS, 'default', 'w2')?.metadata.ownerReferences?.length === 1, 3000, 'w2 keeps only its live owner');
    expect(f.peek(WIDGETS, 'default', 'w2')!.metadata.ownerReferences![0].kind).toBe('ConfigMap');
  });

  it('an owner kind nobody serves keeps the dependent (retried), until the kind appears and the owner proves absent', async () => {
    h = await startControllers(['garbagecollector']);
    const { f, logs } = h;
    f.seed(R.configmaps, cm('orphan-of-widget', [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w0', uid: 'uid-never-existed', blockOwnerDeletion: true }]));
    await waitFor(() => logs.some((l) => l.includes('no served resource has this kind')), 3000, 'unresolved kind reported');
    expect(f.peek(R.configmaps, 'default', 'orphan-of-widget')).toBeDefined();
    expect(f.writes('delete')).toEqual([]);
    expect(f.writes('patch')).toEqual([]);
    f.seed(CRD_RESOURCE, crd('widgets', 'Widget'));
    await waitFor(() => !f.peek(R.configmaps, 'default', 'orphan-of-widget'), 3000, 'dependent collected once Widget resolves');
  });

  it("caches metadata only in its own monitors, and shares another controller's full informer", async () => {
    h = await startControllers(['garbagecollector', 'replicaset']);
    const { f } = h;
    f.seed(R.configmaps, { metadata: { name: 'big', namespace: 'default', labels: { a: 'b' }, annotations: { x: 'y' } }, data: { k: 'v'.repeat(10_000) } });
    await waitFor(() => !!gc(h!).monitor('configmaps')?.store.get('default', 'big'), 3000, 'configmap cached');
    const cmMon = gc(h).monitor('configmaps')!;
    expect(cmMon.own).toBe(true);
    const cached = cmMon.store.get('default', 'big')!;
    expect(cached.data).toBeUndefined();
    expect(cached.metadata.labels).toBeUndefined();
    expect(cached.metadata.uid).toBeTruthy();
    expect(cached.metadata.resourceVersion).toBeTruthy();
    // The ReplicaSet controller informs on replicasets and pods: the collector uses those caches.
    expect(gc(h).monitor('replicasets.apps')!.own).toBe(false);
    expect(gc(h).monitor('pods')!.own).toBe(false);
    expect(gc(h).monitor('replicasets.apps')!.store).toBe(h.mgr.ctx.informers.existing(R.replicasets)!.store);
  });

  it('Foreground owner and a live second owner: the dependent stays, minus the waiting reference, and the owner goes', async () => {
    const f = new FakeCluster();
    f.seed(CRD_RESOURCE, crd('widgets', 'Widget'));
    h = await startControllers(['garbagecollector'], f);
    const [w] = f.seed(WIDGETS, cr('w1'));
    const [ing] = f.seed(INGRESSES, { metadata: { name: 'keeper', namespace: 'default' }, spec: {} });
    f.seed(R.configmaps, cm('shared', [refTo(w), { ...refTo(ing), controller: false }]));
    await f.settle();
    await f.delete(WIDGETS, 'default', 'w1', { propagationPolicy: 'Foreground' });
    await waitFor(() => !f.peek(WIDGETS, 'default', 'w1'), 3000, 'widget gone');
    const shared = f.peek(R.configmaps, 'default', 'shared')!;
    expect(shared.metadata.ownerReferences!.map((r) => r.kind)).toEqual(['Ingress']);
  });

  it('a CRD that is deleted stops its monitor, and dependents of its (gone) objects are collected', async () => {
    const f = new FakeCluster();
    f.seed(CRD_RESOURCE, crd('widgets', 'Widget'));
    h = await startControllers(['garbagecollector'], f);
    expect(gc(h).monitoredResources()).toContain('widgets.example.com');
    const [w] = f.seed(WIDGETS, cr('w1'));
    f.seed(R.configmaps, cm('w1-cfg', [refTo(w)]));
    await f.settle();
    // The apiserver deletes a CRD's objects with it; the fake does not cascade, but the collector
    // must not need the objects' DELETED events: a kind whose CRD it saw deleted has no owners left.
    await f.delete(CRD_RESOURCE, '', 'widgets.example.com');
    await waitFor(() => !gc(h!).monitoredResources().includes('widgets.example.com'), 3000, 'monitor removed');
    await waitFor(() => !f.peek(R.configmaps, 'default', 'w1-cfg'), 3000, 'dependent of a deleted kind collected');
    expect(f.writes('delete', 'configmaps').map((a) => a.name)).toEqual(['w1-cfg']);
  });
});
