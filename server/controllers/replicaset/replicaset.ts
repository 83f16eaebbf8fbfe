// ReplicaSet controller: keeps spec.replicas active pods matching the selector, created from the
// template; adopts orphans and releases pods it no longer selects; writes status.
import { R, type Informer } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { fromLabelSelector } from '../selectors';
import { clone, controllerRef, keyOf, rfc3339, splitKey, type KubeObject } from '../types';
import { claimObjects } from '../util/claim';
import { Expectations } from '../util/expectations';
import { isPodActive, isPodAvailable, isPodReady, ownerRefFor, podFromTemplate, setCondition, removeCondition } from '../util/pods';

/** Upstream BurstReplicas: at most this many creates/deletes per sync. */
export const BURST_REPLICAS = 500;
const SLOW_START_INITIAL_BATCH = 1;

/**
 * Which pods to delete first (upstream ActivePods ordering, simplified): unassigned before
 * assigned, Pending before Unknown before Running, not-ready before ready, more recently ready
 * first, more restarts first, newer before older.
 */
export function deletionRank(a: KubeObject, b: KubeObject): number {
  const assigned = (p: KubeObject) => (p.spec?.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const phaseRank = (p: KubeObject) => ({ Pending: 0, Unknown: 1, Running: 2 } as Record<string, number>)[p.status?.phase ?? 'Pending'] ?? 0;
  if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
  const ready = (p: KubeObject) => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  const readySince = (p: KubeObject) => Date.parse((p.status?.conditions ?? []).find((c: any) => c.type === 'Ready')?.lastTransitionTime ?? '') || 0;
  if (ready(a) && readySince(a) !== readySince(b)) return readySince(b) - readySince(a);
  const restarts = (p: KubeObject) => (p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const created = (p: KubeObject) => Date.parse(p.metadata.creationTimestamp ?? '') || 0;
  if (created(a) !== created(b)) return created(b) - created(a);
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? 1 : -1;
}

export class ReplicaSetController extends QueueController {
  readonly expectations: Expectations;
  private readonly rsInformer: Informer;
  private readonly podInformer: Informer;

  constructor(ctx: ControllerContext) {
    super('replicaset', ctx, 'replicaset-controller');
    this.expectations = new Expectations(() => ctx.clock.now());
    this.rsInformer = this.informer(R.replicasets);
    this.podInformer = this.informer(R.pods);
    this.rsInformer.addEventHandler({
      onAdd: (o) => this.enqueue(o),
      onUpdate: (_o, n) => this.enqueue(n),
      onDelete: (o) => { this.expectations.delete(keyOf(o)); this.enqueue(o); },
    });
    this.podInformer.addEventHandler({
      onAdd: (p) => {
        const owner = this.ownerKey(p);
        if (owner) { this.expectations.creationObserved(owner); this.queue.add(owner); return; }
        this.enqueueSelecting(p);
      },
      onUpdate: (o, n) => {
        if (o === n) return;
        const ok = this.ownerKey(o);
        const nk = this.ownerKey(n);
        if (n.metadata.deletionTimestamp && !o.metadata.deletionTimestamp && nk) this.expectations.deletionObserved(nk, keyOf(n));
        if (ok && ok !== nk) this.queue.add(ok);
        if (nk) this.queue.add(nk); else this.enqueueSelecting(n);
      },
      onDelete: (p) => {
        const owner = this.ownerKey(p);
        if (owner) { this.expectations.deletionObserved(owner, keyOf(p)); this.queue.add(owner); }
      },
    });
  }

  private ownerKey(p: KubeObject): string | undefined {
    const ref = controllerRef(p);
    if (!ref || ref.kind !== 'ReplicaSet') return undefined;
    const rs = this.rsInformer.store.get(p.metadata.namespace!, ref.name);
    if (!rs || rs.metadata.uid !== ref.uid) return undefined;
    return keyOf(rs);
  }

  private enqueueSelecting(p: KubeObject): void {
    for (const rs of this.rsInformer.store.list(p.metadata.namespace)) {
      if (fromLabelSelector(rs.spec?.selector).matches(p.metadata.labels)) this.enqueue(rs);
    }
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const rs = this.rsInformer.store.get(namespace, name);
    if (!rs) { this.expectations.delete(key); return; }
    const selector = fromLabelSelector(rs.spec?.selector);
    const needsSync = this.expectations.satisfied(key) && !rs.metadata.deletionTimestamp;
    const candidates = this.podInformer.store.list(namespace).filter(isPodActive);
    const ref = ownerRefFor(rs, 'apps/v1', 'ReplicaSet');
    const pods = await claimObjects(this.client, R.pods, rs, ref, selector, candidates, true);
    let manageError: Error | undefined;
    if (needsSync) {
      try { await this.manageReplicas(key, rs, pods); } catch (e) { manageError = e as Error; }
    }
    await this.updateStatus(rs, pods, manageError);
    if (manageError) throw manageError;
    const minReady = rs.spec?.minReadySeconds ?? 0;
    if (minReady > 0) {
      const now = this.ctx.clock.now();
      if (pods.some((p) => isPodReady(p) && !isPodAvailable(p, minReady, now))) this.queue.addAfter(key, minReady * 1000);
    }
  }

  private async manageReplicas(key: string, rs: KubeObject, pods: KubeObject[]): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    let diff = pods.length - want;
    if (diff < 0) {
      // Before creating, confirm against a consistent read: an informer that re-listed or fell
      // behind must never make us create pods that already exist.
      const live = (await this.client.list(R.pods, rs.metadata.namespace!, { labelSelector: fromLabelSelector(rs.spec?.selector).toString() })).items
        .filter((p) => isPodActive(p) && controllerRef(p)?.uid === rs.metadata.uid);
      if (live.length > pods.length) {
        diff = live.length - want;
        if (diff >= 0) { this.queue.addAfter(key, 100); return; }
      }
      const n = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expectCreations(key, n);
      const ref = ownerRefFor(rs, 'apps/v1', 'ReplicaSet');
      // Slow start: 1, 2, 4, ... so a failing template costs few API calls.
      let remaining = n;
      let batch = Math.min(remaining, SLOW_START_INITIAL_BATCH);
      let created = 0;
      while (batch > 0) {
        const results = await Promise.allSettled(Array.from({ length: batch }, () =>
          this.client.create(R.pods, rs.metadata.namespace!, podFromTemplate(rs.spec.template, rs, ref))));
        const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
        created += batch - failed.length;
        if (failed.length) {
          // Never wait for pods that were not created.
          this.expectations.lowerCreations(key, remaining - (batch - failed.length));
          const msg = (failed[0].reason as Error).message;
          this.recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${msg}`);
          throw new ReplicaSetSyncError(`creating pods for ${key}: ${msg}`);
        }
        remaining -= batch;
        batch = Math.min(remaining, 2 * batch);
      }
      if (created) this.recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created ${created} pod${created === 1 ? '' : 's'}`);
      return;
    }
    if (diff > 0) {
      const n = Math.min(diff, BURST_REPLICAS);
      const victims = [...pods].sort(deletionRank).slice(0, n);
      this.expectations.expectDeletions(key, victims.map(keyOf));
      const results = await Promise.allSettled(victims.map((p) =>
        this.client.delete(R.pods, p.metadata.namespace!, p.metadata.name!, { preconditions: { uid: p.metadata.uid } })));
      let deleted = 0;
      for (let i = 0; i < results.length; i++) {
        const r = results[i];
        if (r.status === 'fulfilled') { deleted++; continue; }
        this.expectations.deletionObserved(key, keyOf(victims[i]));
        if ((r.reason as any)?.reason !== 'NotFound') {
          this.recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${(r.reason as Error).message}`);
          throw new ReplicaSetSyncError(`deleting pods for ${key}: ${(r.reason as Error).message}`);
        }
      }
      if (deleted) this.recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted ${deleted} pod${deleted === 1 ? '' : 's'}`);
    }
  }

  private async updateStatus(rs: KubeObject, pods: KubeObject[], err?: Error): Promise<void> {
    const now = this.ctx.clock.now();
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const tmplLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
    const status: any = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter((p) => Object.entries(tmplLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
      readyReplicas: pods.filter(isPodReady).length,
      availableReplicas: pods.filter((p) => isPodAvailable(p, minReady, now)).length,
      observedGeneration: rs.metadata.generation,
    };
    let conds = rs.status?.conditions;
    if (err && (rs.spec?.replicas ?? 1) > pods.length) {
      conds = setCondition(conds, { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: err.message, lastTransitionTime: rfc3339(now) });
    } else if (!err) {
      conds = removeCondition(conds, 'ReplicaFailure');
    }
    if (conds?.length) status.conditions = conds;
    const cur = rs.status ?? {};
    const same = ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']
      .every((k) => (cur[k] ?? 0) === (status[k] ?? 0)) && JSON.stringify(cur.conditions ?? []) === JSON.stringify(status.conditions ?? []);
    if (same) return;
    const next = clone(rs);
    next.status = status;
    await this.client.updateStatus(R.replicasets, next);
  }
}

export class ReplicaSetSyncError extends Error {
  readonly code = 'ReplicaSetSyncFailed';
  constructor(m: string) { super(m); this.name = 'ReplicaSetSyncError'; }
}
