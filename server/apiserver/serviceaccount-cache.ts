// ServiceAccounts for pod admission, kept from a list and the watch cache instead of a store read
// per pod create — upstream's ServiceAccount admission reads its informer's lister the same way.
// A name the cache does not hold is not an answer: the caller reads the store (a ServiceAccount
// created a moment ago whose event is not applied yet, or none at all).
import type { Store } from '../../embedded-store/types';
import { decodeObject, type ObjectWatch, type WatchCache } from './watchcache';

export const SERVICE_ACCOUNT_PREFIX = '/registry/serviceaccounts/';

export class ServiceAccountCache {
  /** "<namespace>/<name>" -> ServiceAccount (watch-cache objects: shared, never mutated). */
  private known = new Map<string, any>();
  private ready = false;
  private starting = false;
  private stopped = false;
  private watch: ObjectWatch | undefined;

  constructor(private readonly store: Store, private readonly watchCache: WatchCache) {}

  /** The ServiceAccount if the cache is synced and holds it; undefined means "ask the store". Never mutate the result. */
  lookup(namespace: string, name: string): any | undefined {
    if (!this.ready) { this.start(); return undefined; }
    return this.known.get(`${namespace}/${name}`);
  }

  /** The store's current ServiceAccount, or undefined when there is none (the miss path of lookup()). */
  async read(namespace: string, name: string): Promise<any | undefined> {
    const kv = await this.store.get(`${SERVICE_ACCOUNT_PREFIX}${namespace}/${name}`);
    return kv ? decodeObject(kv.value, kv.modRevision) : undefined;
  }

  stop(): void {
    this.stopped = true;
    this.watch?.close();
  }

  /** List, then follow the watch cache from the list's revision; re-list on the next lookup if the watch is cut off. */
  start(): void {
    if (this.starting || this.stopped) return;
    this.starting = true;
    void (async () => {
      try {
        // The resource cache exists before the list, so a watch from the list's revision is served from its ring.
        this.watchCache.cacheFor(SERVICE_ACCOUNT_PREFIX);
        const page = await this.store.list(SERVICE_ACCOUNT_PREFIX);
        const known = new Map<string, any>();
        for (const kv of page.items) known.set(kv.key.slice(SERVICE_ACCOUNT_PREFIX.length), decodeObject(kv.value, kv.modRevision));
        if (this.stopped) return;
        const w = this.watch = this.watchCache.watch(SERVICE_ACCOUNT_PREFIX, SERVICE_ACCOUNT_PREFIX, page.revision);
        this.known = known;
        this.ready = true;
        for await (const ev of w.events()) {
          const key = ev.key.slice(SERVICE_ACCOUNT_PREFIX.length);
          if (ev.type === 'DELETED') this.known.delete(key);
          else this.known.set(key, ev.object);
        }
        // A watch ends without an error only when closed: by stop() or the watch cache's shutdown.
        this.stopped = true;
      } catch {
        // Cut off (too slow, compacted) or the list failed: answer "unknown" until re-synced.
      } finally {
        this.ready = false;
        this.known = new Map();
        this.watch = undefined;
        this.starting = false;
      }
    })();
  }
}
