// Garbage collector: deletes objects whose owners are all gone (Background propagation),
// deletes dependents first for owners in foreground deletion (the foregroundDeletion finalizer,
// honouring blockOwnerDeletion), and orphans dependents for owners deleted with the orphan
// finalizer. Watches a fixed set of built-in kinds (upstream discovers every deletable resource).
import { R, isNotFound, type Informer, type ResourceRef } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { type KubeObject, type OwnerReference } from '../types';

/** Kinds the collector tracks as owners and dependents. */
export const GC_RESOURCES: ResourceRef[] = [
  R.pods, R.replicasets, R.deployments, R.statefulsets, R.daemonsets, R.controllerrevisions, R.jobs, R.cronjobs,
  R.endpointslices, R.persistentvolumeclaims, R.configmaps, R.secrets, R.services, R.serviceaccounts, R.nodes,
];

const FOREGROUND = 'foregroundDeletion';
const ORPHAN = 'orphan';

export class GarbageCollector extends QueueController {
  private readonly informers: Informer[];
  private readonly byKind = new Map<string, number>();

  constructor(ctx: ControllerContext) {
    super('garbagecollector', ctx, 'garbage-collector-controller');
    this.informers = GC_RESOURCES.map((r) => this.informer(r));
    GC_RESOURCES.forEach((r, i) => this.byKind.set(`${r.group}/${r.kind}`, i));
    this.informers.forEach((inf, i) => {
      const onChange = (o: KubeObject) => {
        if (o.metadata.ownerReferences?.length) this.queue.add(itemKey('dep', i, o));
        const fin = o.metadata.finalizers ?? [];
        if (o.metadata.deletionTimestamp && (fin.includes(FOREGROUND) || fin.includes(ORPHAN))) this.queue.add(itemKey('owner', i, o));
      };
      inf.addEventHandler({
        onAdd: onChange,
        onUpdate: (_o, n) => onChange(n),
        onDelete: (o) => {
          // The owner went away: its dependents must be looked at; a dependent that went away may
          // unblock its foreground-deleting owner.
          for (const [j, dep] of this.dependentsOf(o.metadata.uid!)) this.queue.add(itemKey('dep', j, dep));
          for (const ref of o.metadata.ownerReferences ?? []) {
            const owner = this.findOwner(o, ref);
            if (owner) this.queue.add(itemKey('owner', owner[0], owner[1]));
          }
        },
      });
    });
  }

  private dependentsOf(uid: string): Array<[number, KubeObject]> {
    const out: Array<[number, KubeObject]> = [];
    this.informers.forEach((inf, i) => { for (const o of inf.store.byOwner(uid)) out.push([i, o]); });
    return out;
  }

  private resourceOfRef(ref: OwnerReference): number | undefined {
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    return this.byKind.get(`${group}/${ref.kind}`);
  }

  /** The owner named by ref, from the cache, if it exists with that uid. */
  private findOwner(dep: KubeObject, ref: OwnerReference): [number, KubeObject] | undefined {
    const i = this.resourceOfRef(ref);
    if (i === undefined) return undefined;
    const r = GC_RESOURCES[i];
    const o = this.informers[i].store.get(r.namespaced ? dep.metadata.namespace ?? '' : '', ref.name);
    return o && o.metadata.uid === ref.uid ? [i, o] : undefined;
  }

  /** Verifies against the API (not the cache) whether the owner exists; unknown kinds count as existing. */
  private async ownerState(dep: KubeObject, ref: OwnerReference): Promise<'absent' | 'present' | 'foreground'> {
    const i = this.resourceOfRef(ref);
    if (i === undefined) return 'present';
    const r = GC_RESOURCES[i];
    try {
      const o = await this.client.get(r, r.namespaced ? dep.metadata.namespace ?? '' : '', ref.name);
      if (o.metadata.uid !== ref.uid) return 'absent';
      if (o.metadata.deletionTimestamp && (o.metadata.finalizers ?? []).includes(FOREGROUND)) return 'foreground';
      return 'present';
    } catch (e) {
      if (isNotFound(e)) return 'absent';
      throw e;
    }
  }

  async sync(key: string): Promise<void> {
    const [kind, idx, ns, name] = parseItem(key);
    const r = GC_RESOURCES[idx];
    const obj = this.informers[idx].store.get(ns, name);
    if (!obj) return;
    if (kind === 'dep') await this.attemptToDeleteDependent(r, obj);
    else await this.processDeletingOwner(r, obj);
  }

  private async attemptToDeleteDependent(r: ResourceRef, obj: KubeObject): Promise<void> {
    const refs = obj.metadata.ownerReferences ?? [];
    if (!refs.length || obj.metadata.deletionTimestamp) return;
    const states = await Promise.all(refs.map((ref) => this.ownerState(obj, ref)));
    const absent = refs.filter((_, i) => states[i] === 'absent');
    const foregroundBlocking = refs.some((ref, i) => states[i] === 'foreground' && ref.blockOwnerDeletion);
    const present = states.filter((s) => s === 'present').length;
    if (present === 0) {
      // The owner waits on us in foreground: delete ourselves in foreground too, so our own
      // blocking dependents go first.
      const policy = foregroundBlocking ? 'Foreground' : 'Background';
      try {
        await this.client.delete(r, obj.metadata.namespace ?? '', obj.metadata.name!, { propagationPolicy: policy, preconditions: { uid: obj.metadata.uid } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return;
    }
    if (absent.length) {
      // Some owners are gone but others remain: drop the dangling references only.
      const keep = refs.filter((ref) => !absent.includes(ref));
      await this.client.patch(r, obj.metadata.namespace ?? '', obj.metadata.name!, 'json', [
        { op: 'test', path: '/metadata/uid', value: obj.metadata.uid },
        { op: 'add', path: '/metadata/ownerReferences', value: keep },
      ]).catch((e) => { if (!isNotFound(e)) throw e; });
    }
  }

  private async processDeletingOwner(r: ResourceRef, owner: KubeObject): Promise<void> {
    const fin = owner.metadata.finalizers ?? [];
    const deps = this.dependentsOf(owner.metadata.uid!);
    if (fin.includes(ORPHAN)) {
      for (const [j, dep] of deps) {
        const keep = (dep.metadata.ownerReferences ?? []).filter((x) => x.uid !== owner.metadata.uid);
        await this.client.patch(GC_RESOURCES[j], dep.metadata.namespace ?? '', dep.metadata.name!, 'json', [
          { op: 'test', path: '/metadata/uid', value: dep.metadata.uid },
          { op: 'add', path: '/metadata/ownerReferences', value: keep },
        ]).catch((e) => { if (!isNotFound(e)) throw e; });
      }
      await this.removeFinalizer(r, owner, ORPHAN);
      return;
    }
    if (fin.includes(FOREGROUND)) {
      let blocking = 0;
      for (const [j, dep] of deps) {
        const ref = dep.metadata.ownerReferences!.find((x) => x.uid === owner.metadata.uid)!;
        if (ref.blockOwnerDeletion) blocking++;
        if (!dep.metadata.deletionTimestamp) {
          await this.client.delete(GC_RESOURCES[j], dep.metadata.namespace ?? '', dep.metadata.name!, {
            propagationPolicy: ref.blockOwnerDeletion ? 'Foreground' : 'Background', preconditions: { uid: dep.metadata.uid },
          }).catch((e) => { if (!isNotFound(e)) throw e; });
        }
      }
      // Finalize only once no blocking dependent remains (the cache may lag: re-check live).
      if (blocking > 0) return;
      await this.removeFinalizer(r, owner, FOREGROUND);
    }
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

function itemKey(kind: 'dep' | 'owner', idx: number, o: KubeObject): string {
  return `${kind}|${idx}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
}

function parseItem(key: string): ['dep' | 'owner', number, string, string] {
  const [kind, idx, ns, name] = key.split('|');
  return [kind as 'dep' | 'owner', Number(idx), ns, name];
}
