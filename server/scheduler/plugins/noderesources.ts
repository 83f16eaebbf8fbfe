// NodeResourcesFit (filter: requests vs allocatable, pod count; score: LeastAllocated) and
// NodeResourcesBalancedAllocation (score: how evenly cpu and memory are used).
import { PodInfo, type NodeInfo } from '../cache';
import { type CycleState, type FilterPlugin, type PreFilterPlugin, type ScorePlugin, MAX_NODE_SCORE, Status } from '../framework';

const STATE_KEY = 'PreFilterNodeResourcesFit';

interface FitState { pi: PodInfo; wants: Array<[string, number]> }

function fitState(state: CycleState, pod: any): FitState {
  let s = state.read<FitState>(STATE_KEY);
  if (!s) {
    const pi = new PodInfo(pod);
    s = { pi, wants: Object.entries(pi.requests).filter(([, v]) => v > 0) };
    state.write(STATE_KEY, s);
  }
  return s;
}

function podInfo(state: CycleState, pod: any): PodInfo { return fitState(state, pod).pi; }

export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, ScorePlugin {
  readonly name = 'NodeResourcesFit';
  /** LeastAllocated scoring weights per resource. */
  constructor(private readonly resources: Record<string, number> = { cpu: 1, memory: 1 }) {}

  preFilter(state: CycleState, pod: any): Status {
    fitState(state, pod);
    return Status.success();
  }

  filter(state: CycleState, pod: any, node: NodeInfo): Status {
    const { wants } = fitState(state, pod);
    let reasons: string[] | undefined;
    const allowedPods = node.allocatable.pods ?? 110;
    if (node.pods.size + 1 > allowedPods) (reasons ??= []).push('Too many pods');
    for (const [name, want] of wants) {
      const free = (node.allocatable[name] ?? 0) - (node.requested[name] ?? 0);
      if (want > free) (reasons ??= []).push(`Insufficient ${name}`);
    }
    return reasons ? Status.unschedulable(...reasons) : Status.success();
  }

  /** LeastAllocated: free share of each resource after placing the pod, weighted, 0..100. */
  score(state: CycleState, pod: any, node: NodeInfo): number {
    const s = fitState(state, pod);
    const nz = s.pi.nonZero;
    // The weights list is fixed per plugin instance; hot path: no allocation per node.
    const res = (s as any).lsRes ??= Object.entries(this.resources);
    let sum = 0;
    let weights = 0;
    for (let i = 0; i < res.length; i++) {
      const r = res[i][0];
      const w = res[i][1];
      const alloc = node.allocatable[r] ?? 0;
      const used = (node.nonZeroRequested[r] ?? 0) + (nz[r] ?? 0);
      sum += (alloc === 0 || used > alloc ? 0 : Math.floor(((alloc - used) * MAX_NODE_SCORE) / alloc)) * w;
      weights += w;
    }
    return weights ? Math.floor(sum / weights) : 0;
  }
}

export class NodeResourcesBalancedAllocation implements ScorePlugin {
  readonly name = 'NodeResourcesBalancedAllocation';
  score(state: CycleState, pod: any, node: NodeInfo): number {
    const req = podInfo(state, pod).requests;
    const ac = node.allocatable.cpu ?? 0;
    const am = node.allocatable.memory ?? 0;
    if (!ac || !am) return MAX_NODE_SCORE;
    const fc = Math.min(1, ((node.requested.cpu ?? 0) + (req.cpu ?? 0)) / ac);
    const fm = Math.min(1, ((node.requested.memory ?? 0) + (req.memory ?? 0)) / am);
    // Standard deviation of two fractions is half their distance.
    return Math.floor((1 - Math.abs(fc - fm) / 2) * MAX_NODE_SCORE);
  }
}
