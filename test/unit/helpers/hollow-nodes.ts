// Hollow nodes for integration tests and benchmarks against a real server: Node objects with
// capacity and a Ready condition, plus a hollow kubelet that marks their pods Running/Ready via
// pods/status and finishes graceful deletions, as the agent would. No containers.
import { Informer, R, isConflict, isNotFound, type ClusterClient } from '../../../server/controllers/client';
import { rfc3339, type KubeObject } from '../../../server/controllers/types';
import { WorkQueue, runWorkers } from '../../../server/controllers/workqueue';

export function hollowNode(name: string, opts: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string> } = {}): KubeObject {
  const now = rfc3339(Date.now());
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'orch.dev/hollow': 'true', ...(opts.labels ?? {}) } },
    spec: {},
    status: {
      capacity: { cpu: opts.cpu ?? '8', memory: opts.memory ?? '16Gi', pods: opts.pods ?? '110' },
      allocatable: { cpu: opts.cpu ?? '8', memory: opts.memory ?? '16Gi', pods: opts.pods ?? '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'hollow kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: name }],
      nodeInfo: { kubeletVersion: 'v1.32.4+orch', containerRuntimeVersion: 'hollow://0', operatingSystem: 'linux', architecture: 'amd64' },
    },
  };
}

export interface HollowKubelet {
  /** Pods marked Running, with the time each became Running (ms). */
  readonly runningAt: Map<string, number>;
  stop(): Promise<void>;
}

/** Creates the nodes (status included: the status subresource is written after create). */
export async function createHollowNodes(client: ClusterClient, names: string[], opts: Parameters<typeof hollowNode>[1] = {}): Promise<void> {
  const batch = 50;
  for (let i = 0; i < names.length; i += batch) {
    await Promise.all(names.slice(i, i + batch).map(async (n) => {
      const node = hollowNode(n, opts);
      const created = await client.create(R.nodes, '', node);
      created.status = node.status;
      await client.updateStatus(R.nodes, created);
    }));
  }
}

/**
 * Renews each node's Lease (kube-node-lease/<node>) every `everyMs`, as the kubelet does every
 * 10 s, so the node lifecycle controller keeps the nodes Ready. Returns a stop function.
 */
export async function startLeaseHeartbeat(clientOrFactory: ClusterClient | (() => ClusterClient), names: string[], everyMs = 10_000): Promise<{ stop(): Promise<void> }> {
  // A factory lets the heartbeat follow a server that restarts.
  const current = () => (typeof clientOrFactory === 'function' ? clientOrFactory() : clientOrFactory);
  const renew = async (create: boolean) => {
    const client = current();
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map(async (n) => {
        const renewTime = new Date().toISOString().replace('Z', '000Z');
        try {
          if (create) {
            await client.create(R.leases, 'kube-node-lease', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: n, namespace: 'kube-node-lease' }, spec: { holderIdentity: n, leaseDurationSeconds: 40, renewTime } });
          } else {
            await client.patch(R.leases, 'kube-node-lease', n, 'merge', { spec: { renewTime } });
          }
        } catch (e) {
          if (!isConflict(e) && !isNotFound(e) && (e as { code?: string }).code !== 'AlreadyExists') throw e;
        }
      }));
    }
  };
  await renew(true);
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => { running = running.then(() => renew(false)).catch(() => undefined); }, everyMs);
  return { async stop() { clearInterval(timer); await running; } };
}

/** Runs a hollow kubelet for every node whose name passes `owns`. */
export async function startHollowKubelet(client: ClusterClient, owns: (nodeName: string) => boolean, workers = 8, namespace?: string): Promise<HollowKubelet> {
  const inf = new Informer(client, R.pods);
  const q = new WorkQueue('hollow-kubelet');
  const runningAt = new Map<string, number>();
  const enqueue = (p: KubeObject) => {
    if (p.spec?.nodeName && owns(p.spec.nodeName) && (!namespace || p.metadata.namespace === namespace)) q.add(`${p.metadata.namespace}/${p.metadata.name}`);
  };
  inf.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n) });
  inf.run();
  await inf.waitForSync();
  let n = 0;
  const done = runWorkers(q, workers, async (key) => {
    const [ns, name] = key.split('/');
    const p = inf.store.get(ns, name);
    if (!p) return;
    try {
      if (p.metadata.deletionTimestamp) {
        await client.delete(R.pods, ns, name, { gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } });
        return;
      }
      if (p.status?.phase === 'Running' || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return;
      const ts = rfc3339(Date.now());
      const next = structuredClone(p);
      next.status = {
        ...(p.status ?? {}), phase: 'Running', hostIP: '127.0.0.1', podIP: `10.42.${(n >> 8) & 255}.${(n++ & 255) || 1}`, startTime: ts,
        conditions: [
          ...((p.status?.conditions ?? []).filter((c: any) => !['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].includes(c.type))),
          { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: ts },
          { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: ts },
          { type: 'ContainersReady', status: 'True', lastProbeTime: null, lastTransitionTime: ts },
          { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: ts },
        ],
        containerStatuses: (p.spec.containers ?? []).map((c: any) => ({ name: c.name, image: c.image, imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: ts } } })),
      };
      await client.updateStatus(R.pods, next);
      runningAt.set(key, Date.now());
    } catch (e) {
      if (isNotFound(e)) return;
      if (isConflict(e)) { q.add(key); return; }
      throw e;
    }
  }, () => {});
  return { runningAt, async stop() { q.shutDown(); inf.stop(); await done; } };
}
