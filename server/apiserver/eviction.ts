// pods/eviction (policy/v1 Eviction, what `kubectl drain` posts), after upstream's
// pkg/registry/core/pod/storage/eviction.go: a pod that is not running or already terminating goes
// at once; otherwise the one PodDisruptionBudget selecting it must allow a disruption, which the
// eviction records in the budget's status (disruptionsAllowed - 1, disruptedPods) before it deletes
// the pod gracefully. A budget the disruption controller has not yet observed is evaluated here
// from its spec and the live pods, as that controller would.
import { ApiError, badRequest, notFound } from './errors';
import type { Registry } from './registry';
import type { ServedResource } from './resources';
import type { DeleteOptions, WriteContext } from './types';
import type { SubresourceCall, SubresourceHandler } from './extensions';
import { labelSelectorMatches } from '../auth/rules';

export const PDB_VIOLATION_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";

/** Pods whose status says they hold no running workload, or that already terminate, ignore budgets. */
function canIgnoreBudget(pod: any): boolean {
  const phase = pod.status?.phase;
  return !!pod.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending';
}

export function isPodReady(pod: any): boolean {
  return (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

function tooManyRequests(message: string, causes: Array<{ type: string; message: string }>): ApiError {
  return new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds: 0, causes: causes.map((c) => ({ reason: c.type, message: c.message })) });
}

/** `intstr` percent or number scaled against `total` (percentages round up, as upstream's GetScaledValueFromIntOrPercent with roundUp). */
function scaled(v: number | string, total: number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number(v) || 0;
  return Math.ceil((Number(m[1]) * total) / 100);
}

export interface BudgetFigures { expectedPods: number; currentHealthy: number; desiredHealthy: number; disruptionsAllowed: number }

/**
 * What the disruption controller would record for a budget over `pods` (those its selector
 * matches): healthy = ready and not terminating; expected = the pods' controllers' replicas for
 * maxUnavailable and percentage minAvailable (the pods' count for an integer minAvailable).
 */
export function budgetFigures(pdb: any, pods: any[], controllerReplicas: number | undefined): BudgetFigures {
  const disrupted = recentDisruptions(pdb.status?.disruptedPods);
  const currentHealthy = pods.filter((p) => !p.metadata.deletionTimestamp && isPodReady(p) && !disrupted[p.metadata.name]).length;
  const spec = pdb.spec ?? {};
  let expectedPods: number;
  let desiredHealthy: number;
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    expectedPods = controllerReplicas ?? pods.length;
    desiredHealthy = Math.max(0, expectedPods - scaled(spec.maxUnavailable, expectedPods));
  } else if (typeof spec.minAvailable === 'string') {
    expectedPods = controllerReplicas ?? pods.length;
    desiredHealthy = scaled(spec.minAvailable, expectedPods);
  } else {
    expectedPods = pods.length;
    desiredHealthy = spec.minAvailable ?? 1;
  }
  return { expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy) };
}

/** Upstream's DeletionTimeout: an eviction not followed by the pod's deletion within 2 minutes is forgotten. */
const DISRUPTION_TIMEOUT_MS = 2 * 60_000;

function recentDisruptions(m: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const cutoff = Date.now() - DISRUPTION_TIMEOUT_MS;
  for (const [k, v] of Object.entries(m ?? {})) if (Date.parse(v) >= cutoff) out[k] = v;
  return out;
}

function nowRfc3339(): string { return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'); }

export class EvictionService {
  constructor(private readonly registry: Registry) {}

  readonly handle: SubresourceHandler = async (call: SubresourceCall) => {
    const body = call.body ?? {};
    if (body.kind && body.kind !== 'Eviction') throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (Eviction)`);
    if (body.metadata?.name && body.metadata.name !== call.name) throw badRequest(`name in URL does not match name in Eviction object`);
    await this.evict(call.namespace ?? '', call.name, body.deleteOptions ?? {}, call.ctx);
    return { status: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
  };

  /** Evicts a pod: ApiError 404 (no pod), 429 (a budget forbids it), 500 (several budgets select it). */
  async evict(namespace: string, name: string, deleteOptions: DeleteOptions, ctx: WriteContext): Promise<void> {
    const podsRes = this.registry.resource('', 'pods');
    const pdbRes = this.registry.resource('policy', 'poddisruptionbudgets');
    for (let attempt = 0; attempt < 10; attempt++) {
      const pod = (await this.registry.getRaw(podsRes, namespace, name))?.obj;
      if (!pod) throw notFound('', 'pods', name);
      if (canIgnoreBudget(pod)) { await this.deletePod(podsRes, namespace, name, deleteOptions, ctx); return; }
      const budgets = (await this.registry.list(pdbRes, namespace)).items.filter((b) => labelSelectorMatches(b.spec?.selector, pod.metadata.labels));
      if (budgets.length > 1) throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
      if (budgets.length === 0) { await this.deletePod(podsRes, namespace, name, deleteOptions, ctx); return; }
      const pdb = budgets[0];
      // Unready pods may go while the budget is otherwise met (IfHealthyBudget) or always (AlwaysAllow).
      const figures = await this.figures(pdb, namespace);
      if (!isPodReady(pod)) {
        const policy = pdb.spec?.unhealthyPodEvictionPolicy ?? 'IfHealthyBudget';
        if (policy === 'AlwaysAllow' || figures.currentHealthy >= figures.desiredHealthy) { await this.deletePod(podsRes, namespace, name, deleteOptions, ctx); return; }
      }
      if (figures.disruptionsAllowed <= 0) {
        throw tooManyRequests(PDB_VIOLATION_MESSAGE, [{ type: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${figures.desiredHealthy} healthy pods and has ${figures.currentHealthy} currently` }]);
      }
      // Record the disruption first: a concurrent eviction then sees one fewer allowed.
      try {
        await this.registry.guaranteedUpdate(pdbRes, namespace, pdb.metadata.name, async (cur, rev) => {
          if (!cur) throw notFound('policy', 'poddisruptionbudgets', pdb.metadata.name);
          if (String(rev) !== pdb.metadata.resourceVersion) throw new StaleBudget();
          // observedGeneration stays the disruption controller's: figures computed here are only this eviction's view.
          cur.status = {
            ...(cur.status ?? {}),
            expectedPods: figures.expectedPods, currentHealthy: figures.currentHealthy, desiredHealthy: figures.desiredHealthy,
            disruptionsAllowed: figures.disruptionsAllowed - 1,
            disruptedPods: { ...recentDisruptions(cur.status?.disruptedPods), [name]: nowRfc3339() },
          };
          return cur;
        }, { ...ctx, fieldManager: 'kube-apiserver', warnings: [] }, 'status');
      } catch (err) {
        if (err instanceof StaleBudget) continue;
        throw err;
      }
      await this.deletePod(podsRes, namespace, name, deleteOptions, ctx);
      return;
    }
    throw new ApiError(429, 'TooManyRequests', 'the PodDisruptionBudget kept changing; try again', { retryAfterSeconds: 1 });
  }

  /** The budget's figures: its status when the disruption controller has observed this generation, else computed here. */
  private async figures(pdb: any, namespace: string): Promise<BudgetFigures> {
    const st = pdb.status ?? {};
    if (st.observedGeneration !== undefined && st.observedGeneration >= (pdb.metadata.generation ?? 0) && st.disruptionsAllowed !== undefined) {
      return { expectedPods: st.expectedPods ?? 0, currentHealthy: st.currentHealthy ?? 0, desiredHealthy: st.desiredHealthy ?? 0, disruptionsAllowed: st.disruptionsAllowed };
    }
    const pods = (await this.registry.list(this.registry.resource('', 'pods'), namespace)).items.filter((p) => labelSelectorMatches(pdb.spec?.selector, p.metadata.labels));
    return budgetFigures(pdb, pods, await this.controllerReplicas(pods, namespace));
  }

  /** The replicas the pods' controllers want (ReplicaSets and StatefulSets), when every pod has one. */
  private async controllerReplicas(pods: any[], namespace: string): Promise<number | undefined> {
    const owners = new Map<string, any>();
    for (const p of pods) {
      const ref = (p.metadata.ownerReferences ?? []).find((r: any) => r.controller);
      if (!ref) return undefined;
      owners.set(`${ref.kind}/${ref.name}`, ref);
    }
    let total = 0;
    for (const ref of owners.values()) {
      const plural = ref.kind === 'ReplicaSet' ? 'replicasets' : ref.kind === 'StatefulSet' ? 'statefulsets' : undefined;
      if (!plural) return undefined;
      const owner = (await this.registry.getRaw(this.registry.resource('apps', plural), namespace, ref.name))?.obj;
      if (!owner) return undefined;
      total += owner.spec?.replicas ?? 1;
    }
    return total;
  }

  private async deletePod(podsRes: ServedResource, namespace: string, name: string, opts: DeleteOptions, ctx: WriteContext): Promise<void> {
    await this.registry.delete(podsRes, namespace, name, opts, ctx);
  }
}

class StaleBudget extends Error {
  readonly code = 'StaleBudget';
  constructor() { super('the PodDisruptionBudget changed since it was read'); this.name = 'StaleBudget'; }
}
