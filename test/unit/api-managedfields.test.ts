// Server-side apply and managedFields: ownership, conflicts, removal of fields no longer applied,
// list types, the exact entry shape, and the bookkeeping the apiserver does on every write.
import { describe, expect, it } from 'vitest';
import {
  conflictStatusMessage, decodeFieldsV1, encodeFieldsV1, toFieldSet, LAST_APPLIED_ANNOTATION, ManagedFieldsError, MAX_UPDATE_MANAGERS,
  serverSideApply, updateManagedFields, type ManagedFieldsEntry,
} from '../../api/managedfields';
import { applyMergePatch, applyStrategicMergePatch, cloneJSON, nodeFor, type SchemaSource } from '../../api/patch';
import { deploymentSchema } from './api-patch-openapi.fixture';

const T0 = new Date('2025-01-01T00:00:00.123Z');
const T1 = new Date('2025-01-01T00:01:00Z');
const T2 = new Date('2025-01-01T00:02:00Z');
const T3 = new Date('2025-01-01T00:03:00Z');
const appsV1Deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };

function config(extra: { replicas?: number; labels?: Record<string, string>; containers?: any[]; spec?: Record<string, unknown>; podSpec?: Record<string, unknown>; meta?: Record<string, unknown> } = {}): any {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', ...(extra.labels ? { labels: extra.labels } : {}), ...extra.meta },
    spec: {
      ...(extra.replicas !== undefined ? { replicas: extra.replicas } : {}),
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: extra.containers ?? [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }], ...extra.podSpec },
      },
      ...extra.spec,
    },
  };
}

/** What the server would store: the apply result plus the fields the server sets. */
function stored(obj: any, rv: string): any {
  const o = cloneJSON(obj);
  o.metadata.uid ??= '0b8e1c52-0000-4000-8000-000000000001';
  o.metadata.creationTimestamp ??= '2025-01-01T00:00:00Z';
  o.metadata.resourceVersion = rv;
  return o;
}

function entry(obj: any, manager: string, operation?: string): any {
  return (obj.metadata.managedFields as ManagedFieldsEntry[] | undefined)?.find((e) => e.manager === manager && (!operation || e.operation === operation));
}

function apply(source: SchemaSource, live: any, cfg: any, manager: string, force: boolean, now: Date) {
  const r = serverSideApply(source, live, cfg, manager, force, now);
  return r;
}

const sources: Array<[string, SchemaSource]> = [['OpenAPI fixture', deploymentSchema], ['api/schema definitions', appsV1Deployment]];

describe.each(sources)('server-side apply (%s)', (_name, source) => {
  it('creates with an Apply entry of the exact upstream shape', () => {
    const cfg = config({ replicas: 2, labels: { app: 'web' } });
    const before = JSON.stringify(cfg);
    const r = apply(source, undefined, cfg, 'deployer', false, T0);
    expect(JSON.stringify(cfg)).toBe(before);
    expect(r.conflicts).toEqual([]);
    const obj = r.object as any;
    expect(obj.spec.replicas).toBe(2);
    expect(obj.metadata.managedFields).toHaveLength(1);
    const e = obj.metadata.managedFields[0];
    expect(Object.keys(e)).toEqual(['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1']);
    expect(e).toMatchObject({ manager: 'deployer', operation: 'Apply', apiVersion: 'apps/v1', time: '2025-01-01T00:00:00Z', fieldsType: 'FieldsV1' });
    // Byte for byte what an upstream apiserver records for this configuration.
    expect(JSON.stringify(e.fieldsV1)).toBe(
      '{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},' +
      '"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}}}}}}}}');
  });

  it('an Update takes ownership; re-applying the old value conflicts; force takes it back', () => {
    let live = stored(apply(source, undefined, config({ replicas: 2 }), 'deployer', false, T0).object, '1');
    // kubectl edit: PUT with the managedFields it read, replicas changed.
    const edited = cloneJSON(live);
    edited.spec.replicas = 3;
    updateManagedFields(source, live, edited, 'kubectl-edit', 'Update', undefined, T1);
    live = stored(edited, '2');
    expect(entry(live, 'kubectl-edit')).toMatchObject({ operation: 'Update', apiVersion: 'apps/v1', time: '2025-01-01T00:01:00Z', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    expect(entry(live, 'deployer')!.fieldsV1['f:spec']).not.toHaveProperty('f:replicas');

    const conflict = apply(source, live, config({ replicas: 2 }), 'deployer', false, T2);
    expect(conflict.object).toBeUndefined();
    expect(conflict.conflicts).toEqual([{ manager: 'kubectl-edit', field: '.spec.replicas', message: 'conflict with "kubectl-edit" using apps/v1' }]);
    expect(conflictStatusMessage(conflict.conflicts)).toBe('Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');

    // Applying the value the other manager set is no conflict: both own it.
    const shared = apply(source, live, config({ replicas: 3 }), 'deployer', false, T2);
    expect(shared.conflicts).toEqual([]);
    expect(entry(shared.object, 'deployer')!.fieldsV1['f:spec']).toHaveProperty('f:replicas');
    expect(entry(shared.object, 'kubectl-edit')!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });

    const forced = apply(source, live, config({ replicas: 2 }), 'deployer', true, T2);
    expect(forced.conflicts).toEqual([]);
    expect((forced.object as any).spec.replicas).toBe(2);
    expect(entry(forced.object, 'kubectl-edit')).toBeUndefined();
    expect(entry(forced.object, 'deployer')!.fieldsV1['f:spec']).toHaveProperty('f:replicas');
  });

  it('a field no longer applied is removed, unless another manager owns it', () => {
    let live = stored(apply(source, undefined, config({ labels: { app: 'web', tier: 'front' }, spec: { minReadySeconds: 5 } }), 'deployer', false, T0).object, '1');
    live = stored(apply(source, live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { tier: 'front' } } }, 'labeller', false, T1).object, '2');
    const r = apply(source, live, config({ labels: { app: 'web' } }), 'deployer', false, T2);
    const obj = r.object as any;
    expect(obj.spec.minReadySeconds).toBeUndefined();
    expect(obj.metadata.labels).toEqual({ app: 'web', tier: 'front' }); // labeller still applies tier
    live = stored(obj, '3');
    const r2 = apply(source, live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } }, 'labeller', false, T3);
    expect((r2.object as any).metadata.labels).toEqual({ app: 'web' });
    expect(entry(r2.object, 'labeller')).toBeUndefined(); // it owns nothing any more
  });

  it('list-type map: two appliers each own one container', () => {
    let live = stored(apply(source, undefined, config(), 'deployer', false, T0).object, '1');
    const sidecarCfg = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'envoy:1' }] } } } };
    live = stored(apply(source, live, sidecarCfg, 'injector', false, T1).object, '2');
    expect(live.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['nginx', 'sidecar']);
    expect(Object.keys(entry(live, 'injector')!.fieldsV1['f:spec']['f:template']['f:spec']['f:containers'])).toEqual(['k:{"name":"sidecar"}']);

    // The first applier re-applies (with a new image): the sidecar stays.
    live = stored(apply(source, live, config({ containers: [{ name: 'nginx', image: 'nginx:1.26', ports: [{ containerPort: 80 }] }] }), 'deployer', false, T2).object, '3');
    expect(live.spec.template.spec.containers.map((c: any) => [c.name, c.image])).toEqual([['nginx', 'nginx:1.26'], ['sidecar', 'envoy:1']]);

    // The injector touching nginx's image conflicts with its owner.
    const c = apply(source, live, { ...sidecarCfg, spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'envoy:1' }, { name: 'nginx', image: 'nginx:evil' }] } } } }, 'injector', false, T3);
    expect(c.conflicts).toEqual([{ manager: 'deployer', field: '.spec.template.spec.containers[name="nginx"].image', message: 'conflict with "deployer"' }]);

    // The injector dropping its container removes it.
    const gone = apply(source, live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } }, 'injector', false, T3);
    expect((gone.object as any).spec.template.spec.containers.map((x: any) => x.name)).toEqual(['nginx']);
  });

  it('list-type set: finalizers owned item by item', () => {
    let live = stored(apply(source, undefined, config({ meta: { finalizers: ['example.com/a'] } }), 'deployer', false, T0).object, '1');
    expect(entry(live, 'deployer')!.fieldsV1['f:metadata']).toEqual({ 'f:finalizers': { 'v:"example.com/a"': {} } });
    live = stored(apply(source, live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', finalizers: ['example.com/b'] } }, 'other', false, T1).object, '2');
    expect(live.metadata.finalizers).toEqual(['example.com/a', 'example.com/b']);
    const r = apply(source, live, config(), 'deployer', false, T2);
    expect((r.object as any).metadata.finalizers).toEqual(['example.com/b']);
  });

  it('atomic lists are owned and replaced as a whole', () => {
    const live = stored(apply(source, undefined, config({ podSpec: { tolerations: [{ key: 'a', operator: 'Exists' }] } }), 'deployer', false, T0).object, '1');
    expect(entry(live, 'deployer')!.fieldsV1['f:spec']['f:template']['f:spec']).toHaveProperty('f:tolerations', {});
    const other = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } } } };
    const c = apply(source, live, other, 'other', false, T1);
    expect(c.conflicts.map((x) => x.field)).toEqual(['.spec.template.spec.tolerations']);
    const f = apply(source, live, other, 'other', true, T1);
    expect((f.object as any).spec.template.spec.tolerations).toEqual([{ key: 'b', operator: 'Exists' }]);
  });

  it('a no-op apply keeps the entry time; a change moves it', () => {
    const live = stored(apply(source, undefined, config({ replicas: 2 }), 'deployer', false, T0).object, '1');
    const same = apply(source, live, config({ replicas: 2 }), 'deployer', false, T2);
    expect(same.object).toEqual(live);
    expect(entry(same.object, 'deployer')!.time).toBe('2025-01-01T00:00:00Z');
    const changed = apply(source, live, config({ replicas: 4 }), 'deployer', false, T3);
    expect(entry(changed.object, 'deployer')!.time).toBe('2025-01-01T00:03:00Z');
  });

  it('objects created by Update keep their creator as owner; untracked objects get before-first-apply', () => {
    const created = config({ replicas: 1 });
    updateManagedFields(source, undefined, created, 'kubectl-create', 'Update', undefined, T0);
    const e = entry(created, 'kubectl-create')!;
    expect(e).toMatchObject({ operation: 'Update', apiVersion: 'apps/v1', time: '2025-01-01T00:00:00Z' });
    expect(e.fieldsV1['f:spec']['f:template']['f:metadata']).toEqual({ 'f:labels': { '.': {}, 'f:app': {} } });
    expect(e.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}']['.']).toEqual({});
    const live = stored(created, '1');
    const c = apply(source, live, config({ replicas: 3 }), 'deployer', false, T1);
    expect(c.conflicts).toEqual([{ manager: 'kubectl-create', field: '.spec.replicas', message: 'conflict with "kubectl-create" using apps/v1' }]);

    const untracked = stored(config({ replicas: 1 }), '5');
    const c2 = apply(source, untracked, config({ replicas: 3 }), 'deployer', false, T1);
    expect(c2.conflicts).toEqual([{ manager: 'before-first-apply', field: '.spec.replicas', message: 'conflict with "before-first-apply" using apps/v1' }]);
    const ok = apply(source, untracked, config({ replicas: 1 }), 'deployer', false, T1);
    const managers = (ok.object as any).metadata.managedFields.map((x: ManagedFieldsEntry) => `${x.manager}/${x.operation}`);
    expect(managers).toEqual(['deployer/Apply', 'before-first-apply/Update']);
  });

  it('kubectl takes over fields it applied client-side with the same value, not ones changed since', () => {
    const cfg = config({ replicas: 2 });
    const csa = cloneJSON(cfg);
    csa.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: `${JSON.stringify(cfg)}\n` };
    updateManagedFields(source, undefined, csa, 'kubectl-client-side-apply', 'Update', undefined, T0);
    const live = stored(csa, '1');
    const r = apply(source, live, config({ replicas: 3 }), 'kubectl', false, T1);
    expect(r.conflicts).toEqual([]);
    expect((r.object as any).spec.replicas).toBe(3);
    expect(JSON.parse((r.object as any).metadata.annotations[LAST_APPLIED_ANNOTATION]).spec.replicas).toBe(3);

    const scaled = cloneJSON(live);
    scaled.spec.replicas = 5;
    updateManagedFields(source, live, scaled, 'kubectl-scale', 'Update', 'scale', T1);
    const r2 = apply(source, stored(scaled, '2'), config({ replicas: 3 }), 'kubectl', false, T2);
    expect(r2.conflicts).toEqual([{ manager: 'kubectl-scale', field: '.spec.replicas', message: 'conflict with "kubectl-scale" with subresource "scale" using apps/v1' }]);
  });

  it('rejects applied configurations upstream rejects', () => {
    const bad = [
      { ...config(), apiVersion: 'apps/v1beta1' },
      { ...config(), kind: 'StatefulSet' },
      config({ meta: { managedFields: [] } }),
    ];
    for (const cfg of bad) {
      let err: unknown;
      try { serverSideApply(appsV1Deployment, undefined, cfg, 'x', false, T0); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(ManagedFieldsError);
      expect((err as ManagedFieldsError).code).toBe('InvalidApply');
      expect((err as ManagedFieldsError).status).toBe(400);
    }
    let err: unknown;
    try { serverSideApply(source, undefined, config({ containers: [{ image: 'no-name' }] }), 'x', false, T0); } catch (e) { err = e; }
    expect((err as ManagedFieldsError).code).toBe('InvalidObject');
    expect((err as ManagedFieldsError).status).toBe(422);
  });
});

describe('reset fields and subresources', () => {
  const source = deploymentSchema;
  it('a main-resource apply does not own status; a status apply records its subresource and owns no spec', () => {
    const cfg = config({ replicas: 2 });
    cfg.status = { replicas: 7 };
    const main = serverSideApply(source, undefined, cfg, 'deployer', false, T0, { ignoreFields: [['status']] });
    expect(entry(main.object, 'deployer').fieldsV1).not.toHaveProperty('f:status');
    const live = stored(main.object, '1');
    const statusCfg = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 9 }, status: { replicas: 2, readyReplicas: 2 } };
    const st = serverSideApply(source, live, statusCfg, 'status-writer', false, T1, { subresource: 'status', ignoreFields: [['spec']] });
    expect(st.conflicts).toEqual([]); // spec.replicas belongs to deployer, but a status write does not touch spec
    const e = entry(st.object, 'status-writer');
    expect(e).toEqual({
      manager: 'status-writer', operation: 'Apply', apiVersion: 'apps/v1', time: '2025-01-01T00:01:00Z', fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } }, subresource: 'status',
    });
    expect(entry(st.object, 'deployer').fieldsV1['f:spec']).toHaveProperty('f:replicas');
  });

  it('an update ignores the fields its strategy resets', () => {
    const live = stored(serverSideApply(source, undefined, config({ replicas: 2 }), 'deployer', false, T0).object, '1');
    const next = cloneJSON(live);
    next.spec.replicas = 4;
    next.status = { replicas: 4 };
    updateManagedFields(source, live, next, 'kubectl-replace', 'Update', undefined, T1, { ignoreFields: [['status']] });
    expect(entry(next, 'kubectl-replace').fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });
});

describe('custom resources', () => {
  // A CRD's openAPIV3Schema: no $refs, metadata undescribed, a preserve-unknown-fields subtree.
  const crdSchema: any = {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' },
      spec: {
        type: 'object',
        properties: {
          size: { type: 'integer' },
          hosts: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
          backends: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, weight: { type: 'integer' } } } },
          extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    },
  };
  const source = { schema: crdSchema };
  it('applies by the CRD schema, with metadata as ObjectMeta', () => {
    const cfg = {
      apiVersion: 'example.com/v1', kind: 'Proxy', metadata: { name: 'p', labels: { app: 'p' } },
      spec: { size: 2, hosts: ['a.example.com'], backends: [{ name: 'b1', weight: 1 }], extra: { anything: { deep: true } } },
    };
    const r = serverSideApply(source, undefined, cfg, 'operator', false, T0);
    const e = entry(r.object, 'operator');
    expect(e.apiVersion).toBe('example.com/v1');
    expect(e.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:size': {}, 'f:hosts': { 'v:"a.example.com"': {} },
        'f:backends': { 'k:{"name":"b1"}': { '.': {}, 'f:name': {}, 'f:weight': {} } },
        'f:extra': { 'f:anything': { '.': {}, 'f:deep': {} } },
      },
    });
    const live = stored(r.object, '1');
    const c = serverSideApply(source, live, { apiVersion: 'example.com/v1', kind: 'Proxy', metadata: { name: 'p' }, spec: { size: 3 } }, 'autoscaler', false, T1);
    expect(c.conflicts).toEqual([{ manager: 'operator', field: '.spec.size', message: 'conflict with "operator"' }]);
  });
});

describe('updateManagedFields', () => {
  const source = deploymentSchema;

  it('status writes record their subresource and keep the live entries', () => {
    const live = stored(serverSideApply(source, undefined, config({ replicas: 2 }), 'deployer', false, T0).object, '1');
    const next = cloneJSON(live);
    next.status = { replicas: 2, observedGeneration: 1 };
    next.metadata.managedFields = [];
    updateManagedFields(source, live, next, 'orch-controller-manager', 'Update', 'status', T1);
    const e = entry(next, 'orch-controller-manager')!;
    expect(e).toEqual({
      manager: 'orch-controller-manager', operation: 'Update', apiVersion: 'apps/v1', time: '2025-01-01T00:01:00Z', fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { 'f:observedGeneration': {}, 'f:replicas': {} } }, subresource: 'status',
    });
    expect(entry(next, 'deployer')).toEqual(entry(live, 'deployer'));
  });

  it('an update that changes nothing leaves the entries as they were', () => {
    const live = stored(serverSideApply(source, undefined, config({ replicas: 2 }), 'deployer', false, T0).object, '1');
    const next = cloneJSON(live);
    next.metadata.resourceVersion = '2';
    updateManagedFields(source, live, next, 'kubectl-replace', 'Update', undefined, T1);
    expect(next.metadata.managedFields).toEqual(live.metadata.managedFields);
  });

  it('the same manager accumulates its fields; [] resets tracking', () => {
    const live = stored(serverSideApply(source, undefined, config({ replicas: 2 }), 'deployer', false, T0).object, '1');
    const a = cloneJSON(live);
    a.metadata.labels = { x: '1' };
    updateManagedFields(source, live, a, 'kubectl-label', 'Update', undefined, T1);
    const b = cloneJSON(a);
    b.metadata.labels.y = '2';
    updateManagedFields(source, stored(a, '2'), b, 'kubectl-label', 'Update', undefined, T2);
    expect(entry(b, 'kubectl-label')!.fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {}, 'f:y': {} } } });
    const reset = cloneJSON(b);
    reset.metadata.managedFields = [];
    updateManagedFields(source, stored(b, '3'), reset, 'kubectl-edit', 'Update', undefined, T3);
    expect(reset.metadata.managedFields).toBeUndefined();
  });

  it('caps Update entries at 10, folding the oldest into ancient-changes', () => {
    let live = cloneJSON(config());
    updateManagedFields(source, undefined, live, 'creator', 'Update', undefined, T0);
    live = stored(live, '1');
    for (let i = 0; i < 12; i++) {
      const next = cloneJSON(live);
      next.metadata.labels = { ...next.metadata.labels, [`l${i}`]: 'v' };
      updateManagedFields(source, live, next, `writer-${String(i).padStart(2, '0')}`, 'Update', undefined, new Date(T1.getTime() + i * 1000));
      live = stored(next, String(i + 2));
    }
    const updates = (live.metadata.managedFields as ManagedFieldsEntry[]).filter((e) => e.operation === 'Update');
    expect(updates).toHaveLength(MAX_UPDATE_MANAGERS);
    const ancient: any = updates.find((e) => e.manager === 'ancient-changes')!;
    expect(ancient.fieldsV1['f:metadata']['f:labels']).toHaveProperty('f:l0');
    expect(updates.map((e) => e.manager)).not.toContain('creator');
    expect(updates.map((e) => e.manager)).toContain('writer-11');
  });

  it('never fails a write over odd objects: it keeps the live entries', () => {
    const live = stored(serverSideApply(source, undefined, config(), 'deployer', false, T0).object, '1');
    const next = cloneJSON(live);
    next.spec.template.spec.containers.push({ image: 'no-name' });
    updateManagedFields(source, live, next, 'kubectl-edit', 'Update', undefined, T1);
    expect(next.metadata.managedFields).toEqual(live.metadata.managedFields);
  });
});

describe('field sets of objects edited in place', () => {
  it('a list item whose key changed in place gets its new element (no stale cache)', () => {
    const obj = config();
    const before = JSON.stringify(encodeFieldsV1(toFieldSet(obj, nodeFor(deploymentSchema))));
    expect(before).toContain('k:{\\"name\\":\\"nginx\\"}');
    obj.spec.template.spec.containers[0].name = 'renamed';
    const after = JSON.stringify(encodeFieldsV1(toFieldSet(obj, nodeFor(deploymentSchema))));
    expect(after).toContain('k:{\\"name\\":\\"renamed\\"}');
    expect(after).not.toContain('nginx');
  });
});

describe('patching an object with managedFields', () => {
  it('never modifies the original, even when the patch replaces managedFields', () => {
    const live = stored(serverSideApply(deploymentSchema, undefined, config({ replicas: 2 }), 'deployer', false, T0).object, '1');
    const snapshot = JSON.stringify(live);
    const replacement = [{ manager: 'x', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
    const a = applyStrategicMergePatch(deploymentSchema, live, { metadata: { managedFields: replacement } }) as any;
    const b = applyMergePatch(live, { metadata: { managedFields: replacement } }) as any;
    expect(a.metadata.managedFields).toEqual(replacement);
    expect(b.metadata.managedFields).toEqual(replacement);
    const c = applyStrategicMergePatch(deploymentSchema, live, { spec: { replicas: 5 } }) as any;
    updateManagedFields(deploymentSchema, live, c, 'kubectl-patch', 'Update', undefined, T1);
    expect(entry(c, 'kubectl-patch').fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(JSON.stringify(live)).toBe(snapshot);
  });
});

describe('FieldsV1 encoding', () => {
  it('round-trips and orders elements as structured-merge-diff does', () => {
    const fields = {
      'f:spec': {
        'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} }, 'k:{"port":443,"protocol":"TCP"}': {} },
        'f:finalizers': { 'v:"b"': {}, 'v:"a"': {} },
      },
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    };
    const s = decodeFieldsV1(fields);
    expect(JSON.stringify(encodeFieldsV1(s))).toBe(
      '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:finalizers":{"v:\\"a\\"":{},"v:\\"b\\"":{}},' +
      '"f:ports":{"k:{\\"port\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:port":{}},"k:{\\"port\\":443,\\"protocol\\":\\"TCP\\"}":{}}}}');
    expect(() => decodeFieldsV1({ 'x:y': {} })).toThrow(/invalid path element/);
    expect(() => decodeFieldsV1({ 'k:{bad': {} })).toThrow(/invalid path element/);
  });
});
