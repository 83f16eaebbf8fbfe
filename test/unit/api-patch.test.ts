// Replays the PATCH bodies kubectl 1.32 sends (kube-api-compat.md §5) against live objects and checks
// the result the apiserver would store. Each strategic-merge case runs against two schema sources:
// hand-written OpenAPI fragments and the kind's generated definitions in api/schema.
import { describe, expect, it } from 'vitest';
import {
  applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError, type SchemaSource,
} from '../../api/patch';
import { deploymentSchema, podSchema, serviceSchema } from './api-patch-openapi.fixture';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const appsV1Deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };

function liveDeployment(): any {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: {
      name: 'web', namespace: 'default', uid: '6f1c7c1e-0000-4000-8000-000000000001', resourceVersion: '41', generation: 3,
      creationTimestamp: '2025-01-01T00:00:00Z',
      labels: { app: 'web' },
      annotations: { 'deployment.kubernetes.io/revision': '3', [LAST_APPLIED]: '{"old":true}\n' },
      finalizers: ['example.com/a', 'example.com/b'],
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'nginx', image: 'nginx:1.25', imagePullPolicy: 'IfNotPresent',
              env: [{ name: 'A', value: '1' }, { name: 'C', value: '3' }],
              ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }],
              volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }],
            },
            { name: 'sidecar', image: 'busybox:1.36', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
          ],
          volumes: [{ name: 'cfg', configMap: { name: 'web-cfg', defaultMode: 420 } }, { name: 'data', configMap: { name: 'web-data' } }],
          tolerations: [{ key: 'a', operator: 'Exists' }],
          restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30,
        },
      },
    },
    status: { observedGeneration: 3, replicas: 1, conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True' }] },
  };
}

const sources: Array<[string, SchemaSource]> = [['OpenAPI schema', deploymentSchema], ['api/schema definitions of apps/v1 Deployment', appsV1Deployment]];

function expectPatchError(fn: () => unknown, code: string, status: number): PatchError {
  let caught: unknown;
  try { fn(); } catch (e) { caught = e; }
  expect(caught).toBeInstanceOf(PatchError);
  const e = caught as PatchError;
  expect(e.code).toBe(code);
  expect(e.status).toBe(status);
  expect(e.message.length).toBeGreaterThan(10);
  return e;
}

describe.each(sources)('strategic merge patch as kubectl sends it (%s)', (_name, source) => {
  it('client-side apply: three-way patch with $setElementOrder, env changes and the last-applied annotation', () => {
    const live = liveDeployment();
    const before = JSON.stringify(live);
    const lastApplied = '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"name":"web","namespace":"default"},"spec":{"replicas":2}}\n';
    // What kubectl apply sends after the user changed replicas and image, added env B and removed env C.
    const patch = {
      metadata: { annotations: { [LAST_APPLIED]: lastApplied } },
      spec: {
        replicas: 2,
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }],
            containers: [{
              '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }],
              env: [{ name: 'B', value: '2' }, { $patch: 'delete', name: 'C' }],
              image: 'nginx:1.26', name: 'nginx',
            }],
          },
        },
      },
    };
    const out = applyStrategicMergePatch(source, live, patch) as any;
    expect(JSON.stringify(live)).toBe(before); // inputs untouched
    expect(out.spec.replicas).toBe(2);
    expect(out.metadata.annotations).toEqual({ 'deployment.kubernetes.io/revision': '3', [LAST_APPLIED]: lastApplied });
    const [nginx, sidecar] = out.spec.template.spec.containers;
    expect(nginx.name).toBe('nginx');
    expect(nginx.image).toBe('nginx:1.26');
    expect(nginx.imagePullPolicy).toBe('IfNotPresent'); // server-side defaults survive
    expect(nginx.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
    expect(nginx.ports).toEqual([{ containerPort: 80, protocol: 'TCP', name: 'http' }]);
    expect(sidecar).toEqual(live.spec.template.spec.containers[1]);
    expect(out.status).toEqual(live.status);
  });

  it('$setElementOrder reorders containers and adds a new one where the order says', () => {
    const live = liveDeployment();
    const patch = { spec: { template: { spec: {
      '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'metrics' }, { name: 'nginx' }],
      containers: [{ name: 'metrics', image: 'prom/exporter:1' }],
    } } } };
    const out = applyStrategicMergePatch(source, live, patch) as any;
    expect(out.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['sidecar', 'metrics', 'nginx']);
    expect(out.spec.template.spec.containers[1]).toEqual({ name: 'metrics', image: 'prom/exporter:1' });
  });

  it('rollout restart: the template annotation kubectl sets', () => {
    const patch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-06-01T12:00:00Z' } } } } };
    const out = applyStrategicMergePatch(source, liveDeployment(), patch) as any;
    expect(out.spec.template.metadata).toEqual({ labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-06-01T12:00:00Z' } });
  });

  it('set image: a two-way patch of one container keeps the other', () => {
    const patch = { spec: { template: { spec: {
      '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }],
      containers: [{ image: 'nginx:1.27', name: 'nginx' }],
    } } } };
    const out = applyStrategicMergePatch(source, liveDeployment(), patch) as any;
    expect(out.spec.template.spec.containers.map((c: any) => [c.name, c.image])).toEqual([['nginx', 'nginx:1.27'], ['sidecar', 'busybox:1.36']]);
    expect(out.spec.template.spec.containers[0].env).toHaveLength(2);
  });

  it('$patch: delete removes a container by name', () => {
    const patch = { spec: { template: { spec: { containers: [{ $patch: 'delete', name: 'sidecar' }] } } } };
    const out = applyStrategicMergePatch(source, liveDeployment(), patch) as any;
    expect(out.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['nginx']);
  });

  it('finalizers merge as a set and $deleteFromPrimitiveList removes from it', () => {
    const added = applyStrategicMergePatch(source, liveDeployment(), { metadata: { finalizers: ['example.com/c', 'example.com/a'] } }) as any;
    // Upstream puts patch items first unless the live order says otherwise (no duplicates).
    expect(added.metadata.finalizers).toEqual(['example.com/c', 'example.com/a', 'example.com/b']);
    const removed = applyStrategicMergePatch(source, liveDeployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['example.com/a'] } }) as any;
    expect(removed.metadata.finalizers).toEqual(['example.com/b']);
    const both = applyStrategicMergePatch(source, liveDeployment(), {
      metadata: { '$setElementOrder/finalizers': ['example.com/b', 'example.com/c'], finalizers: ['example.com/c'], '$deleteFromPrimitiveList/finalizers': ['example.com/a'] },
    }) as any;
    expect(both.metadata.finalizers).toEqual(['example.com/b', 'example.com/c']);
  });

  it('$retainKeys: switching the strategy from RollingUpdate to Recreate drops rollingUpdate', () => {
    // What kubectl apply sends (DeploymentSpec.strategy has patchStrategy retainKeys).
    const out = applyStrategicMergePatch(source, liveDeployment(), { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } }) as any;
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
    // retainKeys alone clears the fields it does not list.
    const out2 = applyStrategicMergePatch(source, liveDeployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }) as any;
    expect(out2.spec.strategy).toEqual({ type: 'Recreate' });
    // Without the directive, a plain merge keeps rollingUpdate.
    const out3 = applyStrategicMergePatch(source, liveDeployment(), { spec: { strategy: { type: 'Recreate' } } }) as any;
    expect(out3.spec.strategy.rollingUpdate).toEqual({ maxSurge: '25%', maxUnavailable: '25%' });
  });

  it('volumes merge by name, and $retainKeys switches a volume source', () => {
    const out = applyStrategicMergePatch(source, liveDeployment(), { spec: { template: { spec: { volumes: [
      { name: 'cfg', configMap: { name: 'web-cfg-2' } },
      { name: 'data', $retainKeys: ['emptyDir', 'name'], emptyDir: {} },
    ] } } } }) as any;
    expect(out.spec.template.spec.volumes).toEqual([
      { name: 'cfg', configMap: { name: 'web-cfg-2', defaultMode: 420 } },
      { name: 'data', emptyDir: {} },
    ]);
  });

  it('env merges by name, ports by containerPort, tolerations are replaced whole', () => {
    const out = applyStrategicMergePatch(source, liveDeployment(), { spec: { template: { spec: {
      containers: [{ name: 'nginx', env: [{ name: 'A', value: 'changed' }], ports: [{ containerPort: 80, name: 'web' }] }],
      tolerations: [{ key: 'b', operator: 'Equal', value: 'x' }],
    } } } }) as any;
    const nginx = out.spec.template.spec.containers[0];
    expect(nginx.env).toEqual([{ name: 'A', value: 'changed' }, { name: 'C', value: '3' }]);
    expect(nginx.ports).toEqual([{ containerPort: 80, protocol: 'TCP', name: 'web' }]);
    expect(out.spec.template.spec.tolerations).toEqual([{ key: 'b', operator: 'Equal', value: 'x' }]);
    // A new port lands first, as upstream does without $setElementOrder.
    const out2 = applyStrategicMergePatch(source, liveDeployment(), { spec: { template: { spec: { containers: [{ name: 'nginx', ports: [{ containerPort: 9090, name: 'metrics' }] }] } } } }) as any;
    expect(out2.spec.template.spec.containers[0].ports.map((p: any) => p.containerPort)).toEqual([9090, 80]);
  });

  it('null deletes a field; $patch: replace replaces a map or a list', () => {
    const out = applyStrategicMergePatch(source, liveDeployment(), { spec: { revisionHistoryLimit: null, template: { metadata: { labels: { $patch: 'replace', app: 'web', tier: 'front' } } } } }) as any;
    expect('revisionHistoryLimit' in out.spec).toBe(false);
    expect(out.spec.template.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    const out2 = applyStrategicMergePatch(source, liveDeployment(), { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } } }) as any;
    expect(out2.spec.template.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('fields the schema does not describe: maps merge, lists are replaced', () => {
    const live = liveDeployment();
    live.spec.extra = { keep: 1, list: [1, 2], nested: { a: 1 } };
    const out = applyStrategicMergePatch(source, live, { spec: { extra: { list: [3], nested: { b: 2 } } } }) as any;
    expect(out.spec.extra).toEqual({ keep: 1, list: [3], nested: { a: 1, b: 2 } });
  });

  it('status conditions merge by type', () => {
    const out = applyStrategicMergePatch(source, liveDeployment(), { status: { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] } }) as any;
    expect(out.status.conditions).toEqual([{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }]);
  });
});

describe('strategic merge patch of other kinds', () => {
  it('Service ports merge by port', () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }, { port: 443, targetPort: 8443, protocol: 'TCP' }] } };
    for (const source of [serviceSchema, { group: '', version: 'v1', kind: 'Service' }]) {
      const out = applyStrategicMergePatch(source, svc, { spec: { ports: [{ port: 443, targetPort: 9443 }] } }) as any;
      expect(out.spec.ports).toEqual([{ port: 80, targetPort: 8080, protocol: 'TCP' }, { port: 443, targetPort: 9443, protocol: 'TCP' }]);
    }
  });

  it('Pod status conditions merge by type (kubelet status patches)', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }] }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] } };
    const out = applyStrategicMergePatch(podSchema, pod, { status: { '$setElementOrder/conditions': [{ type: 'PodScheduled' }, { type: 'Ready' }], conditions: [{ type: 'Ready', status: 'True' }], phase: 'Running', podIP: '10.42.0.5' } }) as any;
    expect(out.status).toEqual({ phase: 'Running', podIP: '10.42.0.5', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }] });
  });
});

describe('strategic merge patch edge cases (the cases upstream\'s custom patch tests cover)', () => {
  // A self-referencing item type: lists merged by name, merging and replaced primitive lists,
  // a plain map and a retainKeys map.
  const item: any = {
    type: 'object',
    properties: {
      name: { type: 'string' }, value: { type: 'string' }, other: { type: 'string' },
      mergingList: { type: 'array', items: { $ref: '#/item' }, 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' },
      nonMergingList: { type: 'array', items: { $ref: '#/item' } },
      mergingIntList: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-patch-strategy': 'merge' },
      simpleMap: { type: 'object', additionalProperties: { type: 'string' } },
      retainKeysMap: { $ref: '#/item', 'x-kubernetes-patch-strategy': 'retainKeys' },
    },
  };
  const source = { schema: item, resolve: () => item };
  const cases: Array<[string, object, object, object]> = [
    ['merging primitive lists keep one of each value', { mergingIntList: [1, 2] }, { mergingIntList: [2, 3] }, { mergingIntList: [1, 2, 3] }],
    ['$patch: delete on a map leaves it empty', { simpleMap: { key1: '1', key2: '1' } }, { simpleMap: { $patch: 'delete' } }, { simpleMap: {} }],
    ['$patch: replace alone empties a merging list', { mergingList: [{ name: '1' }, { name: '2' }] }, { mergingList: [{ $patch: 'replace' }] }, { mergingList: [] }],
    ['empty merging lists merge to an empty list', { mergingList: [] }, { mergingList: [] }, { mergingList: [] }],
    ['$patch: replace at the top replaces everything', { name: '1', value: '1' }, { other: 'a', $patch: 'replace' }, { other: 'a' }],
    ['$patch: delete removes every duplicate', { mergingList: [{ name: '1' }, { name: '1' }, { name: '2', value: 'a' }, { name: '3' }, { name: '3' }] },
      { mergingList: [{ name: '1', $patch: 'delete' }, { name: '3', $patch: 'delete' }] }, { mergingList: [{ name: '2', value: 'a' }] }],
    ['a retainKeys map merges as usual without the directive', { retainKeysMap: { name: 'foo' } }, { retainKeysMap: { value: 'bar' } }, { retainKeysMap: { name: 'foo', value: 'bar' } }],
    ['non-merging lists are replaced', { nonMergingList: [{ name: '1' }, { name: '2' }] }, { nonMergingList: [{ name: '3' }] }, { nonMergingList: [{ name: '3' }] }],
    ['$setElementOrder puts new items where it says, live-only items keep their place', { mergingList: [{ name: '1', other: 'a' }, { name: '2', value: '2', other: 'b' }] },
      { '$setElementOrder/mergingList': [{ name: '4' }, { name: '1' }, { name: '2' }, { name: '3' }], mergingList: [{ name: '4', value: '4' }, { name: '3', value: '3' }] },
      { mergingList: [{ name: '4', value: '4' }, { name: '1', other: 'a' }, { name: '2', value: '2', other: 'b' }, { name: '3', value: '3' }] }],
    ['nested merging lists merge by name at every level', { mergingList: [{ name: '1', mergingList: [{ name: 'a', value: 'x' }] }] },
      { mergingList: [{ name: '1', mergingList: [{ name: 'a', other: 'y' }, { name: 'b' }] }] },
      { mergingList: [{ name: '1', mergingList: [{ name: 'a', value: 'x', other: 'y' }, { name: 'b' }] }] }],
  ];
  it.each(cases)('%s', (_d, original, patch, expected) => {
    expect(applyStrategicMergePatch(source, original, patch)).toEqual(expected);
  });
});

describe('JSON patch (RFC 6902)', () => {
  it('rollout undo: replaces /spec/template and /metadata/annotations', () => {
    const live = liveDeployment();
    const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.24' }] } };
    const annotations = { 'deployment.kubernetes.io/revision': '3' };
    const out = applyJsonPatch(live, [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: annotations },
    ]) as any;
    expect(out.spec.template).toEqual(template);
    expect(out.metadata.annotations).toEqual(annotations);
    expect(live.spec.template.spec.containers).toHaveLength(2); // original untouched
  });

  it('adds, removes, tests; escapes ~1 in keys', () => {
    const out = applyJsonPatch(liveDeployment(), [
      { op: 'test', path: '/spec/replicas', value: 1 },
      { op: 'add', path: '/metadata/labels/example.com~1tier', value: 'front' },
      { op: 'remove', path: '/spec/template/spec/containers/1' },
      { op: 'add', path: '/metadata/finalizers/-', value: 'example.com/z' },
    ]) as any;
    expect(out.metadata.labels).toEqual({ app: 'web', 'example.com/tier': 'front' });
    expect(out.spec.template.spec.containers).toHaveLength(1);
    expect(out.metadata.finalizers.at(-1)).toBe('example.com/z');
  });

  it('errors: failed test, missing path, bad op, not a list, too many ops', () => {
    const live = liveDeployment();
    expectPatchError(() => applyJsonPatch(live, [{ op: 'test', path: '/spec/replicas', value: 5 }]), 'PatchTestFailed', 422);
    expectPatchError(() => applyJsonPatch(live, [{ op: 'remove', path: '/spec/nope' }]), 'PathNotFound', 422);
    expectPatchError(() => applyJsonPatch(live, [{ op: 'replace', path: '/metadata/nope/deeper', value: 1 }]), 'PathNotFound', 422);
    expectPatchError(() => applyJsonPatch(live, [{ op: 'frobnicate', path: '/spec' }]), 'InvalidJSONPatchOp', 422);
    expectPatchError(() => applyJsonPatch(live, [{ op: 'add', path: '/spec/x' }]), 'InvalidJSONPatchOp', 422);
    expectPatchError(() => applyJsonPatch(live, [null]), 'InvalidJSONPatchOp', 422);
    expectPatchError(() => applyJsonPatch(live, { op: 'add' }), 'InvalidPatch', 400);
    expectPatchError(() => applyJsonPatch(live, [{ op: 'replace', path: '', value: 3 }]), 'PatchNotApplicable', 422);
    expectPatchError(() => applyJsonPatch(live, new Array(10001).fill({ op: 'test', path: '/kind', value: 'Deployment' })), 'TooManyOperations', 413);
  });
});

describe('merge patch (RFC 7386)', () => {
  it('kubectl label / annotate: add, overwrite, remove with null', () => {
    const live = liveDeployment();
    const out = applyMergePatch(live, { metadata: { labels: { tier: 'front', app: null } } }) as any;
    expect(out.metadata.labels).toEqual({ tier: 'front' });
    const out2 = applyMergePatch(live, { metadata: { annotations: { note: 'hi' } } }) as any;
    expect(out2.metadata.annotations.note).toBe('hi');
    expect(live.metadata.labels).toEqual({ app: 'web' });
  });

  it('kubectl scale: spec.replicas; lists are replaced whole', () => {
    const out = applyMergePatch(liveDeployment(), { spec: { replicas: 5, template: { spec: { containers: [{ name: 'x', image: 'y' }] } } } }) as any;
    expect(out.spec.replicas).toBe(5);
    expect(out.spec.template.spec.containers).toEqual([{ name: 'x', image: 'y' }]);
  });

  it('a merge patch that is not an object is a 400', () => {
    expectPatchError(() => applyMergePatch(liveDeployment(), [1]), 'InvalidPatch', 400);
    expectPatchError(() => applyMergePatch(liveDeployment(), 'x'), 'InvalidPatch', 400);
  });
});

describe('strategic merge patch errors', () => {
  const live = liveDeployment();
  it('has stable codes and statuses', () => {
    expectPatchError(() => applyStrategicMergePatch(deploymentSchema, live, [1]), 'InvalidPatch', 400);
    expectPatchError(() => applyStrategicMergePatch(deploymentSchema, live, { spec: { template: { spec: { containers: [{ image: 'no-name' }] } } } }), 'MissingMergeKey', 422);
    expectPatchError(() => applyStrategicMergePatch(deploymentSchema, live, { spec: { template: { spec: { containers: [{ $patch: 'delete' }] } } } }), 'MissingMergeKey', 422);
    expectPatchError(() => applyStrategicMergePatch(deploymentSchema, live, { metadata: { finalizers: [['x']] } }), 'ListOfLists', 422);
    expectPatchError(() => applyStrategicMergePatch(deploymentSchema, live, { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: { maxSurge: 1 } } } }), 'InvalidPatch', 400);
    expectPatchError(() => applyStrategicMergePatch(deploymentSchema, live, { spec: { strategy: { $retainKeys: 'type' } } }), 'InvalidPatch', 400);
    expectPatchError(() => applyStrategicMergePatch(deploymentSchema, live, { spec: { $patch: 'frob' } }), 'InvalidPatch', 400);
    expectPatchError(() => applyStrategicMergePatch(deploymentSchema, live, { spec: { template: { spec: { containers: [{ $patch: 'merge' }] } } } }), 'InvalidPatch', 400);
    expectPatchError(() => applyStrategicMergePatch(deploymentSchema, live, { spec: { template: { spec: {
      '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ name: 'sidecar', image: 'x' }],
    } } } }), 'InvalidPatch', 400);
    expectPatchError(() => applyStrategicMergePatch(deploymentSchema, live, { metadata: { '$deleteFromPrimitiveList/': ['a'] } }), 'InvalidPatch', 400);
    expectPatchError(() => applyStrategicMergePatch(deploymentSchema, live, { metadata: { finalizers: [{ a: 1 }] } }), 'PatchNotApplicable', 422);
    expectPatchError(() => applyStrategicMergePatch(deploymentSchema, live, JSON.parse('{"spec":{"__proto__":{"polluted":true}}}')), 'InvalidPatch', 400);
    expect(({} as any).polluted).toBeUndefined();
  });

  it('never leaks a TypeError, whatever the patch', () => {
    const weird: unknown[] = [null, 0, 'x', true, [], {}, [null], [0], [{}], [[]], { $patch: null }, { $retainKeys: [null] },
      { '$setElementOrder/x': 1 }, { '$setElementOrder/x': [1], x: { a: 1 } }, [{ $patch: 'delete' }]];
    const paths = (v: unknown) => [
      { spec: v }, { spec: { template: { spec: { containers: v } } } }, { metadata: { finalizers: v } },
      { spec: { template: { spec: { containers: [{ name: 'nginx', env: v }] } } } }, { metadata: { '$deleteFromPrimitiveList/finalizers': v } },
      { spec: { template: { spec: { '$setElementOrder/containers': v } } } }, { spec: { strategy: v } },
    ];
    let thrown = 0;
    for (const v of weird) {
      for (const patch of paths(v)) {
        for (const source of [deploymentSchema, appsV1Deployment]) {
          try { applyStrategicMergePatch(source, live, patch); } catch (e) { thrown++; expect(e).toBeInstanceOf(PatchError); }
        }
      }
    }
    expect(thrown).toBeGreaterThan(0);
  });
});
