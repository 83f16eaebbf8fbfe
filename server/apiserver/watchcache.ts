// The watch cache: one store watch per resource type feeds every watcher of that type (HTTP
// chunked, WebSocket, and in-process informers), with a bounded ring of recent events so a watch
// from a recent resourceVersion replays without touching the store. A watch from before the ring
// falls back to its own store watch, which answers or reports the revision compacted (410).
import type { Store, WatchEvent } from '../../embedded-store/types';

export type ObjectEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change to one object. `object` and `oldObject` are shared between watchers: never mutate them. */
export interface ObjectEvent {
  type: ObjectEventType;
  /** The object after the change; for DELETED, its last state with resourceVersion = the delete's revision. */
  object: any;
  /** The object before the change (MODIFIED and DELETED). */
  oldObject?: any;
  revision: number;
  key: string;
  /** `{"type":...,"object":...}` computed once and shared by every plain-JSON watcher. */
  json?: string;
  /** A copy of `object` made once and shared by every in-process watcher (see inProcessCopy). */
  inProcessCopy?: any;
  /** The stored bytes `object` was decoded from, until inProcessCopy is made from them. */
  raw?: Buffer;
}

export class WatchClosedError extends Error {
  readonly code: 'Expired' | 'TooSlow' | 'Closed';
  constructor(code: 'Expired' | 'TooSlow' | 'Closed', message: string) { super(message); this.code = code; this.name = 'WatchClosedError'; }
}

/** A subscription: `next()` resolves with the next batch of events (empty on close). */
export interface ObjectWatch {
  /** Events after the start revision, in revision order; ends when closed; throws WatchClosedError if cut off. */
  events(): AsyncIterableIterator<ObjectEvent>;
  /** The revision of the last event handed out (or the start revision). */
  lastRevision(): number;
  close(): void;
}

export function decodeObject(value: Buffer, revision: number): any {
  const obj = JSON.parse(value.toString('utf8'));
  if (obj && typeof obj === 'object') {
    obj.metadata = obj.metadata ?? {};
    obj.metadata.resourceVersion = String(revision);
  }
  return obj;
}

/**
 * An event whose objects are decoded from the stored bytes on first use: in-process watchers take
 * their copy from the bytes (inProcessCopy) and need neither `object` nor `oldObject` unless a
 * selector looks at them, so a write with only informers watching costs one decode, not three.
 */
class StoredObjectEvent implements ObjectEvent {
  json?: string;
  inProcessCopy?: any;
  private decoded: any;
  private decodedOld: any;
  constructor(
    readonly type: ObjectEventType, readonly revision: number, readonly key: string,
    /** The bytes of `object` and the resourceVersion it is served with. */
    public raw: Buffer | undefined, private readonly rawRevision: number,
    /** The bytes of `oldObject` (the previous revision), if any. */
    private readonly prevRaw: Buffer | undefined, private readonly prevRevision: number,
    /** Kept for decoding `object` after inProcessCopy has taken `raw`. */
    private readonly objectBytes: Buffer | undefined,
  ) {}

  get object(): any {
    if (this.decoded === undefined) {
      this.decoded = this.objectBytes ? decodeObject(this.objectBytes, this.rawRevision) : { metadata: { resourceVersion: String(this.rawRevision) } };
    }
    return this.decoded;
  }
  set object(v: any) { this.decoded = v; }

  get oldObject(): any {
    if (this.decodedOld === undefined && this.prevRaw) this.decodedOld = decodeObject(this.prevRaw, this.prevRevision);
    return this.decodedOld;
  }
  set oldObject(v: any) { this.decodedOld = v; }

  /** The resourceVersion `object` carries, without decoding it. */
  objectRevision(): number { return this.rawRevision; }
}

export function toObjectEvent(e: WatchEvent): ObjectEvent {
  if (e.type === 'delete') {
    const prev = e.prevKv;
    return new StoredObjectEvent('DELETED', e.revision, e.kv.key, prev?.value, e.revision, prev?.value, prev?.modRevision ?? 0, prev?.value);
  }
  const prev = e.type === 'create' ? undefined : e.prevKv;
  return new StoredObjectEvent(e.type === 'create' ? 'ADDED' : 'MODIFIED', e.revision, e.kv.key, e.kv.value, e.kv.modRevision, prev?.value, prev?.modRevision ?? 0, e.kv.value);
}

/**
 * The event's object for in-process watchers: one private copy per event, shared by all of them
 * (they treat it as read-only, as informers do), decoded again from the stored bytes — cheaper
 * than a JSON round trip of the object — so the cache's own object never leaves the apiserver.
 */
export function inProcessCopy(ev: ObjectEvent): any {
  if (ev.inProcessCopy === undefined) {
    const rv = ev instanceof StoredObjectEvent ? ev.objectRevision() : Number(ev.object.metadata.resourceVersion);
    ev.inProcessCopy = ev.raw ? decodeObject(ev.raw, rv) : JSON.parse(JSON.stringify(ev.object));
    ev.raw = undefined;
  }
  return ev.inProcessCopy;
}

const MAX_QUEUE = 10_000;

/** A watcher's queue: the cache pushes, the consumer pulls. Overflow cuts the watcher off (kine's broadcaster does the same). */
class Subscriber implements ObjectWatch {
  private queue: ObjectEvent[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private error: WatchClosedError | undefined;
  private last: number;
  constructor(readonly prefix: string, startRevision: number, private readonly onClose: (s: Subscriber) => void) {
    this.last = startRevision;
  }

  push(ev: ObjectEvent): void {
    if (this.closed || ev.revision <= this.last || !ev.key.startsWith(this.prefix)) return;
    if (this.queue.length >= MAX_QUEUE) { this.fail(new WatchClosedError('TooSlow', 'watcher fell too far behind')); return; }
    this.queue.push(ev);
    this.last = ev.revision;
    this.wake?.();
  }

  fail(err: WatchClosedError): void {
    if (this.closed) return;
    this.error = err;
    this.closed = true;
    this.onClose(this);
    this.wake?.();
  }

  lastRevision(): number { return this.last; }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    this.wake?.();
  }

  async *events(): AsyncIterableIterator<ObjectEvent> {
    for (;;) {
      while (this.queue.length > 0) yield this.queue.shift()!;
      if (this.closed) {
        if (this.error) throw this.error;
        return;
      }
      await new Promise<void>((r) => { this.wake = r; });
      this.wake = undefined;
    }
  }
}

/** The cache of one resource type (one store prefix such as `/registry/pods/`). */
export class ResourceWatchCache {
  private ring: ObjectEvent[] = [];
  private subs = new Set<Subscriber>();
  private storeWatch: ReturnType<Store['watch']> | undefined;
  /** Events after this revision are all in the ring or were seen (the cache's start). */
  private startRevision: number;
  private lastRevision: number;
  private stopped = false;

  constructor(private readonly store: Store, readonly prefix: string, private readonly capacity = 2048) {
    this.startRevision = store.currentRevision();
    this.lastRevision = this.startRevision;
    this.run();
  }

  private run(): void {
    const w = this.store.watch(this.prefix, this.startRevision);
    this.storeWatch = w;
    void (async () => {
      try {
        for await (const batch of w.events) {
          for (const e of batch) this.dispatch(toObjectEvent(e));
        }
      } catch (err) {
        // The store cut the cache off (compaction or a slow consumer): every watcher must re-list.
        const msg = (err as Error).message;
        for (const s of [...this.subs]) s.fail(new WatchClosedError('Expired', `watch cache restarted: ${msg}`));
        this.ring = [];
        if (!this.stopped) {
          this.startRevision = this.store.currentRevision();
          this.lastRevision = this.startRevision;
          this.run();
        }
      }
    })();
  }

  private dispatch(ev: ObjectEvent): void {
    if (ev.revision <= this.lastRevision) return;
    this.lastRevision = ev.revision;
    this.ring.push(ev);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    for (const s of this.subs) s.push(ev);
  }

  /** The oldest revision R such that a watch "after R" can be served from the ring. */
  oldestServable(): number {
    if (this.ring.length === 0 || this.ring.length < this.capacity) return this.startRevision;
    return this.ring[0]!.revision - 1;
  }

  currentRevision(): number { return this.lastRevision; }

  watcherCount(): number { return this.subs.size; }

  /**
   * Events under `prefix` (a sub-prefix of this cache's, e.g. one namespace) after `fromRevision`.
   * Returns undefined when the ring no longer reaches back that far.
   */
  subscribe(prefix: string, fromRevision: number): ObjectWatch | undefined {
    if (fromRevision < this.oldestServable()) return undefined;
    const sub = new Subscriber(prefix, fromRevision, (s) => this.subs.delete(s));
    for (const ev of this.ring) if (ev.revision > fromRevision) sub.push(ev);
    this.subs.add(sub);
    return sub;
  }

  stop(): void {
    this.stopped = true;
    this.storeWatch?.close();
    for (const s of [...this.subs]) s.close();
  }
}

/** A watch straight on the store, for a start revision older than the cache's ring. */
class DirectWatch implements ObjectWatch {
  private last: number;
  private w: ReturnType<Store['watch']>;
  constructor(store: Store, prefix: string, fromRevision: number) {
    this.last = fromRevision;
    this.w = store.watch(prefix, fromRevision);
  }
  lastRevision(): number { return this.last; }
  close(): void { this.w.close(); }
  async *events(): AsyncIterableIterator<ObjectEvent> {
    try {
      for await (const batch of this.w.events) {
        for (const e of batch) { this.last = e.revision; yield toObjectEvent(e); }
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'STORE_COMPACTED') throw new WatchClosedError('Expired', (err as Error).message);
      throw new WatchClosedError('TooSlow', (err as Error).message);
    }
  }
}

/** Every resource type's cache, created on first use. */
export class WatchCache {
  private caches = new Map<string, ResourceWatchCache>();
  constructor(private readonly store: Store) {}

  cacheFor(resourcePrefix: string): ResourceWatchCache {
    let c = this.caches.get(resourcePrefix);
    if (!c) { c = new ResourceWatchCache(this.store, resourcePrefix); this.caches.set(resourcePrefix, c); }
    return c;
  }

  /**
   * Watch `prefix` (inside the resource type at `resourcePrefix`) for changes after `fromRevision`.
   * Throws WatchClosedError('Expired') when the store compacted that revision.
   */
  watch(resourcePrefix: string, prefix: string, fromRevision: number): ObjectWatch {
    const cache = this.cacheFor(resourcePrefix);
    const sub = cache.subscribe(prefix, fromRevision);
    if (sub) return sub;
    if (fromRevision < this.store.compactRevision()) {
      throw new WatchClosedError('Expired', `too old resource version: ${fromRevision} (${cache.oldestServable() + 1})`);
    }
    return new DirectWatch(this.store, prefix, fromRevision);
  }

  stop(): void {
    for (const c of this.caches.values()) c.stop();
    this.caches.clear();
  }
}
