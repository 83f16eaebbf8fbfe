// The apiserver's own CPU per pod create, in process: the Registry over a real SQLite store with
// 64 concurrent writers (the store commits in groups, as under load), no HTTP, no scheduler. Per
// pod it measures the three writes a pod costs when no node fits: the create (as admission leaves
// it: kube-api-access volume, tolerations), the scheduler's PodScheduled status merge patch, and
// its FailedScheduling Event; for bench pods (one container) and Deployment-style pods (two
// containers, ports, env, resources, probes, volumes). Reference figure from the same run: a
// ConfigMap create through the same registry. See test/bench/apiserver.bench.ts for the HTTP path.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../embedded-store';
import { Registry } from '../../server/apiserver/registry';
import { ResourceTable, type ServedResource } from '../../server/apiserver/resources';

const N = Number(process.env.ORCH_BENCH_PODS ?? 3000);
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  console.log(`podcreate: ${N} pods per kind, 64 writers; load average at start ${load()}`);
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-podcreate-'));
  const store = await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0 });
  const table = new ResourceTable();
  const registry = new Registry(store, (g: string, p: string) => table.all().find((r) => r.group === g && r.plural === p));
  const res = (g: string, p: string): ServedResource => {
    const r = table.all().find((x) => x.group === g && x.plural === p);
    if (!r) throw new Error(`${p}.${g} is not served`);
    return r;
  };
  const pods = res('', 'pods'); const events = res('', 'events'); const nss = res('', 'namespaces'); const cms = res('', 'configmaps');
  const ctx = (m: string) => ({ user: { username: m, groups: ['system:masters'] }, fieldManager: m, warnings: [] as string[] });
  await registry.create(nss, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }, ctx('admin'));
  const rnd = () => Math.random().toString(36).slice(2, 7);
  const pod = (name: string, simple: boolean, sfx = rnd()): any => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: simple ? { bench: 'yes' } : { app: 'web', 'pod-template-hash': '5d8f9c7b6' } }, spec: {
    containers: simple ? [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], volumeMounts: [{ name: `kube-api-access-${sfx}`, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }] : [
      { name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'MODE', value: 'prod' }, { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        readinessProbe: { httpGet: { path: '/healthz', port: 80 }, periodSeconds: 5 }, livenessProbe: { tcpSocket: { port: 80 }, initialDelaySeconds: 10 },
        volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }] },
      { name: 'sidecar', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } },
    ],
    serviceAccountName: 'default',
    tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    volumes: [...(simple ? [] : [{ name: 'cfg', configMap: { name: 'web-cfg' } }]), { name: `kube-api-access-${sfx}`, projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }, { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } }] } }] } });
  const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
  // Three phases of 64 concurrent writers (the store commits them in groups, as under load).
  const phase = async (from: number, to: number, op: (i: number) => Promise<unknown>): Promise<number> => {
    let next = from;
    const t0 = cpu();
    await Promise.all(Array.from({ length: 64 }, async () => { for (;;) { const i = next++; if (i >= to) return; await op(i); } }));
    return cpu() - t0;
  };
  const created = new Map<number, any>();
  const statusPatch = (i: number): unknown => ({ status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/0 nodes are available: no nodes available to schedule pods.', lastProbeTime: null, lastTransitionTime: created.get(i).metadata.creationTimestamp }] } });
  const event = (i: number): any => {
    const p = created.get(i).metadata;
    return { apiVersion: 'v1', kind: 'Event', metadata: { name: `p-${i}.${i}` }, involvedObject: { kind: 'Pod', namespace: 'bench', name: `p-${i}`, uid: p.uid, apiVersion: 'v1', resourceVersion: p.resourceVersion }, reason: 'FailedScheduling', message: '0/0 nodes are available', source: { component: 'default-scheduler' }, firstTimestamp: p.creationTimestamp, lastTimestamp: p.creationTimestamp, count: 1, type: 'Warning', reportingComponent: 'default-scheduler', reportingInstance: 'default-scheduler' };
  };
  /** CPU µs per pod of each write; 300 pods first to warm up. */
  const perPod = async (simple: boolean, base: number): Promise<{ create: number; status: number; event: number }> => {
    const totals = { create: 0, status: 0, event: 0 };
    for (const [from, to, count] of [[base, base + 300, false], [base + 300, base + 300 + N, true]] as const) {
      const c = await phase(from, to, async (i) => { created.set(i, await registry.create(pods, 'bench', pod(`p-${i}`, simple), ctx('kubectl-create'))); });
      const s = await phase(from, to, (i) => registry.patch(pods, 'bench', `p-${i}`, 'merge', statusPatch(i), ctx('default-scheduler'), 'status'));
      const e = await phase(from, to, (i) => registry.create(events, 'bench', event(i), ctx('default-scheduler')));
      if (count) { totals.create = c / N; totals.status = s / N; totals.event = e / N; }
    }
    return totals;
  };
  const r = Math.round;
  const simple = await perPod(true, 0);
  const rich = await perPod(false, 100_000);
  let nextCm = 0;
  const cmUs = (await phase(0, N, async () => { const i = nextCm++; await registry.create(cms, 'bench', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { bench: 'yes' } }, data: { a: 'x'.repeat(200) } }, ctx('kubectl-create')); })) / N;
  const line = (label: string, t: { create: number; status: number; event: number }): string => `${label}: create ${r(t.create)} µs, status patch ${r(t.status)} µs, Event ${r(t.event)} µs, sum ${r(t.create + t.status + t.event)} µs`;
  console.log(line('bench pod (1 container)', simple));
  console.log(line('Deployment-style pod (2 containers)', rich));
  console.log(`reference: ConfigMap create ${r(cmUs)} µs; load average at the end ${load()}`);
  registry.watchCache.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`podcreate: pod_create_us=${r(simple.create)} pod_status_patch_us=${r(simple.status)} pod_event_us=${r(simple.event)} pod_sum_us=${r(simple.create + simple.status + simple.event)} rich_pod_create_us=${r(rich.create)} rich_pod_sum_us=${r(rich.create + rich.status + rich.event)} configmap_create_us=${r(cmUs)}`);
  process.exit(0);
}

main().catch((err) => { console.error(err); process.exit(1); });
