// An honest, stateful in-memory cluster implementing ClusterClient for unit tests of controllers
// and the scheduler (the sample-controller style): objects with resourceVersions, optimistic
// concurrency (409 Conflict), AlreadyExists, generateName, generation bumps on spec changes,
// status-subresource separation, finalizers and deletionTimestamp, propagation policies
// (foregroundDeletion / orphan finalizers), watch with history replay and 410 after compaction,
// and pods/binding. Every write is RECORDED in `actions` so tests assert what a sync issued.
// Not modelled: admission, validation, defaulting (tests pass complete objects), strategic merge
// (treated as a JSON merge patch), pods' graceful deletion (pods go at once).
import { randomUUID } from 'node:crypto';
import { applyPatch, type Operation } from 'fast-json-patch';
import mergePatch from 'json-merge-patch';
import {
  ApiError, alreadyExists, conflict, notFound, resourceId,
  type ClusterClient, type DeleteOptions, type ListOptions, type ObjectList, type PatchType,
  type ResourceRef, type WatchEvent, type WatchHandle, type WatchOptions,
} from '../../../server/controllers/client';
import { parseFieldSelector, parseSelector } from '../../../server/controllers/selectors';
import { rfc3339, type KubeObject } from '../../../server/controllers/types';

export interface Action {
  verb: 'create' | 'update' | 'updateStatus' | 'patch' | 'delete' | 'createSubresource';
  resource: string;   // plural, with group suffix for non-core: 'replicasets.apps'
  namespace: string;
  name: string;
  subresource?: string;
  object?: KubeObject | any;
}

interface Stored { obj: KubeObject; r: ResourceRef }
interface Watcher { r: ResourceRef; namespace?: string; sel: (o: KubeObject) => boolean; cb: (e: WatchEvent) => void; onClose: (err?: Error) => void; stopped: boolean }

// Kinds whose whole object is written by update (no status subresource).
const NO_STATUS = new Set(['configmaps', 'secrets', 'endpoints', 'events', 'serviceaccounts', 'endpointslices',
  'controllerrevisions', 'leases', 'storageclasses', 'podpresets']);
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export class FakeCluster implements ClusterClient {
  readonly actions: Action[] = [];
  private readonly objects = new Map<string, Stored>();
  private readonly history: Array<{ rv: number; r: ResourceRef; ev: WatchEvent }> = [];
  private readonly watchers = new Set<Watcher>();
  private rv = 100;
  private compactedRV = 0;
  private readonly failures: Array<{ verb: string; resource: string; err: ApiError; times: number }> = [];
  /** Milliseconds since epoch used for timestamps; tests may move it. */
  now = Date.parse('2025-01-01T00:00:00Z');

  // ---- test helpers ------------------------------------------------------------------------

  /** Puts objects in the store without recording an action (the "existing state"). */
  seed(r: ResourceRef, ...objs: KubeObject[]): KubeObject[] {
    return objs.map((o) => this.store(r, this.prepareCreate(r, o.metadata.namespace ?? '', structuredClone(o)), 'ADDED'));
  }

  /** The next `times` calls of verb on resource fail with err (client-go fake's reactors). */
  failNext(verb: Action['verb'], resource: string, err: ApiError, times = 1): void {
    this.failures.push({ verb, resource, err, times });
  }

  /** Actions filtered by verb and/or resource; `clearActions` forgets earlier ones. */
  writes(verb?: Action['verb'], resource?: string): Action[] {
    return this.actions.filter((a) => (!verb || a.verb === verb) && (!resource || a.resource === resource));
  }
  clearActions(): void { this.actions.length = 0; }

  /** A snapshot of every stored object of a resource (clones). */
  all(r: ResourceRef, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const s of this.objects.values()) {
      if (s.r.resource === r.resource && s.r.group === r.group && (namespace === undefined || (s.obj.metadata.namespace ?? '') === namespace)) {
        out.push(structuredClone(s.obj));
      }
    }
    return out.sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
  }

  peek(r: ResourceRef, namespace: string, name: string): KubeObject | undefined {
    const s = this.objects.get(this.key(r, namespace, name));
    return s ? structuredClone(s.obj) : undefined;
  }

  /** Forget watch history up to now: watches from older versions get 410 Expired. */
  compact(): void {
    this.compactedRV = this.rv;
    this.history.length = 0;
  }

  /** Ends every open watch stream (as a server restart or timeout would). */
  closeWatches(err?: Error): void {
    for (const w of [...this.watchers]) { w.stopped = true; this.watchers.delete(w); w.onClose(err); }
  }

  /** Resolves after pending watch deliveries have run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }

  get resourceVersion(): string { return String(this.rv); }

  // ---- ClusterClient -----------------------------------------------------------------------

  async get(r: ResourceRef, namespace: string, name: string): Promise<KubeObject> {
    const s = this.objects.get(this.key(r, namespace, name));
    if (!s) throw notFound(r, name);
    return structuredClone(s.obj);
  }

  async list(r: ResourceRef, namespace: string | undefined, opts: ListOptions = {}): Promise<ObjectList> {
    const sel = parseSelector(opts.labelSelector);
    const fsel = parseFieldSelector(opts.fieldSelector);
    const items = this.all(r, namespace || undefined).filter((o) => sel.matches(o.metadata.labels) && fsel(o));
    return { items, metadata: { resourceVersion: String(this.rv) } };
  }

  watch(r: ResourceRef, namespace: string | undefined, opts: WatchOptions,
    onEvent: (e: WatchEvent) => void, onClose: (err?: Error) => void): WatchHandle {
    const sel = parseSelector(opts.labelSelector);
    const fsel = parseFieldSelector(opts.fieldSelector);
    const w: Watcher = {
      r, namespace: namespace || undefined, sel: (o) => sel.matches(o.metadata.labels) && fsel(o),
      cb: onEvent, onClose, stopped: false,
    };
    const from = Number(opts.resourceVersion || this.rv);
    if (from < this.compactedRV) {
      setImmediate(() => {
        if (w.stopped) return;
        onEvent({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: `too old resource version: ${from} (${this.compactedRV})` } });
        onClose();
      });
      return { stop: () => { w.stopped = true; } };
    }
    const replay = this.history.filter((h) => h.rv > from && this.matches(w, h.r, h.ev.object));
    this.watchers.add(w);
    setImmediate(() => { for (const h of replay) if (!w.stopped) w.cb(structuredClone(h.ev)); });
    return { stop: () => { w.stopped = true; this.watchers.delete(w); } };
  }

  async create(r: ResourceRef, namespace: string, obj: KubeObject): Promise<KubeObject> {
    this.maybeFail('create', r);
    const o = this.prepareCreate(r, namespace, structuredClone(obj));
    const stored = this.store(r, o, 'ADDED');
    this.record({ verb: 'create', resource: resourceId(r), namespace, name: o.metadata.name!, object: stored });
    return structuredClone(stored);
  }

  async update(r: ResourceRef, obj: KubeObject): Promise<KubeObject> {
    this.maybeFail('update', r);
    const ns = obj.metadata.namespace ?? '';
    const cur = this.current(r, ns, obj.metadata.name!, obj.metadata.resourceVersion);
    const next = structuredClone(obj);
    if (!NO_STATUS.has(r.resource)) next.status = structuredClone(cur.status);
    next.metadata.uid = cur.metadata.uid;
    next.metadata.creationTimestamp = cur.metadata.creationTimestamp;
    next.metadata.deletionTimestamp = cur.metadata.deletionTimestamp;
    next.metadata.generation = cur.metadata.generation ?? 1;
    if (JSON.stringify(this.specOf(next)) !== JSON.stringify(this.specOf(cur))) next.metadata.generation! += 1;
    const stored = this.finishWrite(r, next);
    this.record({ verb: 'update', resource: resourceId(r), namespace: ns, name: obj.metadata.name!, object: stored ?? next });
    return structuredClone(stored ?? next);
  }

  async updateStatus(r: ResourceRef, obj: KubeObject): Promise<KubeObject> {
    this.maybeFail('updateStatus', r);
    const ns = obj.metadata.namespace ?? '';
    const cur = this.current(r, ns, obj.metadata.name!, obj.metadata.resourceVersion);
    const next = structuredClone(cur);
    next.status = structuredClone(obj.status);
    const stored = this.finishWrite(r, next)!;
    this.record({ verb: 'updateStatus', resource: resourceId(r), namespace: ns, name: obj.metadata.name!, subresource: 'status', object: stored });
    return structuredClone(stored);
  }

  async patch(r: ResourceRef, namespace: string, name: string, type: PatchType, patch: unknown, subresource?: string): Promise<KubeObject> {
    this.maybeFail('patch', r);
    const cur = this.current(r, namespace, name, undefined);
    let next: KubeObject;
    if (type === 'json') {
      try {
        next = applyPatch(structuredClone(cur), patch as Operation[], true, false).newDocument;
      } catch (e) {
        throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${(e as Error).message}`);
      }
    } else {
      next = mergePatch.apply(structuredClone(cur), patch) as KubeObject;
    }
    const pRV = (patch as any)?.metadata?.resourceVersion;
    if (pRV && pRV !== cur.metadata.resourceVersion) throw conflict(r, name);
    if (subresource === 'status') {
      const s = next.status;
      next = structuredClone(cur);
      next.status = s;
    } else if (!NO_STATUS.has(r.resource)) {
      next.status = structuredClone(cur.status);
      if (JSON.stringify(this.specOf(next)) !== JSON.stringify(this.specOf(cur))) next.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    }
    next.metadata.uid = cur.metadata.uid;
    const stored = this.finishWrite(r, next);
    this.record({ verb: 'patch', resource: resourceId(r), namespace, name, subresource, object: structuredClone(patch) });
    return structuredClone(stored ?? next);
  }

  async delete(r: ResourceRef, namespace: string, name: string, opts: DeleteOptions = {}): Promise<KubeObject | undefined> {
    this.maybeFail('delete', r);
    const cur = this.current(r, namespace, name, opts.preconditions?.resourceVersion);
    if (opts.preconditions?.uid && opts.preconditions.uid !== cur.metadata.uid) {
      throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${cur.metadata.uid}`);
    }
    this.record({ verb: 'delete', resource: resourceId(r), namespace, name, object: opts });
    const next = structuredClone(cur);
    const fin = new Set(next.metadata.finalizers ?? []);
    if (opts.propagationPolicy === 'Foreground') fin.add('foregroundDeletion');
    if (opts.propagationPolicy === 'Orphan') fin.add('orphan');
    // Namespaces always go through the namespace controller (the `kubernetes` spec finalizer).
    const nsFinalizers = r.resource === 'namespaces' ? (next.spec?.finalizers ?? []) : [];
    if (fin.size === 0 && nsFinalizers.length === 0) {
      this.remove(r, cur);
      return undefined;
    }
    if (cur.metadata.deletionTimestamp && fin.size === (cur.metadata.finalizers ?? []).length) return structuredClone(cur);
    next.metadata.finalizers = [...fin];
    next.metadata.deletionTimestamp ??= rfc3339(this.now);
    next.metadata.deletionGracePeriodSeconds ??= 0;
    if (r.resource === 'namespaces') next.status = { ...(next.status ?? {}), phase: 'Terminating' };
    return structuredClone(this.finishWrite(r, next, true)!);
  }

  async createSubresource(r: ResourceRef, namespace: string, name: string, subresource: string, body: any): Promise<unknown> {
    this.maybeFail('createSubresource', r);
    const cur = this.current(r, namespace, name, undefined);
    this.record({ verb: 'createSubresource', resource: resourceId(r), namespace, name, subresource, object: structuredClone(body) });
    if (r.resource === 'pods' && subresource === 'binding') {
      if (cur.spec?.nodeName) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${cur.spec.nodeName}"`);
      const next = structuredClone(cur);
      next.spec.nodeName = body.target.name;
      next.status ??= {};
      next.status.conditions = [...(next.status.conditions ?? []).filter((c: any) => c.type !== 'PodScheduled'),
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(this.now) }];
      this.finishWrite(r, next);
      return { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 201 };
    }
    if (r.resource === 'pods' && subresource === 'eviction') {
      this.remove(r, cur);
      return { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 201 };
    }
    throw new ApiError(404, 'NotFound', `the server could not find the requested resource (post ${r.resource}/${subresource})`);
  }

  // ---- internals ---------------------------------------------------------------------------

  private key(r: ResourceRef, namespace: string, name: string): string {
    return `${r.group}/${r.resource}/${r.namespaced ? namespace : ''}/${name}`;
  }

  private specOf(o: KubeObject): unknown {
    const { metadata: _m, status: _s, ...rest } = o;
    return rest;
  }

  private record(a: Action): void { this.actions.push(structuredClone(a)); }

  private maybeFail(verb: string, r: ResourceRef): void {
    const i = this.failures.findIndex((f) => f.verb === verb && f.resource === resourceId(r));
    if (i < 0) return;
    const f = this.failures[i];
    if (--f.times <= 0) this.failures.splice(i, 1);
    throw f.err;
  }

  private current(r: ResourceRef, namespace: string, name: string, rv: string | undefined): KubeObject {
    const s = this.objects.get(this.key(r, namespace, name));
    if (!s) throw notFound(r, name);
    if (rv && rv !== s.obj.metadata.resourceVersion) throw conflict(r, name);
    return s.obj;
  }

  private prepareCreate(r: ResourceRef, namespace: string, o: KubeObject): KubeObject {
    o.metadata ??= {};
    if (r.namespaced) o.metadata.namespace = namespace || o.metadata.namespace || 'default';
    else delete o.metadata.namespace;
    if (!o.metadata.name) {
      if (!o.metadata.generateName) throw new ApiError(422, 'Invalid', `${r.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
      do {
        let s = '';
        for (let i = 0; i < 5; i++) s += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
        o.metadata.name = o.metadata.generateName.slice(0, 58) + s;
      } while (this.objects.has(this.key(r, namespace, o.metadata.name)));
    }
    if (this.objects.has(this.key(r, o.metadata.namespace ?? '', o.metadata.name))) throw alreadyExists(r, o.metadata.name);
    o.apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    o.kind = r.kind;
    o.metadata.uid = randomUUID();
    o.metadata.creationTimestamp = rfc3339(this.now);
    o.metadata.generation = 1;
    delete o.metadata.deletionTimestamp;
    return o;
  }

  /** Stores a new version; an object being deleted whose finalizers are all gone is removed. */
  private finishWrite(r: ResourceRef, o: KubeObject, forceKeep = false): KubeObject | undefined {
    const nsPending = r.resource === 'namespaces' && (o.spec?.finalizers ?? []).length > 0;
    if (!forceKeep && o.metadata.deletionTimestamp && !(o.metadata.finalizers ?? []).length && !nsPending) {
      this.remove(r, o);
      return undefined;
    }
    return this.store(r, o, 'MODIFIED');
  }

  private store(r: ResourceRef, o: KubeObject, type: 'ADDED' | 'MODIFIED'): KubeObject {
    o.metadata.resourceVersion = String(++this.rv);
    this.objects.set(this.key(r, o.metadata.namespace ?? '', o.metadata.name!), { obj: o, r });
    this.emit(r, { type, object: o });
    return o;
  }

  private remove(r: ResourceRef, o: KubeObject): void {
    this.objects.delete(this.key(r, o.metadata.namespace ?? '', o.metadata.name!));
    const gone = structuredClone(o);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit(r, { type: 'DELETED', object: gone });
  }

  private matches(w: Watcher, r: ResourceRef, o: KubeObject): boolean {
    return w.r.resource === r.resource && w.r.group === r.group
      && (w.namespace === undefined || o.metadata.namespace === w.namespace) && w.sel(o);
  }

  private emit(r: ResourceRef, ev: WatchEvent): void {
    const frozen = structuredClone(ev);
    this.history.push({ rv: this.rv, r, ev: frozen });
    if (this.history.length > 50_000) { this.history.splice(0, 10_000); this.compactedRV = this.history[0].rv - 1; }
    for (const w of this.watchers) {
      if (!this.matches(w, r, frozen.object)) continue;
      setImmediate(() => { if (!w.stopped) w.cb(structuredClone(frozen)); });
    }
  }
}
