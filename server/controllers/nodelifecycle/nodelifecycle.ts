// Node lifecycle: a node whose Lease (kube-node-lease/<node>) and status heartbeat are older than
// the grace period (40 s) gets its conditions set to Unknown and the unreachable taints; a node
// reporting Ready=False gets the not-ready taints. Pods on a node with NoExecute taints are
// evicted (deleted) once no toleration covers them, or after their tolerationSeconds (admission's
// DefaultTolerationSeconds gives every pod 300 s for not-ready/unreachable).
import { R, isNotFound, type Informer } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { clone, rfc3339, type KubeObject } from '../types';
import { getCondition, isPodTerminal } from '../util/pods';
import { tolerates, type Taint } from '../../scheduler/helpers';

export const UNREACHABLE = 'node.kubernetes.io/unreachable';
export const NOT_READY = 'node.kubernetes.io/not-ready';
const MONITOR_PERIOD_MS = 5_000;

export class NodeLifecycleController extends QueueController {
  private readonly nodeInformer: Informer;
  private readonly leaseInformer: Informer;
  private readonly podInformer: Informer;
  private timer?: NodeJS.Timeout;

  constructor(ctx: ControllerContext) {
    super('nodelifecycle', ctx, 'node-controller');
    this.nodeInformer = this.informer(R.nodes);
    this.leaseInformer = this.informer(R.leases);
    this.podInformer = this.informer(R.pods);
    this.nodeInformer.addEventHandler({ onAdd: (n) => this.enqueue(n), onUpdate: (_o, n) => this.enqueue(n) });
    this.podInformer.addEventHandler({ onAdd: (p) => { if (p.spec?.nodeName) this.queue.add(p.spec.nodeName); } });
  }

  private get graceMs(): number { return this.ctx.options.nodeMonitorGracePeriodMs ?? 40_000; }

  override run(workers: number): Promise<void> {
    // Heartbeats expire without any event: look at every node each monitor period.
    this.timer = setInterval(() => { for (const n of this.nodeInformer.store.list()) this.enqueue(n); }, MONITOR_PERIOD_MS);
    this.timer.unref?.();
    return super.run(workers);
  }

  override shutDown(): void {
    if (this.timer) clearInterval(this.timer);
    super.shutDown();
  }

  /** The newest sign of life: the Lease's renewTime or the Ready condition's heartbeat. */
  lastHeartbeat(node: KubeObject): number {
    const lease = this.leaseInformer.store.get('kube-node-lease', node.metadata.name!);
    const times = [
      Date.parse(lease?.spec?.renewTime ?? '') || 0,
      Date.parse(getCondition(node.status?.conditions, 'Ready')?.lastHeartbeatTime ?? '') || 0,
      Date.parse(node.metadata.creationTimestamp ?? '') || 0,
    ];
    return Math.max(...times);
  }

  async sync(name: string): Promise<void> {
    const cached = this.nodeInformer.store.get('', name);
    if (!cached) return;
    const now = this.ctx.clock.now();
    const node = clone(cached);
    const ready = getCondition(node.status?.conditions, 'Ready');
    const stale = now - this.lastHeartbeat(node) > this.graceMs;
    if (stale && ready?.status !== 'Unknown') {
      const ts = rfc3339(now);
      node.status.conditions = (node.status.conditions ?? []).map((c: any) =>
        ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].includes(c.type)
          ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: ts }
          : c);
      if (!getCondition(node.status.conditions, 'Ready')) {
        node.status.conditions.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastTransitionTime: ts, lastHeartbeatTime: ts });
      }
      Object.assign(node, await this.client.updateStatus(R.nodes, node));
      this.recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name, uid: node.metadata.uid } }, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      await this.markPodsNotReady(name);
    }
    const cur = getCondition(node.status?.conditions, 'Ready')?.status;
    const want: Taint[] = cur === 'Unknown' ? [{ key: UNREACHABLE, effect: 'NoExecute' }, { key: UNREACHABLE, effect: 'NoSchedule' }]
      : cur === 'False' ? [{ key: NOT_READY, effect: 'NoExecute' }, { key: NOT_READY, effect: 'NoSchedule' }] : [];
    const taints: Taint[] = node.spec?.taints ?? [];
    const ours = (t: Taint) => t.key === UNREACHABLE || t.key === NOT_READY;
    const kept = taints.filter((t) => !ours(t) || want.some((w) => w.key === t.key && w.effect === t.effect));
    const added = want.filter((w) => !taints.some((t) => t.key === w.key && t.effect === w.effect)).map((w) => ({ ...w, timeAdded: rfc3339(now) }));
    if (added.length || kept.length !== taints.length) {
      node.spec = { ...(node.spec ?? {}), taints: [...kept, ...added] };
      if (!node.spec.taints.length) delete node.spec.taints;
      Object.assign(node, await this.client.update(R.nodes, node));
    }
    await this.evict(node, now);
    if (!stale) this.queue.addAfter(name, Math.max(1000, this.lastHeartbeat(node) + this.graceMs - now + 100));
  }

  /** NodeLifecycle's MarkPodsNotReady: so Endpoints drop them at once. */
  private async markPodsNotReady(nodeName: string): Promise<void> {
    for (const p of this.podInformer.store.list().filter((x) => x.spec?.nodeName === nodeName && !isPodTerminal(x))) {
      const c = getCondition(p.status?.conditions, 'Ready');
      if (c?.status === 'False') continue;
      const next = clone(p);
      next.status.conditions = [...(p.status?.conditions ?? []).filter((x: any) => x.type !== 'Ready'),
        { type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: rfc3339(this.ctx.clock.now()) }];
      try { await this.client.updateStatus(R.pods, next); } catch (e) { if (!isNotFound(e)) throw e; }
    }
  }

  /** The taint manager: delete pods that do not tolerate the node's NoExecute taints (in time). */
  private async evict(node: KubeObject, now: number): Promise<void> {
    const noExecute: Taint[] = (node.spec?.taints ?? []).filter((t: Taint) => t.effect === 'NoExecute');
    if (!noExecute.length) return;
    let nextCheck = Infinity;
    for (const p of this.podInformer.store.list().filter((x) => x.spec?.nodeName === node.metadata.name && !x.metadata.deletionTimestamp)) {
      let evictAt = Infinity;
      for (const taint of noExecute) {
        const tols = (p.spec?.tolerations ?? []).filter((t: any) => tolerates(t, taint));
        if (!tols.length) { evictAt = now; break; }
        const secs = tols.map((t: any) => t.tolerationSeconds).filter((s: any) => typeof s === 'number');
        if (secs.length === tols.length) {
          const added = Date.parse(taint.timeAdded ?? '') || now;
          evictAt = Math.min(evictAt, added + Math.max(0, Math.min(...secs)) * 1000);
        }
      }
      if (evictAt > now) { nextCheck = Math.min(nextCheck, evictAt); continue; }
      try {
        await this.client.delete(R.pods, p.metadata.namespace!, p.metadata.name!, { preconditions: { uid: p.metadata.uid } });
        this.recorder.event(p, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${p.metadata.namespace}/${p.metadata.name}`);
      } catch (e) { if (!isNotFound(e)) throw e; }
    }
    if (nextCheck < Infinity) this.queue.addAfter(node.metadata.name!, nextCheck - now + 10);
  }
}
