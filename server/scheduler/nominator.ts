// The pod nominator (upstream's nominator in the scheduling queue): preemptors waiting for their
// victims to go, by the node they were nominated to. Filter counts a node's nominated pods of
// equal or higher priority, so lower-priority pods do not take the room preemption freed.
import { PodInfo, podKey } from './cache';

export function podPriority(pod: any): number {
  return pod?.spec?.priority ?? 0;
}

export class PodNominator {
  private readonly byNode = new Map<string, Map<string, PodInfo>>();
  private readonly nodeOfPod = new Map<string, string>();

  /** Nominates pod to nodeName (replacing an earlier nomination of the same pod). */
  add(pod: any, nodeName: string): void {
    const key = podKey(pod);
    this.delete(key);
    if (!nodeName) return;
    let m = this.byNode.get(nodeName);
    if (!m) { m = new Map(); this.byNode.set(nodeName, m); }
    m.set(key, new PodInfo(pod));
    this.nodeOfPod.set(key, nodeName);
  }

  delete(key: string): void {
    const node = this.nodeOfPod.get(key);
    if (node === undefined) return;
    this.nodeOfPod.delete(key);
    const m = this.byNode.get(node);
    m?.delete(key);
    if (m && m.size === 0) this.byNode.delete(node);
  }

  nominatedNodeOf(key: string): string | undefined { return this.nodeOfPod.get(key); }

  /** The pods nominated to nodeName (empty when none). */
  podsForNode(nodeName: string): PodInfo[] {
    const m = this.byNode.get(nodeName);
    return m ? [...m.values()] : [];
  }

  get size(): number { return this.nodeOfPod.size; }
}
