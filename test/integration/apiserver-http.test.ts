// The apiserver at the HTTP level, with the official JS client (@kubernetes/client-node) and the
// official Python client (Debian's python3-kubernetes): watch semantics, errors as Status,
// discovery and OpenAPI headers, authentication, CRDs, and the in-process watch API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import * as k8s from '@kubernetes/client-node';
import { startTestCluster, runCommand, waitFor, type TestCluster } from './helpers/cluster';

let c: TestCluster;
let dispatcher: Agent;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, auth = true): Promise<{ status: number; headers: Record<string, unknown>; text: string; json: any }> {
  const s = c.server!;
  const res = await request(`${c.url}${path}`, {
    method: method as 'GET', dispatcher,
    headers: { ...(auth ? { authorization: `Bearer ${s.adminToken}` } : {}), ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.statusCode, headers: res.headers, text, json };
}

beforeAll(async () => {
  c = await startTestCluster({ bookmarkIntervalMs: 300 });
  dispatcher = new Agent({ connect: { ca: c.server!.pki.ca.certPem } });
}, 60_000);

afterAll(async () => { await dispatcher?.close(); await c?.stop(); });

describe('apiserver over HTTP', () => {
  it('allows anonymous /version and health checks only', async () => {
    const v = await call('GET', '/version', undefined, {}, false);
    expect(v.status).toBe(200);
    expect(v.json).toMatchObject({ major: '1', minor: '32' });
    expect(v.json.gitVersion).toMatch(/^v1\.32\.\d+\+orch/);
    for (const p of ['/healthz', '/livez', '/readyz']) expect((await call('GET', p, undefined, {}, false)).text).toBe('ok');
    const anon = await call('GET', '/api/v1/namespaces', undefined, {}, false);
    expect(anon.status).toBe(401);
    expect(anon.json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const badToken = await call('GET', '/api/v1/namespaces', undefined, { authorization: 'Bearer nope' }, false);
    expect(badToken.status).toBe(401);
  });

  it('answers aggregated discovery with the exact content type, legacy otherwise', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
    const agg = await call('GET', '/apis', undefined, { accept });
    expect(agg.headers['content-type']).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(agg.json.kind).toBe('APIGroupDiscoveryList');
    const apps = agg.json.items.find((i: any) => i.metadata.name === 'apps');
    const dep = apps.versions[0].resources.find((r: any) => r.resource === 'deployments');
    expect(dep.subresources.find((s: any) => s.subresource === 'scale').responseKind).toEqual({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    const legacy = await call('GET', '/api');
    expect(legacy.json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const v1 = await call('GET', '/api/v1');
    expect(v1.json.resources.find((r: any) => r.name === 'pods/status')).toBeTruthy();
  });

  it('serves OpenAPI v3 with hashes, immutable caching and a redirect on a stale hash', async () => {
    const idx = await call('GET', '/openapi/v3');
    const url: string = idx.json.paths['apis/apps/v1'].serverRelativeURL;
    expect(url).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
    const doc = await call('GET', url);
    expect(doc.status).toBe(200);
    expect(doc.headers['cache-control']).toBe('public, immutable');
    expect(doc.headers.etag).toBeTruthy();
    const stale = await call('GET', '/openapi/v3/apis/apps/v1?hash=DEADBEEF');
    expect(stale.status).toBe(301);
    expect(stale.headers.location).toBe(url);
  });

  it('returns Status errors: malformed JSON, wrong kind, oversized body, unknown fields', async () => {
    const mal = await call('POST', '/api/v1/namespaces/default/configmaps', '{"kind": "ConfigMap", ', { 'content-type': 'application/json' });
    expect(mal.status).toBe(400);
    expect(mal.json).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(mal.json.message).toContain('json parse error');
    const yamlBad = await call('POST', '/api/v1/namespaces/default/configmaps', 'kind: ConfigMap\nmetadata: [x', { 'content-type': 'application/yaml' });
    expect(yamlBad.status).toBe(400);
    const wrong = await call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } });
    expect(wrong.status).toBe(400);
    expect(wrong.json.message).toContain('does not match the expected kind (ConfigMap)');
    const huge = await call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'huge' }, data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } });
    expect(huge.status).toBe(413);
    expect(huge.json.reason).toBe('RequestEntityTooLarge');
    const dup = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"1"},"data":{"b":"2"}}', { 'content-type': 'application/json' });
    expect(dup.status).toBe(400);
    expect(dup.json.message).toContain('duplicate field "data"');
    const warn = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'warned' }, bogus: 1 });
    expect(warn.status).toBe(201);
    expect(String(warn.headers.warning)).toContain('299 - "unknown field \\"bogus\\""');
    const yamlOk = await call('POST', '/api/v1/namespaces/default/configmaps', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n', { 'content-type': 'application/yaml' });
    expect(yamlOk.status).toBe(201);
    const noNs = await call('POST', '/api/v1/namespaces/missing/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
    expect(noNs.status).toBe(404);
    expect(noNs.json.message).toBe('namespaces "missing" not found');
    for (const n of ['huge', 'dup']) expect((await call('GET', `/api/v1/namespaces/default/configmaps/${n}`)).status).toBe(404);
  });

  it('checks resourceVersion on update (409), generates names, and bumps generation on spec only', async () => {
    const cm = (await call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } })).json;
    expect(cm.metadata.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const stale = { ...cm, data: { a: '1' } };
    expect((await call('PUT', `/api/v1/namespaces/default/configmaps/${cm.metadata.name}`, stale)).status).toBe(200);
    const conflict = await call('PUT', `/api/v1/namespaces/default/configmaps/${cm.metadata.name}`, { ...cm, data: { a: '2' } });
    expect(conflict.status).toBe(409);
    expect(conflict.json.message).toBe(`Operation cannot be fulfilled on configmaps "${cm.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`);
    const dep = (await call('POST', '/apis/apps/v1/namespaces/default/deployments', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'g' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } })).json;
    expect(dep.metadata.generation).toBe(1);
    const st = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/g/status', { spec: { replicas: 50 }, status: { collisionCount: 3 } }, { 'content-type': 'application/merge-patch+json' });
    expect(st.json.metadata.generation).toBe(1);
    expect(st.json.spec.replicas).toBe(1);
    expect(st.json.status.collisionCount).toBe(3);
    const main = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/g', { spec: { replicas: 2 }, status: { collisionCount: 12345 } }, { 'content-type': 'application/merge-patch+json' });
    expect(main.json.metadata.generation).toBe(2);
    expect(main.json.status.collisionCount).not.toBe(12345);
    const scale = await call('GET', '/apis/apps/v1/namespaces/default/deployments/g/scale');
    expect(scale.json).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 2 }, status: { selector: 'a=b' } });
  });

  it('answers a deletion that waits on finalizers with the object, and a foreground delete records its finalizer', async () => {
    await call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fin', finalizers: ['example.com/hold'] } });
    const d = await call('DELETE', '/api/v1/namespaces/default/configmaps/fin');
    expect(d.status).toBe(200);
    expect(d.json.kind).toBe('ConfigMap');
    expect(d.json.metadata.deletionTimestamp).toBeTruthy();
    const fg = await call('DELETE', '/api/v1/namespaces/default/configmaps/fin?propagationPolicy=Foreground');
    expect(fg.json.metadata.finalizers).toContain('example.com/hold');
    await call('PATCH', '/api/v1/namespaces/default/configmaps/fin', [{ op: 'replace', path: '/metadata/finalizers', value: [] }], { 'content-type': 'application/json-patch+json' });
    await waitFor(async () => (await call('GET', '/api/v1/namespaces/default/configmaps/fin')).status === 404, 5000, 'fin gone');
    const plain = await call('DELETE', '/api/v1/namespaces/default/configmaps/from-yaml');
    expect(plain.json).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'from-yaml', kind: 'configmaps' } });
  });

  it('watches: initial events, resume from a resourceVersion, bookmarks, selectors, 410 for a compacted version', async () => {
    const list = (await call('GET', '/api/v1/namespaces/default/configmaps')).json;
    const rv = Number(list.metadata.resourceVersion);
    const lines: any[] = [];
    const ac = new AbortController();
    const res = await request(`${c.url}/api/v1/namespaces/default/configmaps?watch=True&allowWatchBookmarks=true&resourceVersion=${rv}&labelSelector=w%3D1&timeoutSeconds=5`, { dispatcher, headers: { authorization: `Bearer ${c.server!.adminToken}` }, signal: ac.signal });
    let buf = '';
    const done = (async () => {
      for await (const chunk of res.body) {
        buf += chunk.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) { lines.push(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1); }
      }
    })();
    await call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1', labels: { w: '1' } } });
    await call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w2' } });
    await call('PATCH', '/api/v1/namespaces/default/configmaps/w1', { metadata: { labels: { w: '2' } } }, { 'content-type': 'application/merge-patch+json' });
    await waitFor(() => lines.some((l) => l.type === 'BOOKMARK') && lines.filter((l) => l.type !== 'BOOKMARK').length >= 2, 5000, 'watch events');
    ac.abort();
    await done.catch(() => undefined);
    const evs = lines.filter((l) => l.type !== 'BOOKMARK').map((l) => `${l.type} ${l.object.metadata.name}`);
    expect(evs).toEqual(['ADDED w1', 'DELETED w1']);
    expect(Number(lines.find((l) => l.type === 'BOOKMARK').object.metadata.resourceVersion)).toBeGreaterThan(rv);
    // Compact the store past the start and watch from before it: one ERROR event with a 410 Status.
    const store = c.server!.store;
    await store.compact(store.currentRevision());
    const old = await call('GET', `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1`);
    expect(old.status).toBe(200);
    const ev = JSON.parse(old.text.trim().split('\n')[0]!);
    expect(ev).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    expect(ev.object.message).toContain('too old resource version');
  });

  it('serves CRDs: discovery, validation, pruning, status subresource, printer columns', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
        versions: [{
          name: 'v1', served: true, storage: true, subresources: { status: {} },
          additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } }, status: { type: 'object', properties: { ok: { type: 'boolean' } } } } } },
        }],
      },
    };
    const created = await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    expect(created.status).toBe(201);
    expect(created.json.status.conditions.map((x: any) => `${x.type}=${x.status}`)).toEqual(['NamesAccepted=True', 'Established=True']);
    const w = await call('POST', '/apis/example.com/v1/namespaces/default/widgets', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 3, extra: 'pruned' } });
    expect(w.status).toBe(201);
    expect(w.json.spec).toEqual({ size: 3 });
    const bad = await call('POST', '/apis/example.com/v1/namespaces/default/widgets', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'bad' }, spec: { size: 0 } });
    expect(bad.status).toBe(422);
    expect(bad.json.details.kind).toBe('Widget');
    const st = await call('PUT', '/apis/example.com/v1/namespaces/default/widgets/w/status', { ...w.json, spec: { size: 100 }, status: { ok: true } });
    expect(st.json.spec.size).toBe(3);
    expect(st.json.status.ok).toBe(true);
    const out = await c.kubectlOk(['get', 'widgets']);
    expect(out).toMatch(/^NAME\s+SIZE$/m);
    expect(out).toMatch(/^w\s+3\s+/m);
    const idx = await call('GET', '/openapi/v3');
    expect(idx.json.paths['apis/example.com/v1']).toBeTruthy();
  });

  it('lists, watches, creates, patches and deletes with @kubernetes/client-node', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'js', labels: { via: 'js' } }, data: { a: '1' } } });
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch('/api/v1/namespaces/default/configmaps', { labelSelector: 'via=js' }, (type: string, obj: { metadata: { name: string } }) => { events.push(`${type} ${obj.metadata.name}`); }, () => undefined);
    await core.patchNamespacedConfigMap({ namespace: 'default', name: 'js', body: [{ op: 'replace', path: '/data/a', value: '2' }] });
    const list = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'via=js' });
    expect(list.items.map((i: { data?: Record<string, string> }) => i.data?.a)).toEqual(['2']);
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'js', propagationPolicy: 'Background' });
    await waitFor(() => events.includes('DELETED js'), 5000, 'js watch events');
    req.abort();
    expect(events).toEqual(['ADDED js', 'MODIFIED js', 'DELETED js']);
  });

  it('lists, watches, creates, patches and deletes with the Python client', async () => {
    const script = `
import kubernetes, json
from kubernetes import client, config, watch
config.load_kube_config(${JSON.stringify(c.kubeconfig)})
v1 = client.CoreV1Api()
v1.create_namespaced_config_map('default', {'metadata': {'name': 'py', 'labels': {'via': 'py'}}, 'data': {'a': '1'}})
v1.patch_namespaced_config_map('py', 'default', {'data': {'a': '2'}})
items = v1.list_namespaced_config_map('default', label_selector='via=py').items
rv = v1.list_namespaced_config_map('default').metadata.resource_version
w = watch.Watch()
seen = []
v1.delete_namespaced_config_map('py', 'default')
for ev in w.stream(v1.list_namespaced_config_map, 'default', label_selector='via=py', resource_version=rv, timeout_seconds=3):
    seen.append(ev['type'] + ' ' + ev['object'].metadata.name)
    if ev['type'] == 'DELETED':
        w.stop()
print(json.dumps({'data': [i.data['a'] for i in items], 'seen': seen}))
`;
    const r = await runCommand('/usr/bin/python3', ['-c', script], { env: c.env, timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual({ data: ['2'], seen: ['DELETED py'] });
  });

  it('feeds in-process watchers from the watch cache', async () => {
    const client = c.server!.api.client;
    const ref = { group: '', version: 'v1', resource: 'configmaps' };
    const { metadata } = await client.list(ref, 'default');
    const seen: string[] = [];
    const h = client.watch(ref, 'default', { resourceVersion: metadata.resourceVersion }, (e) => seen.push(`${e.type} ${e.object.metadata.name}`), () => undefined);
    await client.create(ref, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'local' } });
    await client.delete(ref, 'default', 'local');
    await waitFor(() => seen.length >= 2, 5000, 'local events');
    h.stop();
    expect(seen).toEqual(['ADDED local', 'DELETED local']);
  });
});
