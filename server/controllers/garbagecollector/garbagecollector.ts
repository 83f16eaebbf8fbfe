// Garbage collector: deletes objects whose owners are all gone (Background propagation),
// deletes dependents first for owners in foreground deletion (the foregroundDeletion finalizer,
// honouring blockOwnerDeletion), and orphans dependents for owners deleted with the orphan
// finalizer. Like upstream it monitors every deletable resource: each built-in one that supports
// delete/list/watch (from api/scheme's table) and each Established CRD's resource, adding and
// removing monitors as CRDs come and go. Kinds some other controller already informs on share that
// informer; every other kind is watched through a metadata-only informer of the collector's own.
import { Informer, isNotFound, resourceId, type ResourceRef } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { type KubeObject, type OwnerReference } from '../types';
import { CRD_RESOURCE, MetadataOnlyClient, deletableBuiltins, resourceOfCrd } from './resources';

const FOREGROUND = 'foregroundDeletion';
const ORPHAN = 'orphan';
/** How long an owner's foreground/orphan processing waits for every monitor's first list. */
const MONITOR_SYNC_WAIT_MS = 10_000;

/** One monitored resource: its informer and whether the collector started (and must stop) it. */
interface Monitor {
  readonly id: string;
  readonly r: ResourceRef;
  readonly informer: Informer;
  readonly own: boolean;
}

type OwnerState = 'absent' | 'present' | 'foreground';

export class GarbageCollector extends QueueController {
  /** Monitors by resource id (`deployments.apps`): stable keys as monitors come and go. */
  private readonly monitors = new Map<string, Monitor>();
  /** `group/Kind` -> resource id, for resolving owner references (any version of the group). */
  private readonly byKind = new Map<string, string>();
  /** Queue keys that failed on an owner kind nobody serves yet, by `group/Kind`: retried when it appears. */
  private readonly unresolved = new Map<string, Set<string>>();
  /** `group/Kind` of CRDs seen deleted (and not re-created): their objects went with them. */
  private readonly goneKinds = new Set<string>();
  private readonly crds: Informer;
  private readonly metadataClient: MetadataOnlyClient;
  private running = false;

  constructor(ctx: ControllerContext) {
    super('garbagecollector', ctx, 'garbage-collector-controller');
    this.metadataClient = new MetadataOnlyClient(ctx.client);
    // Discovery of custom resources: the manager waits for this cache before run().
    this.crds = this.informer(CRD_RESOURCE);
    const changed = () => this.syncMonitors();
    this.crds.addEventHandler({
      onAdd: changed,
      onUpdate: changed,
      onDelete: (crd) => {
        // The apiserver deletes a CRD's objects with it: owners of its kind are gone for good.
        const spec = crd.spec ?? {};
        if (spec.group !== undefined && spec.names?.kind) this.goneKinds.add(`${spec.group}/${spec.names.kind}`);
        changed();
      },
    });
  }

  /** The resource ids monitored right now (for diagnostics and tests). */
  monitoredResources(): string[] { return [...this.monitors.keys()]; }

  /** A monitor's cache, and whether it is the collector's own metadata-only informer (diagnostics, tests). */
  monitor(id: string): { store: Informer['store']; own: boolean; synced: boolean } | undefined {
    const m = this.monitors.get(id);
    return m && { store: m.informer.store, own: m.own, synced: m.informer.hasSynced() };
  }

  override run(workers: number): Promise<void> {
    // Monitors are chosen here, not in the constructor: by now every controller has asked for its
    // informers, so the collector knows which full caches it can share.
    this.running = true;
    this.syncMonitors();
    return super.run(workers);
  }

  override shutDown(): void {
    this.running = false;
    for (const m of this.monitors.values()) if (m.own) m.informer.stop();
    super.shutDown();
  }

  /** Brings the monitors in line with the built-in table and the Established CRDs (upstream's resyncMonitors). */
  private syncMonitors(): void {
    if (!this.running) return;
    const want = new Map<string, ResourceRef>();
    for (const r of deletableBuiltins()) want.set(resourceId(r), r);
    for (const crd of this.crds.store.list()) {
      const r = resourceOfCrd(crd);
      // A CRD cannot shadow a built-in resource; the apiserver serves the built-in one.
      if (r && !want.has(resourceId(r))) want.set(resourceId(r), r);
    }
    for (const m of [...this.monitors.values()]) {
      const r = want.get(m.id);
      if (!r || r.version !== m.r.version || r.kind !== m.r.kind || r.namespaced !== m.r.namespaced) this.removeMonitor(m);
    }
    const added: ResourceRef[] = [];
    for (const [id, r] of want) {
      if (this.monitors.has(id)) continue;
      this.addMonitor(r);
      added.push(r);
    }
    this.byKind.clear();
    for (const m of this.monitors.values()) { this.byKind.set(`${m.r.group}/${m.r.kind}`, m.id); this.goneKinds.delete(`${m.r.group}/${m.r.kind}`); }
    // Dependents that waited on one of these kinds get another look now, without their back-off.
    for (const r of added) {
      const gk = `${r.group}/${r.kind}`;
      for (const key of this.unresolved.get(gk) ?? []) { this.queue.forget(key); this.queue.add(key); }
      this.unresolved.delete(gk);
    }
  }

  private addMonitor(r: ResourceRef): void {
    const id = resourceId(r);
    const shared = this.ctx.informers.existing(r);
    const informer = shared ?? new Informer(this.metadataClient, r, { logger: this.ctx.logger });
    const m: Monitor = { id, r, informer, own: !shared };
    this.monitors.set(id, m);
    const live = () => this.monitors.get(id) === m;
    const onChange = (o: KubeObject) => {
      if (!live()) return;
      if (o.metadata.ownerReferences?.length) this.queue.add(itemKey('dep', id, o));
      const fin = o.metadata.finalizers ?? [];
      if (o.metadata.deletionTimestamp && (fin.includes(FOREGROUND) || fin.includes(ORPHAN))) this.queue.add(itemKey('owner', id, o));
    };
    informer.addEventHandler({
      onAdd: onChange,
      onUpdate: (o, n) => {
        onChange(n);
        // An owner this object no longer names may have been waiting on it (foreground).
        if (!live()) return;
        const still = new Set((n.metadata.ownerReferences ?? []).map((r) => r.uid));
        for (const ref of o.metadata.ownerReferences ?? []) {
          if (still.has(ref.uid)) continue;
          const owner = this.findOwner(o, ref);
          if (owner) this.queue.add(itemKey('owner', owner[0].id, owner[1]));
        }
      },
      onDelete: (o) => { if (live()) this.onGone(o); },
    });
    if (m.own) informer.run();
  }

  private removeMonitor(m: Monitor): void {
    this.monitors.delete(m.id);
    if (m.own) m.informer.stop();
    // As far as the collector can tell these objects are gone: their dependents need a look.
    for (const o of m.informer.store.list()) this.onGone(o);
  }

  /** An object went away: its dependents must be looked at; a dependent that went away may unblock its foreground-deleting owner. */
  private onGone(o: KubeObject): void {
    for (const [id, dep] of this.dependentsOf(o.metadata.uid!)) this.queue.add(itemKey('dep', id, dep));
    for (const ref of o.metadata.ownerReferences ?? []) {
      const owner = this.findOwner(o, ref);
      if (owner) this.queue.add(itemKey('owner', owner[0].id, owner[1]));
    }
  }

  private dependentsOf(uid: string): Array<[string, KubeObject]> {
    const out: Array<[string, KubeObject]> = [];
    for (const m of this.monitors.values()) for (const o of m.informer.store.byOwner(uid)) out.push([m.id, o]);
    return out;
  }

  private monitorOfRef(ref: OwnerReference): Monitor | undefined {
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    const id = this.byKind.get(`${group}/${ref.kind}`);
    return id === undefined ? undefined : this.monitors.get(id);
  }

  /** The owner named by ref, from the cache, if it exists with that uid. */
  private findOwner(dep: KubeObject, ref: OwnerReference): [Monitor, KubeObject] | undefined {
    const m = this.monitorOfRef(ref);
    if (!m) return undefined;
    const o = m.informer.store.get(m.r.namespaced ? dep.metadata.namespace ?? '' : '', ref.name);
    return o && o.metadata.uid === ref.uid ? [m, o] : undefined;
  }

  /**
   * Verifies against the API (not the cache) whether the owner exists. An owner kind no monitored
   * resource serves is an error, retried with back-off (upstream's restMappingError): the kind may
   * be a CRD not Established yet, and the dependent must not be collected meanwhile. The one
   * exception is a kind whose CRD this collector saw deleted: that owner is absent.
   */
  private async ownerState(key: string, dep: KubeObject, ref: OwnerReference): Promise<OwnerState> {
    const m = this.monitorOfRef(ref);
    if (!m) {
      const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
      const gk = `${group}/${ref.kind}`;
      if (this.goneKinds.has(gk)) return 'absent';
      let keys = this.unresolved.get(gk);
      if (!keys) this.unresolved.set(gk, keys = new Set());
      keys.add(key);
      throw new OwnerKindUnresolvedError(ref);
    }
    // A cluster-scoped object cannot be owned by a namespaced one (upstream leaves it alone too).
    if (m.r.namespaced && !dep.metadata.namespace) return 'present';
    try {
      const o = await this.client.get(m.r, m.r.namespaced ? dep.metadata.namespace ?? '' : '', ref.name);
      if (o.metadata.uid !== ref.uid) return 'absent';
      if (o.metadata.deletionTimestamp && (o.metadata.finalizers ?? []).includes(FOREGROUND)) return 'foreground';
      return 'present';
    } catch (e) {
      if (isNotFound(e)) return 'absent';
      throw e;
    }
  }

  async sync(key: string): Promise<void> {
    const [kind, id, ns, name] = parseItem(key);
    const m = this.monitors.get(id);
    const obj = m?.informer.store.get(ns, name);
    if (!m || !obj) {
      for (const keys of this.unresolved.values()) keys.delete(key);
      return;
    }
    if (kind === 'dep') await this.attemptToDeleteDependent(key, m.r, obj);
    else await this.processDeletingOwner(m.r, obj);
  }

  private async attemptToDeleteDependent(key: string, r: ResourceRef, obj: KubeObject): Promise<void> {
    const refs = obj.metadata.ownerReferences ?? [];
    if (!refs.length || obj.metadata.deletionTimestamp) return;
    const states = await Promise.all(refs.map((ref) => this.ownerState(key, obj, ref)));
    const present = states.filter((s) => s === 'present').length;
    if (present === 0) {
      // The owner waits on us in foreground: delete ourselves in foreground too, so our own
      // blocking dependents go first.
      const foregroundBlocking = refs.some((ref, i) => states[i] === 'foreground' && ref.blockOwnerDeletion);
      const fin = obj.metadata.finalizers ?? [];
      const policy = foregroundBlocking || fin.includes(FOREGROUND) ? 'Foreground' : fin.includes(ORPHAN) ? 'Orphan' : 'Background';
      try {
        await this.client.delete(r, obj.metadata.namespace ?? '', obj.metadata.name!, { propagationPolicy: policy, preconditions: { uid: obj.metadata.uid } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return;
    }
    // Some owners remain: drop references to gone owners, and to owners waiting on their
    // dependents in foreground (they must not wait on an object another owner keeps).
    const drop = refs.filter((_, i) => states[i] !== 'present');
    if (drop.length) {
      const keep = refs.filter((ref) => !drop.includes(ref));
      await this.client.patch(r, obj.metadata.namespace ?? '', obj.metadata.name!, 'json', [
        { op: 'test', path: '/metadata/uid', value: obj.metadata.uid },
        { op: 'add', path: '/metadata/ownerReferences', value: keep },
      ]).catch((e) => { if (!isNotFound(e)) throw e; });
    }
  }

  /** Never decide that an owner has no dependents from a cache that has not listed yet. */
  private async waitForMonitors(): Promise<void> {
    const pending = [...this.monitors.values()].filter((m) => !m.informer.hasSynced());
    if (!pending.length) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((res) => { timer = setTimeout(res, MONITOR_SYNC_WAIT_MS); });
    await Promise.race([Promise.all(pending.map((m) => m.informer.waitForSync())), timeout]);
    clearTimeout(timer);
    const still = pending.filter((m) => !m.informer.hasSynced() && this.monitors.get(m.id) === m);
    if (still.length) throw new MonitorsNotSyncedError(still.map((m) => m.id));
  }

  private async processDeletingOwner(r: ResourceRef, owner: KubeObject): Promise<void> {
    const fin = owner.metadata.finalizers ?? [];
    if (!fin.includes(ORPHAN) && !fin.includes(FOREGROUND)) return;
    await this.waitForMonitors();
    const deps = this.dependentsOf(owner.metadata.uid!);
    if (fin.includes(ORPHAN)) {
      for (const [id, dep] of deps) {
        const m = this.monitors.get(id);
        if (!m) continue;
        const keep = (dep.metadata.ownerReferences ?? []).filter((x) => x.uid !== owner.metadata.uid);
        await this.client.patch(m.r, dep.metadata.namespace ?? '', dep.metadata.name!, 'json', [
          { op: 'test', path: '/metadata/uid', value: dep.metadata.uid },
          { op: 'add', path: '/metadata/ownerReferences', value: keep },
        ]).catch((e) => { if (!isNotFound(e)) throw e; });
      }
      await this.removeFinalizer(r, owner, ORPHAN);
      return;
    }
    // Each dependent decides for itself (attemptToDeleteDependent): deleted when this owner was its
    // last, released from this owner when another live owner keeps it.
    let blocking = 0;
    for (const [id, dep] of deps) {
      const ref = dep.metadata.ownerReferences!.find((x) => x.uid === owner.metadata.uid)!;
      if (ref.blockOwnerDeletion) blocking++;
      if (!dep.metadata.deletionTimestamp) this.queue.add(itemKey('dep', id, dep));
    }
    // Finalize only once no blocking dependent remains; each one's deletion or release re-queues the owner.
    if (blocking > 0) return;
    await this.removeFinalizer(r, owner, FOREGROUND);
  }

  private async removeFinalizer(r: ResourceRef, owner: KubeObject, finalizer: string): Promise<void> {
    try {
      const live = await this.client.get(r, owner.metadata.namespace ?? '', owner.metadata.name!);
      if (live.metadata.uid !== owner.metadata.uid) return;
      live.metadata.finalizers = (live.metadata.finalizers ?? []).filter((f) => f !== finalizer);
      await this.client.update(r, live);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** An owner reference names a kind no monitored resource serves (yet). */
export class OwnerKindUnresolvedError extends Error {
  readonly code = 'OwnerKindUnresolved';
  constructor(ref: OwnerReference) {
    super(`owner reference ${ref.apiVersion}/${ref.kind} "${ref.name}": no served resource has this kind; will retry`);
    this.name = 'OwnerKindUnresolvedError';
  }
}

/** Some monitor has not listed yet, so an owner's dependents are not known. */
export class MonitorsNotSyncedError extends Error {
  readonly code = 'MonitorsNotSynced';
  constructor(ids: string[]) {
    super(`garbage collector monitors not synced yet: ${ids.join(', ')}`);
    this.name = 'MonitorsNotSyncedError';
  }
}

function itemKey(kind: 'dep' | 'owner', id: string, o: KubeObject): string {
  return `${kind}|${id}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
}

function parseItem(key: string): ['dep' | 'owner', string, string, string] {
  const [kind, id, ns, name] = key.split('|');
  return [kind as 'dep' | 'owner', id, ns, name];
}
