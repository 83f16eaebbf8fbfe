// InterPodAffinity: required and preferred pod affinity / anti-affinity over any topology key
// (kubernetes.io/hostname, zones, ...), including existing pods' anti-affinity towards the new pod.
import { PodInfo, termMatches, type NodeInfo, type Snapshot } from '../cache';
import {
  type Cloneable, type CycleState, type FilterPlugin, type Handle, type NodeScore, type PreFilterPlugin, type PreScorePlugin,
  type ScorePlugin, MAX_NODE_SCORE, Status,
} from '../framework';

const PRE_FILTER = 'PreFilterInterPodAffinity';
const PRE_SCORE = 'PreScoreInterPodAffinity';

export const ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ErrReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
export const ErrReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";

const pair = (k: string, v: string) => `${k}\u0000${v}`;
/** Adds `by` to a count; a count back at zero is dropped (the filter's first-pod rule reads size). */
function inc(m: Map<string, number>, k: string, by = 1): void {
  const n = (m.get(k) ?? 0) + by;
  if (n === 0) m.delete(k); else m.set(k, n);
}

/** Counts per topology pair ("key=value"), for the pod being scheduled. */
class PreFilterState implements Cloneable {
  constructor(readonly pi: PodInfo,
    readonly existingAnti = new Map<string, number>(),
    readonly affinity = new Map<string, number>(),
    readonly anti = new Map<string, number>()) {}

  clone(): PreFilterState {
    return new PreFilterState(this.pi, new Map(this.existingAnti), new Map(this.affinity), new Map(this.anti));
  }

  /** Counts `other`, on a node with `labels`, in (+1) or out (-1): upstream's updateWithPod. */
  update(other: PodInfo, labels: Record<string, string>, by: 1 | -1): void {
    const pi = this.pi;
    for (const t of other.requiredAntiAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined && termMatches(t, pi.pod)) inc(this.existingAnti, pair(t.topologyKey, v), by);
    }
    if (pi.requiredAffinity.length && pi.requiredAffinity.every((t) => termMatches(t, other.pod))) {
      for (const t of pi.requiredAffinity) { const v = labels[t.topologyKey]; if (v !== undefined) inc(this.affinity, pair(t.topologyKey, v), by); }
    }
    for (const t of pi.requiredAntiAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined && termMatches(t, other.pod)) inc(this.anti, pair(t.topologyKey, v), by);
    }
  }
}

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = 'InterPodAffinity';
  constructor(private readonly handle: Handle) {}

  preFilter(state: CycleState, pod: any): Status {
    const snap: Snapshot = this.handle.snapshot();
    const pi = new PodInfo(pod);
    const withAffinity = snap.havePodsWithAffinity();
    const hasExistingAnti = withAffinity.some((n) => n.podsWithRequiredAntiAffinity > 0);
    if (!pi.requiredAffinity.length && !pi.requiredAntiAffinity.length && !hasExistingAnti) return Status.skip();
    const s = new PreFilterState(pi);
    for (const n of withAffinity) {
      if (!n.podsWithRequiredAntiAffinity) continue;
      for (const ex of n.pods.values()) {
        for (const t of ex.requiredAntiAffinity) {
          const v = n.labels[t.topologyKey];
          if (v !== undefined && termMatches(t, pod)) inc(s.existingAnti, pair(t.topologyKey, v));
        }
      }
    }
    if (pi.requiredAffinity.length || pi.requiredAntiAffinity.length) {
      for (const n of snap.list()) {
        for (const ex of n.pods.values()) {
          if (pi.requiredAffinity.length && pi.requiredAffinity.every((t) => termMatches(t, ex.pod))) {
            for (const t of pi.requiredAffinity) { const v = n.labels[t.topologyKey]; if (v !== undefined) inc(s.affinity, pair(t.topologyKey, v)); }
          }
          for (const t of pi.requiredAntiAffinity) {
            const v = n.labels[t.topologyKey];
            if (v !== undefined && termMatches(t, ex.pod)) inc(s.anti, pair(t.topologyKey, v));
          }
        }
      }
    }
    state.write(PRE_FILTER, s);
    return Status.success();
  }

  addPod(state: CycleState, _pod: any, added: PodInfo, node: NodeInfo): Status {
    state.read<PreFilterState>(PRE_FILTER)?.update(added, node.labels, 1);
    return Status.success();
  }

  removePod(state: CycleState, _pod: any, removed: PodInfo, node: NodeInfo): Status {
    state.read<PreFilterState>(PRE_FILTER)?.update(removed, node.labels, -1);
    return Status.success();
  }

  filter(state: CycleState, _pod: any, node: NodeInfo): Status {
    const s = state.read<PreFilterState>(PRE_FILTER)!;
    const labels = node.labels;
    for (const [k, v] of Object.entries(labels)) {
      if ((s.existingAnti.get(pair(k, v)) ?? 0) > 0) return Status.unschedulable(ErrReasonExistingAntiAffinityRulesNotMatch);
    }
    for (const t of s.pi.requiredAntiAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined && (s.anti.get(pair(t.topologyKey, v)) ?? 0) > 0) return Status.unschedulable(ErrReasonAntiAffinityRulesNotMatch);
    }
    if (s.pi.requiredAffinity.length) {
      const ok = s.pi.requiredAffinity.every((t) => {
        const v = labels[t.topologyKey];
        return v !== undefined && (s.affinity.get(pair(t.topologyKey, v)) ?? 0) > 0;
      });
      if (!ok) {
        // The first pod of a group that selects itself may go anywhere with the topology labels.
        const selfMatch = s.affinity.size === 0 && s.pi.requiredAffinity.every((t) => termMatches(t, s.pi.pod) && labels[t.topologyKey] !== undefined);
        if (!selfMatch) return Status.unresolvable(ErrReasonAffinityRulesNotMatch);
      }
    }
    return Status.success();
  }

  preScore(state: CycleState, pod: any): Status {
    const snap = this.handle.snapshot();
    const pi = new PodInfo(pod);
    const withAffinity = snap.havePodsWithAffinity();
    if (!pi.preferredAffinity.length && !pi.preferredAntiAffinity.length && !withAffinity.length) return Status.skip();
    const scores = new Map<string, number>();
    const nodes = pi.preferredAffinity.length || pi.preferredAntiAffinity.length ? snap.list() : withAffinity;
    for (const n of nodes) {
      for (const ex of n.pods.values()) {
        for (const t of pi.preferredAffinity) { const v = n.labels[t.topologyKey]; if (v !== undefined && termMatches(t, ex.pod)) inc(scores, pair(t.topologyKey, v), t.weight); }
        for (const t of pi.preferredAntiAffinity) { const v = n.labels[t.topologyKey]; if (v !== undefined && termMatches(t, ex.pod)) inc(scores, pair(t.topologyKey, v), -t.weight); }
        if (!n.podsWithAffinity) continue;
        for (const t of ex.preferredAffinity) { const v = n.labels[t.topologyKey]; if (v !== undefined && termMatches(t, pod)) inc(scores, pair(t.topologyKey, v), t.weight); }
        for (const t of ex.preferredAntiAffinity) { const v = n.labels[t.topologyKey]; if (v !== undefined && termMatches(t, pod)) inc(scores, pair(t.topologyKey, v), -t.weight); }
        // Existing pods' required affinity counts with hardPodAffinityWeight 1.
        for (const t of ex.requiredAffinity) { const v = n.labels[t.topologyKey]; if (v !== undefined && termMatches(t, pod)) inc(scores, pair(t.topologyKey, v), 1); }
      }
    }
    if (scores.size === 0) return Status.skip();
    state.write(PRE_SCORE, scores);
    return Status.success();
  }

  score(state: CycleState, _pod: any, node: NodeInfo): number {
    const scores = state.read<Map<string, number>>(PRE_SCORE)!;
    let sum = 0;
    for (const [k, v] of Object.entries(node.labels)) sum += scores.get(pair(k, v)) ?? 0;
    return sum;
  }

  normalizeScore(_s: CycleState, _pod: any, scores: NodeScore[]): void {
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) { if (s.score < min) min = s.score; if (s.score > max) max = s.score; }
    const diff = max - min;
    for (const s of scores) s.score = diff > 0 ? Math.floor((MAX_NODE_SCORE * (s.score - min)) / diff) : 0;
  }
}
