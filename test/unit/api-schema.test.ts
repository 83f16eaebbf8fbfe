import { describe, expect, it } from 'vitest';
import { builtinResources } from '../../api/scheme';
import { getDefinitions, REF_PREFIX, resolveSchema, schemaAtPath, schemaForKind, type SchemaObject } from '../../api/schema';

function refsOf(schema: unknown, out: string[] = []): string[] {
  if (Array.isArray(schema)) for (const s of schema) refsOf(s, out);
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsOf(v, out);
    }
  }
  return out;
}

describe('api/schema', () => {
  it('has a definition with its group/version/kind for every resource, and every reference resolves', { timeout: 10000 }, () => {
    const defs = getDefinitions();
    for (const r of builtinResources) {
      const def = defs[r.definition];
      expect(def, r.definition).toBeDefined();
      expect(def['x-kubernetes-group-version-kind']).toContainEqual({ group: r.group, version: r.version, kind: r.kind });
      expect(def.properties?.apiVersion, r.definition).toBeDefined();
      expect(def.properties?.kind, r.definition).toBeDefined();
      if (r.verbs.includes('list')) expect(defs[`${r.definition}List`]?.properties?.items?.type).toBe('array');
      expect(schemaForKind(r)).toBe(def);
    }
    // Walk everything reachable from the kinds: no dangling $ref.
    const seen = new Set<string>();
    const queue = builtinResources.map((r) => r.definition);
    while (queue.length) {
      const name = queue.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      expect(defs[name], `definition ${name}`).toBeDefined();
      for (const ref of refsOf(defs[name])) {
        expect(ref.startsWith(REF_PREFIX)).toBe(true);
        queue.push(ref.slice(REF_PREFIX.length));
      }
    }
    expect(seen.size).toBeGreaterThan(200);
  });

  it('carries the wire-format facts: merge keys, list types, protobuf numbers, special types', { timeout: 10000 }, () => {
    const pod = schemaForKind({ group: '', version: 'v1', kind: 'Pod' });
    const containers = schemaAtPath(pod, ['spec', 'containers'])!;
    expect(containers['x-kubernetes-patch-merge-key']).toBe('name');
    expect(containers['x-kubernetes-patch-strategy']).toBe('merge');
    expect(containers['x-kubernetes-list-map-keys']).toEqual(['name']);
    expect(containers['x-orch-protobuf']).toEqual({ field: 2 });
    const ports = schemaAtPath(pod, ['spec', 'containers', '[]', 'ports'])!;
    expect(ports['x-kubernetes-patch-merge-key']).toBe('containerPort');
    expect(ports['x-kubernetes-list-map-keys']).toEqual(['containerPort', 'protocol']);
    expect(schemaAtPath(pod, ['spec', 'volumes'])!['x-kubernetes-patch-strategy']).toBe('merge,retainKeys');
    expect(schemaAtPath(pod, ['spec', 'tolerations'])!['x-kubernetes-list-type']).toBe('atomic');
    expect(schemaAtPath(pod, ['metadata', 'finalizers'])!['x-kubernetes-list-type']).toBe('set');
    expect(schemaAtPath(pod, ['metadata', 'ownerReferences'])!['x-kubernetes-patch-merge-key']).toBe('uid');
    expect(schemaAtPath(pod, ['metadata', 'creationTimestamp'])).toMatchObject({ type: 'string', format: 'date-time' });
    expect(schemaAtPath(pod, ['spec', 'containers', '[]', 'resources', 'limits', '*'])).toMatchObject({ type: 'string' });
    expect(schemaAtPath(pod, ['spec', 'containers', '[]', 'container'])).toBeUndefined();
    // Go's inlined structs are flat in JSON but nested in protobuf.
    const volume = resolveSchema({ $ref: `${REF_PREFIX}io.k8s.api.core.v1.Volume` });
    expect(volume.properties?.configMap?.['x-orch-protobuf']).toEqual({ field: 19, inline: [2] });
    expect(volume.required).toEqual(['name']);
    const svcPort = schemaAtPath(schemaForKind({ group: '', version: 'v1', kind: 'Service' }), ['spec', 'ports', '[]', 'targetPort'])!;
    expect(svcPort.format).toBe('int-or-string');
    const secretData = schemaAtPath(schemaForKind({ group: '', version: 'v1', kind: 'Secret' }), ['data', '*']);
    expect(secretData).toMatchObject({ type: 'string', format: 'byte' });
    const deploy = schemaForKind({ group: 'apps', version: 'v1', kind: 'Deployment' })!;
    expect(schemaAtPath(deploy, ['spec'])!.required).toEqual(['selector', 'template']);
    expect(schemaAtPath(deploy, ['spec', 'strategy'])!['x-kubernetes-patch-strategy']).toBe('retainKeys');
    const props = schemaAtPath(schemaForKind({ group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' }),
      ['spec', 'versions', '[]', 'schema', 'openAPIV3Schema'])!;
    expect(Object.keys(props.properties!)).toEqual(expect.arrayContaining(['$ref', 'x-kubernetes-preserve-unknown-fields', 'properties', 'items']));
    expect(schemaForKind({ group: 'autoscaling', version: 'v1', kind: 'Scale' })).toBeDefined();
    expect(schemaForKind({ group: 'nope', version: 'v1', kind: 'Nope' })).toBeUndefined();
    const verbs: SchemaObject | undefined = schemaAtPath(getDefinitions()['io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList'], ['resources', '[]', 'verbs']);
    expect(verbs).toMatchObject({ type: 'array', items: { type: 'string' } });
  });
});
