// Scheduler and controller throughput against a real in-process `orch server` (SQLite store,
// admission, watch cache, the real controller manager and scheduler):
//  1. 5,000 pods onto 1,000 hollow nodes: pods/s and p99 time from creation to bind;
//  2. preemption: 100 high-priority pods that each need a whole node, so every one evicts the
//     pods of a node (nominatedNodeName, DisruptionTarget, delete) before it binds;
//  3. a Deployment scaled to 1,000 replicas until all are Running (hollow kubelet marks them).
// Peer: upstream scheduler_perf's SchedulingBasic/5000Nodes_10000Pods throughput threshold of
// 270 pods/s (kubernetes/kubernetes test/integration/scheduler_perf/misc/performance-config.yaml),
// the floor its CI enforces on the scheduler alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../server/server';
import { Informer, R } from '../../server/controllers/client';
import { InProcessClient } from '../../server/controllers/inprocess-client';
import { createHollowNodes, hollowNode, startHollowKubelet, startLeaseHeartbeat } from '../unit/helpers/hollow-nodes';
import { FakeCluster } from '../unit/helpers/fake-cluster';
import { Scheduler } from '../../server/scheduler/scheduler';
import { CycleState } from '../../server/scheduler/framework';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const PODS = Number(process.env.BENCH_PODS ?? 5000);
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 1000);
const PREEMPTORS = Number(process.env.BENCH_PREEMPTORS ?? 100);
const UPSTREAM_PODS_PER_S = 270;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Scheduling cycles alone (filter, score, assume) over the scheduler's cache with the same nodes
 * and pods, no API writes: the algorithm's own ceiling on this machine.
 */
function cyclesOnly(): { rate: number; usPerPod: number } {
  const s = new Scheduler({ client: new FakeCluster(), recordScheduledEvents: false });
  for (let i = 0; i < NODES; i++) s.cache.addOrUpdateNode(hollowNode(`cyc-${i}`, { cpu: '32', memory: '128Gi' }));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < PODS; i++) {
    const pod = { metadata: { name: `p${i}`, namespace: 'default', labels: { app: 'bench' } },
      spec: { containers: [{ name: 'c', resources: { requests: { cpu: '100m', memory: '128Mi' } } }], schedulerName: 'default-scheduler' } };
    const r = s.schedulePod(new CycleState(), pod);
    s.cache.assumePod({ ...pod, spec: { ...pod.spec, nodeName: r.nodeName } }, r.nodeName);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  s.queue.close();
  return { rate: PODS / (ms / 1000), usPerPod: (ms * 1000) / PODS };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-scheduler-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', cleanup);
  const cyc = cyclesOnly();
  const fakeRate = cyc.rate;
  console.log(`scheduling cycles alone (cache only, no API): ${PODS} pods onto ${NODES} nodes at ${fakeRate.toFixed(0)} pods/s (${cyc.usPerPod.toFixed(0)} us/pod)`);
  const failures: string[] = [];
  const server = await startServer({ dataDir: dir, httpsListenPort: 0, bindAddress: '127.0.0.1', writeKubeconfig: '',
    log: (m) => { if (/failed|error/i.test(m) && failures.length < 8) failures.push(m); } });
  try {
    const client = new InProcessClient(server.api.client as any);
    const sched = server.loops!.scheduler!;
    const t = Date.now();
    const names = Array.from({ length: NODES }, (_, i) => `hollow-${String(i).padStart(4, '0')}`);
    await createHollowNodes(client, names, { cpu: '32', memory: '128Gi', pods: '110' });
    // Without lease renewals the node lifecycle controller would mark slow runs' nodes Unknown after 40 s.
    const leases = await startLeaseHeartbeat(client, names);
    await waitUntil(() => sched.cache.numNodes() === NODES, 60_000, 'scheduler sees all nodes');
    console.log(`created ${NODES} hollow nodes in ${Date.now() - t} ms`);

    // ---- 1. scheduling throughput --------------------------------------------------------
    await client.create(R.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    // Pod admission needs the namespace's default ServiceAccount: start the clock once its controller made it, as a user script would.
    for (const deadline = Date.now() + 30_000; !(await client.get(R.serviceaccounts, 'bench', 'default').catch(() => undefined));) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the default ServiceAccount of bench');
      await new Promise((r) => setTimeout(r, 10));
    }
    const createdAt = new Map<string, number>();
    const boundAt = new Map<string, number>();
    const inf = new Informer(client, R.pods);
    inf.addEventHandler({
      onAdd: (p) => { if (p.spec?.nodeName && !boundAt.has(p.metadata.name!)) boundAt.set(p.metadata.name!, Date.now()); },
      onUpdate: (_o, p) => { if (p.spec?.nodeName && !boundAt.has(p.metadata.name!)) boundAt.set(p.metadata.name!, Date.now()); },
    });
    inf.run();
    await inf.waitForSync();
    const start = Date.now();
    let next = 0;
    const CONCURRENCY = 32;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < PODS) {
        const i = next++;
        const name = `pod-${i}`;
        createdAt.set(name, Date.now());
        await client.create(R.pods, 'bench', {
          apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'bench', labels: { app: 'bench' } },
          // No kubelet runs for these pods: deletion (by preemption, below) is immediate.
          spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
        });
      }
    }));
    const createdAll = Date.now();
    await waitUntil(() => boundAt.size >= PODS, 300_000, 'all pods bound');
    const end = Math.max(...boundAt.values());
    inf.stop();
    const lat = [...boundAt].map(([n, b]) => b - createdAt.get(n)!).sort((a, b) => a - b);
    const podsPerS = PODS / ((end - start) / 1000);
    const p50 = pct(lat, 50);
    const p99 = pct(lat, 99);
    const spread = new Map<string, number>();
    for (const ni of sched.cache.list()) spread.set(ni.name, ni.pods.size);
    const counts = [...spread.values()];
    console.log(`scheduled ${PODS} pods onto ${NODES} nodes: created in ${createdAll - start} ms, all bound after ${end - start} ms`);
    console.log(`  throughput ${podsPerS.toFixed(0)} pods/s (create->bind p50 ${p50} ms, p99 ${p99} ms); pods per node min ${Math.min(...counts)} max ${Math.max(...counts)}`);
    console.log(`  peer: upstream scheduler_perf SchedulingBasic/5000Nodes_10000Pods threshold ${UPSTREAM_PODS_PER_S} pods/s (scheduler alone, Go)`);

    // ---- 2. preemption -----------------------------------------------------------------------
    await client.create({ group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', kind: 'PriorityClass', namespaced: false }, '',
      { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'bench-high' }, value: 1000 });
    const before = (await client.list(R.pods, 'bench')).items.length;
    const preemptBound = new Map<string, number>();
    const pinf = new Informer(client, R.pods);
    const seeBound = (p: any) => { if (p.metadata.namespace === 'bench' && p.metadata.name.startsWith('high-') && p.spec?.nodeName) preemptBound.set(p.metadata.name, Date.now()); };
    pinf.addEventHandler({ onAdd: seeBound, onUpdate: (_o, p) => seeBound(p) });
    pinf.run();
    await pinf.waitForSync();
    const p0 = Date.now();
    await Promise.all(Array.from({ length: PREEMPTORS }, (_, i) => client.create(R.pods, 'bench', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `high-${i}`, namespace: 'bench' },
      spec: { priorityClassName: 'bench-high', containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '32' } } }] },
    })));
    await waitUntil(() => preemptBound.size >= PREEMPTORS, 120_000, 'all preemptors bound');
    const preemptSeconds = (Math.max(...preemptBound.values()) - p0) / 1000;
    pinf.stop();
    const evicted = before + PREEMPTORS - (await client.list(R.pods, 'bench')).items.length;
    const preemptionsPerS = PREEMPTORS / preemptSeconds;
    console.log(`preemption: ${PREEMPTORS} pods needing a whole node each bound after ${preemptSeconds.toFixed(2)} s (${preemptionsPerS.toFixed(0)}/s), ${evicted} lower-priority pods evicted`);
    console.log('  peer: none (no published upstream figure for this pod mix; includes the 1 s back-off each preemptor waits, as upstream)');

    // ---- 3. Deployment of 1,000 replicas to Running --------------------------------------
    await client.create(R.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-deploy' } });
    const kubelet = await startHollowKubelet(client, (n) => n.startsWith('hollow-'), 16, 'bench-deploy');
    // Count every pod the controllers create or delete, to show there are no duplicates.
    const seen = new Set<string>();
    let deletedPods = 0;
    const podWatch = new Informer(client, R.pods);
    podWatch.addEventHandler({
      onAdd: (p) => { if (p.metadata.namespace === 'bench-deploy') seen.add(p.metadata.name!); },
      onDelete: (p) => { if (p.metadata.namespace === 'bench-deploy') deletedPods++; },
    });
    podWatch.run();
    await podWatch.waitForSync();
    const d0 = Date.now();
    await client.create(R.deployments, 'bench-deploy', {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'big', namespace: 'bench-deploy' },
      spec: {
        replicas: REPLICAS, selector: { matchLabels: { app: 'big' } },
        template: { metadata: { labels: { app: 'big' } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m' } } }] } },
      },
    });
    let ready = 0;
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const d = await client.get(R.deployments, 'bench-deploy', 'big');
      ready = d.status?.readyReplicas ?? 0;
      if (ready >= REPLICAS && kubelet.runningAt.size >= REPLICAS) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const running = kubelet.runningAt.size;
    const lastRunning = Math.max(...kubelet.runningAt.values());
    const deploySeconds = (lastRunning - d0) / 1000;
    const statusSeconds = (Date.now() - d0) / 1000;
    await kubelet.stop();
    podWatch.stop();
    await leases.stop();
    console.log(`deployment pods created ${seen.size}, deleted ${deletedPods} (a duplicate would show as created > ${REPLICAS})`);
    console.log(`deployment ${REPLICAS} replicas: ${running} Running after ${deploySeconds.toFixed(2)} s; status.readyReplicas=${ready} after ${statusSeconds.toFixed(2)} s`);
    if (failures.length) console.log(`first control-loop errors (retried):\n  ${failures.join('\n  ')}`);
    console.log(`targets: >= 500 pods/s (${podsPerS >= 500 ? 'met' : 'NOT met'}), ${REPLICAS} replicas Running < 10 s (${deploySeconds < 10 ? 'met' : 'NOT met'})`);
    console.log(`scheduler: pods_per_s=${podsPerS.toFixed(0)} bind_p99_ms=${p99} deploy1000_running_s=${deploySeconds.toFixed(2)} cycles_only_pods_per_s=${fakeRate.toFixed(0)} preemptions_per_s=${preemptionsPerS.toFixed(0)}`);
  } finally {
    await server.close();
    cleanup();
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
