// api/openapi-v2: the Swagger 2.0 document (paths, definitions, extensions, $refs that resolve)
// and its gnostic protobuf encoding decoded back with protobufjs. The rules kube-openapi's proto
// reader enforces (it rejects the whole document on one violation) are checked on every schema.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildOpenAPIv2Document, encodeOpenAPIv2Document, openAPIv2Types, toV2Schema, V2_REF_PREFIX, type OpenAPIv2Document } from '../../api/openapi-v2';
import { builtinResources, subresourceKind, type ResourceInfo } from '../../api/scheme';

type Json = Record<string, any>;

const widget: ResourceInfo = {
  group: 'example.com', version: 'v1', kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget', namespaced: true,
  shortNames: [], categories: [], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], subresources: [], definition: '',
};
const widgetSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        size: { type: 'integer', minimum: 1, default: 3 },
        port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'string' } } },
        mode: { type: 'string', enum: ['a', 'b'], nullable: true },
        tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
      },
    },
  },
};

type Doc = OpenAPIv2Document & { definitions: Record<string, Json> };
let cached: Doc | undefined;
const doc = (): Doc => (cached ??= buildOpenAPIv2Document(builtinResources, [{ resource: widget, schema: widgetSchema as any }]) as Doc);

/** Every schema in the document with its path: definitions, their properties, items and map values. */
function eachSchema(d: OpenAPIv2Document, fn: (s: Json, where: string) => void): void {
  const walk = (s: Json, where: string) => {
    fn(s, where);
    for (const [k, v] of Object.entries(s.properties ?? {})) walk(v as Json, `${where}.${k}`);
    if (s.items) walk(s.items, `${where}[]`);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${where}{}`);
  };
  for (const [name, s] of Object.entries(d.definitions)) walk(s, name);
}

describe('OpenAPI v2 document', () => {
  it('is Swagger 2.0 with upstream definition names, GVK extensions and BearerToken security', () => {
    const d = doc();
    expect(d.swagger).toBe('2.0');
    expect(d.securityDefinitions.BearerToken).toEqual({ type: 'apiKey', description: 'Bearer token authentication', name: 'authorization', in: 'header' });
    expect(d.security).toEqual([{ BearerToken: [] }]);
    expect(d.definitions['io.k8s.api.core.v1.Pod']['x-kubernetes-group-version-kind']).toEqual([{ group: '', version: 'v1', kind: 'Pod' }]);
    expect(d.definitions['io.k8s.api.authorization.v1.SubjectAccessReview']['x-kubernetes-group-version-kind']).toEqual([{ group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview' }]);
    const containers = d.definitions['io.k8s.api.core.v1.PodSpec'].properties.containers;
    expect(containers).toMatchObject({ type: 'array', items: { $ref: '#/definitions/io.k8s.api.core.v1.Container' }, 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' });
    // A described reference stays a plain $ref (v2 allows siblings); v3's allOf wrapping is not used.
    const meta = d.definitions['io.k8s.api.core.v1.Pod'].properties.metadata;
    expect(meta.$ref).toBe('#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    expect(meta.allOf).toBeUndefined();
    expect(JSON.stringify(d)).not.toContain('x-orch-');
    expect(JSON.stringify(d)).not.toContain('#/components/');
  });

  it('has a definition carrying the GVK of every kind orch serves (what kubectl looks models up by)', () => {
    const have = new Set<string>();
    for (const s of Object.values(doc().definitions)) for (const g of s['x-kubernetes-group-version-kind'] ?? []) have.add(`${g.group}/${g.version}/${g.kind}`);
    const missing: string[] = [];
    for (const r of [...builtinResources, widget]) {
      // Create-only kinds (reviews, bindings) have no list kind upstream either.
      const kinds = r.verbs.includes('list') ? [r.kind, r.listKind] : [r.kind];
      for (const k of kinds) if (!have.has(`${r.group}/${r.version}/${k}`)) missing.push(`${r.group}/${r.version}/${k}`);
      for (const sub of r.subresources) {
        const g = subresourceKind(r, sub.name);
        if (g && !have.has(`${g.group}/${g.version}/${g.kind}`)) missing.push(`${r.plural}/${sub.name} ${g.group}/${g.version}/${g.kind}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('lists the v3 operations in v2 form: body parameters, typed query parameters, fieldValidation', () => {
    const d = doc();
    const item = d.paths['/api/v1/namespaces/{namespace}/pods/{name}'] as Json;
    expect(item.parameters.find((p: Json) => p.name === 'namespace')).toMatchObject({ in: 'path', required: true, type: 'string' });
    expect(item.patch.operationId).toBe('patchCoreV1NamespacedPod');
    expect(item.patch['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'Pod' });
    expect(item.patch['x-kubernetes-action']).toBe('patch');
    expect(item.patch.consumes).toContain('application/strategic-merge-patch+json');
    expect(item.patch.parameters[0]).toEqual({ name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } });
    for (const method of ['patch', 'put']) {
      expect(item[method].parameters.find((p: Json) => p.name === 'fieldValidation')).toMatchObject({ in: 'query', type: 'string' });
    }
    expect(item.get.responses['200'].schema).toEqual({ $ref: '#/definitions/io.k8s.api.core.v1.Pod' });
    expect(item.get.produces).toEqual(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
    const sar = d.paths['/apis/authorization.k8s.io/v1/subjectaccessreviews'] as Json;
    expect(Object.keys(sar).filter((k) => k !== 'parameters')).toEqual(['post']);
    expect(sar.post.parameters.map((p: Json) => p.name)).toEqual(['body', 'dryRun', 'fieldManager', 'fieldValidation']);
    const log = d.paths['/api/v1/namespaces/{namespace}/pods/{name}/log'] as Json;
    expect(log.get.responses['200'].schema).toEqual({ type: 'string' });
    // Custom resources: no strategic merge patch, their own GVK.
    const w = d.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}'] as Json;
    expect(w.patch.consumes).not.toContain('application/strategic-merge-patch+json');
    expect(w.patch['x-kubernetes-group-version-kind']).toEqual({ group: 'example.com', version: 'v1', kind: 'Widget' });
  });

  it('every $ref resolves, and every schema has a shape kube-openapi\'s proto reader accepts', () => {
    const d = doc();
    const refs: string[] = [];
    const collect = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { if (k === '$ref' && typeof x === 'string') refs.push(x); else collect(x); }
    };
    // (JSONSchemaProps has a property named $ref; its value is a schema, not a reference.)
    collect(d);
    expect(refs.length).toBeGreaterThan(500);
    const missing = refs.filter((r) => !r.startsWith(V2_REF_PREFIX) || !d.definitions[r.slice(V2_REF_PREFIX.length)]);
    expect(missing).toEqual([]);
    const problems: string[] = [];
    eachSchema(d, (s, where) => {
      if (s.$ref && (s.type || s.properties)) problems.push(`${where}: $ref with a type or properties`);
      if (Array.isArray(s.type)) problems.push(`${where}: several types`);
      if (s.type && !['object', 'array', 'string', 'integer', 'number', 'boolean'].includes(s.type)) problems.push(`${where}: type ${s.type}`);
      if (s.type === 'array' && (!s.items || Array.isArray(s.items))) problems.push(`${where}: array without one items schema`);
      for (const k of ['anyOf', 'oneOf', 'nullable', 'not']) if (k in s) problems.push(`${where}: ${k}`);
    });
    expect(problems).toEqual([]);
  });

  it('publishes CRD schemas as upstream does for v2: unknowable shapes become untyped', () => {
    const d = doc();
    const w = d.definitions['com.example.v1.Widget'];
    expect(w['x-kubernetes-group-version-kind']).toEqual([{ group: 'example.com', version: 'v1', kind: 'Widget' }]);
    expect(Object.keys(w.properties).sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    const spec = w.properties.spec.properties;
    expect(spec.size).toEqual({ type: 'integer', minimum: 1, default: 3 });
    expect(spec.port).toEqual({ 'x-kubernetes-int-or-string': true });
    expect(spec.free).toEqual({ 'x-kubernetes-preserve-unknown-fields': true });
    expect(spec.mode).toEqual({ enum: ['a', 'b'] });
    expect(spec.tags).toEqual({ type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' });
    expect(d.definitions['com.example.v1.WidgetList'].properties.items.items).toEqual({ $ref: '#/definitions/com.example.v1.Widget' });
    expect(toV2Schema({ type: 'array' })).toEqual({});
    expect(toV2Schema({ type: 'object', properties: {} })).toEqual({ type: 'object' });
  });
});

describe('OpenAPI v2 protobuf (gnostic openapi.v2.Document)', () => {
  const Document = openAPIv2Types().lookupType('openapi.v2.Document');
  const decoded = () => Document.toObject(Document.decode(encodeOpenAPIv2Document(doc())), { defaults: false }) as Json;
  const named = (list: Json[], name: string) => list.find((n) => n.name === name)?.value;

  it('decodes back to the same definitions, with vendor extensions as YAML', () => {
    const m = decoded();
    expect(m.swagger).toBe('2.0');
    expect(m.info).toEqual({ title: 'Kubernetes', version: 'unversioned' });
    const defs = m.definitions.additionalProperties as Json[];
    expect(defs.map((n) => n.name)).toEqual(Object.keys(doc().definitions));
    const pod = named(defs, 'io.k8s.api.core.v1.Pod');
    expect(pod.type.value).toEqual(['object']);
    const gvk = pod.vendorExtension.find((e: Json) => e.name === 'x-kubernetes-group-version-kind');
    expect(parseYaml(gvk.value.yaml)).toEqual([{ group: '', version: 'v1', kind: 'Pod' }]);
    const podSpec = named(defs, 'io.k8s.api.core.v1.PodSpec');
    const containers = named(podSpec.properties.additionalProperties, 'containers');
    expect(containers.type.value).toEqual(['array']);
    expect(containers.items.schema).toEqual([{ xRef: '#/definitions/io.k8s.api.core.v1.Container' }]);
    const ext = Object.fromEntries(containers.vendorExtension.map((e: Json) => [e.name, parseYaml(e.value.yaml)]));
    expect(ext).toMatchObject({ 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' });
    const labels = named(named(defs, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').properties.additionalProperties, 'labels');
    expect(labels.additionalProperties.schema.type.value).toEqual(['string']);
    const size = named(named(named(defs, 'com.example.v1.Widget').properties.additionalProperties, 'spec').properties.additionalProperties, 'size');
    expect(size.minimum).toBe(1);
    expect(parseYaml(size.default.yaml)).toBe(3);
  });

  it('carries paths, typed parameters (body and non-body), responses and security', () => {
    const m = decoded();
    const item = named(m.paths.path, '/api/v1/namespaces/{namespace}/pods/{name}');
    expect(item.parameters[0].parameter.nonBodyParameter.pathParameterSubSchema).toMatchObject({ name: 'name', in: 'path', required: true, type: 'string' });
    const patch = item.patch;
    expect(patch.operationId).toBe('patchCoreV1NamespacedPod');
    expect(patch.parameters[0].parameter.bodyParameter).toMatchObject({ name: 'body', in: 'body', required: true, schema: { xRef: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } });
    const fv = patch.parameters.map((p: Json) => p.parameter.nonBodyParameter?.queryParameterSubSchema).find((q: Json | undefined) => q?.name === 'fieldValidation');
    expect(fv).toMatchObject({ in: 'query', type: 'string', uniqueItems: true });
    const gvk = patch.vendorExtension.find((e: Json) => e.name === 'x-kubernetes-group-version-kind');
    expect(parseYaml(gvk.value.yaml)).toEqual({ group: '', version: 'v1', kind: 'Pod' });
    expect(patch.consumes).toContain('application/merge-patch+json');
    const ok = named(patch.responses.responseCode, '200');
    expect(ok.response.schema.schema.xRef).toBe('#/definitions/io.k8s.api.core.v1.Pod');
    expect(m.securityDefinitions.additionalProperties[0]).toEqual({ name: 'BearerToken', value: { apiKeySecurity: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer token authentication' } } });
    expect(m.security[0].additionalProperties[0].name).toBe('BearerToken');
  });

  it('uses gnostic\'s field numbers on the wire (Document.swagger=1, paths=8, definitions=9)', () => {
    const bytes = encodeOpenAPIv2Document({ swagger: '2.0', info: { title: 't', version: 'v' }, paths: {}, definitions: { A: { type: 'string' } }, securityDefinitions: {}, security: [] });
    // swagger: field 1, wire type 2 (0x0a), "2.0"; info: field 2 (0x12) with title (0x0a) and version (0x12).
    expect([...bytes.slice(0, 5)]).toEqual([0x0a, 3, 0x32, 0x2e, 0x30]);
    expect([...bytes.slice(5, 13)]).toEqual([0x12, 6, 0x0a, 1, 0x74, 0x12, 1, 0x76]);
    // paths (field 8, 0x42) is an empty message; definitions (field 9, 0x4a) holds
    // NamedSchema{name "A", Schema{type (field 22: 0xb2 0x01) = TypeItem{"string"}}};
    // securityDefinitions (field 13, 0x6a) is empty.
    expect([...bytes.slice(13)]).toEqual([0x42, 0, 0x4a, 18, 0x0a, 16, 0x0a, 1, 0x41, 0x12, 11, 0xb2, 0x01, 8, 0x0a, 6, ...Buffer.from('string'), 0x6a, 0]);
  });
});
