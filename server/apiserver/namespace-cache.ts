// What creates need to know about namespaces (does it exist, is it terminating), kept from a list
// and the watch cache instead of a store read per create — upstream's NamespaceLifecycle admission
// reads its informer the same way. A name the cache does not know is not an answer: the caller
// reads the store (a namespace created a moment ago whose event is not applied yet, or none at all).
import type { Store } from '../../embedded-store/types';
import type { ObjectWatch, WatchCache } from './watchcache';

const PREFIX = '/registry/namespaces/';

export interface NamespaceState {
  /** Terminating (phase or deletionTimestamp): no new content may be created in it. */
  terminating: boolean;
}

export function namespaceTerminating(ns: any): boolean {
  return ns?.status?.phase === 'Terminating' || !!ns?.metadata?.deletionTimestamp;
}

export class NamespaceCache {
  private known = new Map<string, NamespaceState>();
  private ready = false;
  private starting = false;
  private stopped = false;
  private watch: ObjectWatch | undefined;

  constructor(private readonly store: Store, private readonly watchCache: WatchCache) {}

  /** The namespace's state if the cache is synced and knows it; undefined means "ask the store". */
  lookup(name: string): NamespaceState | undefined {
    if (!this.ready) { this.start(); return undefined; }
    return this.known.get(name);
  }

  stop(): void {
    this.stopped = true;
    this.watch?.close();
  }

  /** List, then follow the watch cache from the list's revision; re-list if the watch is cut off. */
  private start(): void {
    if (this.starting || this.stopped) return;
    this.starting = true;
    void (async () => {
      try {
        // The resource cache exists before the list, so a watch from the list's revision is served from its ring.
        this.watchCache.cacheFor(PREFIX);
        const page = await this.store.list(PREFIX);
        const known = new Map<string, NamespaceState>();
        for (const kv of page.items) {
          const ns = JSON.parse(kv.value.toString('utf8'));
          known.set(kv.key.slice(PREFIX.length), { terminating: namespaceTerminating(ns) });
        }
        if (this.stopped) return;
        const w = this.watch = this.watchCache.watch(PREFIX, PREFIX, page.revision);
        this.known = known;
        this.ready = true;
        for await (const ev of w.events()) {
          const name = ev.key.slice(PREFIX.length);
          if (ev.type === 'DELETED') this.known.delete(name);
          else this.known.set(name, { terminating: namespaceTerminating(ev.object) });
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
