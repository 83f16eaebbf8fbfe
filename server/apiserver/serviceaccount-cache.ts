// ServiceAccounts for pod admission, kept from a list and the watch cache instead of a store read
// per pod create — upstream's ServiceAccount admission reads its informer's lister the same way.
// A name the cache does not hold is not an answer: the caller reads the store (a ServiceAccount
// created a moment ago whose event is not applied yet, or none at all).
import type { Store } from '../../embedded-store/types';
import type { WatchCache } from './watchcache';
import { WatchedObjects } from './watched-objects';

export const SERVICE_ACCOUNT_PREFIX = '/registry/serviceaccounts/';

export class ServiceAccountCache {
  /** "<namespace>/<name>" -> ServiceAccount (watch-cache objects: shared, never mutated). */
  private readonly objects: WatchedObjects<any>;

  constructor(store: Store, watchCache: WatchCache) {
    this.objects = new WatchedObjects(store, watchCache, SERVICE_ACCOUNT_PREFIX, (sa) => sa);
  }

  /** The ServiceAccount if the cache is synced and holds it; undefined means "ask the store". Never mutate the result. */
  lookup(namespace: string, name: string): any | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  /** The store's current ServiceAccount, or undefined when there is none (the miss path of lookup()). */
  read(namespace: string, name: string): Promise<any | undefined> {
    return this.objects.read(`${namespace}/${name}`);
  }

  /** Starts the list-and-watch now rather than at the first lookup. */
  start(): void {
    this.objects.start();
  }

  stop(): void {
    this.objects.stop();
  }
}
