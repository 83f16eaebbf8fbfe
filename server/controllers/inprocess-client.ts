// ClusterClient over the apiserver's in-process LocalClient (server/apiserver/local-client.ts):
// same registry, admission and validation as HTTP clients, watches straight off the watch cache.
// The adapter keeps the controllers independent of the apiserver's module layout; errors need no
// translation (both sides throw api/errors.ts's ApiError).
import {
  type ClusterClient, type DeleteOptions, type ListOptions, type ObjectList, type PatchType,
  type ResourceRef, type WatchEvent, type WatchHandle, type WatchOptions,
} from './client';
import type { KubeObject } from './types';

/** The structural shape of the apiserver's LocalClient that this adapter needs. */
export interface LocalClientLike {
  get(r: ResourceRef, namespace: string, name: string): Promise<any>;
  list(r: ResourceRef, namespace: string | undefined, opts?: ListOptions): Promise<{ items: any[]; metadata: { resourceVersion: string } }>;
  watch(r: ResourceRef, namespace: string | undefined, opts: ListOptions & { resourceVersion: string },
    onEvent: (e: { type: string; object: any }) => void, onClose: (err?: Error) => void): { stop(): void };
  create(r: ResourceRef, namespace: string, obj: any): Promise<any>;
  update(r: ResourceRef, obj: any): Promise<any>;
  updateStatus(r: ResourceRef, obj: any): Promise<any>;
  patch(r: ResourceRef, namespace: string, name: string, type: PatchType, patch: unknown, subresource?: string): Promise<any>;
  delete(r: ResourceRef, namespace: string, name: string, opts?: DeleteOptions): Promise<any>;
  createSubresource(r: ResourceRef, namespace: string, name: string, subresource: string, body: unknown): Promise<unknown>;
}

/** A synchronous throw inside the local client becomes a rejection, as over HTTP. */
async function call<T>(p: () => Promise<T>): Promise<T> {
  return p();
}

export class InProcessClient implements ClusterClient {
  constructor(private readonly local: LocalClientLike) {}

  get(r: ResourceRef, namespace: string, name: string): Promise<KubeObject> { return call(() => this.local.get(r, namespace, name)); }
  list(r: ResourceRef, namespace: string | undefined, opts?: ListOptions): Promise<ObjectList> { return call(() => this.local.list(r, namespace, opts)); }
  watch(r: ResourceRef, namespace: string | undefined, opts: WatchOptions, onEvent: (e: WatchEvent) => void, onClose: (err?: Error) => void): WatchHandle {
    return this.local.watch(r, namespace, opts, (e) => onEvent(e as WatchEvent), onClose);
  }
  create(r: ResourceRef, namespace: string, obj: KubeObject): Promise<KubeObject> { return call(() => this.local.create(r, namespace, obj)); }
  update(r: ResourceRef, obj: KubeObject): Promise<KubeObject> { return call(() => this.local.update(r, obj)); }
  updateStatus(r: ResourceRef, obj: KubeObject): Promise<KubeObject> { return call(() => this.local.updateStatus(r, obj)); }
  patch(r: ResourceRef, namespace: string, name: string, type: PatchType, patch: unknown, subresource?: string): Promise<KubeObject> {
    return call(() => this.local.patch(r, namespace, name, type, patch, subresource));
  }
  delete(r: ResourceRef, namespace: string, name: string, opts?: DeleteOptions): Promise<KubeObject | undefined> { return call(() => this.local.delete(r, namespace, name, opts)); }
  createSubresource(r: ResourceRef, namespace: string, name: string, subresource: string, body: unknown): Promise<unknown> {
    return call(() => this.local.createSubresource(r, namespace, name, subresource, body));
  }
}
