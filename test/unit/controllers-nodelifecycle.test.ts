import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { rfc3339 } from '../../server/controllers/types';
import { startControllers, type Harness } from './helpers/harness';
import { node, pod } from './helpers/objects';
import { waitFor } from './helpers/wait';

let h: Harness | undefined;
afterEach(async () => { await h?.stop(); h = undefined; });

async function syncSettled(h: Harness, key: string): Promise<void> {
  for (let i = 0; ; i++) {
    await h.f.settle();
    try { await h.mgr.controllers[0].sync(key); return; } catch (e) { if ((e as any).reason !== 'Conflict' || i > 20) throw e; }
  }
}

describe('node lifecycle', () => {
  it('marks a node whose lease expired Unknown, taints it unreachable, and evicts pods after tolerationSeconds', async () => {
    h = await startControllers(['nodelifecycle']);
    const { f } = h;
    const t0 = f.now;
    const n = node('n1');
    n.status.conditions[0].lastHeartbeatTime = rfc3339(t0);
    f.seed(R.nodes, n);
    f.seed(R.leases, { metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1', renewTime: new Date(t0).toISOString(), leaseDurationSeconds: 40 } });
    const tol = (secs: number) => [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: secs }];
    f.seed(R.pods,
      pod('default-tol', { nodeName: 'n1', phase: 'Running', spec: { tolerations: tol(300) } }),
      pod('forever', { nodeName: 'n1', phase: 'Running', spec: { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }] } }),
      pod('none', { nodeName: 'n1', phase: 'Running' }));
    await syncSettled(h, 'n1');
    expect(f.peek(R.nodes, '', 'n1')!.spec.taints).toBeUndefined();
    f.now = t0 + 41_000;
    await syncSettled(h, 'n1');
    const n1 = f.peek(R.nodes, '', 'n1')!;
    expect(n1.status.conditions[0]).toMatchObject({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(n1.spec.taints.map((t: any) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    await syncSettled(h, 'n1');
    expect(f.all(R.pods).map((p) => p.metadata.name)).toEqual(['default-tol', 'forever']);
    f.now = t0 + 41_000 + 301_000;
    await syncSettled(h, 'n1');
    expect(f.all(R.pods).map((p) => p.metadata.name)).toEqual(['forever']);
    await waitFor(() => f.all(R.events).some((e) => e.reason === 'TaintManagerEviction'), 2000);
    // The kubelet comes back: Ready True, taints removed.
    const back = f.peek(R.nodes, '', 'n1')!;
    back.status.conditions[0] = { type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: rfc3339(f.now) };
    await f.updateStatus(R.nodes, back);
    await syncSettled(h, 'n1');
    expect(f.peek(R.nodes, '', 'n1')!.spec.taints).toBeUndefined();
  });
});
