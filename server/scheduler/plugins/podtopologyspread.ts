// PodTopologySpread: keep matching pods spread across topology domains (e.g. hostnames) within
// maxSkew. DoNotSchedule constraints filter; ScheduleAnyway constraints score.
import { fromLabelSelector, type Selector } from '../../controllers/selectors';
import type { NodeInfo, PodInfo, Snapshot } from '../cache';
import {
  type Cloneable, type CycleState, type FilterPlugin, type Handle, type NodeScore, type PreFilterPlugin, type PreScorePlugin,
  type ScorePlugin, MAX_NODE_SCORE, Status,
} from '../framework';
import { podMatchesNodeSelectorAndAffinity } from '../helpers';

export const ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const ErrReasonNodeLabelNotMatch = ErrReasonConstraintsNotMatch + ' (missing required label)';

interface Constraint { maxSkew: number; topologyKey: string; selector: Selector; minDomains: number }

function constraintsOf(pod: any, action: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
  return (pod.spec?.topologySpreadConstraints ?? [])
    .filter((c: any) => (c.whenUnsatisfiable ?? 'DoNotSchedule') === action)
    .map((c: any) => {
      // matchLabelKeys: AND the pod's own values for those keys into the selector.
      const sel = { ...(c.labelSelector ?? {}) };
      if (c.matchLabelKeys?.length) {
        sel.matchExpressions = [...(sel.matchExpressions ?? []),
          ...c.matchLabelKeys.filter((k: string) => pod.metadata.labels?.[k] !== undefined)
            .map((k: string) => ({ key: k, operator: 'In', values: [pod.metadata.labels[k]] }))];
      }
      return { maxSkew: c.maxSkew ?? 1, topologyKey: c.topologyKey, selector: fromLabelSelector(sel), minDomains: c.minDomains ?? 1 };
    });
}

function countMatching(node: NodeInfo, ns: string, sel: Selector): number {
  let n = 0;
  for (const p of node.pods.values()) {
    if (p.pod.metadata.namespace === ns && !p.pod.metadata.deletionTimestamp && sel.matches(p.pod.metadata.labels)) n++;
  }
  return n;
}

function minMatch(m: Map<string, number>, c: Constraint): number {
  return m.size < c.minDomains ? 0 : m.size ? Math.min(...m.values()) : 0;
}

/** Matching pods per domain, per DoNotSchedule constraint, and each constraint's minimum. */
class FilterState implements Cloneable {
  constructor(readonly constraints: Constraint[], readonly counts: Map<string, number>[], readonly min: number[]) {}

  clone(): FilterState { return new FilterState(this.constraints, this.counts.map((m) => new Map(m)), [...this.min]); }

  /** Counts `other` on `node` in (+1) or out (-1), if the node is one the constraints count (upstream's updateWithPod). */
  update(pod: any, other: PodInfo, node: NodeInfo, by: 1 | -1): void {
    const op = other.pod;
    if (op.metadata.namespace !== pod.metadata.namespace || op.metadata.deletionTimestamp) return;
    if (!this.constraints.every((c) => node.labels[c.topologyKey] !== undefined) || !podMatchesNodeSelectorAndAffinity(pod, node.node)) return;
    for (let i = 0; i < this.constraints.length; i++) {
      const c = this.constraints[i];
      if (!c.selector.matches(op.metadata.labels)) continue;
      const v = node.labels[c.topologyKey];
      this.counts[i].set(v, (this.counts[i].get(v) ?? 0) + by);
      this.min[i] = minMatch(this.counts[i], c);
    }
  }
}

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = 'PodTopologySpread';
  constructor(private readonly handle: Handle) {}

  private eligible(pod: any, snap: Snapshot, keys: string[]): NodeInfo[] {
    return snap.list().filter((n) => keys.every((k) => n.labels[k] !== undefined) && podMatchesNodeSelectorAndAffinity(pod, n.node));
  }

  preFilter(state: CycleState, pod: any): Status {
    const constraints = constraintsOf(pod, 'DoNotSchedule');
    if (!constraints.length) return Status.skip();
    const nodes = this.eligible(pod, this.handle.snapshot(), constraints.map((c) => c.topologyKey));
    const counts = constraints.map((c) => {
      const m = new Map<string, number>();
      for (const n of nodes) {
        const v = n.labels[c.topologyKey];
        m.set(v, (m.get(v) ?? 0) + countMatching(n, pod.metadata.namespace, c.selector));
      }
      return m;
    });
    const min = counts.map((m, i) => minMatch(m, constraints[i]));
    state.write('PreFilterPodTopologySpread', new FilterState(constraints, counts, min));
    return Status.success();
  }

  addPod(state: CycleState, pod: any, added: PodInfo, node: NodeInfo): Status {
    state.read<FilterState>('PreFilterPodTopologySpread')?.update(pod, added, node, 1);
    return Status.success();
  }

  removePod(state: CycleState, pod: any, removed: PodInfo, node: NodeInfo): Status {
    state.read<FilterState>('PreFilterPodTopologySpread')?.update(pod, removed, node, -1);
    return Status.success();
  }

  filter(state: CycleState, pod: any, node: NodeInfo): Status {
    const s = state.read<FilterState>('PreFilterPodTopologySpread')!;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const v = node.labels[c.topologyKey];
      if (v === undefined) return Status.unresolvable(ErrReasonNodeLabelNotMatch);
      const self = c.selector.matches(pod.metadata.labels) ? 1 : 0;
      const skew = (s.counts[i].get(v) ?? 0) + self - s.min[i];
      if (skew > c.maxSkew) return Status.unschedulable(ErrReasonConstraintsNotMatch);
    }
    return Status.success();
  }

  preScore(state: CycleState, pod: any, nodes: NodeInfo[]): Status {
    const constraints = constraintsOf(pod, 'ScheduleAnyway');
    if (!constraints.length) return Status.skip();
    const snap = this.handle.snapshot();
    const all = this.eligible(pod, snap, constraints.map((c) => c.topologyKey));
    const counts = constraints.map((c) => {
      const m = new Map<string, number>();
      for (const n of all) m.set(n.labels[c.topologyKey], (m.get(n.labels[c.topologyKey]) ?? 0) + countMatching(n, pod.metadata.namespace, c.selector));
      return m;
    });
    // Domains with more values weigh less per pod (upstream: log(domains + 2)).
    const weights = counts.map((m) => Math.log(m.size + 2));
    state.write('PreScorePodTopologySpread', { constraints, counts, weights, nodes: new Set(nodes.map((n) => n.name)) });
    return Status.success();
  }

  score(state: CycleState, _pod: any, node: NodeInfo): number {
    const s = state.read<{ constraints: Constraint[]; counts: Map<string, number>[]; weights: number[] }>('PreScorePodTopologySpread')!;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const v = node.labels[s.constraints[i].topologyKey];
      if (v === undefined) continue;
      score += (s.counts[i].get(v) ?? 0) * s.weights[i] + (s.constraints[i].maxSkew - 1);
    }
    return Math.round(score);
  }

  normalizeScore(_s: CycleState, _pod: any, scores: NodeScore[]): void {
    let min = Infinity;
    let max = 0;
    for (const s of scores) { if (s.score < min) min = s.score; if (s.score > max) max = s.score; }
    for (const s of scores) s.score = max === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (max + min - s.score)) / max);
  }
}
