// The seam between the control loops (controllers, scheduler) and the API.
//
// `ClusterClient` is what they read and write through. It has two implementations:
//  - the in-process adapter over the apiserver (`inprocess-client.ts`): writes go through the same
//    admission/validation/storage path as any HTTP client; list/watch come from the watch cache;
//  - the stateful fake used by unit tests (`test/unit/helpers/fake-cluster.ts`), which records
//    every write so a test asserts what a sync issued.
// `Informer` and `SharedInformerFactory` are built once on top of `ClusterClient` (list then
// watch, re-list after 410 Expired, resync, an indexed cache of frozen objects).
import { freezeCached, keyOf, type KubeObject } from './types';
import { type Selector } from './selectors';

/** A resource by group, version and plural name, as in URL paths (`apps/v1 deployments`). */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  /** The kind its objects carry (for owner references and Events). */
  readonly kind: string;
  readonly namespaced: boolean;
}

function ref(group: string, version: string, resource: string, kind: string, namespaced = true): ResourceRef {
  return Object.freeze({ group, version, resource, kind, namespaced });
}

/** The resources the control plane touches. */
export const R = {
  pods: ref('', 'v1', 'pods', 'Pod'),
  nodes: ref('', 'v1', 'nodes', 'Node', false),
  namespaces: ref('', 'v1', 'namespaces', 'Namespace', false),
  services: ref('', 'v1', 'services', 'Service'),
  endpoints: ref('', 'v1', 'endpoints', 'Endpoints'),
  events: ref('', 'v1', 'events', 'Event'),
  configmaps: ref('', 'v1', 'configmaps', 'ConfigMap'),
  secrets: ref('', 'v1', 'secrets', 'Secret'),
  serviceaccounts: ref('', 'v1', 'serviceaccounts', 'ServiceAccount'),
  persistentvolumes: ref('', 'v1', 'persistentvolumes', 'PersistentVolume', false),
  persistentvolumeclaims: ref('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim'),
  replicasets: ref('apps', 'v1', 'replicasets', 'ReplicaSet'),
  deployments: ref('apps', 'v1', 'deployments', 'Deployment'),
  statefulsets: ref('apps', 'v1', 'statefulsets', 'StatefulSet'),
  daemonsets: ref('apps', 'v1', 'daemonsets', 'DaemonSet'),
  controllerrevisions: ref('apps', 'v1', 'controllerrevisions', 'ControllerRevision'),
  jobs: ref('batch', 'v1', 'jobs', 'Job'),
  cronjobs: ref('batch', 'v1', 'cronjobs', 'CronJob'),
  endpointslices: ref('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'),
  leases: ref('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  storageclasses: ref('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false),
  podpresets: ref('settings.k8s.io', 'v1alpha1', 'podpresets', 'PodPreset'),
  poddisruptionbudgets: ref('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget'),
} as const;

export function apiVersionOf(r: ResourceRef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function resourceId(r: ResourceRef): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

// API failures are the shared ApiError (api/errors.ts): both ClusterClient implementations throw it.
export { ApiError, isAlreadyExists, isConflict, isExpired, isNotFound } from '../../api/errors';
import { STALE_OBJECT, alreadyExists as alreadyExistsIn, conflict as conflictIn, notFound as notFoundIn } from '../../api/errors';

export function notFound(r: ResourceRef, name: string) { return notFoundIn(r.group, r.resource, name); }
export function alreadyExists(r: ResourceRef, name: string) { return alreadyExistsIn(r.group, r.resource, name); }
export function conflict(r: ResourceRef, name: string) { return conflictIn(r.group, r.resource, name, STALE_OBJECT); }

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** '' or undefined: most recent; '0': any (cache); otherwise at least this version. */
  resourceVersion?: string;
}

export interface ObjectList {
  items: KubeObject[];
  metadata: { resourceVersion: string };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  /** For ERROR, a Status object (`code` 410 and reason Expired when the version is compacted). */
  object: KubeObject | any;
}

export interface WatchHandle {
  /** Stops delivery; no callback runs after stop() returns. */
  stop(): void;
}

export interface WatchOptions extends ListOptions {
  /** Events strictly after this version. */
  resourceVersion: string;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchType = 'merge' | 'json' | 'strategic';

/**
 * What the controllers and the scheduler read and write through.
 *
 * Contract:
 * - Every method returns a fresh object the caller may keep (never shared with a cache).
 * - Failures at the API level throw ApiError (NotFound 404, AlreadyExists 409, Conflict 409 on a
 *   stale metadata.resourceVersion in update/updateStatus, Invalid 422, Expired 410 from watch).
 * - `create` honours metadata.generateName; `update` is optimistic (carries resourceVersion);
 *   `updateStatus` writes only `.status` (the status subresource); `delete` returns the object
 *   still present (finalizers or grace period pending) or undefined when it is gone.
 * - `watch` delivers events in resourceVersion order after `opts.resourceVersion`; when that
 *   version is too old it delivers one ERROR event carrying a Status with code 410 and then ends;
 *   `onClose` runs when the stream ends for any reason other than stop().
 * - `createSubresource` POSTs to a subresource such as `pods/binding` or `pods/eviction`.
 * Writes run admission and validation exactly as an HTTP client's would.
 */
export interface ClusterClient {
  get(r: ResourceRef, namespace: string, name: string): Promise<KubeObject>;
  list(r: ResourceRef, namespace: string | undefined, opts?: ListOptions): Promise<ObjectList>;
  watch(r: ResourceRef, namespace: string | undefined, opts: WatchOptions,
    onEvent: (e: WatchEvent) => void, onClose: (err?: Error) => void): WatchHandle;
  create(r: ResourceRef, namespace: string, obj: KubeObject): Promise<KubeObject>;
  update(r: ResourceRef, obj: KubeObject): Promise<KubeObject>;
  updateStatus(r: ResourceRef, obj: KubeObject): Promise<KubeObject>;
  patch(r: ResourceRef, namespace: string, name: string, type: PatchType, patch: unknown, subresource?: string): Promise<KubeObject>;
  delete(r: ResourceRef, namespace: string, name: string, opts?: DeleteOptions): Promise<KubeObject | undefined>;
  createSubresource(r: ResourceRef, namespace: string, name: string, subresource: string, body: unknown): Promise<unknown>;
}

// ---------------------------------------------------------------------------------------------
// Informers

export interface EventHandler {
  /** Handlers only enqueue work: they must not block, write, or mutate the objects given. */
  onAdd?(obj: KubeObject): void;
  onUpdate?(oldObj: KubeObject, newObj: KubeObject): void;
  /** For a delete missed while re-listing, obj is the last known state. */
  onDelete?(obj: KubeObject): void;
}

export type IndexFunc = (obj: KubeObject) => string[];

/**
 * The informer's cache: frozen objects (freezeCached) keyed by `namespace/name`, with named indexes.
 * Built-in indexes: `namespace`, `owner` (uid of every ownerReference). Callers must clone
 * (types.clone) before modifying anything they read here.
 */
export class Indexer {
  private readonly items = new Map<string, KubeObject>();
  private readonly indexFuncs = new Map<string, IndexFunc>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();

  constructor() {
    this.addIndex('namespace', (o) => [o.metadata.namespace ?? '']);
    this.addIndex('owner', (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid));
  }

  addIndex(name: string, fn: IndexFunc): void {
    if (this.indexFuncs.has(name)) return;
    this.indexFuncs.set(name, fn);
    const idx = new Map<string, Set<string>>();
    this.indexes.set(name, idx);
    for (const [k, o] of this.items) for (const v of fn(o)) add(idx, v, k);
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): KubeObject | undefined {
    return this.items.get(key);
  }

  /** All objects, or those of one namespace, optionally filtered by a label selector. */
  list(namespace?: string, selector?: Selector): KubeObject[] {
    let out: KubeObject[];
    if (namespace === undefined) out = [...this.items.values()];
    else out = this.byIndex('namespace', namespace);
    return selector ? out.filter((o) => selector.matches(o.metadata.labels)) : out;
  }

  byIndex(index: string, value: string): KubeObject[] {
    const keys = this.indexes.get(index)?.get(value);
    if (!keys) return [];
    const out: KubeObject[] = [];
    for (const k of keys) { const o = this.items.get(k); if (o) out.push(o); }
    return out;
  }

  /** Objects that name `uid` in their ownerReferences. */
  byOwner(uid: string): KubeObject[] {
    return this.byIndex('owner', uid);
  }

  keys(): string[] { return [...this.items.keys()]; }
  get size(): number { return this.items.size; }

  /** @internal informer use only */
  put(obj: KubeObject): KubeObject | undefined {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    for (const [name, fn] of this.indexFuncs) for (const v of fn(obj)) add(this.indexes.get(name)!, v, key);
    return old;
  }

  /** @internal informer use only */
  remove(key: string): KubeObject | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  private unindex(key: string, obj: KubeObject): void {
    for (const [name, fn] of this.indexFuncs) {
      const idx = this.indexes.get(name)!;
      for (const v of fn(obj)) {
        const s = idx.get(v);
        if (s) { s.delete(key); if (s.size === 0) idx.delete(v); }
      }
    }
  }
}

function add(idx: Map<string, Set<string>>, v: string, key: string): void {
  let s = idx.get(v);
  if (!s) { s = new Set(); idx.set(v, s); }
  s.add(key);
}

/** What an informer caches when not the whole resource (client-go's tweakListOptions). */
export interface InformerSelector { labelSelector?: string; fieldSelector?: string }

export interface InformerOptions {
  /** Re-deliver every cached object as an update this often (0: never). */
  resyncMs?: number;
  /** Back-off before re-listing after an error. */
  relistDelayMs?: number;
  logger?: (msg: string) => void;
}

/**
 * An informer for one resource (all namespaces): list, then watch from the list's
 * resourceVersion; on 410 Expired or a broken stream, re-list and diff against the cache so
 * handlers still see every add/update/delete. Cached objects are frozen (object and metadata; see freezeCached).
 */
export class Informer {
  readonly store = new Indexer();
  private readonly handlers: EventHandler[] = [];
  private watchHandle?: WatchHandle;
  private lastRV = '';
  private synced = false;
  private stopped = false;
  private started = false;
  private resyncTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private readonly syncWaiters: Array<() => void> = [];
  /** Number of full lists done (1 + re-lists); visible for tests. */
  listCount = 0;

  /** `selector` narrows what is cached (label and field selectors, applied to the list and the watch). */
  constructor(readonly client: ClusterClient, readonly resource: ResourceRef, private readonly opts: InformerOptions = {},
    readonly selector: InformerSelector = {}) {}

  addEventHandler(h: EventHandler): void {
    this.handlers.push(h);
    // Late handlers see the current cache as adds, as client-go does.
    if (this.synced) for (const o of this.store.list()) h.onAdd?.(o);
  }

  hasSynced(): boolean { return this.synced; }

  /** Resolves once the first list is in the cache (or immediately if stopped). */
  waitForSync(): Promise<void> {
    if (this.synced || this.stopped) return Promise.resolve();
    return new Promise((res) => this.syncWaiters.push(res));
  }

  /** Starts list-then-watch; idempotent. */
  run(): void {
    if (this.started) return;
    this.started = true;
    void this.listAndWatch();
    if (this.opts.resyncMs) {
      this.resyncTimer = setInterval(() => this.resync(), this.opts.resyncMs);
      this.resyncTimer.unref?.();
    }
  }

  stop(): void {
    this.stopped = true;
    this.watchHandle?.stop();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const w of this.syncWaiters.splice(0)) w();
  }

  private resync(): void {
    for (const o of this.store.list()) for (const h of this.handlers) h.onUpdate?.(o, o);
  }

  private async listAndWatch(): Promise<void> {
    if (this.stopped) return;
    let list: ObjectList;
    try {
      list = await this.client.list(this.resource, undefined, { ...this.selector });
    } catch (e) {
      this.opts.logger?.(`informer ${resourceId(this.resource)}: list failed: ${(e as Error).message}`);
      this.scheduleRelist();
      return;
    }
    if (this.stopped) return;
    this.listCount++;
    this.replace(list.items);
    this.lastRV = list.metadata.resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    this.startWatch();
  }

  private startWatch(): void {
    if (this.stopped) return;
    let ended = false;
    const end = (relist: boolean) => {
      if (ended) return;
      ended = true;
      this.watchHandle?.stop();
      if (relist) this.scheduleRelist(); else this.startWatch();
    };
    this.watchHandle = this.client.watch(this.resource, undefined, { ...this.selector, resourceVersion: this.lastRV }, (ev) => {
      if (ended || this.stopped) return;
      if (ev.type === 'ERROR') {
        // 410 Expired: our version was compacted away; anything else: start over too.
        end(true);
        return;
      }
      const rv = ev.object?.metadata?.resourceVersion;
      if (rv) this.lastRV = rv;
      if (ev.type === 'BOOKMARK') return;
      this.apply(ev.type, ev.object);
    }, (err) => {
      if (this.stopped) return;
      // A stream that ends cleanly resumes from the last version; an error re-lists.
      end(!!err);
    });
  }

  private scheduleRelist(): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => void this.listAndWatch(), this.opts.relistDelayMs ?? 200);
    this.retryTimer.unref?.();
  }

  private apply(type: WatchEventType, raw: KubeObject): void {
    const obj = freezeCached(raw);
    if (type === 'DELETED') {
      const old = this.store.remove(keyOf(obj));
      for (const h of this.handlers) h.onDelete?.(old ?? obj);
      return;
    }
    const old = this.store.put(obj);
    for (const h of this.handlers) {
      if (old) h.onUpdate?.(old, obj); else h.onAdd?.(obj);
    }
  }

  /** Replace the cache with a fresh list, telling handlers what changed (DeltaFIFO Replace). */
  private replace(items: KubeObject[]): void {
    const seen = new Set<string>();
    for (const raw of items) {
      const obj = freezeCached(raw);
      const key = keyOf(obj);
      seen.add(key);
      const old = this.store.getByKey(key);
      if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) continue;
      this.store.put(obj);
      for (const h of this.handlers) { if (old) h.onUpdate?.(old, obj); else h.onAdd?.(obj); }
    }
    for (const key of this.store.keys()) {
      if (seen.has(key)) continue;
      const old = this.store.remove(key)!;
      for (const h of this.handlers) h.onDelete?.(old);
    }
  }
}

function informerId(r: ResourceRef, selector: InformerSelector): string {
  return `${r.group}/${r.version}/${r.resource}?${selector.labelSelector ?? ''}&${selector.fieldSelector ?? ''}`;
}

/** One informer per resource and selector, shared by every controller that asks for it. */
export class SharedInformerFactory {
  private readonly informers = new Map<string, Informer>();
  constructor(readonly client: ClusterClient, private readonly opts: InformerOptions = {}) {}

  informerFor(r: ResourceRef, selector: InformerSelector = {}): Informer {
    const id = informerId(r, selector);
    let inf = this.informers.get(id);
    if (!inf) {
      inf = new Informer(this.client, r, this.opts, selector);
      this.informers.set(id, inf);
    }
    return inf;
  }

  /** The informer some consumer already asked for, if any (lets a consumer that could make do with
   *  less, like the garbage collector's metadata-only monitors, share it instead of adding one). */
  existing(r: ResourceRef, selector: InformerSelector = {}): Informer | undefined {
    return this.informers.get(informerId(r, selector));
  }

  /** Starts every informer created so far (and is safe to call again after adding more). */
  start(): void {
    for (const inf of this.informers.values()) inf.run();
  }

  async waitForCacheSync(timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new CacheSyncTimeoutError(timeoutMs)), timeoutMs);
    });
    try {
      await Promise.race([Promise.all([...this.informers.values()].map((i) => i.waitForSync())), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  shutdown(): void {
    for (const inf of this.informers.values()) inf.stop();
  }

  /** Resources whose informer has not synced yet (for diagnostics). */
  unsynced(): string[] {
    return [...this.informers.values()].filter((i) => !i.hasSynced()).map((i) => resourceId(i.resource));
  }
}

export class CacheSyncTimeoutError extends Error {
  readonly code = 'CacheSyncTimeout';
  constructor(ms: number) {
    super(`informer caches did not sync within ${ms} ms`);
    this.name = 'CacheSyncTimeoutError';
  }
}
