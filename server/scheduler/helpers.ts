// Node-selection predicates shared by scheduler plugins and the DaemonSet controller (which must
// agree with the scheduler about which nodes a daemon pod may run on).
import { fromNodeSelectorRequirements } from '../controllers/selectors';

export interface Taint { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | string; timeAdded?: string }
export interface Toleration { key?: string; operator?: 'Exists' | 'Equal' | string; value?: string; effect?: string; tolerationSeconds?: number }

/** v1.Toleration.ToleratesTaint. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export function toleratesTaint(tols: Toleration[] | undefined, taint: Taint): boolean {
  return (tols ?? []).some((t) => tolerates(t, taint));
}

/** The first taint passing `filter` that no toleration tolerates. */
export function findUntoleratedTaint(taints: Taint[] | undefined, tols: Toleration[] | undefined, filter: (t: Taint) => boolean): Taint | undefined {
  for (const taint of taints ?? []) if (filter(taint) && !toleratesTaint(tols, taint)) return taint;
  return undefined;
}

/** One NodeSelectorTerm: all matchExpressions on labels and all matchFields (metadata.name). An empty term matches nothing. */
export function nodeMatchesTerm(node: any, term: any): boolean {
  const exprs = term?.matchExpressions ?? [];
  const fields = term?.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  if (exprs.length && !fromNodeSelectorRequirements(exprs).matches(node.metadata?.labels ?? {})) return false;
  if (fields.length && !fromNodeSelectorRequirements(fields).matches({ 'metadata.name': node.metadata?.name })) return false;
  return true;
}

/** Required node affinity: nodeSelector map AND (any of requiredDuringScheduling...nodeSelectorTerms). */
export function podMatchesNodeSelectorAndAffinity(pod: any, node: any): boolean {
  const labels: Record<string, string> = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries<string>(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req) {
    const terms = req.nodeSelectorTerms ?? [];
    if (!terms.some((t: any) => nodeMatchesTerm(node, t))) return false;
  }
  return true;
}
