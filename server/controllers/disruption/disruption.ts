// Disruption controller: keeps every PodDisruptionBudget's status (expectedPods, currentHealthy,
// desiredHealthy, disruptionsAllowed, disruptedPods, observedGeneration, the DisruptionAllowed
// condition) current from the pods its selector matches, after upstream's
// pkg/controller/disruption. The arithmetic is api/disruption.ts, shared with pods/eviction.
import {
  DISRUPTION_ALLOWED_CONDITION, SYNC_FAILED_REASON, activeDisruptions, conditionsAreUpToDate, countHealthyPods,
  disruptionAllowedConditions, disruptionsAllowed, expectedPodCount, expectedScale, setStatusCondition, usesControllerScale,
  type ControllerAndScale, type ControllerFinder, type ControllerReference,
} from '../../../api/disruption';
import { builtinResources } from '../../../api/scheme';
import { Informer, R, isConflict, isNotFound, type ResourceRef } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { WorkQueue, runWorkers } from '../workqueue';
import { fromLabelSelector, type Selector } from '../selectors';
import { clone, controllerRef, keyOf, rfc3339, splitKey, type KubeObject } from '../types';

/** Upstream stalePodDisruptionTimeout: a DisruptionTarget=True condition on a pod that is not terminating this long after it was set is reset to False. */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60_000;

/** Why a controller reference cannot give a scale (upstream: the kind has no scale subresource). */
export class NoScaleSubresourceError extends Error {
  readonly code = 'NoScaleSubresource';
  constructor(groupResource: string) {
    super(`${groupResource} does not implement the scale subresource`);
    this.name = 'NoScaleSubresourceError';
  }
}

/** A kind the API does not serve (upstream's RESTMapping failure). */
export class NoKindMatchError extends Error {
  readonly code = 'NoKindMatch';
  constructor(kind: string, apiVersion: string) {
    super(`no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}`);
    this.name = 'NoKindMatchError';
  }
}

const CRDS: ResourceRef = Object.freeze({
  group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false,
});

/** `.spec.replicas`-style JSON path of a CRD's scale subresource, read from an object. */
function readPath(obj: any, path: string): unknown {
  let v = obj;
  for (const p of path.replace(/^\./, '').split('.')) { if (v === undefined || v === null) return undefined; v = v[p]; }
  return v;
}

function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

function isAppsGroup(ref: ControllerReference): boolean {
  const g = groupOf(ref.apiVersion);
  return g === 'apps' || g === 'extensions';
}

/** metav1.LabelSelector printed as selector text, for messages. */
function selectorText(sel: Selector): string {
  return sel.nothing ? '<none>' : sel.toString() || '<everything>';
}

export class DisruptionController extends QueueController {
  private readonly pdbInformer: Informer;
  private readonly podInformer: Informer;
  private readonly rsInformer: Informer;
  private readonly deployInformer: Informer;
  private readonly ssInformer: Informer;
  private readonly crdInformer: Informer;
  /** Pods whose DisruptionTarget condition may have gone stale (a second queue, as upstream). */
  readonly stalePodQueue = new WorkQueue('disruption-stale-pod');
  /** Informers on custom resources found controlling pods, by `group/plural`: their scale changes re-evaluate budgets. */
  private readonly customScaleWatches = new Map<string, Informer>();

  constructor(ctx: ControllerContext) {
    // Upstream's Events come from component "controllermanager".
    super('disruption', ctx, 'controllermanager');
    this.pdbInformer = this.informer(R.poddisruptionbudgets);
    this.podInformer = this.informer(R.pods);
    this.rsInformer = this.informer(R.replicasets);
    this.deployInformer = this.informer(R.deployments);
    this.ssInformer = this.informer(R.statefulsets);
    // Custom resources with a scale subresource can control pods too (upstream's scale client).
    this.crdInformer = this.informer(CRDS);
    this.crdInformer.addEventHandler({ onDelete: (crd) => this.unwatchCustomScale(`${crd.spec?.group}/${crd.spec?.names?.plural}`) });
    this.pdbInformer.addEventHandler({
      onAdd: (o) => this.enqueue(o),
      onUpdate: (_o, n) => this.enqueue(n),
      onDelete: (o) => this.enqueue(o),
    });
    this.podInformer.addEventHandler({
      onAdd: (p) => { this.enqueueBudgetsFor(p); this.enqueueStaleDisruption(p); },
      onUpdate: (o, n) => {
        // Budgets that selected the pod's old labels lose it; those of its new labels gain it.
        if (o !== n && o.metadata.labels !== n.metadata.labels) this.enqueueBudgetsFor(o);
        this.enqueueBudgetsFor(n);
        this.enqueueStaleDisruption(n);
      },
      onDelete: (p) => this.enqueueBudgetsFor(p),
    });
    // Upstream reads workloads from listers only; a scale change here re-evaluates the budgets
    // whose expected count depends on scale, instead of waiting for a pod event or a resync.
    const onScale = { onUpdate: (o: KubeObject, n: KubeObject) => { if (o.spec?.replicas !== n.spec?.replicas) this.enqueueScaledBudgets(n.metadata.namespace ?? ''); } };
    this.rsInformer.addEventHandler(onScale);
    this.deployInformer.addEventHandler(onScale);
    this.ssInformer.addEventHandler(onScale);
  }

  /** The budgets in the pod's namespace whose selector matches it (policy/v1: empty selects all, null none). */
  budgetsFor(pod: KubeObject): KubeObject[] {
    const out: KubeObject[] = [];
    for (const pdb of this.pdbInformer.store.list(pod.metadata.namespace)) {
      let sel: Selector;
      try { sel = fromLabelSelector(pdb.spec?.selector); } catch { continue; }
      if (sel.matches(pod.metadata.labels ?? {})) out.push(pdb);
    }
    return out;
  }

  private enqueueBudgetsFor(pod: KubeObject): void {
    for (const pdb of this.budgetsFor(pod)) this.enqueue(pdb);
  }

  private enqueueScaledBudgets(namespace: string): void {
    for (const pdb of this.pdbInformer.store.list(namespace)) if (usesControllerScale(pdb.spec)) this.enqueue(pdb);
  }

  override run(workers: number): Promise<void> {
    return Promise.all([
      super.run(workers),
      runWorkers(this.stalePodQueue, 1, (k) => this.syncStalePodDisruption(k), (k, e) => {
        this.ctx.logger(`disruption: clearing DisruptionTarget of pod ${k} failed: ${(e as Error)?.message ?? String(e)}`);
      }),
    ]).then(() => undefined);
  }

  override shutDown(): void {
    super.shutDown();
    this.stalePodQueue.shutDown();
    for (const inf of this.customScaleWatches.values()) inf.stop();
    this.customScaleWatches.clear();
  }

  /** Watches a custom resource kind once it controls a budget's pod, so its scale changes are seen at once. */
  private watchCustomScale(r: ResourceRef, specReplicasPath: string): void {
    const id = `${r.group}/${r.resource}`;
    if (this.customScaleWatches.has(id) || this.queue.isShuttingDown) return;
    const inf = new Informer(this.client, r, { logger: this.ctx.logger });
    inf.addEventHandler({
      onUpdate: (o, n) => {
        if (o !== n && readPath(o, specReplicasPath) !== readPath(n, specReplicasPath)) this.enqueueScaledBudgets(n.metadata.namespace ?? '');
      },
    });
    this.customScaleWatches.set(id, inf);
    inf.run();
  }

  private unwatchCustomScale(id: string): void {
    this.customScaleWatches.get(id)?.stop();
    this.customScaleWatches.delete(id);
  }

  /**
   * Whether a pod carries a DisruptionTarget=True condition that should be reset once stale, and
   * in how many ms: not for terminating or finished pods, nor for the kubelet's own condition
   * (its pod may take arbitrarily long to start terminating).
   */
  staleDisruptionIn(pod: KubeObject): number | undefined {
    if (pod.metadata.deletionTimestamp) return undefined;
    const phase = pod.status?.phase;
    const cond = (pod.status?.conditions ?? []).find((x: any) => x.type === 'DisruptionTarget');
    if (!cond || cond.status !== 'True' || cond.reason === 'TerminationByKubelet' || phase === 'Succeeded' || phase === 'Failed') return undefined;
    const since = Date.parse(cond.lastTransitionTime ?? '') || 0;
    return Math.max(0, STALE_POD_DISRUPTION_TIMEOUT_MS - (this.ctx.clock.now() - since));
  }

  private enqueueStaleDisruption(pod: KubeObject): void {
    const wait = this.staleDisruptionIn(pod);
    if (wait !== undefined) this.stalePodQueue.addAfter(keyOf(pod), wait);
  }

  /** Upstream syncStalePodDisruption: DisruptionTarget becomes False (reason and message cleared) on a pod nobody deleted. */
  async syncStalePodDisruption(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.podInformer.store.get(namespace, name);
    if (!pod) return;
    const wait = this.staleDisruptionIn(pod);
    if (wait === undefined) return;
    if (wait > 0) { this.stalePodQueue.addAfter(key, wait); return; }
    const next = clone(pod);
    next.status.conditions = next.status.conditions.map((x: any) => (x.type === 'DisruptionTarget'
      ? { type: 'DisruptionTarget', status: 'False', lastTransitionTime: rfc3339(this.ctx.clock.now()), ...(x.observedGeneration !== undefined ? { observedGeneration: pod.metadata.generation } : {}) }
      : x));
    await this.client.updateStatus(R.pods, next);
    this.ctx.logger(`disruption: reset stale DisruptionTarget condition of pod ${key} to False`);
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pdb = this.pdbInformer.store.get(namespace, name);
    if (!pdb) return;
    try {
      await this.trySync(key, pdb);
    } catch (err) {
      // A conflict only means our copy is stale: retry without declaring the budget broken.
      if (isConflict(err)) throw err;
      this.ctx.logger(`disruption: sync ${key} failed: ${(err as Error).message}`);
      await this.failSafe(pdb, err as Error);
    }
  }

  private async trySync(key: string, pdb: KubeObject): Promise<void> {
    const namespace = pdb.metadata.namespace ?? '';
    let selector: Selector;
    try {
      selector = fromLabelSelector(pdb.spec?.selector);
    } catch (err) {
      this.recorder.event(pdb, 'Warning', 'NoPods', `Failed to get pods: ${(err as Error).message}`);
      throw err;
    }
    const pods = selector.nothing ? [] : this.podInformer.store.list(namespace, selector);
    if (pods.length === 0) this.recorder.event(pdb, 'Normal', 'NoPods', 'No matching pods found');

    let scale: number | undefined;
    if (usesControllerScale(pdb.spec)) {
      try {
        const r = await expectedScale(pods, this.finders());
        scale = r.expectedCount;
        if (r.unmanagedPods.length) {
          this.recorder.event(pdb, 'Warning', 'UnmanagedPods', `Pods selected by this PodDisruptionBudget (selector: ${selectorText(selector)}) were found `
            + 'to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. '
            + 'To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.');
        }
      } catch (err) {
        this.recorder.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${(err as Error).message}`);
        throw err;
      }
    }
    const { expectedPods, desiredHealthy } = expectedPodCount(pdb.spec, pods.length, scale);

    const now = this.ctx.clock.now();
    const { disruptedPods, notDeleted, recheckAt } = activeDisruptions(pdb.status?.disruptedPods, pods, now);
    for (const podName of notDeleted) {
      const pod = pods.find((p) => p.metadata.name === podName);
      if (pod) this.recorder.event(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${namespace}/${pdb.metadata.name} to be deleted but it wasn't`);
    }
    const currentHealthy = countHealthyPods(pods, disruptedPods, now);
    await this.updateStatus(pdb, { currentHealthy, desiredHealthy, expectedPods, disruptedPods }, now);
    // Re-evaluate when the first disruption that is still in force expires.
    if (recheckAt !== undefined) this.queue.addAfter(key, Math.max(1, recheckAt - now));
  }

  private async updateStatus(pdb: KubeObject,
    f: { currentHealthy: number; desiredHealthy: number; expectedPods: number; disruptedPods: Record<string, string> }, now: number): Promise<void> {
    const allowed = disruptionsAllowed(f.currentHealthy, f.desiredHealthy, f.expectedPods);
    const st = pdb.status ?? {};
    const generation = pdb.metadata.generation ?? 0;
    if (st.currentHealthy === f.currentHealthy && st.desiredHealthy === f.desiredHealthy && st.expectedPods === f.expectedPods
      && st.disruptionsAllowed === allowed && sameMap(st.disruptedPods, f.disruptedPods)
      && st.observedGeneration === generation && conditionsAreUpToDate(pdb)) return;
    const next = clone(pdb);
    next.status = {
      disruptedPods: Object.keys(f.disruptedPods).length ? f.disruptedPods : undefined,
      disruptionsAllowed: allowed,
      currentHealthy: f.currentHealthy,
      desiredHealthy: f.desiredHealthy,
      expectedPods: f.expectedPods,
      observedGeneration: generation,
      conditions: st.conditions,
    };
    next.status.conditions = disruptionAllowedConditions(next.status, rfc3339(now));
    if (next.status.disruptedPods === undefined) delete next.status.disruptedPods;
    await this.client.updateStatus(R.poddisruptionbudgets, next);
  }

  /** Upstream failSafe: whatever went wrong, record that no disruption is allowed, and why. */
  private async failSafe(pdb: KubeObject, err: Error): Promise<void> {
    const next = clone(pdb);
    const st = next.status ?? {};
    st.disruptionsAllowed = 0;
    st.conditions = setStatusCondition(st.conditions, {
      type: DISRUPTION_ALLOWED_CONDITION, status: 'False', reason: SYNC_FAILED_REASON, message: err.message,
      observedGeneration: st.observedGeneration,
    }, rfc3339(this.ctx.clock.now()));
    next.status = st;
    await this.client.updateStatus(R.poddisruptionbudgets, next);
  }

  /**
   * Upstream's finders in order: a ReplicaSet a Deployment controls counts as the Deployment; a
   * ReplicaSet on its own, a StatefulSet; any other kind has no scale orch can read.
   * (orch serves no ReplicationControllers.)
   */
  private finders(): ControllerFinder[] {
    const cached = (inf: Informer, ns: string, name: string, uid: string) => {
      const o = inf.store.get(ns, name);
      return o && o.metadata.uid === uid ? o : undefined;
    };
    const scaleOf = (o: KubeObject): ControllerAndScale => ({ uid: o.metadata.uid!, scale: o.spec?.replicas ?? 1 });
    return [
      (ref, ns) => {
        if (ref.kind !== 'ReplicaSet' || !isAppsGroup(ref)) return undefined;
        const rs = cached(this.rsInformer, ns, ref.name, ref.uid);
        const owner = rs && controllerRef(rs);
        if (!owner || owner.kind !== 'Deployment' || !isAppsGroup(owner)) return undefined;
        const d = cached(this.deployInformer, ns, owner.name, owner.uid);
        return d ? scaleOf(d) : undefined;
      },
      (ref, ns) => {
        if (ref.kind !== 'ReplicaSet' || !isAppsGroup(ref)) return undefined;
        const rs = cached(this.rsInformer, ns, ref.name, ref.uid);
        return rs && controllerRef(rs)?.kind !== 'Deployment' ? scaleOf(rs) : undefined;
      },
      (ref, ns) => {
        if (ref.kind !== 'StatefulSet' || groupOf(ref.apiVersion) !== 'apps') return undefined;
        const ss = cached(this.ssInformer, ns, ref.name, ref.uid);
        return ss ? scaleOf(ss) : undefined;
      },
      (ref, ns) => this.scaleFinder(ref, ns),
    ];
  }

  /**
   * The last finder (upstream getScaleController): a custom resource's scale through its CRD's
   * scale subresource (specReplicasPath of the object); a kind without a scale subresource, or
   * one the API does not serve, is an error.
   */
  private async scaleFinder(ref: ControllerReference, namespace: string): Promise<ControllerAndScale | undefined> {
    const group = groupOf(ref.apiVersion);
    const info = builtinResources.find((r) => r.group === group && r.kind === ref.kind);
    if (info) {
      // Built-ins with a scale were tried above from the caches: this one is gone or was replaced.
      if (info.subresources.some((s) => s.name === 'scale')) return undefined;
      throw new NoScaleSubresourceError(group ? `${info.plural}.${group}` : info.plural);
    }
    const crd = this.crdInformer.store.list().find((c) => c.spec?.group === group && c.spec?.names?.kind === ref.kind);
    const versions: any[] = (crd?.spec?.versions ?? []).filter((v: any) => v.served);
    const wanted = ref.apiVersion.slice(group.length + 1);
    const version = versions.find((v) => v.name === wanted) ?? versions[0];
    if (!crd || !version) throw new NoKindMatchError(ref.kind, ref.apiVersion);
    const plural = crd.spec.names.plural;
    const scale = version.subresources?.scale;
    if (!scale) throw new NoScaleSubresourceError(`${plural}.${group}`);
    const r: ResourceRef = { group, version: version.name, resource: plural, kind: ref.kind, namespaced: crd.spec.scope !== 'Cluster' };
    const specReplicasPath = scale.specReplicasPath ?? '.spec.replicas';
    this.watchCustomScale(r, specReplicasPath);
    let obj: KubeObject;
    try {
      obj = await this.client.get(r, namespace, ref.name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    if (obj.metadata.uid !== ref.uid) return undefined;
    const replicas = readPath(obj, specReplicasPath);
    return { uid: ref.uid, scale: typeof replicas === 'number' ? replicas : 0 };
  }
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ak = Object.keys(a ?? {});
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => a![k] === b[k]);
}
