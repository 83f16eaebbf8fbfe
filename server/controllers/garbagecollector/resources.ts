// What the garbage collector monitors: every resource orch serves that can be listed, watched and
// deleted (upstream's GetDeletableResources over discovery), from the scheme's one resource table,
// plus one resource per Established CustomResourceDefinition. Also the metadata-only view the
// collector's own informers cache (upstream's GC uses metadata informers for the same reason).
import { builtinResources, type ResourceInfo } from '../../../api/scheme';
import {
  resourceId, type ClusterClient, type DeleteOptions, type ListOptions, type ObjectList, type PatchType,
  type ResourceRef, type WatchEvent, type WatchHandle, type WatchOptions,
} from '../client';
import type { KubeObject } from '../types';

/** Resources the collector never monitors (upstream's DefaultIgnoredResources: both Event APIs). */
const IGNORED = new Set(['events', 'events.events.k8s.io']);

const NEEDED_VERBS = ['delete', 'list', 'watch'];

/** The CRD resource itself, as the collector informs on it to learn of custom resources. */
export const CRD_RESOURCE: ResourceRef = Object.freeze({
  group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false,
});

export function refOf(info: Pick<ResourceInfo, 'group' | 'version' | 'plural' | 'kind' | 'namespaced'>): ResourceRef {
  return Object.freeze({ group: info.group, version: info.version, resource: info.plural, kind: info.kind, namespaced: info.namespaced });
}

/** Every built-in resource that supports delete, list and watch, minus the ignored ones. */
export function deletableBuiltins(resources: ResourceInfo[] = builtinResources): ResourceRef[] {
  return resources
    .filter((r) => NEEDED_VERBS.every((v) => r.verbs.includes(v)))
    .map(refOf)
    .filter((r) => !IGNORED.has(resourceId(r)));
}

/**
 * The resource a CRD adds, or undefined while it is not Established or is being deleted (the
 * apiserver serves it under the same rule): its storage version when served, else the first
 * served version — any served version names the same objects.
 */
export function resourceOfCrd(crd: KubeObject): ResourceRef | undefined {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  const established = (crd.status?.conditions ?? []).some((c: any) => c.type === 'Established' && c.status === 'True');
  if (!established || crd.metadata.deletionTimestamp || !spec.group || !names.plural || !names.kind) return undefined;
  const served = ((spec.versions ?? []) as any[]).filter((v) => v.served !== false);
  const version = served.find((v) => v.storage) ?? served[0];
  if (!version) return undefined;
  return refOf({ group: spec.group, version: version.name, plural: names.plural, kind: names.kind, namespaced: spec.scope !== 'Cluster' });
}

/**
 * The part of an object the collector reads: identity, owner references, finalizers and deletion
 * state (upstream's PartialObjectMetadata, minus labels/annotations it never looks at).
 */
export function metadataOnly(o: KubeObject): KubeObject {
  const m = o.metadata ?? {};
  const meta: KubeObject['metadata'] = { name: m.name, uid: m.uid, resourceVersion: m.resourceVersion };
  if (m.namespace) meta.namespace = m.namespace;
  if (m.ownerReferences?.length) meta.ownerReferences = m.ownerReferences;
  if (m.finalizers?.length) meta.finalizers = m.finalizers;
  if (m.deletionTimestamp) meta.deletionTimestamp = m.deletionTimestamp;
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: meta };
}

/**
 * A ClusterClient whose list and watch hand out metadataOnly projections (the metadata client an
 * informer of the collector's own runs on); every other call goes to the wrapped client.
 */
export class MetadataOnlyClient implements ClusterClient {
  constructor(private readonly inner: ClusterClient) {}

  async list(r: ResourceRef, namespace: string | undefined, opts?: ListOptions): Promise<ObjectList> {
    const l = await this.inner.list(r, namespace, opts);
    return { items: l.items.map(metadataOnly), metadata: l.metadata };
  }

  watch(r: ResourceRef, namespace: string | undefined, opts: WatchOptions, onEvent: (e: WatchEvent) => void, onClose: (err?: Error) => void): WatchHandle {
    return this.inner.watch(r, namespace, opts, (e) => {
      const keep = e.type === 'ERROR' || e.type === 'BOOKMARK' || !e.object?.metadata;
      onEvent(keep ? e : { type: e.type, object: metadataOnly(e.object) });
    }, onClose);
  }

  get(r: ResourceRef, namespace: string, name: string): Promise<KubeObject> { return this.inner.get(r, namespace, name); }
  create(r: ResourceRef, namespace: string, obj: KubeObject): Promise<KubeObject> { return this.inner.create(r, namespace, obj); }
  update(r: ResourceRef, obj: KubeObject): Promise<KubeObject> { return this.inner.update(r, obj); }
  updateStatus(r: ResourceRef, obj: KubeObject): Promise<KubeObject> { return this.inner.updateStatus(r, obj); }
  patch(r: ResourceRef, namespace: string, name: string, type: PatchType, patch: unknown, subresource?: string): Promise<KubeObject> {
    return this.inner.patch(r, namespace, name, type, patch, subresource);
  }
  delete(r: ResourceRef, namespace: string, name: string, opts?: DeleteOptions): Promise<KubeObject | undefined> { return this.inner.delete(r, namespace, name, opts); }
  createSubresource(r: ResourceRef, namespace: string, name: string, subresource: string, body: unknown): Promise<unknown> {
    return this.inner.createSubresource(r, namespace, name, subresource, body);
  }
}
