// ClusterClient over the apiserver's in-process LocalClient (server/apiserver/local-client.ts):
// same registry, admission and validation as HTTP clients, watches straight off the watch cache.
// The adapter's only job is translating errors into the controllers' ApiError and keeping the
// controllers independent of the apiserver's module layout.
import {
  ApiError, type ClusterClient, type DeleteOptions, type ListOptions, type ObjectList, type PatchType,
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

/** The apiserver's errors carry `httpStatus` and `code` (the reason); map them onto ours. */
function translate(e: unknown): unknown {
  if (e instanceof ApiError) return e;
  const x = e as { httpStatus?: unknown; code?: unknown; message?: string; details?: unknown };
  if (x && typeof x.httpStatus === 'number' && typeof x.code === 'string') {
    return new ApiError(x.httpStatus, x.code, x.message ?? x.code, x.details);
  }
  return e;
}

async function call<T>(p: () => Promise<T>): Promise<T> {
  try { return await p(); } catch (e) { throw translate(e); }
}

export class InProcessClient implements ClusterClient {
  constructor(private readonly local: LocalClientLike) {}

  get(r: ResourceRef, namespace: string, name: string): Promise<KubeObject> { return call(() => this.local.get(r, namespace, name)); }
  list(r: ResourceRef, namespace: string | undefined, opts?: ListOptions): Promise<ObjectList> { return call(() => this.local.list(r, namespace, opts)); }
  watch(r: ResourceRef, namespace: string | undefined, opts: WatchOptions, onEvent: (e: WatchEvent) => void, onClose: (err?: Error) => void): WatchHandle {
    try {
      return this.local.watch(r, namespace, opts, (e) => onEvent(e as WatchEvent), (err) => onClose(err ? (translate(err) as Error) : undefined));
    } catch (e) {
      throw translate(e);
    }
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
