// Job podFailurePolicy, StatefulSet persistentVolumeClaimRetentionPolicy and DaemonSet maxSurge in
// a real `orch server`, driven by kubectl, on hollow nodes (the test reports container exit codes
// through pods/status, as a kubelet would).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from './helpers/cluster';
import { startHollowCluster, type HollowCluster } from './helpers/hollow-cluster';
import { R, type ClusterClient } from '../../server/controllers/client';
import { rfc3339, type KubeObject } from '../../server/controllers/types';
import { waitFor } from '../unit/helpers/wait';

let h: HollowCluster | undefined;
let c: TestCluster;
const client = (): ClusterClient => h!.client();
const NODES = ['hollow-1', 'hollow-2', 'hollow-3'];

beforeAll(async () => {
  h = await startHollowCluster({ nodes: NODES, cpu: '4' });
  c = h.c;
}, 60_000);

afterAll(async () => { await h?.stop(); }, 60_000);

const ready = (p: KubeObject) => p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True');

/** What the kubelet reports when a pod's container exits: phase Failed, the terminated state, extra conditions. */
async function failPod(p: KubeObject, exitCode: number, conditions: any[] = []): Promise<void> {
  const ts = rfc3339(Date.now());
  const next = structuredClone(p);
  next.status = {
    ...p.status, phase: 'Failed',
    conditions: [...(p.status?.conditions ?? []).map((x: any) => (x.type === 'Ready' || x.type === 'ContainersReady' ? { ...x, status: 'False', lastTransitionTime: ts } : x)), ...conditions],
    containerStatuses: (p.spec.containers ?? []).map((ct: any) => ({
      name: ct.name, image: ct.image, imageID: '', ready: false, started: false, restartCount: 0,
      state: { terminated: { exitCode: ct.name === 'main' ? exitCode : 0, reason: ct.name === 'main' && exitCode ? 'Error' : 'Completed', startedAt: ts, finishedAt: ts } },
    })),
  };
  await client().updateStatus(R.pods, next);
}

const running = async (selector: string) => (await client().list(R.pods, 'default', { labelSelector: selector })).items
  .filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);

describe('workload policies in orch server, with kubectl', () => {
  it('Job podFailurePolicy: Ignore does not count, FailJob on an exit code fails the Job with upstream\'s message and removes the other pods', async () => {
    await c.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: batch/v1
kind: Job
metadata: {name: pfp}
spec:
  parallelism: 2
  completions: 4
  backoffLimit: 0
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes: {containerName: main, operator: In, values: [42]}
    - action: Ignore
      onPodConditions: [{type: DisruptionTarget}]
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: busybox}
      - {name: sidecar, image: busybox}
` });
    await waitFor(async () => (await running('job-name=pfp')).length === 2, 30_000, '2 job pods running');
    // A disrupted pod (exit 137, DisruptionTarget): ignored, so backoffLimit 0 is not exceeded and it is replaced.
    const [first] = await running('job-name=pfp');
    await failPod(first, 137, [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: rfc3339(Date.now()) }]);
    await waitFor(async () => (await running('job-name=pfp')).length === 2, 30_000, 'replacement running');
    expect(await c.kubectlOk(['get', 'job', 'pfp', '-o', 'jsonpath={.status.failed}'])).toBe('0');
    // Exit code 42 in container main: FailJob.
    const [victim] = await running('job-name=pfp');
    await failPod(victim, 42);
    const out = await c.kubectlOk(['wait', '--for=condition=failed', 'job/pfp', '--timeout=30s'], { timeoutMs: 40_000 });
    expect(out).toContain('job.batch/pfp condition met');
    const failed = JSON.parse(await c.kubectlOk(['get', 'job', 'pfp', '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")]}']));
    expect(failed).toMatchObject({ status: 'True', reason: 'PodFailurePolicy', message: `Container main for pod default/${victim.metadata.name} failed with exit code 42 matching FailJob rule at index 0` });
    const target = JSON.parse(await c.kubectlOk(['get', 'job', 'pfp', '-o', 'jsonpath={.status.conditions[?(@.type=="FailureTarget")]}']));
    expect(target).toMatchObject({ status: 'True', reason: 'PodFailurePolicy' });
    expect(await c.kubectlOk(['get', 'job', 'pfp', '-o', 'jsonpath={.status.failed}'])).toBe('1');
    // The remaining running pod was deleted; only the two failed pods are left.
    await waitFor(async () => (await client().list(R.pods, 'default', { labelSelector: 'job-name=pfp' })).items.every((p) => p.status?.phase === 'Failed'), 30_000, 'active pods removed');
    expect((await client().list(R.pods, 'default', { labelSelector: 'job-name=pfp' })).items).toHaveLength(2);
    expect(await c.kubectlOk(['get', 'job', 'pfp', '-o', 'jsonpath={.status.terminating}'])).toBe('0');
  }, 120_000);

  it('Job successPolicy: an Indexed Job completes when its leader index succeeds', async () => {
    await c.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: batch/v1
kind: Job
metadata: {name: leader}
spec:
  completionMode: Indexed
  completions: 3
  parallelism: 3
  successPolicy:
    rules: [{succeededIndexes: "0"}]
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
` });
    await waitFor(async () => (await running('job-name=leader')).length === 3, 30_000, '3 indexed pods running');
    const leader = (await running('job-name=leader')).find((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'] === '0')!;
    const done = structuredClone(leader);
    done.status = { ...leader.status, phase: 'Succeeded', containerStatuses: [{ name: 'main', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] };
    await client().updateStatus(R.pods, done);
    expect(await c.kubectlOk(['wait', '--for=condition=complete', 'job/leader', '--timeout=30s'], { timeoutMs: 40_000 })).toContain('condition met');
    const complete = JSON.parse(await c.kubectlOk(['get', 'job', 'leader', '-o', 'jsonpath={.status.conditions[?(@.type=="Complete")]}']));
    expect(complete).toMatchObject({ status: 'True', reason: 'SuccessPolicy', message: 'Matched rules at index 0' });
    expect(await c.kubectlOk(['get', 'job', 'leader', '-o', 'jsonpath={.status.completedIndexes}'])).toBe('0');
    await waitFor(async () => (await client().list(R.pods, 'default', { labelSelector: 'job-name=leader' })).items.length === 1, 30_000, 'other indexes deleted');
  }, 120_000);

  it('StatefulSet persistentVolumeClaimRetentionPolicy Delete: a scaled-down ordinal\'s claim goes with its pod, the rest with `kubectl delete sts`', async () => {
    await c.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web}}
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Delete}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: busybox}]
  volumeClaimTemplates:
  - metadata: {name: www}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
` });
    await c.kubectlOk(['rollout', 'status', 'statefulset/web', '--timeout=60s'], { timeoutMs: 70_000 });
    const claims = async () => (await c.kubectlOk(['get', 'pvc', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.metadata.name}:{.metadata.ownerReferences[*].kind}/{.metadata.ownerReferences[*].name} {end}'])).trim();
    expect(await claims()).toBe('www-web-0:StatefulSet/web www-web-1:StatefulSet/web');
    await c.kubectlOk(['scale', 'statefulset/web', '--replicas=1']);
    await waitFor(async () => (await claims()) === 'www-web-0:StatefulSet/web', 60_000, 'www-web-1 deleted with pod web-1');
    await c.kubectlOk(['delete', 'statefulset', 'web', '--wait=true', '--timeout=60s'], { timeoutMs: 70_000 });
    await waitFor(async () => (await claims()) === '', 60_000, 'www-web-0 deleted with the set');
    expect((await c.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim()).toBe('');
  }, 180_000);

  it('StatefulSet with the default Retain policy keeps its claims after `kubectl delete sts`', async () => {
    await c.kubectlOk(['apply', '-f', '-'], { input: `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: keep}
spec:
  serviceName: keep
  replicas: 1
  selector: {matchLabels: {app: keep}}
  template:
    metadata: {labels: {app: keep}}
    spec:
      containers: [{name: c, image: busybox}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
` });
    await c.kubectlOk(['rollout', 'status', 'statefulset/keep', '--timeout=60s'], { timeoutMs: 70_000 });
    await c.kubectlOk(['delete', 'statefulset', 'keep', '--wait=true', '--timeout=60s'], { timeoutMs: 70_000 });
    await waitFor(async () => (await c.kubectlOk(['get', 'pods', '-l', 'app=keep', '-o', 'name'])).trim() === '', 60_000, 'pods gone');
    expect((await c.kubectlOk(['get', 'pvc', 'data-keep-0', '-o', 'jsonpath={.metadata.name}:{.metadata.ownerReferences}'])).trim()).toBe('data-keep-0:');
  }, 120_000);

  it('DaemonSet maxSurge: the rollout never leaves a node without a ready pod and surges at most maxSurge nodes', async () => {
    const manifest = (image: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: surge}
spec:
  selector: {matchLabels: {app: surge}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}
  template:
    metadata: {labels: {app: surge}}
    spec:
      containers: [{name: a, image: ${image}}]
`;
    await c.kubectlOk(['apply', '-f', '-'], { input: manifest('busybox:1') });
    expect(await c.kubectlOk(['rollout', 'status', 'daemonset/surge', '--timeout=60s'], { timeoutMs: 70_000 })).toContain('successfully rolled out');
    let maxSurging = 0, worst = 0, samples = 0, stop = false;
    const probe = (async () => {
      while (!stop) {
        const pods = (await client().list(R.pods, 'default', { labelSelector: 'app=surge' })).items;
        const per = new Map<string, KubeObject[]>();
        for (const p of pods) if (p.spec.nodeName && !p.metadata.deletionTimestamp) (per.get(p.spec.nodeName) ?? per.set(p.spec.nodeName, []).get(p.spec.nodeName)!).push(p);
        maxSurging = Math.max(maxSurging, [...per.values()].filter((ps) => ps.length > 1).length);
        worst = Math.max(worst, NODES.filter((n) => !(per.get(n) ?? []).some(ready)).length);
        samples++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await c.kubectlOk(['apply', '-f', '-'], { input: manifest('busybox:2') });
    const st = await c.kubectlOk(['rollout', 'status', 'daemonset/surge', '--timeout=60s'], { timeoutMs: 70_000 });
    stop = true;
    await probe;
    expect(st).toContain('daemon set "surge" successfully rolled out');
    const images = (await c.kubectlOk(['get', 'pods', '-l', 'app=surge', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}={.spec.containers[0].image} {end}'])).trim().split(' ').sort();
    expect(images).toEqual(NODES.map((n) => `${n}=busybox:2`));
    expect(samples).toBeGreaterThan(3);
    expect(maxSurging).toBe(1);
    expect(worst).toBe(0);
  }, 120_000);
});
