// Deployment controller: one ReplicaSet per pod template (named <deployment>-<hash>), rolled
// from old to new by RollingUpdate (maxSurge/maxUnavailable) or Recreate, with revisions,
// pause/resume, proportional scaling, history cleanup, and the Progressing/Available conditions
// that `kubectl rollout status` reads.
import { R, isAlreadyExists, isNotFound, type Informer } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { fromLabelSelector } from '../selectors';
import { clone, controllerRef, keyOf, rfc3339, splitKey, type Condition, type KubeObject } from '../types';
import { claimObjects } from '../util/claim';
import { computeHash, getCondition, isPodTerminal, ownerRefFor, removeCondition } from '../util/pods';
import {
  CHANGE_CAUSE, DESIRED_REPLICAS, MAX_REPLICAS, POD_TEMPLATE_HASH, REVISION, REVISION_HISTORY,
  byCreation, copiedAnnotations, deploymentComplete, deploymentProgressing, deploymentTimedOut, equalIgnoreHash,
  hasProgressDeadline, isRollingUpdate, maxSurge, maxUnavailable, replicas, revisionOf, sumSpec, sumStatus,
} from './util';

export class DeploymentSyncError extends Error {
  readonly code = 'DeploymentSyncFailed';
  constructor(m: string) { super(m); this.name = 'DeploymentSyncError'; }
}

export class DeploymentController extends QueueController {
  private readonly dInformer: Informer;
  private readonly rsInformer: Informer;
  private readonly podInformer: Informer;

  constructor(ctx: ControllerContext) {
    super('deployment', ctx, 'deployment-controller');
    this.dInformer = this.informer(R.deployments);
    this.rsInformer = this.informer(R.replicasets);
    this.podInformer = this.informer(R.pods);
    this.dInformer.addEventHandler({ onAdd: (o) => this.enqueue(o), onUpdate: (_o, n) => this.enqueue(n), onDelete: (o) => this.enqueue(o) });
    const onRS = (rs: KubeObject) => {
      const owner = this.ownerOf(rs);
      if (owner) { this.enqueue(owner); return; }
      for (const d of this.dInformer.store.list(rs.metadata.namespace)) {
        if (fromLabelSelector(d.spec?.selector).matches(rs.metadata.labels)) this.enqueue(d);
      }
    };
    this.rsInformer.addEventHandler({ onAdd: onRS, onUpdate: (o, n) => { if (o !== n) { onRS(n); const oo = this.ownerOf(o); if (oo) this.enqueue(oo); } }, onDelete: onRS });
    // Recreate waits for old pods to be gone: a pod deletion may unblock it.
    this.podInformer.addEventHandler({
      onDelete: (p) => {
        const ref = controllerRef(p);
        if (ref?.kind !== 'ReplicaSet') return;
        const rs = this.rsInformer.store.get(p.metadata.namespace!, ref.name);
        const d = rs && this.ownerOf(rs);
        if (d && !isRollingUpdate(d)) this.enqueue(d);
      },
    });
  }

  private ownerOf(rs: KubeObject): KubeObject | undefined {
    const ref = controllerRef(rs);
    if (ref?.kind !== 'Deployment') return undefined;
    const d = this.dInformer.store.get(rs.metadata.namespace!, ref.name);
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  private now(): number { return this.ctx.clock.now(); }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.dInformer.store.get(namespace, name);
    if (!cached) return;
    const d = clone(cached);
    const selector = fromLabelSelector(d.spec?.selector);
    if (!selector.nothing && selector.requirements.length === 0) {
      this.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        d.status = { ...(d.status ?? {}), observedGeneration: d.metadata.generation };
        await this.client.updateStatus(R.deployments, d);
      }
      return;
    }
    const ref = ownerRefFor(d, 'apps/v1', 'Deployment');
    const rsList = (await claimObjects(this.client, R.replicasets, d, ref, selector,
      this.rsInformer.store.list(namespace), true)).map(clone);

    if (d.metadata.deletionTimestamp) { await this.syncStatusOnly(d, rsList); return; }
    await this.checkPausedConditions(d);
    if (d.spec?.paused) { await this.scaleAndCleanup(d, rsList); return; }
    if (this.isScalingEvent(d, rsList)) { await this.scaleAndCleanup(d, rsList); return; }
    if (isRollingUpdate(d)) await this.rolloutRolling(d, rsList);
    else await this.rolloutRecreate(d, rsList);
  }

  // ---- ReplicaSets and revisions ------------------------------------------------------------

  private findNewRS(d: KubeObject, rsList: KubeObject[]): KubeObject | undefined {
    return [...rsList].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
  }

  /** getAllReplicaSetsAndSyncRevision: the new RS (created when asked) with its revision synced. */
  private async newAndOld(d: KubeObject, rsList: KubeObject[], create: boolean): Promise<{ newRS?: KubeObject; oldRSs: KubeObject[] }> {
    const existing = this.findNewRS(d, rsList);
    const oldRSs = rsList.filter((rs) => rs !== existing);
    const maxOld = oldRSs.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
    const newRevision = String(maxOld + 1);
    let newRS = existing;
    if (newRS) {
      const ann = { ...(newRS.metadata.annotations ?? {}) };
      let changed = false;
      const cur = ann[REVISION];
      if (!cur || Number(cur) < Number(newRevision)) {
        // A template reused by rollback keeps the revisions it had in revision-history.
        if (cur) ann[REVISION_HISTORY] = ann[REVISION_HISTORY] ? `${ann[REVISION_HISTORY]},${cur}` : cur;
        ann[REVISION] = newRevision;
        changed = true;
      }
      for (const [k, v] of Object.entries(copiedAnnotations(d))) if (ann[k] !== v) { ann[k] = v; changed = true; }
      if (d.metadata.annotations?.[CHANGE_CAUSE] === undefined && ann[CHANGE_CAUSE] !== undefined && !cur) { delete ann[CHANGE_CAUSE]; changed = true; }
      if (ann[DESIRED_REPLICAS] === undefined) { ann[DESIRED_REPLICAS] = String(replicas(d)); ann[MAX_REPLICAS] = String(replicas(d) + maxSurge(d)); changed = true; }
      if ((newRS.spec.minReadySeconds ?? 0) !== (d.spec.minReadySeconds ?? 0)) { newRS.spec.minReadySeconds = d.spec.minReadySeconds ?? 0; changed = true; }
      if (changed) {
        newRS.metadata.annotations = ann;
        newRS = await this.client.update(R.replicasets, newRS);
      }
      await this.setDeploymentRevision(d, newRS.metadata.annotations![REVISION]);
      if (!getCondition(d.status?.conditions, 'Progressing') && hasProgressDeadline(d)) {
        d.status = { ...(d.status ?? {}), conditions: this.withCondition(d, { type: 'Progressing', status: 'True', reason: 'FoundNewReplicaSet', message: `Found new replica set "${newRS.metadata.name}"` }) };
        d.status.observedGeneration = d.metadata.generation;
        Object.assign(d, await this.client.updateStatus(R.deployments, d));
      }
      return { newRS, oldRSs };
    }
    if (!create) return { oldRSs };

    const collision = d.status?.collisionCount;
    const hash = computeHash(d.spec.template, collision);
    const template = structuredClone(d.spec.template);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash } };
    const sel = structuredClone(d.spec.selector);
    sel.matchLabels = { ...(sel.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const draft: KubeObject = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace,
        labels: { ...(template.metadata.labels) },
        annotations: { ...copiedAnnotations(d), [REVISION]: newRevision, [DESIRED_REPLICAS]: String(replicas(d)), [MAX_REPLICAS]: String(replicas(d) + maxSurge(d)) },
        ownerReferences: [ownerRefFor(d, 'apps/v1', 'Deployment')],
      },
      spec: { replicas: 0, minReadySeconds: d.spec.minReadySeconds ?? 0, selector: sel, template },
    };
    draft.spec.replicas = this.newRSReplicas(d, [...oldRSs], draft);
    let created: KubeObject;
    try {
      created = await this.client.create(R.replicasets, d.metadata.namespace!, draft);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      // A ReplicaSet of that name exists: ours with the same template (a stale cache) is fine;
      // anything else is a hash collision, resolved by bumping collisionCount.
      const other = await this.client.get(R.replicasets, d.metadata.namespace!, draft.metadata.name!);
      if (controllerRef(other)?.uid === d.metadata.uid && equalIgnoreHash(other.spec.template, d.spec.template)) return { newRS: other, oldRSs };
      d.status = { ...(d.status ?? {}), collisionCount: (collision ?? 0) + 1 };
      await this.client.updateStatus(R.deployments, d);
      throw new DeploymentSyncError(`hash collision for ReplicaSet ${draft.metadata.name}; collisionCount is now ${d.status.collisionCount}`);
    }
    if (draft.spec.replicas > 0) {
      this.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${draft.spec.replicas}`);
    }
    await this.setDeploymentRevision(d, newRevision);
    if (hasProgressDeadline(d)) {
      d.status = { ...(d.status ?? {}), conditions: this.withCondition(d, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${created.metadata.name}"` }) };
      Object.assign(d, await this.client.updateStatus(R.deployments, d));
    }
    return { newRS: created, oldRSs };
  }

  private async setDeploymentRevision(d: KubeObject, rev: string | undefined): Promise<void> {
    if (!rev || d.metadata.annotations?.[REVISION] === rev) return;
    d.metadata.annotations = { ...(d.metadata.annotations ?? {}), [REVISION]: rev };
    const updated = await this.client.update(R.deployments, d);
    d.metadata = updated.metadata;
  }

  private withCondition(d: KubeObject, c: Omit<Condition, 'lastTransitionTime' | 'lastUpdateTime'>): Condition[] {
    const now = rfc3339(this.now());
    const cur = getCondition(d.status?.conditions, c.type);
    const keepTransition = cur && cur.status === c.status;
    return [...removeCondition(d.status?.conditions, c.type), { ...c, lastUpdateTime: now, lastTransitionTime: keepTransition ? cur!.lastTransitionTime : now } as Condition];
  }

  /** NewRSNewReplicas. */
  private newRSReplicas(d: KubeObject, allRSs: KubeObject[], newRS: KubeObject): number {
    if (!isRollingUpdate(d)) return replicas(d);
    const current = sumSpec(allRSs.filter((r) => r !== newRS)) + (newRS.spec.replicas ?? 0);
    const maxTotal = replicas(d) + maxSurge(d);
    if (current >= maxTotal) return newRS.spec.replicas ?? 0;
    const up = Math.min(maxTotal - current, replicas(d) - (newRS.spec.replicas ?? 0));
    return (newRS.spec.replicas ?? 0) + Math.max(0, up);
  }

  private async scaleRS(d: KubeObject, rs: KubeObject, n: number): Promise<KubeObject> {
    const sizeChanged = (rs.spec.replicas ?? 0) !== n;
    const desired = String(replicas(d));
    const max = String(replicas(d) + maxSurge(d));
    const ann = rs.metadata.annotations ?? {};
    if (!sizeChanged && ann[DESIRED_REPLICAS] === desired && ann[MAX_REPLICAS] === max) return rs;
    const old = rs.spec.replicas ?? 0;
    const next = clone(rs);
    next.spec.replicas = n;
    next.metadata.annotations = { ...ann, [DESIRED_REPLICAS]: desired, [MAX_REPLICAS]: max };
    const updated = await this.client.update(R.replicasets, next);
    Object.assign(rs, updated);
    if (sizeChanged) {
      this.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${n > old ? 'up' : 'down'} replica set ${rs.metadata.name} to ${n} from ${old}`);
    }
    return rs;
  }

  // ---- strategies -------------------------------------------------------------------------

  private async rolloutRolling(d: KubeObject, rsList: KubeObject[]): Promise<void> {
    const { newRS, oldRSs } = await this.newAndOld(d, rsList, true);
    const all = newRS ? [newRS, ...oldRSs] : oldRSs;
    // Scale up the new ReplicaSet within maxSurge.
    if (newRS) {
      const want = (newRS.spec.replicas ?? 0) === replicas(d) ? replicas(d)
        : (newRS.spec.replicas ?? 0) > replicas(d) ? replicas(d) : this.newRSReplicas(d, all, newRS);
      if (want !== (newRS.spec.replicas ?? 0)) {
        await this.scaleRS(d, newRS, want);
        await this.syncRolloutStatus(d, all, newRS);
        return;
      }
    }
    if (await this.reconcileOld(d, all, oldRSs, newRS)) {
      await this.syncRolloutStatus(d, all, newRS);
      return;
    }
    const status = this.calculateStatus(d, all, newRS);
    if (deploymentComplete(d, status)) await this.cleanup(d, oldRSs);
    await this.syncRolloutStatus(d, all, newRS);
  }

  /** reconcileOldReplicaSets: scale down old ReplicaSets without going below minAvailable. */
  private async reconcileOld(d: KubeObject, all: KubeObject[], oldRSs: KubeObject[], newRS?: KubeObject): Promise<boolean> {
    const oldCount = sumSpec(oldRSs);
    if (oldCount === 0) return false;
    const allCount = sumSpec(all);
    const minAvailable = replicas(d) - maxUnavailable(d);
    const newUnavailable = newRS ? (newRS.spec.replicas ?? 0) - (newRS.status?.availableReplicas ?? 0) : 0;
    const maxScaledDown = allCount - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    let scaled = 0;
    // First, unhealthy old replicas can go without hurting availability.
    const sorted = [...oldRSs].sort(byCreation);
    let budget = maxScaledDown;
    for (const rs of sorted) {
      if (budget <= 0) break;
      const unhealthy = (rs.spec.replicas ?? 0) - (rs.status?.availableReplicas ?? 0);
      if ((rs.spec.replicas ?? 0) === 0 || unhealthy <= 0) continue;
      const down = Math.min(budget, unhealthy);
      await this.scaleRS(d, rs, (rs.spec.replicas ?? 0) - down);
      budget -= down;
      scaled += down;
    }
    // Then healthy ones, as far as availability above minAvailable allows.
    const available = sumStatus(all, 'availableReplicas');
    let total = available - minAvailable;
    if (scaled > 0) total = Math.min(total, budget);
    for (const rs of sorted) {
      if (total <= 0) break;
      if ((rs.spec.replicas ?? 0) === 0) continue;
      const down = Math.min(rs.spec.replicas, total);
      await this.scaleRS(d, rs, rs.spec.replicas - down);
      total -= down;
      scaled += down;
    }
    return scaled > 0;
  }

  private async rolloutRecreate(d: KubeObject, rsList: KubeObject[]): Promise<void> {
    let { newRS, oldRSs } = await this.newAndOld(d, rsList, false);
    let all = newRS ? [newRS, ...oldRSs] : oldRSs;
    let scaledDown = false;
    for (const rs of oldRSs) {
      if ((rs.spec.replicas ?? 0) !== 0) { await this.scaleRS(d, rs, 0); scaledDown = true; }
    }
    if (scaledDown) { await this.syncRolloutStatus(d, all, newRS); return; }
    // Old pods must be gone (or finished) before new ones start.
    const oldUIDs = new Set(oldRSs.map((rs) => rs.metadata.uid));
    const oldRunning = this.podInformer.store.list(d.metadata.namespace)
      .some((p) => oldUIDs.has(controllerRef(p)?.uid) && !isPodTerminal(p));
    if (oldRunning) { await this.syncRolloutStatus(d, all, newRS); return; }
    if (!newRS) {
      ({ newRS, oldRSs } = await this.newAndOld(d, rsList, true));
      all = newRS ? [newRS, ...oldRSs] : oldRSs;
    }
    if (newRS && (newRS.spec.replicas ?? 0) !== replicas(d)) await this.scaleRS(d, newRS, replicas(d));
    const status = this.calculateStatus(d, all, newRS);
    if (deploymentComplete(d, status)) await this.cleanup(d, oldRSs);
    await this.syncRolloutStatus(d, all, newRS);
  }

  // ---- scaling, pause ---------------------------------------------------------------------

  private isScalingEvent(d: KubeObject, rsList: KubeObject[]): boolean {
    const active = rsList.filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    return active.some((rs) => {
      const desired = rs.metadata.annotations?.[DESIRED_REPLICAS];
      return desired !== undefined && Number(desired) !== replicas(d);
    });
  }

  /** sync(): scale (proportionally across active ReplicaSets), clean up when paused, status. */
  private async scaleAndCleanup(d: KubeObject, rsList: KubeObject[]): Promise<void> {
    const { newRS, oldRSs } = await this.newAndOld(d, rsList, false);
    const all = newRS ? [newRS, ...oldRSs] : oldRSs;
    await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused) await this.cleanup(d, oldRSs);
    await this.syncStatusOnly(d, all, newRS);
  }

  private async scale(d: KubeObject, newRS: KubeObject | undefined, oldRSs: KubeObject[]): Promise<void> {
    const all = newRS ? [newRS, ...oldRSs] : oldRSs;
    const active = all.filter((rs) => (rs.spec?.replicas ?? 0) > 0);
    if (active.length <= 1) {
      const target = active[0] ?? newRS ?? [...oldRSs].sort((a, b) => revisionOf(b) - revisionOf(a))[0];
      if (target) await this.scaleRS(d, target, replicas(d));
      return;
    }
    if (newRS && (newRS.spec.replicas ?? 0) === replicas(d) && (newRS.status?.availableReplicas ?? 0) === replicas(d)) {
      for (const rs of oldRSs) if ((rs.spec.replicas ?? 0) > 0) await this.scaleRS(d, rs, 0);
      return;
    }
    if (!isRollingUpdate(d)) return;
    // Proportional scaling: share the difference by current size; leftovers go to the largest.
    const allowed = replicas(d) + maxSurge(d);
    const current = sumSpec(active);
    const toAdd = allowed - current;
    if (toAdd === 0) return;
    const sorted = [...active].sort((a, b) => (b.spec.replicas - a.spec.replicas) || (toAdd > 0 ? byCreation(b, a) : byCreation(a, b)));
    const sizes = new Map<KubeObject, number>();
    let added = 0;
    for (const rs of sorted) {
      let share = Math.trunc((rs.spec.replicas * toAdd) / current);
      if (toAdd < 0) share = Math.max(share, -rs.spec.replicas);
      sizes.set(rs, rs.spec.replicas + share);
      added += share;
    }
    const first = sorted[0];
    sizes.set(first, Math.max(0, sizes.get(first)! + (toAdd - added)));
    for (const rs of sorted) await this.scaleRS(d, rs, sizes.get(rs)!);
  }

  private async checkPausedConditions(d: KubeObject): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status?.conditions, 'Progressing');
    if (cond?.reason === 'ProgressDeadlineExceeded') return;
    const pausedCond = cond?.reason === 'DeploymentPaused';
    let next: Condition[] | undefined;
    if (d.spec?.paused && !pausedCond) {
      next = this.withCondition(d, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    } else if (!d.spec?.paused && pausedCond) {
      next = this.withCondition(d, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' });
    }
    if (!next) return;
    d.status = { ...(d.status ?? {}), conditions: next };
    Object.assign(d, await this.client.updateStatus(R.deployments, d));
  }

  /** cleanupDeployment: keep revisionHistoryLimit old, empty ReplicaSets. */
  private async cleanup(d: KubeObject, oldRSs: KubeObject[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const cleanable = oldRSs.filter((rs) => (rs.spec?.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    const victims = cleanable.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b)).slice(0, diff);
    for (const rs of victims) {
      try {
        await this.client.delete(R.replicasets, rs.metadata.namespace!, rs.metadata.name!, { preconditions: { uid: rs.metadata.uid } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  // ---- status -----------------------------------------------------------------------------

  calculateStatus(d: KubeObject, all: KubeObject[], newRS?: KubeObject): any {
    const available = sumStatus(all, 'availableReplicas');
    const total = sumSpec(all);
    const st: any = {
      observedGeneration: d.metadata.generation,
      replicas: sumStatus(all, 'replicas'),
      updatedReplicas: newRS ? (newRS.status?.replicas ?? 0) : 0,
      readyReplicas: sumStatus(all, 'readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
    };
    if (d.status?.collisionCount !== undefined) st.collisionCount = d.status.collisionCount;
    let conds: Condition[] = [...(d.status?.conditions ?? [])];
    const now = rfc3339(this.now());
    const avail = available >= replicas(d) - maxUnavailable(d);
    const cur = getCondition(conds, 'Available');
    const want = avail
      ? { type: 'Available', status: 'True' as const, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False' as const, reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' };
    if (!cur || cur.status !== want.status || cur.reason !== want.reason) {
      conds = [...removeCondition(conds, 'Available'), { ...want, lastUpdateTime: now, lastTransitionTime: cur?.status === want.status ? cur.lastTransitionTime : now }];
    }
    // ReplicaSet creation failures surface on the deployment as ReplicaFailure.
    const failure = all.map((rs) => getCondition(rs.status?.conditions, 'ReplicaFailure')).find((c) => c?.status === 'True');
    if (failure) {
      if (!getCondition(conds, 'ReplicaFailure')) conds.push({ type: 'ReplicaFailure', status: 'True', reason: failure.reason, message: failure.message, lastUpdateTime: now, lastTransitionTime: now });
    } else {
      conds = removeCondition(conds, 'ReplicaFailure');
    }
    // Upstream orders Available before Progressing.
    conds.sort((a, b) => order(a.type) - order(b.type));
    st.conditions = conds;
    return st;
  }

  private async syncStatusOnly(d: KubeObject, rsList: KubeObject[], newRS?: KubeObject): Promise<void> {
    const nr = newRS ?? this.findNewRS(d, rsList);
    await this.writeStatus(d, this.calculateStatus(d, rsList, nr));
  }

  private async syncRolloutStatus(d: KubeObject, all: KubeObject[], newRS?: KubeObject): Promise<void> {
    const st = this.calculateStatus(d, all, newRS);
    const now = this.now();
    if (hasProgressDeadline(d) && !d.spec?.paused) {
      const cur = getCondition(d.status?.conditions, 'Progressing');
      const complete = st.replicas === st.updatedReplicas && cur?.reason === 'NewReplicaSetAvailable';
      if (!complete) {
        const name = newRS?.metadata.name;
        let cond: Condition | undefined;
        if (deploymentComplete(d, st)) {
          cond = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: name ? `ReplicaSet "${name}" has successfully progressed.` : 'Deployment has successfully progressed.' };
        } else if (deploymentProgressing(d, st)) {
          cond = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: name ? `ReplicaSet "${name}" is progressing.` : 'Deployment is progressing.' };
        } else if (deploymentTimedOut(d, st, now)) {
          cond = { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: name ? `ReplicaSet "${name}" has timed out progressing.` : 'Deployment has timed out progressing.' };
        }
        if (cond) {
          const ts = rfc3339(now);
          const same = cur && cur.status === cond.status && cur.reason === cond.reason && cond.reason !== 'ReplicaSetUpdated';
          if (!same) {
            st.conditions = [...removeCondition(st.conditions, 'Progressing'),
              { ...cond, lastUpdateTime: ts, lastTransitionTime: cur?.status === cond.status ? cur.lastTransitionTime : ts }];
            st.conditions.sort((a: Condition, b: Condition) => order(a.type) - order(b.type));
            if (cond.reason === 'ProgressDeadlineExceeded') this.recorder.event(d, 'Warning', 'ProgressDeadlineExceeded', cond.message!);
          }
        }
      }
    }
    await this.writeStatus(d, st);
    // Wake up when the progress deadline would pass.
    const pc = getCondition(st.conditions, 'Progressing');
    if (hasProgressDeadline(d) && !d.spec?.paused && pc && pc.status === 'True' && pc.reason !== 'NewReplicaSetAvailable' && !deploymentComplete(d, st)) {
      const from = Date.parse(pc.lastUpdateTime ?? '') || now;
      const after = from + d.spec.progressDeadlineSeconds * 1000 - now;
      this.queue.addAfter(keyOf(d), Math.max(after, 0) + 1000);
    }
  }

  private async writeStatus(d: KubeObject, st: any): Promise<void> {
    const cur = d.status ?? {};
    const keys = ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount'];
    if (keys.every((k) => (cur[k] ?? 0) === (st[k] ?? 0)) && JSON.stringify(cur.conditions ?? []) === JSON.stringify(st.conditions ?? [])) return;
    d.status = st;
    Object.assign(d, await this.client.updateStatus(R.deployments, d));
  }
}

function order(t: string): number { return t === 'Available' ? 0 : t === 'Progressing' ? 1 : 2; }
