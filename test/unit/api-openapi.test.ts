import { describe, expect, it } from 'vitest';
import { buildOpenAPIv3Documents, customResourceDefinitionName } from '../../api/openapi';
import { builtinResources, type ResourceInfo } from '../../api/scheme';

type Doc = { paths: Record<string, any>; components: { schemas: Record<string, any> } };

// What kubectl's query-parameter verifier does (cli-runtime query_param_verifier_v3.go): every
// PATCH operation carrying the GVK must list fieldValidation as a query parameter.
function patchOpsFor(doc: Doc, gvk: { group: string; version: string; kind: string }) {
  return Object.values(doc.paths).map((p) => p.patch).filter((op) => op && JSON.stringify(op['x-kubernetes-group-version-kind']) === JSON.stringify(gvk));
}

describe('api/openapi', () => {
  const docs = buildOpenAPIv3Documents(builtinResources) as Map<string, Doc>;

  it('has one document per group-version with a patchable, validatable PATCH per kind', { timeout: 10000 }, () => {
    expect([...docs.keys()]).toContain('api/v1');
    expect([...docs.keys()]).toContain('apis/apps/v1');
    for (const r of builtinResources) {
      const doc = docs.get(r.group === '' ? `api/${r.version}` : `apis/${r.group}/${r.version}`)!;
      const schema = Object.values(doc.components.schemas).find((s) =>
        s['x-kubernetes-group-version-kind']?.some((g: any) => g.group === r.group && g.version === r.version && g.kind === r.kind));
      expect(schema, r.kind).toBeDefined();
      if (!r.verbs.includes('patch')) continue;
      const ops = patchOpsFor(doc, { group: r.group, version: r.version, kind: r.kind });
      expect(ops.length, r.kind).toBeGreaterThan(0);
      for (const op of ops) {
        expect(op.parameters.some((p: any) => p.name === 'fieldValidation' && p.in === 'query')).toBe(true);
        expect(Object.keys(op.requestBody.content)).toContain('application/strategic-merge-patch+json');
      }
    }
    const pods = docs.get('api/v1')!.paths['/api/v1/namespaces/{namespace}/pods'];
    expect(pods.get['x-kubernetes-action']).toBe('list');
    expect(pods.post.requestBody.content['*/*'].schema.$ref).toBe('#/components/schemas/io.k8s.api.core.v1.Pod');
    expect(docs.get('apis/apps/v1')!.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].patch['x-kubernetes-group-version-kind'])
      .toEqual({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(docs.get('api/v1')!.paths['/api/v1/namespaces/{name}']).toBeDefined();
  });

  it('publishes complete schemas: references resolve, patch metadata stays, private keys go', { timeout: 10000 }, () => {
    for (const [key, doc] of docs) {
      const text = JSON.stringify(doc);
      expect(text, key).not.toContain('x-orch-');
      for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) expect(doc.components.schemas[m[1]], `${key} ${m[1]}`).toBeDefined();
    }
    const schemas = docs.get('apis/apps/v1')!.components.schemas;
    const podSpec = schemas['io.k8s.api.core.v1.PodSpec'];
    expect(podSpec.properties.containers['x-kubernetes-patch-merge-key']).toBe('name');
    expect(podSpec.properties.volumes['x-kubernetes-patch-strategy']).toBe('merge,retainKeys');
    expect(schemas['io.k8s.api.apps.v1.DeploymentSpec'].properties.strategy['x-kubernetes-patch-strategy']).toBe('retainKeys');
    expect(schemas['io.k8s.api.apps.v1.Deployment'].properties.spec).toMatchObject({ allOf: [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec' }] });
    expect(schemas['io.k8s.api.apps.v1.Deployment'].description).toMatch(/\w/);
  });

  it('documents custom resources from their openAPIV3Schema, without strategic merge patch', { timeout: 10000 }, () => {
    const widget: ResourceInfo = {
      group: 'example.com', version: 'v1', kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget',
      namespaced: true, shortNames: ['wd'], categories: [], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }], definition: '',
    };
    const withCR = buildOpenAPIv3Documents(builtinResources, [{
      resource: widget,
      schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } } },
    }]) as Map<string, Doc>;
    const doc = withCR.get('apis/example.com/v1')!;
    const name = customResourceDefinitionName(widget);
    expect(name).toBe('com.example.v1.Widget');
    expect(doc.components.schemas[name].properties.spec.properties.size).toEqual({ type: 'integer', minimum: 1 });
    expect(doc.components.schemas[name].properties.metadata.allOf[0].$ref).toBe('#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    expect(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']).toBeDefined();
    const ops = patchOpsFor(doc, { group: 'example.com', version: 'v1', kind: 'Widget' });
    expect(ops).toHaveLength(2);
    expect(Object.keys(ops[0].requestBody.content)).not.toContain('application/strategic-merge-patch+json');
  });
});
