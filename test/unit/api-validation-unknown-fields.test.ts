// unknownFields walks a precompiled plan of each schema. It must report exactly what the former
// interpreter reported (resolveSchema on every node, a path string for every field) for a
// generated corpus of objects of many built-in kinds and custom schemas, with unknown fields put
// at random places.
import { describe, expect, it } from 'vitest';
import { unknownFields, unknownFieldsBySchema } from '../../api/validation';
import { getDefinitions, resolveSchema, schemaForKind, type SchemaObject } from '../../api/schema';
import { rng } from './helpers/rng';

/** The former walk, as api/validation.ts had it. */
function oracle(schema: SchemaObject, obj: unknown): string[] {
  const isObj = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);
  const joinPath = (base: string, key: string): string => (base ? `${base}.${key}` : key);
  const defs = getDefinitions();
  const walk = (sch: SchemaObject | undefined, value: unknown, path: string, out: string[], depth: number): void => {
    if (!sch || depth > 64) return;
    const s = resolveSchema(sch, defs);
    if (s['x-kubernetes-preserve-unknown-fields'] || s['x-orch-protobuf']?.wellKnown) return;
    if (Array.isArray(value)) {
      if (s.items) value.forEach((v, i) => walk(s.items, v, `${path}[${i}]`, out, depth + 1));
      return;
    }
    if (!isObj(value)) return;
    if (s.properties) {
      for (const [k, v] of Object.entries(value)) {
        const p = s.properties[k];
        if (!p) out.push(joinPath(path, k));
        else walk(p, v, joinPath(path, k), out, depth + 1);
      }
    } else if (typeof s.additionalProperties === 'object') {
      for (const [k, v] of Object.entries(value)) walk(s.additionalProperties, v, `${path}[${k}]`, out, depth + 1);
    }
  };
  const out: string[] = [];
  const root = resolveSchema(schema, defs);
  const declared = root.properties ?? {};
  const withMeta: SchemaObject = root.properties ? {
    ...root,
    properties: {
      apiVersion: { type: 'string' }, kind: { type: 'string' },
      metadata: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
      ...declared,
    },
  } : root;
  walk(withMeta, obj, '', out, 0);
  return out;
}

const KINDS = [
  { group: '', version: 'v1', kind: 'Pod' }, { group: 'apps', version: 'v1', kind: 'Deployment' },
  { group: '', version: 'v1', kind: 'Service' }, { group: '', version: 'v1', kind: 'ConfigMap' },
  { group: 'batch', version: 'v1', kind: 'CronJob' }, { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole' },
];

function base(r: () => number, kind: string): any {
  const podSpec = { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }], env: [{ name: 'E', valueFrom: { fieldRef: { fieldPath: 'x' } } }], resources: { limits: { cpu: '1' } } }], volumes: [{ name: 'v', configMap: { name: 'x' } }] };
  const md = { name: 'x', labels: { a: 'b' }, ownerReferences: [{ name: 'o', uid: 'u', kind: 'K', apiVersion: 'v1' }], annotations: { k: 'v' } };
  switch (kind) {
    case 'Pod': return { apiVersion: 'v1', kind, metadata: md, spec: podSpec, status: { conditions: [{ type: 'Ready' }] } };
    case 'Deployment': return { apiVersion: 'apps/v1', kind, metadata: md, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: podSpec } } };
    case 'Service': return { apiVersion: 'v1', kind, metadata: md, spec: { ports: [{ port: 80, targetPort: 'http' }], selector: { a: 'b' } } };
    case 'ConfigMap': return { apiVersion: 'v1', kind, metadata: md, data: { a: 'b' } };
    case 'CronJob': return { apiVersion: 'batch/v1', kind, metadata: md, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: podSpec } } } } };
    case 'CustomResourceDefinition': return { apiVersion: 'apiextensions.k8s.io/v1', kind, metadata: md, spec: { group: 'g', names: { plural: 'ws', kind: 'W' }, scope: 'Namespaced', versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { deep: { type: 'array', items: { type: 'object' } } } } } } } }] } };
    default: return { apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: md, rules: [{ verbs: ['get'], resources: ['pods'], apiGroups: [''] }] };
  }
}

/** Puts an unknown (or oddly named) key or odd value somewhere in the object. */
function sprinkle(r: () => number, v: any, depth = 0): void {
  if (Array.isArray(v)) { if (v.length) sprinkle(r, v[Math.floor(r() * v.length)], depth + 1); else if (r() < 0.5) v.push({ x: 1 }); return; }
  if (!v || typeof v !== 'object') return;
  const keys = Object.keys(v);
  if (keys.length === 0 || r() < 0.3) {
    const name = ['bogus', 'constructor', 'toString', '__proto__', 'a.b', '', '0', 'x[1]'][Math.floor(r() * 8)]!;
    Object.defineProperty(v, name, { value: r() < 0.5 ? { nested: [1, { y: 2 }] } : 'x', enumerable: true, configurable: true, writable: true });
    return;
  }
  const k = keys[Math.floor(r() * keys.length)]!;
  if (r() < 0.15) { v[k] = [{ q: 1 }, 'str', null]; return; }
  sprinkle(r, v[k], depth + 1);
}

const custom: SchemaObject = {
  type: 'object',
  properties: {
    spec: { type: 'object', properties: { size: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } }, byName: { type: 'object', additionalProperties: { type: 'object', properties: { v: { type: 'string' } } } }, free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
    status: { type: 'object', additionalProperties: true },
  },
} as SchemaObject;

describe('unknownFields (compiled plans)', () => {
  it('reports what the interpreted walk reported, for 4,000 generated objects', () => {
    let reported = 0;
    for (let seed = 1; seed <= 4000; seed++) {
      const r = rng(seed);
      const useCustom = r() < 0.2;
      const gvk = KINDS[Math.floor(r() * KINDS.length)]!;
      const obj = useCustom ? { apiVersion: 'g/v1', kind: 'W', metadata: { name: 'w' }, spec: { size: 1, tags: ['a'], byName: { a: { v: 'x' } }, free: { any: 1 } }, status: { s: 1 } } : base(r, gvk.kind);
      for (let n = Math.floor(r() * 4); n > 0; n--) sprinkle(r, obj);
      const schema = useCustom ? custom : schemaForKind(gvk)!;
      const want = oracle(schema, obj);
      const got = useCustom ? unknownFieldsBySchema(custom, obj) : unknownFields(gvk, obj);
      expect(got, `seed ${seed}`).toEqual(want);
      if (want.length) reported++;
    }
    expect(reported).toBeGreaterThan(1000);
  });

  it('names the unknown field of a pod container', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i', imagePullPolicyy: 'Always' }] } };
    expect(unknownFields({ group: '', version: 'v1', kind: 'Pod' }, pod)).toEqual(['spec.containers[0].imagePullPolicyy']);
  });
});
