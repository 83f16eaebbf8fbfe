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
import {
  DisruptionBudgetError, budgetFigures, disruptionAllowedConditions, expectedScale, isPodReady, unexpiredDisruptions, usesControllerScale,
  type BudgetFigures, type ControllerFinder,
} from '../../api/disruption';

// The figures live in api/disruption.ts, shared with the disruption controller.
export { budgetFigures, isPodReady, type BudgetFigures } from '../../api/disruption';

export const PDB_VIOLATION_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";

/** Pods whose status says they hold no running workload, or that already terminate, ignore budgets. */
function canIgnoreBudget(pod: any): boolean {
  const phase = pod.status?.phase;
  return !!pod.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending';
}

function tooManyRequests(message: string, causes: Array<{ type: string; message: string }>): ApiError {
  return new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds: 0, causes: causes.map((c) => ({ reason: c.type, message: c.message })) });
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
          const now = nowRfc3339();
          cur.status = {
            ...(cur.status ?? {}),
            expectedPods: figures.expectedPods, currentHealthy: figures.currentHealthy, desiredHealthy: figures.desiredHealthy,
            disruptionsAllowed: figures.disruptionsAllowed - 1,
            disruptedPods: { ...unexpiredDisruptions(cur.status?.disruptedPods, Date.now()), [name]: now },
          };
          // As upstream: the last allowed disruption used turns DisruptionAllowed False at once.
          if (cur.status.disruptionsAllowed === 0) cur.status.conditions = disruptionAllowedConditions(cur.status, now);
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
    try {
      const scale = usesControllerScale(pdb.spec) ? (await expectedScale(pods, this.finders())).expectedCount : undefined;
      return budgetFigures(pdb, pods, scale);
    } catch (err) {
      // What the disruption controller's failSafe would record: no disruption allowed.
      if (err instanceof DisruptionBudgetError) throw tooManyRequests(PDB_VIOLATION_MESSAGE, [{ type: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} is still being processed by the server.` }]);
      throw err;
    }
  }

  /** The built-in workloads with a scale, as the disruption controller finds them (a ReplicaSet a Deployment controls counts as the Deployment). */
  private finders(): ControllerFinder[] {
    const live = async (plural: string, ns: string, name: string, uid: string) => {
      const o = (await this.registry.getRaw(this.registry.resource('apps', plural), ns, name))?.obj;
      return o && o.metadata.uid === uid ? o : undefined;
    };
    const owner = (o: any) => (o.metadata.ownerReferences ?? []).find((r: any) => r.controller === true);
    const isApps = (ref: any) => /^(apps|extensions)\//.test(ref.apiVersion);
    return [
      async (ref, ns) => {
        if (ref.kind !== 'ReplicaSet' || !isApps(ref)) return undefined;
        const rs = await live('replicasets', ns, ref.name, ref.uid);
        const d = rs && owner(rs);
        if (!d || d.kind !== 'Deployment') return undefined;
        const dep = await live('deployments', ns, d.name, d.uid);
        return dep ? { uid: dep.metadata.uid, scale: dep.spec?.replicas ?? 1 } : undefined;
      },
      async (ref, ns) => {
        if (ref.kind !== 'ReplicaSet' || !isApps(ref)) return undefined;
        const rs = await live('replicasets', ns, ref.name, ref.uid);
        return rs && owner(rs)?.kind !== 'Deployment' ? { uid: rs.metadata.uid, scale: rs.spec?.replicas ?? 1 } : undefined;
      },
      async (ref, ns) => {
        if (ref.kind !== 'StatefulSet' || !isApps(ref)) return undefined;
        const ss = await live('statefulsets', ns, ref.name, ref.uid);
        return ss ? { uid: ss.metadata.uid, scale: ss.spec?.replicas ?? 1 } : undefined;
      },
    ];
  }

  private async deletePod(podsRes: ServedResource, namespace: string, name: string, opts: DeleteOptions, ctx: WriteContext): Promise<void> {
    await this.registry.delete(podsRes, namespace, name, opts, ctx);
  }
}

class StaleBudget extends Error {
  readonly code = 'StaleBudget';
  constructor() { super('the PodDisruptionBudget changed since it was read'); this.name = 'StaleBudget'; }
}
