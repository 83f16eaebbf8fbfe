import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { daemonPodNode } from '../../server/controllers/daemonset/daemonset';
import type { FakeCluster } from './helpers/fake-cluster';
import { startControllers, type Harness } from './helpers/harness';
import { markPodsReady } from './helpers/hollow';
import { node } from './helpers/objects';
import { waitFor } from './helpers/wait';

let h: Harness | undefined;
let timer: NodeJS.Timeout | undefined;
afterEach(async () => { clearInterval(timer); await h?.stop(); h = undefined; });

const ds = (image: string) => ({
  apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'kube-system' },
  spec: {
    selector: { matchLabels: { app: 'agent' } }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
    template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'c', image }] } },
  },
});

/** A stand-in for scheduler + kubelet: bind each daemon pod to its pinned node and mark it ready. */
function hollow(f: FakeCluster): void {
  let busy = false;
  timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      for (const p of f.all(R.pods)) {
        if (!p.spec.nodeName) { p.spec.nodeName = daemonPodNode(p); await f.update(R.pods, p).catch(() => {}); }
      }
      await markPodsReady(f);
    } finally { busy = false; }
  }, 5);
}

describe('DaemonSet controller', () => {
  it('runs one pinned pod per eligible node with the default tolerations, and rolls updates one node at a time', async () => {
    h = await startControllers(['daemonset']);
    const { f } = h;
    f.seed(R.nodes, node('a'), node('b', { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] }),
      node('c', { unschedulable: true }), node('win', { labels: { 'kubernetes.io/os': 'windows' } }));
    hollow(f);
    await f.create(R.daemonsets, 'kube-system', ds('agent:1'));
    await waitFor(() => f.peek(R.daemonsets, 'kube-system', 'agent')?.status?.numberReady === 2, 3000, '2 ready');
    const pods = f.all(R.pods);
    expect(pods.map((p) => p.spec.nodeName).sort()).toEqual(['a', 'c']);
    const p = pods[0];
    expect(p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields).toEqual([{ key: 'metadata.name', operator: 'In', values: [p.spec.nodeName] }]);
    expect(p.spec.tolerations.map((t: any) => `${t.key}:${t.effect}`)).toContain('node.kubernetes.io/unschedulable:NoSchedule');
    expect(p.metadata.labels!['controller-revision-hash']).toBeDefined();
    expect(f.peek(R.daemonsets, 'kube-system', 'agent')!.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2, numberMisscheduled: 0 });
    expect(f.all(R.controllerrevisions, 'kube-system')).toHaveLength(1);
    // Update the template: never more than one node without an available pod.
    let minAvailable = Infinity;
    const probe = setInterval(() => {
      const ready = f.all(R.pods).filter((x) => x.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
      minAvailable = Math.min(minAvailable, ready);
    }, 1);
    await f.patch(R.daemonsets, 'kube-system', 'agent', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'agent:2' }] } } } });
    await waitFor(() => { const st = f.peek(R.daemonsets, 'kube-system', 'agent')!.status; return st.updatedNumberScheduled === 2 && st.numberAvailable === 2 && st.observedGeneration === 2; }, 5000, 'rolled');
    clearInterval(probe);
    expect(minAvailable).toBeGreaterThanOrEqual(1);
    expect(f.all(R.pods).every((x) => x.spec.containers[0].image === 'agent:2')).toBe(true);
    const revs = f.all(R.controllerrevisions, 'kube-system').map((r) => r.revision).sort();
    expect(revs).toEqual([1, 2]);
    // A node stops matching: its pod goes.
    await f.patch(R.nodes, '', 'c', 'merge', { metadata: { labels: { 'kubernetes.io/os': 'plan9' } } });
    await waitFor(() => f.all(R.pods).length === 1, 3000, 'pod on c removed');
  });
  it('maxSurge: a new pod starts beside the old one, the old goes once the new one is available (minReadySeconds); never more than maxSurge nodes surge', async () => {
    h = await startControllers(['daemonset']);
    const { f } = h;
    f.seed(R.nodes, node('a'), node('b'), node('c'));
    hollow(f);
    const d: any = ds('agent:1');
    d.spec.minReadySeconds = 10;
    d.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } };
    await f.create(R.daemonsets, 'kube-system', d);
    await waitFor(() => f.all(R.pods).filter((p) => p.status?.phase === 'Running').length === 3, 3000, '3 running');
    f.now += 11_000;
    const sync = async () => {
      for (let i = 0; ; i++) {
        await f.settle();
        try { await h!.mgr.controllers[0].sync('kube-system/agent'); return; } catch (e) { if ((e as any).reason !== 'Conflict' || i > 20) throw e; }
      }
    };
    await sync();
    await waitFor(() => f.peek(R.daemonsets, 'kube-system', 'agent')?.status?.numberAvailable === 3, 3000, '3 available');
    const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
    // Watch every state: nodes with two pods, nodes without a ready pod.
    let maxSurging = 0, nodesWithoutReady = 0;
    const probe = setInterval(() => {
      const per = new Map<string, any[]>();
      for (const p of f.all(R.pods)) if (p.spec.nodeName) (per.get(p.spec.nodeName) ?? per.set(p.spec.nodeName, []).get(p.spec.nodeName)!).push(p);
      maxSurging = Math.max(maxSurging, [...per.values()].filter((ps) => ps.length > 1).length);
      nodesWithoutReady = Math.max(nodesWithoutReady, ['a', 'b', 'c'].filter((n) => !(per.get(n) ?? []).some(ready)).length);
    }, 1);
    f.clearActions();
    await f.patch(R.daemonsets, 'kube-system', 'agent', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'agent:2' }] } } } });
    const image = (p: any) => p.spec.containers[0].image;
    for (let round = 1; round <= 3; round++) {
      // One node surges: its new pod becomes ready beside the old one ...
      await waitFor(() => f.all(R.pods).filter((p) => image(p) === 'agent:2' && ready(p)).length === round, 3000, `surge ${round} ready`);
      await sync();
      await f.settle();
      // ... but the old pod stays while the new one is younger than minReadySeconds, and no other node surges.
      expect(f.all(R.pods).filter((p) => image(p) === 'agent:1')).toHaveLength(4 - round);
      expect(f.all(R.pods)).toHaveLength(4);
      expect(f.writes('delete', 'pods')).toHaveLength(round - 1);
      f.now += 11_000;
      await sync();
      await waitFor(() => f.all(R.pods).filter((p) => image(p) === 'agent:1').length === 3 - round, 3000, `old pod ${round} deleted`);
    }
    await waitFor(() => { const st = f.peek(R.daemonsets, 'kube-system', 'agent')!.status; return st.updatedNumberScheduled === 3 && st.numberAvailable === 3; }, 3000, 'rolled');
    clearInterval(probe);
    expect(maxSurging).toBe(1);
    expect(nodesWithoutReady).toBe(0);
    expect(f.all(R.pods).map((p) => p.spec.nodeName).sort()).toEqual(['a', 'b', 'c']);
    // Every delete targeted an agent:1 pod on a node that already had a ready agent:2 pod.
    expect(f.writes('delete', 'pods')).toHaveLength(3);
  });

  it('maxSurge 2 (as a percentage) surges two nodes at once; an unavailable old pod is replaced at once', async () => {
    h = await startControllers(['daemonset']);
    const { f } = h;
    f.seed(R.nodes, node('a'), node('b'), node('c'), node('d'));
    // Only agent:1 pods on a, b, c become ready at first; the pod on d stays unready.
    let allowNew = false;
    timer = setInterval(async () => {
      for (const p of f.all(R.pods)) if (!p.spec.nodeName) { p.spec.nodeName = daemonPodNode(p); await f.update(R.pods, p).catch(() => {}); }
      await markPodsReady(f, { filter: (p) => (p.spec.containers[0].image === 'agent:1' ? p.spec.nodeName !== 'd' : allowNew) }).catch(() => 0);
    }, 5);
    const d: any = ds('agent:1');
    d.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '50%' } };
    await f.create(R.daemonsets, 'kube-system', d);
    await waitFor(() => f.peek(R.daemonsets, 'kube-system', 'agent')?.status?.numberReady === 3 && f.all(R.pods).length === 4, 3000, '3 ready of 4');
    await f.patch(R.daemonsets, 'kube-system', 'agent', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'agent:2' }] } } } });
    // 50% of 4 = 2 surging nodes among a,b,c, plus d whose old pod is unavailable (replaced without counting).
    await waitFor(() => f.all(R.pods).filter((p) => p.spec.containers[0].image === 'agent:2').length >= 3, 3000, 'surge pods');
    await f.settle();
    const fresh = f.all(R.pods).filter((p) => p.spec.containers[0].image === 'agent:2');
    expect(fresh).toHaveLength(3);
    expect(fresh.map((p) => daemonPodNode(p))).toContain('d');
    // d's unready old pod goes once its replacement exists; available old pods stay while the new ones are unready.
    await waitFor(() => !f.all(R.pods).some((p) => daemonPodNode(p) === 'd' && p.spec.containers[0].image === 'agent:1'), 3000, 'old pod on d gone');
    expect(f.all(R.pods).filter((p) => p.spec.containers[0].image === 'agent:1').map((p) => p.spec.nodeName).sort()).toHaveLength(3);
    allowNew = true;
    await waitFor(() => f.all(R.pods).length === 4 && f.all(R.pods).every((p) => p.spec.containers[0].image === 'agent:2'), 5000, 'all updated');
  });
});
