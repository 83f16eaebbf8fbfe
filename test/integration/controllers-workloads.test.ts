// Jobs, StatefulSets, DaemonSets, Services' endpoints, cascading deletion and ServiceAccounts in a
// real `orch server`, driven by kubectl, on hollow nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from './helpers/cluster';
import { startHollowCluster, type HollowCluster } from './helpers/hollow-cluster';
import { R, type ClusterClient } from '../../server/controllers/client';
import { waitFor } from '../unit/helpers/wait';

let h: HollowCluster | undefined;
let c: TestCluster;
const client = (): ClusterClient => h!.client();

beforeAll(async () => {
  h = await startHollowCluster({ nodes: ['hollow-1', 'hollow-2'], cpu: '4' });
  c = h.c;
}, 60_000);

afterAll(async () => { await h?.stop(); }, 60_000);

async function succeedPods(selector: string): Promise<void> {
  const cl = client();
  for (const p of (await cl.list(R.pods, 'default', { labelSelector: selector })).items) {
    if (p.status?.phase !== 'Running') continue;
    p.status = { ...p.status, phase: 'Succeeded', conditions: (p.status.conditions ?? []).map((x: any) => (x.type === 'Ready' ? { ...x, status: 'False' } : x)) };
    await cl.updateStatus(R.pods, p);
  }
}

describe('workload controllers in orch server, with kubectl', () => {
  it('a Job runs to completion and `kubectl wait --for=condition=complete` sees it', async () => {
    await c.kubectlOk(['create', 'job', 'hello', '--image=busybox', '--', 'echo', 'hi']);
    await waitFor(async () => (await client().list(R.pods, 'default', { labelSelector: 'job-name=hello' })).items.some((p) => p.status?.phase === 'Running'), 30_000, 'job pod running');
    await succeedPods('job-name=hello');
    const out = await c.kubectlOk(['wait', '--for=condition=complete', 'job/hello', '--timeout=30s'], { timeoutMs: 40_000 });
    expect(out).toContain('job.batch/hello condition met');
    expect(await c.kubectlOk(['get', 'job', 'hello', '-o', 'jsonpath={.status.succeeded}'])).toBe('1');
  }, 90_000);

  it('a StatefulSet rolls out with stable names and claims; rollout status agrees', async () => {
    await c.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 5432, name: pg}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: pg, image: busybox, ports: [{containerPort: 5432, name: pg}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
` });
    const st = await c.kubectlOk(['rollout', 'status', 'statefulset/db', '--timeout=60s'], { timeoutMs: 70_000 });
    expect(st).toMatch(/partitioned roll out complete|statefulset rolling update complete/);
    expect((await c.kubectlOk(['get', 'pods', '-l', 'app=db', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').sort()).toEqual(['db-0', 'db-1']);
    await waitFor(async () => (await c.kubectlOk(['get', 'pvc', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.phase} {end}'])).trim() === 'data-db-0=Bound data-db-1=Bound', 30_000, 'claims bound by local-path');
    // Headless service endpoints carry the pods' hostnames.
    await waitFor(async () => (await c.kubectlOk(['get', 'endpoints', 'db', '-o', 'jsonpath={.subsets[0].addresses[*].hostname}'])).split(' ').sort().join(' ') === 'db-0 db-1', 30_000, 'endpoints');
    const slices = await c.kubectlOk(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=db', '-o', 'jsonpath={.items[0].endpoints[*].targetRef.name}']);
    expect(slices.split(' ').sort()).toEqual(['db-0', 'db-1']);
  }, 120_000);

  it('a DaemonSet puts one pod on each hollow node', async () => {
    await c.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: a, image: busybox}]
` });
    expect(await c.kubectlOk(['rollout', 'status', 'daemonset/agent', '--timeout=60s'], { timeoutMs: 70_000 })).toContain('daemon set "agent" successfully rolled out');
    const nodes = (await c.kubectlOk(['get', 'pods', '-l', 'app=agent', '-o', 'jsonpath={.items[*].spec.nodeName}'])).split(' ').sort();
    expect(nodes).toEqual(['hollow-1', 'hollow-2']);
    const hist = await c.kubectlOk(['rollout', 'history', 'daemonset/agent']);
    expect(hist).toMatch(/^1\s/m);
  }, 90_000);

  it('deleting a Deployment cascades to its ReplicaSets and pods; namespaces get default SA and kube-root-ca.crt', async () => {
    await c.kubectlOk(['create', 'deployment', 'gone', '--image=busybox', '--replicas=2']);
    expect(await c.kubectlOk(['rollout', 'status', 'deployment/gone', '--timeout=60s'], { timeoutMs: 70_000 })).toContain('successfully rolled out');
    await c.kubectlOk(['delete', 'deployment', 'gone', '--wait=true', '--timeout=60s'], { timeoutMs: 70_000 });
    await waitFor(async () => (await c.kubectlOk(['get', 'rs,pods', '-l', 'app=gone', '-o', 'name'])).trim() === '', 30_000, 'cascade');
    await c.kubectlOk(['create', 'namespace', 'team-a']);
    await waitFor(async () => (await c.kubectl(['get', 'serviceaccount', 'default', '-n', 'team-a'])).code === 0
      && (await c.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'team-a'])).code === 0, 30_000, 'default SA and root CA');
    expect(await c.kubectlOk(['get', 'configmap', 'kube-root-ca.crt', '-n', 'team-a', '-o', 'jsonpath={.data.ca\\.crt}'])).toContain('BEGIN CERTIFICATE');
  }, 120_000);

  it('deleting a namespace with a running Deployment removes everything, then the namespace', async () => {
    await c.kubectlOk(['create', 'namespace', 'doomed']);
    await c.kubectlOk(['-n', 'doomed', 'create', 'deployment', 'web', '--image=busybox', '--replicas=3']);
    expect(await c.kubectlOk(['-n', 'doomed', 'rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 })).toContain('successfully rolled out');
    await c.kubectlOk(['delete', 'namespace', 'doomed', '--wait=true', '--timeout=90s'], { timeoutMs: 100_000 });
    const r = await c.kubectl(['get', 'namespace', 'doomed']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('NotFound');
    expect((await client().list(R.pods, 'doomed')).items).toHaveLength(0);
  }, 150_000);
});
