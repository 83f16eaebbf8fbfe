// NodeResourcesFit (filter: requests vs allocatable, pod count; score: LeastAllocated) and
// NodeResourcesBalancedAllocation (score: how evenly cpu and memory are used).
import { PodInfo, type NodeInfo } from '../cache';
import { type CycleState, type FilterPlugin, type PreFilterPlugin, type ScorePlugin, MAX_NODE_SCORE, Status } from '../framework';

const STATE_KEY = 'PreFilterNodeResourcesFit';

function podInfo(state: CycleState, pod: any): PodInfo {
  let pi = state.read<PodInfo>(STATE_KEY);
  if (!pi) { pi = new PodInfo(pod); state.write(STATE_KEY, pi); }
  return pi;
}

export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, ScorePlugin {
  readonly name = 'NodeResourcesFit';
  /** LeastAllocated scoring weights per resource. */
  constructor(private readonly resources: Record<string, number> = { cpu: 1, memory: 1 }) {}

  preFilter(state: CycleState, pod: any): Status {
    state.write(STATE_KEY, new PodInfo(pod));
    return Status.success();
  }

  filter(state: CycleState, pod: any, node: NodeInfo): Status {
    const req = podInfo(state, pod).requests;
    const reasons: string[] = [];
    const allowedPods = node.allocatable.pods ?? 110;
    if (node.pods.size + 1 > allowedPods) reasons.push('Too many pods');
    for (const [name, want] of Object.entries(req)) {
      if (want <= 0) continue;
      const free = (node.allocatable[name] ?? 0) - (node.requested[name] ?? 0);
      if (want > free) reasons.push(`Insufficient ${name}`);
    }
    return reasons.length ? Status.unschedulable(...reasons) : Status.success();
  }

  /** LeastAllocated: free share of each resource after placing the pod, weighted, 0..100. */
  score(state: CycleState, pod: any, node: NodeInfo): number {
    const nz = podInfo(state, pod).nonZero;
    let sum = 0;
    let weights = 0;
    for (const [r, w] of Object.entries(this.resources)) {
      const alloc = node.allocatable[r] ?? 0;
      const used = (node.nonZeroRequested[r] ?? 0) + (nz[r] ?? 0);
      const s = alloc === 0 || used > alloc ? 0 : Math.floor(((alloc - used) * MAX_NODE_SCORE) / alloc);
      sum += s * w;
      weights += w;
    }
    return weights ? Math.floor(sum / weights) : 0;
  }
}

export class NodeResourcesBalancedAllocation implements ScorePlugin {
  readonly name = 'NodeResourcesBalancedAllocation';
  score(state: CycleState, pod: any, node: NodeInfo): number {
    const req = podInfo(state, pod).requests;
    const fractions: number[] = [];
    for (const r of ['cpu', 'memory']) {
      const alloc = node.allocatable[r] ?? 0;
      if (!alloc) continue;
      fractions.push(Math.min(1, ((node.requested[r] ?? 0) + (req[r] ?? 0)) / alloc));
    }
    if (fractions.length < 2) return MAX_NODE_SCORE;
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    const std = Math.sqrt(fractions.reduce((a, f) => a + (f - mean) ** 2, 0) / fractions.length);
    return Math.floor((1 - std) * MAX_NODE_SCORE);
  }
}
