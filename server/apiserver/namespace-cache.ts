// What creates need to know about namespaces (does it exist, is it terminating), kept from a list
// and the watch cache instead of a store read per create — upstream's NamespaceLifecycle admission
// reads its informer the same way. A name the cache does not know is not an answer: the caller
// reads the store (a namespace created a moment ago whose event is not applied yet, or none at all).
import type { Store } from '../../embedded-store/types';
import type { WatchCache } from './watchcache';
import { WatchedObjects } from './watched-objects';

const PREFIX = '/registry/namespaces/';

export interface NamespaceState {
  /** Terminating (phase or deletionTimestamp): no new content may be created in it. */
  terminating: boolean;
}

export function namespaceTerminating(ns: any): boolean {
  return ns?.status?.phase === 'Terminating' || !!ns?.metadata?.deletionTimestamp;
}

export class NamespaceCache {
  private readonly objects: WatchedObjects<NamespaceState>;

  constructor(store: Store, watchCache: WatchCache) {
    this.objects = new WatchedObjects(store, watchCache, PREFIX, (ns) => ({ terminating: namespaceTerminating(ns) }));
  }

  /** The namespace's state if the cache is synced and knows it; undefined means "ask the store". */
  lookup(name: string): NamespaceState | undefined {
    return this.objects.get(name);
  }

  stop(): void {
    this.objects.stop();
  }
}
