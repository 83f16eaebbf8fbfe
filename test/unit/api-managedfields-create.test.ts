// The create fast path of updateManagedFields (createdFieldsV1: one walk straight to FieldsV1)
// must record exactly what the general path (compare, field sets, encodeFieldsV1) records, for a
// generated corpus of objects of several kinds, including odd shapes (empty containers, nulls,
// duplicate list keys, unknown fields, list items without keys).
import { afterEach, describe, expect, it } from 'vitest';
import { setGeneralPathForTesting, updateManagedFields } from '../../api/managedfields';
import { cloneJSON, type SchemaSource } from '../../api/patch';
import { deploymentSchema } from './api-patch-openapi.fixture';
import { rng } from './helpers/rng';

const NOW = new Date('2026-01-02T03:04:05.678Z');

/** mulberry32: a small seeded generator, so a failure names the seed that reproduces it. */
type R = () => number;
const pick = <T>(r: R, xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
const maybe = (r: R, p = 0.5): boolean => r() < p;

function odd(r: R): any {
  return pick(r, [{}, [], null, '', 0, false, { x: { y: [] } }, [{ a: 1 }, { a: 1 }], 'v']);
}

function container(r: R, name: string): any {
  const c: any = { name, image: pick(r, ['nginx:1.25', 'busybox:1.36']) };
  if (maybe(r)) c.command = ['sh', '-c', 'sleep 3600'];
  if (maybe(r)) c.ports = [{ containerPort: 80, ...(maybe(r) ? { name: 'http' } : {}), ...(maybe(r) ? { protocol: pick(r, ['TCP', 'UDP']) } : {}) }, ...(maybe(r, 0.3) ? [{ containerPort: 80 }] : [])];
  if (maybe(r)) c.env = [{ name: 'A', value: 'x' }, ...(maybe(r) ? [{ name: 'P', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] : []), ...(maybe(r, 0.2) ? [{ name: 'A', value: 'dup' }] : [])];
  if (maybe(r)) c.resources = maybe(r, 0.2) ? {} : { requests: { cpu: '100m', memory: '64Mi' }, ...(maybe(r) ? { limits: { cpu: '1' } } : {}) };
  if (maybe(r)) c.readinessProbe = { httpGet: { path: '/', port: 80 }, periodSeconds: 5 };
  if (maybe(r)) c.volumeMounts = [{ name: 'v', mountPath: '/v' }];
  if (maybe(r, 0.15)) c.bogusField = odd(r);
  if (maybe(r, 0.1)) c.securityContext = null;
  return c;
}

function podSpec(r: R): any {
  const s: any = { containers: [container(r, 'a'), ...(maybe(r) ? [container(r, 'b')] : [])] };
  if (maybe(r)) s.volumes = [{ name: 'v', configMap: { name: 'cfg' } }, ...(maybe(r, 0.3) ? [{ name: 'e', emptyDir: {} }] : [])];
  if (maybe(r)) s.tolerations = [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }];
  if (maybe(r)) s.nodeSelector = maybe(r, 0.2) ? {} : { disk: 'ssd' };
  if (maybe(r, 0.3)) s.restartPolicy = 'Always';
  if (maybe(r, 0.2)) s.initContainers = [container(r, 'init')];
  if (maybe(r, 0.1)) s.containers.push({ image: 'no-name' });
  if (maybe(r, 0.1)) s.imagePullSecrets = [{ name: 'x' }, { name: 'x' }];
  return s;
}

function metadata(r: R, name: string): any {
  const m: any = { name, namespace: 'ns', uid: 'u-1', creationTimestamp: '2026-01-01T00:00:00Z' };
  if (maybe(r)) m.labels = maybe(r, 0.2) ? {} : { app: 'web', tier: pick(r, ['fe', 'be']) };
  if (maybe(r)) m.annotations = { note: 'x' };
  if (maybe(r, 0.3)) m.generation = 1;
  if (maybe(r, 0.3)) m.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u-2', controller: true }];
  if (maybe(r, 0.2)) m.finalizers = ['a', 'b', ...(maybe(r) ? ['a'] : [])];
  if (maybe(r, 0.1)) m.resourceVersion = '5';
  if (maybe(r, 0.1)) m.generateName = 'p-';
  return m;
}

function object(r: R, i: number): { source: SchemaSource; obj: any } {
  const kind = pick(r, ['Pod', 'Deployment', 'DeploymentFixture', 'ConfigMap', 'Service', 'Unknown']);
  const md = maybe(r, 0.05) ? {} : metadata(r, `o-${i}`);
  switch (kind) {
    case 'Pod': return { source: { group: '', version: 'v1', kind: 'Pod' }, obj: { apiVersion: 'v1', kind: 'Pod', metadata: md, spec: podSpec(r), ...(maybe(r) ? { status: maybe(r) ? {} : { phase: 'Pending' } } : {}) } };
    case 'Deployment':
    case 'DeploymentFixture': {
      const obj = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: md, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: podSpec(r) }, ...(maybe(r, 0.2) ? { strategy: {} } : {}) } };
      return { source: kind === 'Deployment' ? { group: 'apps', version: 'v1', kind: 'Deployment' } : deploymentSchema, obj };
    }
    case 'ConfigMap': return { source: { group: '', version: 'v1', kind: 'ConfigMap' }, obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: md, ...(maybe(r) ? { data: { a: 'x', b: '' } } : {}), ...(maybe(r, 0.2) ? { binaryData: {} } : {}) } };
    case 'Service': return { source: { group: '', version: 'v1', kind: 'Service' }, obj: { apiVersion: 'v1', kind: 'Service', metadata: md, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: maybe(r) ? 8080 : 'http' }, ...(maybe(r) ? [{ port: 443, protocol: 'TCP', name: 'https' }] : [])], ...(maybe(r) ? { type: 'ClusterIP' } : {}) } } };
    default: return { source: { group: 'example.com', version: 'v1', kind: 'Widget' }, obj: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: md, spec: { a: odd(r), b: [odd(r)], c: { d: odd(r) } } } };
  }
}

function record(source: SchemaSource, obj: any, general: boolean, opts: { subresource?: string; sent?: unknown } = {}): any {
  const o = cloneJSON(obj);
  if (opts.sent !== undefined) o.metadata.managedFields = cloneJSON(opts.sent);
  setGeneralPathForTesting(general);
  try {
    updateManagedFields(source, undefined, o, 'kubectl-create', 'Update', opts.subresource, NOW);
  } finally { setGeneralPathForTesting(false); }
  return o;
}

describe('updateManagedFields on create: fast path = general path', () => {
  afterEach(() => setGeneralPathForTesting(false));

  it('gives byte-identical objects for 3,000 generated objects', () => {
    let withEntries = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const r = rng(seed);
      const { source, obj } = object(r, seed);
      const opts = maybe(r, 0.1) ? { subresource: 'status' } : maybe(r, 0.1) ? { sent: pick(r, [[], [{}], null]) } : {};
      const slow = JSON.stringify(record(source, obj, true, opts));
      const fast = JSON.stringify(record(source, obj, false, opts));
      if (fast !== slow) throw new Error(`seed ${seed}: fast path differs\nslow: ${slow}\nfast: ${fast}`);
      if (slow.includes('"managedFields"')) withEntries++;
    }
    // The corpus exercises the recording, not only the error fallback (items without keys).
    expect(withEntries).toBeGreaterThan(2000);
  });

  it('keeps sent entries on the general path (kubectl replace of a new object)', () => {
    const sent = [{ manager: 'other', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:z': {} } } }];
    const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } };
    const o = record({ group: '', version: 'v1', kind: 'ConfigMap' }, obj, false, { sent });
    expect(o.metadata.managedFields.map((e: any) => e.manager).sort()).toEqual(['kubectl-create', 'other']);
  });
});

describe('compare over shared subtrees', () => {
  it('gives what it gives over copies (a status write shares the live spec)', () => {
    for (let seed = 1; seed <= 1000; seed++) {
      const r = rng(seed);
      const { source, obj } = object(r, seed);
      const live = cloneJSON(obj);
      live.metadata.managedFields = [{ manager: 'm', operation: 'Update', apiVersion: live.apiVersion, time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {}, 'f:status': { 'f:phase': {} } } }];
      const status = { phase: pick(r, ['Pending', 'Running']), conditions: [{ type: 'PodScheduled', status: 'False' }] };
      const shared = { ...live, metadata: { ...live.metadata }, status };
      const copied = { ...cloneJSON(live), status: cloneJSON(status) };
      let a: unknown;
      let b: unknown;
      try { updateManagedFields(source, live, shared, 'sched', 'Update', 'status', NOW); a = shared.metadata.managedFields; } catch (err) { a = (err as Error).message; }
      try { updateManagedFields(source, live, copied, 'sched', 'Update', 'status', NOW); b = copied.metadata.managedFields; } catch (err) { b = (err as Error).message; }
      // Items the schema cannot type make the copy's walk fail (live entries kept); the shared walk skips them.
      if (JSON.stringify(b) === JSON.stringify(live.metadata.managedFields)) continue;
      expect(JSON.stringify(a), `seed ${seed}`).toBe(JSON.stringify(b));
    }
  });
});
