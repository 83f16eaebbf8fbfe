// Micro benchmark of the per-write patch work of the apiserver: a strategic merge patch of a
// Deployment (kubectl apply's three-way patch), a server-side apply of a Deployment with two
// managers, and managedFields bookkeeping of a Pod update. Peers from the same run: the same
// change as an RFC 7386 merge patch (json-merge-patch) and as an RFC 6902 JSON patch
// (fast-json-patch), and a JSON stringify+parse round trip of the Deployment, the floor of any
// "copy then edit" approach.
import { performance } from 'node:perf_hooks';
import { serverSideApply, updateManagedFields } from '../../api/managedfields';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, cloneJSON } from '../../api/patch';

const deploymentKind = { group: 'apps', version: 'v1', kind: 'Deployment' };
const podKind = { group: '', version: 'v1', kind: 'Pod' };
const T0 = new Date('2025-01-01T00:00:00Z');
const T1 = new Date('2025-01-01T00:01:00Z');

function container(name: string, image: string): any {
  return {
    name, image, imagePullPolicy: 'IfNotPresent',
    env: [{ name: 'MODE', value: 'prod' }, { name: 'LOG', value: 'info' }, { name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }],
    ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
    resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
    volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }],
    terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
  };
}

function deploymentConfig(image: string, replicas: number): any {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'front' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web', tier: 'front' } },
        spec: { containers: [container('app', image), container('sidecar', 'envoy:1.30')], volumes: [{ name: 'cfg', configMap: { name: 'web-cfg' } }] },
      },
    },
  };
}

function bench(name: string, fn: () => unknown, ms = 1000): number {
  for (let i = 0; i < 200; i++) fn(); // warm-up
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    now = performance.now();
  }
  const ops = Math.round(n / ((now - start) / 1000));
  console.log(`${name.padEnd(58)} ${String(ops).padStart(9)} ops/s  ${(1e6 / ops).toFixed(1).padStart(7)} µs/op`);
  return ops;
}

// A live Deployment as the apiserver stores it: created by server-side apply, then scaled by an Update.
const created = serverSideApply(deploymentKind, undefined, deploymentConfig('app:1.0', 2), 'deployer', false, T0).object!;
Object.assign(created.metadata as object, { uid: '0b8e1c52-0000-4000-8000-000000000001', resourceVersion: '10', creationTimestamp: '2025-01-01T00:00:00Z', generation: 1 });
const scaled = cloneJSON(created) as any;
scaled.spec.replicas = 3;
updateManagedFields(deploymentKind, created, scaled, 'kubectl-scale', 'Update', 'scale', T1);
const live = scaled;

// kubectl apply (client side) changing the image: its three-way strategic merge patch.
const smp = {
  metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(deploymentConfig('app:1.1', 3)) } },
  spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }], containers: [{ image: 'app:1.1', name: 'app' }] } } },
};
const mergePatch = { metadata: smp.metadata, spec: { template: { spec: { containers: [{ ...live.spec.template.spec.containers[0], image: 'app:1.1' }, live.spec.template.spec.containers[1]] } } } };
const jsonPatch = [
  { op: 'add', path: '/metadata/annotations', value: smp.metadata.annotations },
  { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'app:1.1' },
];
const ssaConfig = deploymentConfig('app:1.1', 3);

// A Pod update (a label added by a controller) with the client sending back the managedFields it read.
const pod: any = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' } },
  spec: { containers: [container('app', 'app:1.0'), container('sidecar', 'envoy:1.30')], volumes: [{ name: 'cfg', configMap: { name: 'web-cfg' } }], restartPolicy: 'Always', nodeName: 'n1' },
};
updateManagedFields(podKind, undefined, pod, 'kube-controller-manager', 'Update', undefined, T0);
Object.assign(pod.metadata, { uid: '0b8e1c52-0000-4000-8000-000000000002', resourceVersion: '11', creationTimestamp: '2025-01-01T00:00:00Z' });
const podNext = cloneJSON(pod);
podNext.metadata.labels['pod-template-hash'] = '5d8f7c';
const podLiveManaged = pod.metadata.managedFields;

// Sanity: every path does what it claims before it is timed.
const smpOut = applyStrategicMergePatch(deploymentKind, live, smp) as any;
if (smpOut.spec.template.spec.containers[0].image !== 'app:1.1' || smpOut.spec.template.spec.containers.length !== 2) throw new Error('SMP result is wrong');
const ssaOut = serverSideApply(deploymentKind, live, ssaConfig, 'deployer', false, T1);
if (ssaOut.conflicts.length !== 0 || (ssaOut.object as any).spec.template.spec.containers[0].image !== 'app:1.1') throw new Error('SSA result is wrong');
updateManagedFields(podKind, pod, podNext, 'kubectl-label', 'Update', undefined, T1);
if (!(podNext.metadata.managedFields as any[]).some((e) => e.manager === 'kubectl-label')) throw new Error('managedFields result is wrong');

console.log(`Deployment: ${JSON.stringify(live).length} bytes of JSON with ${live.metadata.managedFields.length} managedFields entries; Pod: ${JSON.stringify(pod).length} bytes`);
const smpOps = bench('strategic merge patch of a Deployment (kubectl apply)', () => applyStrategicMergePatch(deploymentKind, live, smp));
const ssaOps = bench('server-side apply of a Deployment (2 managers, re-apply)', () => serverSideApply(deploymentKind, live, ssaConfig, 'deployer', false, T1));
const mfOps = bench('updateManagedFields of a Pod (label update)', () => {
  podNext.metadata.managedFields = podLiveManaged;
  updateManagedFields(podKind, pod, podNext, 'kubectl-label', 'Update', undefined, T1);
});
console.log('peers, same run:');
const mergeOps = bench('  merge patch of the same change (json-merge-patch)', () => applyMergePatch(live, mergePatch));
const jsonOps = bench('  JSON patch of the same change (fast-json-patch)', () => applyJsonPatch(live, jsonPatch));
const roundTripOps = bench('  JSON.parse(JSON.stringify(deployment))', () => JSON.parse(JSON.stringify(live)));
console.log(`peer figures: merge_patch_ops_per_s=${mergeOps} json_patch_ops_per_s=${jsonOps} json_roundtrip_ops_per_s=${roundTripOps}`);
console.log(`patch: smp_ops_per_s=${smpOps} ssa_ops_per_s=${ssaOps} managedfields_ops_per_s=${mfOps}`);
