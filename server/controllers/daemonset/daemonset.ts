// DaemonSet controller: one pod per eligible node (nodeSelector, required node affinity, taints
// against the pod's tolerations plus the DaemonSet defaults), each pinned to its node by a
// required node affinity on metadata.name as upstream does (the scheduler then binds it);
// RollingUpdate with maxUnavailable, or with maxSurge (a new pod starts beside the old one, which
// goes once the new one is available), or OnDelete; ControllerRevisions for rollout history.
import { R, isNotFound, type Informer } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { fromLabelSelector } from '../selectors';
import { clone, controllerRef, keyOf, splitKey, type KubeObject } from '../types';
import { claimObjects } from '../util/claim';
import { Expectations } from '../util/expectations';
import { CONTROLLER_REVISION_HASH, syncRevisions } from '../util/history';
import { intOrPercent, isPodAvailable, isPodReady, ownerRefFor, podFromTemplate, podReadyCondition } from '../util/pods';
import { findUntoleratedTaint, podMatchesNodeSelectorAndAffinity, type Toleration } from '../../scheduler/helpers';

/** Tolerations every daemon pod gets (upstream util.AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(pod: KubeObject): Toleration[] {
  const add: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (pod.spec?.hostNetwork) add.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  const have: Toleration[] = pod.spec?.tolerations ?? [];
  return [...have, ...add.filter((t) => !have.some((h) => h.key === t.key && h.effect === t.effect))];
}

/** Whether a daemon pod from this template should run on node (NodeShouldRunDaemonPod). */
export function nodeShouldRunDaemonPod(ds: KubeObject, node: KubeObject): boolean {
  const pod = { spec: { ...(ds.spec?.template?.spec ?? {}), tolerations: daemonTolerations(ds.spec?.template ?? {}) } };
  if (!podMatchesNodeSelectorAndAffinity(pod, node)) return false;
  return !findUntoleratedTaint(node.spec?.taints, pod.spec.tolerations, (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
}

/** The node a daemon pod is for: spec.nodeName, or its metadata.name node-affinity pin. */
export function daemonPodNode(pod: KubeObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const t of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

function byCreation(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata.creationTimestamp ?? '', tb = b.metadata.creationTimestamp ?? '';
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

/**
 * Which of a node's several live pods go while surging (upstream podsShouldBeOnNode): the oldest
 * new-revision and oldest old-revision pod may stay, the rest go; the old one also goes once it is
 * not ready or the new one is available. `alive` is sorted oldest first.
 */
function surgeExtras(alive: KubeObject[], hash: string, minReady: number, now: number): KubeObject[] {
  let newest: KubeObject | undefined, oldest: KubeObject | undefined;
  const out: KubeObject[] = [];
  for (const p of alive) {
    const fresh = p.metadata.labels?.[CONTROLLER_REVISION_HASH] === hash;
    if (fresh && !newest) newest = p;
    else if (!fresh && !oldest) oldest = p;
    else out.push(p);
  }
  if (newest && oldest && (!isPodReady(oldest) || isPodAvailable(newest, minReady, now))) out.push(oldest);
  return out;
}

export class DaemonSetController extends QueueController {
  readonly expectations: Expectations;
  private readonly dsInformer: Informer;
  private readonly podInformer: Informer;
  private readonly nodeInformer: Informer;
  private readonly revInformer: Informer;

  constructor(ctx: ControllerContext) {
    super('daemonset', ctx, 'daemonset-controller');
    this.expectations = new Expectations(() => ctx.clock.now());
    this.dsInformer = this.informer(R.daemonsets);
    this.podInformer = this.informer(R.pods);
    this.nodeInformer = this.informer(R.nodes);
    this.revInformer = this.informer(R.controllerrevisions);
    this.dsInformer.addEventHandler({ onAdd: (o) => this.enqueue(o), onUpdate: (_o, n) => this.enqueue(n), onDelete: (o) => this.expectations.delete(keyOf(o)) });
    const onPod = (p: KubeObject, kind: 'add' | 'update' | 'delete') => {
      const ref = controllerRef(p);
      if (ref?.kind !== 'DaemonSet') return;
      const key = `${p.metadata.namespace}/${ref.name}`;
      if (kind === 'add') this.expectations.creationObserved(key);
      if (kind === 'delete') this.expectations.deletionObserved(key, keyOf(p));
      this.queue.add(key);
    };
    this.podInformer.addEventHandler({ onAdd: (p) => onPod(p, 'add'), onUpdate: (o, n) => { if (o !== n) onPod(n, 'update'); }, onDelete: (p) => onPod(p, 'delete') });
    const all = () => { for (const ds of this.dsInformer.store.list()) this.enqueue(ds); };
    this.nodeInformer.addEventHandler({
      onAdd: all,
      onUpdate: (o, n) => {
        if (JSON.stringify(o.metadata.labels) !== JSON.stringify(n.metadata.labels) || JSON.stringify(o.spec) !== JSON.stringify(n.spec)) all();
      },
      onDelete: all,
    });
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.dsInformer.store.get(namespace, name);
    if (!cached) { this.expectations.delete(key); return; }
    const ds = clone(cached);
    const { hash } = await syncRevisions(this.client, this.revInformer, ds, 'apps/v1', 'DaemonSet', ds.spec?.revisionHistoryLimit ?? 10);
    const selector = fromLabelSelector(ds.spec?.selector);
    const pods = (await claimObjects(this.client, R.pods, ds, ownerRefFor(ds, 'apps/v1', 'DaemonSet'), selector,
      this.podInformer.store.list(namespace), true)).filter((p) => !p.metadata.deletionTimestamp);
    const byNode = new Map<string, KubeObject[]>();
    for (const p of pods) {
      const n = daemonPodNode(p);
      if (!n) continue;
      (byNode.get(n) ?? byNode.set(n, []).get(n)!).push(p);
    }
    const nodes = this.nodeInformer.store.list();
    const now = this.ctx.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const rolling = (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const desired = nodes.filter((n) => nodeShouldRunDaemonPod(ds, n)).length;
    const maxSurge = rolling ? Math.max(intOrPercent(ds.spec?.updateStrategy?.rollingUpdate?.maxSurge, desired, true, 0), 0) : 0;
    const surging = maxSurge > 0;
    if (this.expectations.satisfied(key) && !ds.metadata.deletionTimestamp) {
      const create: string[] = [];
      const remove: KubeObject[] = [];
      for (const node of nodes) {
        const should = nodeShouldRunDaemonPod(ds, node);
        const here = byNode.get(node.metadata.name!) ?? [];
        if (should) {
          const failed = here.filter((p) => p.status?.phase === 'Failed');
          remove.push(...failed);
          const alive = here.filter((p) => p.status?.phase !== 'Failed').sort(byCreation);
          if (alive.length === 0) create.push(node.metadata.name!);
          else if (alive.length > 1 && !surging) remove.push(...alive.slice(1));
          else if (alive.length > 1) remove.push(...surgeExtras(alive, hash, minReady, now));
        } else {
          remove.push(...here);
        }
      }
      // Pods on nodes that no longer exist go too.
      for (const [n, ps] of byNode) if (!this.nodeInformer.store.get('', n)) remove.push(...ps);
      if (rolling && surging) {
        const plan = this.surgePlan(ds, nodes, byNode, hash, maxSurge, minReady, now);
        create.push(...plan.create.filter((n) => !create.includes(n)));
        remove.push(...plan.remove);
      } else if (rolling) {
        // Rolling update: replace old-hash pods while at most maxUnavailable are unavailable.
        const maxUnavailable = Math.max(intOrPercent(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, desired, true, 1), 0) || (desired ? 1 : 0);
        let unavailable = create.length;
        const old: KubeObject[] = [];
        for (const node of nodes) {
          const p = (byNode.get(node.metadata.name!) ?? []).find((x) => x.status?.phase !== 'Failed');
          if (!p || !nodeShouldRunDaemonPod(ds, node)) continue;
          if (!isPodAvailable(p, minReady, now)) unavailable++;
          if (p.metadata.labels?.[CONTROLLER_REVISION_HASH] !== hash) old.push(p);
        }
        // Unavailable old pods first: replacing them costs no availability.
        old.sort((a, b) => Number(isPodAvailable(a, minReady, now)) - Number(isPodAvailable(b, minReady, now)));
        for (const p of old) {
          if (!isPodAvailable(p, minReady, now)) { remove.push(p); continue; }
          if (unavailable >= maxUnavailable) break;
          remove.push(p);
          unavailable++;
        }
      }
      await this.apply(ds, key, hash, create, [...new Set(remove)]);
      // A surged pod that is ready but not yet available frees its old pod after minReadySeconds.
      if (surging && minReady > 0) {
        const left = pods.map((p) => podReadyCondition(p)).filter((c) => c?.status === 'True')
          .map((c) => Date.parse(c!.lastTransitionTime ?? '') + minReady * 1000 - now).filter((ms) => ms > 0);
        if (left.length) this.queue.addAfter(key, Math.min(...left) + 10);
      }
    }
    await this.updateStatus(ds, nodes, byNode, hash, now, minReady);
  }

  /**
   * The maxSurge rolling update (upstream's surge branch of rollingUpdate): on a node with only an
   * old pod, an unavailable old pod is replaced at once (its new pod starts beside it), an
   * available one is a candidate; a node with both goes on surging until its new pod is available,
   * then the old pod is deleted. At most maxSurge nodes surge at once.
   */
  private surgePlan(ds: KubeObject, nodes: KubeObject[], byNode: Map<string, KubeObject[]>, hash: string,
    maxSurge: number, minReady: number, now: number): { create: string[]; remove: KubeObject[] } {
    const create: string[] = [], candidates: string[] = [], remove: KubeObject[] = [];
    let surging = 0;
    for (const node of nodes) {
      const name = node.metadata.name!;
      const pods = (byNode.get(name) ?? []).filter((p) => p.status?.phase !== 'Failed');
      const fresh = pods.filter((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH] === hash);
      const old = pods.filter((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH] !== hash);
      if (fresh.length > 1 || old.length > 1) { surging++; continue; } // the manage pass cleans this node up first
      const [newPod, oldPod] = [fresh[0], old[0]];
      if (!oldPod) continue;
      if (!newPod) {
        if (isPodAvailable(oldPod, minReady, now)) candidates.push(name);
        else if (!nodeShouldRunDaemonPod(ds, node)) remove.push(oldPod);
        else create.push(name);
        continue;
      }
      if (!isPodAvailable(newPod, minReady, now)) { surging++; continue; }
      remove.push(oldPod);
    }
    const room = Math.min(Math.max(maxSurge - surging, 0), candidates.length);
    return { create: [...create, ...candidates.slice(0, room)], remove };
  }

  private async apply(ds: KubeObject, key: string, hash: string, create: string[], remove: KubeObject[]): Promise<void> {
    if (create.length) {
      this.expectations.expectCreations(key, create.length);
      const ref = ownerRefFor(ds, 'apps/v1', 'DaemonSet');
      const results = await Promise.allSettled(create.map((nodeName) => {
        const pod = podFromTemplate(ds.spec.template, ds, ref);
        pod.metadata.labels = { ...pod.metadata.labels, [CONTROLLER_REVISION_HASH]: hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) };
        pod.spec.tolerations = daemonTolerations(pod);
        // Pin to the node through required node affinity (the scheduler binds it), keeping other terms' expressions.
        const na = pod.spec.affinity?.nodeAffinity ?? {};
        const terms = na.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
        const pin = { key: 'metadata.name', operator: 'In', values: [nodeName] };
        const pinned = terms.length
          ? terms.map((t: any) => ({ ...t, matchFields: [...(t.matchFields ?? []).filter((f: any) => f.key !== 'metadata.name'), pin] }))
          : [{ matchFields: [pin] }];
        pod.spec.affinity = { ...(pod.spec.affinity ?? {}), nodeAffinity: { ...na, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: pinned } } };
        return this.client.create(R.pods, ds.metadata.namespace!, pod);
      }));
      for (const r of results) {
        if (r.status === 'fulfilled') this.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${r.value.metadata.name}`);
        else { this.expectations.lowerCreations(key); this.recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${(r.reason as Error).message}`); }
      }
    }
    if (remove.length) {
      this.expectations.expectDeletions(key, remove.map(keyOf));
      for (const p of remove) {
        try {
          await this.client.delete(R.pods, p.metadata.namespace!, p.metadata.name!, { preconditions: { uid: p.metadata.uid } });
          this.recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        } catch (e) {
          this.expectations.deletionObserved(key, keyOf(p));
          if (!isNotFound(e)) throw e;
        }
      }
    }
  }

  private async updateStatus(ds: KubeObject, nodes: KubeObject[], byNode: Map<string, KubeObject[]>, hash: string, now: number, minReady: number): Promise<void> {
    let desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
    for (const node of nodes) {
      const should = nodeShouldRunDaemonPod(ds, node);
      // The oldest pod speaks for the node (a surging node counts as not yet updated), as upstream.
      const p = [...(byNode.get(node.metadata.name!) ?? [])].sort(byCreation)[0];
      if (should) {
        desired++;
        if (p) {
          current++;
          if (isPodReady(p)) ready++;
          if (isPodAvailable(p, minReady, now)) available++;
          if (p.metadata.labels?.[CONTROLLER_REVISION_HASH] === hash) updated++;
        }
      } else if (p) misscheduled++;
    }
    const st: any = {
      currentNumberScheduled: current, numberMisscheduled: misscheduled, desiredNumberScheduled: desired, numberReady: ready,
      observedGeneration: ds.metadata.generation, updatedNumberScheduled: updated, numberAvailable: available,
    };
    if (desired - available > 0) st.numberUnavailable = desired - available;
    if (ds.status?.collisionCount !== undefined) st.collisionCount = ds.status.collisionCount;
    if (JSON.stringify(st) === JSON.stringify(ds.status ?? {})) return;
    ds.status = st;
    await this.client.updateStatus(R.daemonsets, ds);
    if (minReady > 0 && ready !== available) this.queue.addAfter(keyOf(ds), minReady * 1000);
  }
}
