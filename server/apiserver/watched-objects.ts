// One resource's objects kept in memory from a store list and the watch cache, for lookups on hot
// paths (pod admission, namespace checks) — what upstream's admission plugins get from an informer's
// lister. Until it is synced (first use, or re-listing after a cut-off watch) it answers "unknown"
// and the caller reads the store; a key it does not hold is not an answer either (an object created
// a moment ago whose event is not applied yet, or none at all).
import type { Store } from '../../embedded-store/types';
import { decodeObject, type ObjectWatch, type WatchCache } from './watchcache';

export class WatchedObjects<V> {
  /** Store key below the prefix ("<namespace>/<name>" or "<name>") -> projected object. */
  private known = new Map<string, V>();
  private ready = false;
  private starting = false;
  private stopped = false;
  private watch: ObjectWatch | undefined;

  /**
   * `project` keeps what the callers need of a (shared, never mutated) watch-cache object;
   * `onChange` runs after every change of the map, including a reset, for derived values.
   */
  constructor(
    private readonly store: Store, private readonly watchCache: WatchCache, readonly prefix: string,
    private readonly project: (obj: any) => V, private readonly onChange?: () => void,
  ) {}

  /** Whether the map answers from memory now; starts the list-and-watch when it does not. */
  synced(): boolean {
    if (!this.ready) this.start();
    return this.ready;
  }

  /** The object under `key` when synced and held; undefined means "ask the store". */
  get(key: string): V | undefined {
    return this.synced() ? this.known.get(key) : undefined;
  }

  /** Every held object (empty when not synced: check synced() first). */
  values(): IterableIterator<V> {
    return this.known.values();
  }

  /** The store's current object under `key` (the miss path of get()), undecoded by project. */
  async read(key: string): Promise<any | undefined> {
    const kv = await this.store.get(`${this.prefix}${key}`);
    return kv ? decodeObject(kv.value, kv.modRevision) : undefined;
  }

  stop(): void {
    this.stopped = true;
    this.watch?.close();
  }

  /** List, then follow the watch cache from the list's revision; re-list on the next use if the watch is cut off. */
  start(): void {
    if (this.starting || this.stopped) return;
    this.starting = true;
    const prefix = this.prefix;
    void (async () => {
      try {
        // The resource cache exists before the list, so a watch from the list's revision is served from its ring.
        this.watchCache.cacheFor(prefix);
        const page = await this.store.list(prefix);
        const known = new Map<string, V>();
        for (const kv of page.items) known.set(kv.key.slice(prefix.length), this.project(decodeObject(kv.value, kv.modRevision)));
        if (this.stopped) return;
        const w = this.watch = this.watchCache.watch(prefix, prefix, page.revision);
        this.known = known;
        this.ready = true;
        this.onChange?.();
        for await (const ev of w.events()) {
          const key = ev.key.slice(prefix.length);
          if (ev.type === 'DELETED') this.known.delete(key);
          else this.known.set(key, this.project(ev.object));
          this.onChange?.();
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
        this.onChange?.();
      }
    })();
  }
}
