// A real in-process `orch server` with hollow nodes: Node objects with capacity, their Lease
// heartbeats, and a test kubelet that marks their pods Running/Ready and finishes deletions. The
// setup and teardown every controller/scheduler integration test shares.
import { InProcessClient } from '../../../server/controllers/inprocess-client';
import type { ClusterClient } from '../../../server/controllers/client';
import { createHollowNodes, startHollowKubelet, startLeaseHeartbeat, type HollowKubelet } from '../../unit/helpers/hollow-nodes';
import { startTestCluster, type TestCluster } from './cluster';

export interface HollowClusterOptions {
  nodes: string[];
  cpu: string;
  /** Run before the kubelet starts (namespaces, PriorityClasses, ...). */
  prepare?: (h: HollowCluster) => Promise<void>;
  /** Only pods in this namespace are the kubelet's (default: every namespace). */
  kubeletNamespace?: string;
  /** Kubelet worker count (default 8). */
  kubeletWorkers?: number;
}

export interface HollowCluster {
  c: TestCluster;
  /** A fresh in-process client to the server's own API (same admission and validation path). */
  client(): ClusterClient;
  /** Starts the hollow kubelet again after stopKubelet(). */
  startKubelet(): Promise<void>;
  /** Stops the kubelet: pods keep their state, deletions stay pending. */
  stopKubelet(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHollowCluster(o: HollowClusterOptions): Promise<HollowCluster> {
  const c = await startTestCluster();
  let kubelet: HollowKubelet | undefined;
  let leases: { stop(): Promise<void> } | undefined;
  const client = (): ClusterClient => new InProcessClient(c.server!.api.client as any);
  const h: HollowCluster = {
    c,
    client,
    startKubelet: async () => { kubelet = await startHollowKubelet(client(), (n) => o.nodes.includes(n), o.kubeletWorkers ?? 8, o.kubeletNamespace); },
    stopKubelet: async () => { await kubelet?.stop(); kubelet = undefined; },
    stop: async () => {
      await leases?.stop();
      await kubelet?.stop();
      await c.stop();
    },
  };
  try {
    await createHollowNodes(client(), o.nodes, { cpu: o.cpu });
    leases = await startLeaseHeartbeat(client, o.nodes, 5_000);
    await o.prepare?.(h);
    await h.startKubelet();
  } catch (err) {
    await h.stop();
    throw err;
  }
  return h;
}
