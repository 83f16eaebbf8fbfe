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
});
