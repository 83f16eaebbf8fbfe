// Small filter plugins: NodeName, NodeUnschedulable, NodeAffinity (with nodeSelector),
// TaintToleration, NodePorts. Reasons are upstream's strings, so the FailedScheduling message
// reads as on any cluster.
import type { NodeInfo } from '../cache';
import { hostPorts } from '../cache';
import { type CycleState, type FilterPlugin, type NodeScore, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin, Status, defaultNormalizeScore } from '../framework';
import { findUntoleratedTaint, nodeMatchesTerm, podMatchesNodeSelectorAndAffinity, toleratesTaint, type Taint } from '../helpers';

export class NodeName implements FilterPlugin {
  readonly name = 'NodeName';
  static readonly reason = "node(s) didn't match the requested node name";
  filter(_s: CycleState, pod: any, node: NodeInfo): Status {
    const want = pod.spec?.nodeName;
    return !want || want === node.name ? Status.success() : Status.unresolvable(NodeName.reason);
  }
}

export class NodeUnschedulable implements FilterPlugin {
  readonly name = 'NodeUnschedulable';
  static readonly reason = 'node(s) were unschedulable';
  filter(_s: CycleState, pod: any, node: NodeInfo): Status {
    if (!node.node?.spec?.unschedulable) return Status.success();
    const taint: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
    return toleratesTaint(pod.spec?.tolerations, taint) ? Status.success() : Status.unresolvable(NodeUnschedulable.reason);
  }
}

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = 'NodeAffinity';
  static readonly reason = "node(s) didn't match Pod's node affinity/selector";
  preFilter(_s: CycleState, pod: any): Status {
    const hasSelector = Object.keys(pod.spec?.nodeSelector ?? {}).length > 0;
    return hasSelector || pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ? Status.success() : Status.skip();
  }
  preScore(_s: CycleState, pod: any): Status {
    return pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ? Status.success() : Status.skip();
  }
  filter(_s: CycleState, pod: any, node: NodeInfo): Status {
    return podMatchesNodeSelectorAndAffinity(pod, node.node) ? Status.success() : Status.unresolvable(NodeAffinity.reason);
  }
  score(_s: CycleState, pod: any, node: NodeInfo): number {
    let sum = 0;
    for (const t of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (t.weight && nodeMatchesTerm(node.node, t.preference)) sum += t.weight;
    }
    return sum;
  }
  normalizeScore(_s: CycleState, _pod: any, scores: NodeScore[]): void { defaultNormalizeScore(scores, false); }
}

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = 'TaintToleration';
  preScore(s: CycleState, pod: any): Status {
    s.write('PreScoreTaintToleration', (pod.spec?.tolerations ?? []).filter((t: any) => !t.effect || t.effect === 'PreferNoSchedule'));
    return Status.success();
  }
  filter(_s: CycleState, pod: any, node: NodeInfo): Status {
    const taint = findUntoleratedTaint(node.node?.spec?.taints, pod.spec?.tolerations,
      (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    if (!taint) return Status.success();
    return Status.unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
  }
  score(s: CycleState, pod: any, node: NodeInfo): number {
    const taints = node.node?.spec?.taints;
    if (!taints?.length) return 0;
    const tols = s.read<any[]>('PreScoreTaintToleration') ?? (pod.spec?.tolerations ?? []).filter((t: any) => !t.effect || t.effect === 'PreferNoSchedule');
    let n = 0;
    for (const taint of node.node?.spec?.taints ?? []) if (taint.effect === 'PreferNoSchedule' && !toleratesTaint(tols, taint)) n++;
    return n;
  }
  normalizeScore(_s: CycleState, _pod: any, scores: NodeScore[]): void { defaultNormalizeScore(scores, true); }
}

export class NodePorts implements PreFilterPlugin, FilterPlugin {
  readonly name = 'NodePorts';
  static readonly reason = "node(s) didn't have free ports for the requested pod ports";
  preFilter(s: CycleState, pod: any): Status {
    const ports = hostPorts(pod);
    if (!ports.length) return Status.skip();
    s.write('PreFilterNodePorts', ports);
    return Status.success();
  }
  filter(s: CycleState, pod: any, node: NodeInfo): Status {
    if (!node.usedPorts.size) return Status.success();
    for (const p of s.read<string[]>('PreFilterNodePorts') ?? hostPorts(pod)) {
      const [proto, ip, port] = p.split('/');
      if (node.usedPorts.has(p)) return Status.unschedulable(NodePorts.reason);
      // 0.0.0.0 conflicts with any address on the same port and protocol.
      for (const u of node.usedPorts) {
        const [uproto, uip, uport] = u.split('/');
        if (uproto === proto && uport === port && (uip === '0.0.0.0' || ip === '0.0.0.0')) return Status.unschedulable(NodePorts.reason);
      }
    }
    return Status.success();
  }
}
