// /openapi/v2 against `orch server` with the real kubectl 1.32: kinds whose v3 document has no
// PATCH with fieldValidation (the review kinds) and `kind: List` documents are validated on the
// client with the v2 document, fetched as gnostic protobuf. With it, `kubectl create -f` works
// with default validation, and a manifest with an unknown field is refused before anything is sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { parse as parseYaml } from 'yaml';
import { startTestCluster, waitFor, writeFiles, type TestCluster } from './helpers/cluster';

// What kubectl sends in Accept, and what kube-openapi (and orch) answer as Content-Type.
const PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
const PROTOBUF_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

let c: TestCluster;
let dispatcher: Agent;

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  const cfg = parseYaml(readFileSync(c.kubeconfig, 'utf8'));
  const user = cfg.users[0].user;
  const auth = user.token ? { authorization: `Bearer ${user.token}` } : {};
  const res = await request(`${c.url}${path}`, { dispatcher, headers: { ...auth, ...headers } });
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()), headers: res.headers };
}

/** Every file under kubectl's HTTP cache (the dir holds one entry per cached URL and Vary). */
function cacheFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p); else out.push(p);
    }
  };
  try { walk(dir); } catch { /* no cache yet */ }
  return out;
}

beforeAll(async () => {
  c = await startTestCluster();
  const cfg = parseYaml(readFileSync(c.kubeconfig, 'utf8'));
  const cluster = cfg.clusters[0].cluster;
  const user = cfg.users[0].user;
  dispatcher = new Agent({
    connect: {
      ca: Buffer.from(cluster['certificate-authority-data'], 'base64').toString(),
      ...(user['client-certificate-data'] ? {
        cert: Buffer.from(user['client-certificate-data'], 'base64').toString(),
        key: Buffer.from(user['client-key-data'], 'base64').toString(),
      } : {}),
    },
  });
  await waitFor(async () => (await c.kubectl(['get', 'serviceaccount', 'default'])).code === 0, 15_000, 'default ServiceAccount');
}, 60_000);

afterAll(async () => { await dispatcher?.close(); await c?.stop(); });

describe('OpenAPI v2 and kubectl client-side validation', () => {
  it('kubectl create -f of a SubjectAccessReview validates with /openapi/v2 and prints the decision', async () => {
    const f = writeFiles({
      'sar.yaml': 'apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: alice\n  resourceAttributes:\n    verb: get\n    resource: pods\n    namespace: default\n',
      'admin-sar.yaml': 'apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: admin\n  groups: ["system:masters"]\n  resourceAttributes:\n    verb: delete\n    resource: nodes\n',
    });
    const denied = parseYaml(await c.kubectlOk(['create', '-f', f.path('sar.yaml'), '-o', 'yaml']));
    expect(denied.kind).toBe('SubjectAccessReview');
    expect(denied.status.allowed).toBe(false);
    const allowed = parseYaml(await c.kubectlOk(['create', '-f', f.path('admin-sar.yaml'), '-o', 'yaml']));
    expect(allowed.status.allowed).toBe(true);
  }, 60_000);

  it('SelfSubjectAccessReview, LocalSubjectAccessReview, TokenReview, SelfSubjectRulesReview, SelfSubjectReview and auth whoami work with default validation', async () => {
    const token = (await c.kubectlOk(['create', 'token', 'default'])).trim();
    const f = writeFiles({
      'ssar.yaml': 'apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\nspec:\n  resourceAttributes:\n    verb: list\n    resource: secrets\n    namespace: kube-system\n',
      'lsar.yaml': 'apiVersion: authorization.k8s.io/v1\nkind: LocalSubjectAccessReview\nmetadata:\n  namespace: default\nspec:\n  user: system:serviceaccount:default:default\n  resourceAttributes:\n    verb: get\n    resource: configmaps\n    namespace: default\n',
      'tr.yaml': `apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: ${token}\n`,
    });
    const ssar = parseYaml(await c.kubectlOk(['create', '-f', f.path('ssar.yaml'), '-o', 'yaml']));
    expect(ssar.status.allowed).toBe(true);
    const lsar = parseYaml(await c.kubectlOk(['create', '-f', f.path('lsar.yaml'), '-o', 'yaml']));
    expect(lsar.kind).toBe('LocalSubjectAccessReview');
    expect(lsar.metadata.namespace).toBe('default');
    expect(lsar.status.allowed).toBe(false);
    const tr = parseYaml(await c.kubectlOk(['create', '-f', f.path('tr.yaml'), '-o', 'yaml']));
    expect(tr.status.authenticated).toBe(true);
    expect(tr.status.user.username).toBe('system:serviceaccount:default:default');
    const rules = writeFiles({
      'ssrr.yaml': 'apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectRulesReview\nspec:\n  namespace: default\n',
      'ssr.yaml': 'apiVersion: authentication.k8s.io/v1\nkind: SelfSubjectReview\n',
    });
    const ssrr = parseYaml(await c.kubectlOk(['create', '-f', rules.path('ssrr.yaml'), '-o', 'yaml']));
    expect(ssrr.status.resourceRules).toContainEqual({ apiGroups: ['*'], resources: ['*'], verbs: ['*'] });
    const ssr = parseYaml(await c.kubectlOk(['create', '-f', rules.path('ssr.yaml'), '-o', 'yaml']));
    expect(ssr.status.userInfo.groups).toContain('system:masters');
    const who = await c.kubectlOk(['auth', 'whoami', '-o', 'yaml']);
    expect(parseYaml(who).status.userInfo.username).toBe('system:admin');
    expect(ssr.status.userInfo.username).toBe('system:admin');
  }, 60_000);

  it('a review with an unknown field is refused by kubectl itself, naming the field', async () => {
    const f = writeFiles({
      'bad.yaml': 'apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: alice\n  bogusField: 1\n  resourceAttributes:\n    verb: get\n    resource: pods\n',
    });
    const r = await c.kubectl(['create', '-f', f.path('bad.yaml'), '-v=6']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error validating');
    expect(r.stderr).toContain('unknown field "bogusField" in io.k8s.api.authorization.v1.SubjectAccessReviewSpec');
    // Client-side validation failed, so no POST reached the server (-v=6 logs every request).
    expect(r.stderr).toMatch(/GET https:\/\/127\.0\.0\.1:\d+\/openapi\/v2/);
    expect(r.stderr).not.toMatch(/POST https:\/\/\S+subjectaccessreviews/);
  }, 60_000);

  it('kind: List with a ConfigMap and a Secret: kubectl create -f and apply -f', async () => {
    const list = (suffix: string, value: string) => [
      'apiVersion: v1', 'kind: List', 'items:',
      '- apiVersion: v1', '  kind: ConfigMap', `  metadata: {name: list-cm-${suffix}}`, `  data: {key: ${value}}`,
      '- apiVersion: v1', '  kind: Secret', `  metadata: {name: list-secret-${suffix}}`, `  stringData: {password: ${value}}`, '',
    ].join('\n');
    const f = writeFiles({ 'create.yaml': list('a', 'one'), 'apply.yaml': list('b', 'two'), 'apply2.yaml': list('b', 'three') });
    const created = await c.kubectlOk(['create', '-f', f.path('create.yaml')]);
    expect(created).toContain('configmap/list-cm-a created');
    expect(created).toContain('secret/list-secret-a created');
    const applied = await c.kubectlOk(['apply', '-f', f.path('apply.yaml')]);
    expect(applied).toContain('configmap/list-cm-b created');
    expect(applied).toContain('secret/list-secret-b created');
    const again = await c.kubectlOk(['apply', '-f', f.path('apply2.yaml')]);
    expect(again).toContain('configmap/list-cm-b configured');
    expect((await c.kubectlOk(['get', 'configmap', 'list-cm-b', '-o', 'jsonpath={.data.key}']))).toBe('three');
    const secret = await c.kubectlOk(['get', 'secret', 'list-secret-b', '-o', 'jsonpath={.data.password}']);
    expect(Buffer.from(secret, 'base64').toString()).toBe('three');
    // A List item with an unknown field is refused on the client too.
    const bad = writeFiles({ 'bad.yaml': 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: list-bad}\n  dataa: {k: v}\n' });
    const r = await c.kubectl(['create', '-f', bad.path('bad.yaml')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown field "dataa"');
    expect((await c.kubectl(['get', 'configmap', 'list-bad'])).code).not.toBe(0);
  }, 60_000);

  it('answers protobuf or JSON by Accept, with an ETag that revalidates (304) and changes when a CRD is added', async () => {
    const pb = await get('/openapi/v2', { accept: PROTOBUF });
    expect(pb.status).toBe(200);
    expect(pb.headers['content-type']).toBe(PROTOBUF_TYPE);
    const json = await get('/openapi/v2');
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toBe('application/json');
    const doc = JSON.parse(json.body.toString());
    expect(doc.swagger).toBe('2.0');
    expect(doc.definitions['io.k8s.api.core.v1.Pod']).toBeTruthy();
    expect(pb.headers.etag).not.toBe(json.headers.etag);
    const same = await get('/openapi/v2', { accept: PROTOBUF, 'if-none-match': String(pb.headers.etag) });
    expect(same.status).toBe(304);
    expect(same.body.length).toBe(0);
    const root = JSON.parse((await get('/')).body.toString());
    expect(root.paths).toContain('/openapi/v2');

    // Warm kubectl's HTTP cache with the current v2 document (a List goes through client-side validation).
    const cm = writeFiles({ 'l.yaml': 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: warm-cache}}\n' });
    await c.kubectlOk(['create', '-f', cm.path('l.yaml')]);
    const cacheDir = join(c.home, '.kube', 'cache', 'http');
    expect(cacheFiles(cacheDir).some((p) => readFileSync(p).includes('/openapi/v2') || readFileSync(p).includes('proto-openapi'))).toBe(true);

    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'gadgets.example.com' },
      spec: {
        group: 'example.com', scope: 'Namespaced', names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
        versions: [{
          name: 'v1', served: true, storage: true,
          // Shapes kubectl's v2 validation would misjudge if published as they are (a field that
          // keeps unknown fields but lists some, int-or-string, nullable, anyOf, an embedded
          // resource), plus maps and list-maps it reads as is.
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  properties: {
                    size: { type: 'integer' },
                    port: { 'x-kubernetes-int-or-string': true },
                    free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'string' } } },
                    opt: { type: 'object', nullable: true, properties: { a: { type: 'string' } } },
                    either: { type: 'string', anyOf: [{ pattern: '^x' }, { pattern: '^y' }] },
                    labels: { type: 'object', additionalProperties: { type: 'string' } },
                    template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
                    ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, number: { type: 'integer' } } } },
                  },
                },
              },
            },
          },
        }],
      },
    };
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(crd) });
    await waitFor(async () => (await c.kubectl(['get', 'gadgets'])).code === 0, 15_000, 'gadgets served');
    const after = await get('/openapi/v2', { accept: PROTOBUF, 'if-none-match': String(pb.headers.etag) });
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(pb.headers.etag);
    const withCrd = JSON.parse((await get('/openapi/v2')).body.toString());
    expect(withCrd.definitions['com.example.v1.Gadget']['x-kubernetes-group-version-kind']).toEqual([{ group: 'example.com', version: 'v1', kind: 'Gadget' }]);
    expect(withCrd.paths['/apis/example.com/v1/namespaces/{namespace}/gadgets/{name}'].patch.operationId).toBe('patchExampleComV1NamespacedGadget');

    // kubectl (same HOME, same HTTP cache) now validates Gadgets in a List with the new document:
    // an unknown field is named, int-or-string and free-form fields accept what they should.
    const lists = writeFiles({
      'bad.yaml': 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: example.com/v1\n  kind: Gadget\n  metadata: {name: g-bad}\n  spec: {size: 1, colour: red}\n',
      'good.yaml': 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: example.com/v1\n  kind: Gadget\n  metadata: {name: g-good}\n'
        + '  spec: {size: 1, port: http, free: {known: k, any: [1, 2]}, opt: null, either: xa, labels: {a: b}, template: {apiVersion: v1, kind: Pod, metadata: {name: t}, spec: {}}, ports: [{name: web, number: 80}]}\n',
    });
    const bad = await c.kubectl(['create', '-f', lists.path('bad.yaml')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('unknown field "colour" in com.example.v1.Gadget.spec');
    expect(await c.kubectlOk(['create', '-f', lists.path('good.yaml')])).toContain('gadget.example.com/g-good created');
    // The document as a whole still reads: a built-in kind is validated from it as before.
    const sar = writeFiles({ 'sar.yaml': 'apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: bob\n  nonsense: true\n' });
    const refused = await c.kubectl(['create', '-f', sar.path('sar.yaml')]);
    expect(refused.stderr).toContain('unknown field "nonsense" in io.k8s.api.authorization.v1.SubjectAccessReviewSpec');
  }, 90_000);
});
