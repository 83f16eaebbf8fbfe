// The ServiceAccount admission plugin and the legacy top-level `bindings` resource against an
// in-process `orch server`, driven by the real kubectl: pods get `default` and the projected
// kube-api-access volume mounted in every container, automounting follows the pod then the
// ServiceAccount, a missing ServiceAccount is Forbidden with upstream's message, mirror pods may
// not use ServiceAccounts; a Binding is created by `kubectl create -f`, by a raw POST and as
// protobuf on both routes, with upstream's errors, and discovery lists `bindings` (create only).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import protobuf from 'protobufjs';
import YAML from 'yaml';
import { startTestCluster, waitFor, writeFiles, type TestCluster } from './helpers/cluster';

let c: TestCluster;
let dispatcher: Agent;
const NS = 'sa-admission';
const MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

const create = (obj: unknown) => c.kubectl(['create', '-f', '-'], { input: JSON.stringify(obj) });
const getPod = async (name: string, ns = NS): Promise<any> => JSON.parse(await c.kubectlOk(['get', 'pod', name, '-n', ns, '-o', 'json']));

/** A pod the scheduler leaves alone (another schedulerName), so only the test binds it. */
function pod(name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, ...metadata },
    spec: { schedulerName: 'test-only', containers: [{ name: 'app', image: 'busybox' }], ...spec },
  };
}

/** What the plugin adds: exactly one kube-api-access-<5> volume, mounted read-only in the listed containers. */
function expectTokenVolume(p: any, containers: any[]): string {
  const vols = (p.spec.volumes ?? []).filter((v: any) => v.name.startsWith('kube-api-access-'));
  expect(vols).toHaveLength(1);
  const v = vols[0];
  expect(v.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  expect(v.projected).toEqual({
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  });
  for (const ct of containers) expect(ct.volumeMounts).toContainEqual({ name: v.name, readOnly: true, mountPath: MOUNT });
  return v.name;
}

async function post(path: string, body: Buffer | string, contentType: string): Promise<{ status: number; json: any }> {
  const res = await request(`${c.url}${path}`, {
    method: 'POST', dispatcher,
    headers: { authorization: `Bearer ${c.server!.adminToken}`, 'content-type': contentType, accept: 'application/json' },
    body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: JSON.parse(text) };
}

/** A Binding in Kubernetes protobuf (k8s\0 + runtime.Unknown), as client-go's typed Bind() sends it. */
function protobufBinding(name: string, node: string): Buffer {
  const meta = protobuf.Writer.create().uint32((1 << 3) | 2).string(name).uint32((3 << 3) | 2).string(NS).finish();
  const target = protobuf.Writer.create().uint32((1 << 3) | 2).string('Node').uint32((3 << 3) | 2).string(node).uint32((5 << 3) | 2).string('v1').finish();
  const raw = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(meta).uint32((2 << 3) | 2).bytes(target).finish();
  const typeMeta = protobuf.Writer.create().uint32((1 << 3) | 2).string('v1').uint32((2 << 3) | 2).string('Binding').finish();
  const unknown = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(typeMeta).uint32((2 << 3) | 2).bytes(raw).finish();
  return Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), Buffer.from(unknown)]);
}

beforeAll(async () => {
  c = await startTestCluster();
  dispatcher = new Agent({ connect: { ca: c.server!.pki.ca.certPem } });
  await c.kubectlOk(['create', 'namespace', NS]);
  // As a user script would: pods of a new namespace wait for its `default` ServiceAccount.
  await waitFor(async () => (await c.kubectl(['get', 'serviceaccount', 'default', '-n', NS])).code === 0, 15_000, 'the default ServiceAccount');
}, 60_000);

afterAll(async () => { await dispatcher?.close(); await c?.stop(); }, 30_000);

describe('ServiceAccount admission', () => {
  it('kubectl run: serviceAccountName default and the projected API access volume in -o yaml', async () => {
    await c.kubectlOk(['run', 'web', '--image=busybox', '-n', NS, '--overrides', JSON.stringify({ spec: { schedulerName: 'test-only' } })]);
    const p = YAML.parse(await c.kubectlOk(['get', 'pod', 'web', '-n', NS, '-o', 'yaml']));
    expect(p.spec.serviceAccountName).toBe('default');
    expect(p.spec.serviceAccount).toBe('default');
    expectTokenVolume(p, p.spec.containers);
    const mountPath = await c.kubectlOk(['get', 'pod', 'web', '-n', NS, '-o', 'jsonpath={.spec.containers[0].volumeMounts[0].mountPath} {.spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds}']);
    expect(mountPath).toBe(`${MOUNT} 3607`);
  }, 30_000);

  it('kubectl create -f: mounts into init containers and every container that has nothing at the path', async () => {
    const files = writeFiles({
      'pod.yaml': YAML.stringify(pod('multi', {
        initContainers: [{ name: 'init', image: 'busybox' }],
        containers: [
          { name: 'a', image: 'busybox' },
          { name: 'own', image: 'busybox', volumeMounts: [{ name: 'mine', mountPath: MOUNT }] },
        ],
        volumes: [{ name: 'mine', emptyDir: {} }],
      })),
    });
    await c.kubectlOk(['create', '-f', files.path('pod.yaml')]);
    const p = await getPod('multi');
    expectTokenVolume(p, [p.spec.initContainers[0], p.spec.containers[0]]);
    // A container with its own mount at the path keeps it alone.
    expect(p.spec.containers[1].volumeMounts).toEqual([{ name: 'mine', mountPath: MOUNT }]);
  }, 30_000);

  it('automountServiceAccountToken: the pod decides, else its ServiceAccount', async () => {
    expect((await create(pod('no-mount', { automountServiceAccountToken: false }))).code).toBe(0);
    const off = await getPod('no-mount');
    expect(off.spec.serviceAccountName).toBe('default');
    expect(off.spec.volumes ?? []).toEqual([]);
    expect(off.spec.containers[0].volumeMounts).toBeUndefined();

    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'quiet', namespace: NS }, automountServiceAccountToken: false, imagePullSecrets: [{ name: 'regcred' }] }) });
    // Created a moment ago: the admission's live read finds it even before the watch cache delivers it.
    const r = await create(pod('quiet-pod', { serviceAccountName: 'quiet' }));
    expect(r.stderr).toBe('');
    const quiet = await getPod('quiet-pod');
    expect(quiet.spec.serviceAccountName).toBe('quiet');
    expect(quiet.spec.volumes ?? []).toEqual([]);
    // The ServiceAccount's pull secrets are copied to a pod that has none.
    expect(quiet.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);

    expect((await create(pod('loud-pod', { serviceAccountName: 'quiet', automountServiceAccountToken: true }))).code).toBe(0);
    const loud = await getPod('loud-pod');
    expectTokenVolume(loud, loud.spec.containers);
  }, 30_000);

  it('a missing ServiceAccount is Forbidden with upstream\'s message, through kubectl', async () => {
    const r = await create(pod('orphan', { serviceAccountName: 'missing' }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Error from server (Forbidden): error when creating "STDIN": pods "orphan" is forbidden: error looking up service account ${NS}/missing: serviceaccount "missing" not found`);
    expect((await c.kubectl(['get', 'pod', 'orphan', '-n', NS])).code).not.toBe(0);
    // A namespace that does not exist answers as the namespace check does, at once.
    const t0 = Date.now();
    const nowhere = await c.kubectl(['run', 'x', '--image=busybox', '-n', 'no-such-namespace']);
    expect(nowhere.stderr).toContain('namespaces "no-such-namespace" not found');
    expect(Date.now() - t0).toBeLessThan(5_000);
  }, 30_000);

  it('keeps mirror pods away from ServiceAccounts and Secrets and leaves them unchanged', async () => {
    const mirror = { 'kubernetes.io/config.mirror': 'abc' };
    const withSa = await create(pod('mirror-sa', { serviceAccountName: 'default', nodeName: 'n1' }, { annotations: mirror }));
    expect(withSa.stderr).toContain('pods "mirror-sa" is forbidden: a mirror pod may not reference service accounts');
    const withSecret = await create(pod('mirror-secret', { nodeName: 'n1', volumes: [{ name: 's', secret: { secretName: 'x' } }] }, { annotations: mirror }));
    expect(withSecret.stderr).toContain('pods "mirror-secret" is forbidden: a mirror pod may not reference secrets');
    expect((await create(pod('mirror-ok', { nodeName: 'n1' }, { annotations: mirror }))).code).toBe(0);
    const ok = await getPod('mirror-ok');
    expect(ok.spec.serviceAccountName).toBeUndefined();
    expect(ok.spec.volumes ?? []).toEqual([]);
  }, 30_000);

  it('a pod created right after its namespace waits in admission for the default ServiceAccount', async () => {
    const ns = 'sa-fresh';
    await c.kubectlOk(['create', 'namespace', ns]);
    // No wait here: admission retries `default` while the ServiceAccounts controller creates it.
    await c.kubectlOk(['run', 'early', '--image=busybox', '-n', ns, '--overrides', JSON.stringify({ spec: { schedulerName: 'test-only' } })]);
    const p = await getPod('early', ns);
    expect(p.spec.serviceAccountName).toBe('default');
    expectTokenVolume(p, p.spec.containers);
    await c.kubectlOk(['delete', 'namespace', ns, '--wait=false']);
  }, 30_000);

  it('pods a controller creates in-process get the same treatment', async () => {
    await c.kubectlOk(['create', 'deployment', 'ctrl', '--image=busybox', '--replicas=1', '-n', NS]);
    const p = await waitFor(async () => JSON.parse(await c.kubectlOk(['get', 'pods', '-n', NS, '-l', 'app=ctrl', '-o', 'json'])).items[0], 20_000, 'the Deployment\'s pod');
    expect(p.spec.serviceAccountName).toBe('default');
    expectTokenVolume(p, p.spec.containers);
  }, 30_000);

  it('dryRun=server shows what admission adds and stores nothing', async () => {
    const out = YAML.parse(await c.kubectlOk(['run', 'dry', '--image=busybox', '-n', NS, '--dry-run=server', '-o', 'yaml']));
    expectTokenVolume(out, out.spec.containers);
    expect((await c.kubectl(['get', 'pod', 'dry', '-n', NS])).code).not.toBe(0);
  }, 30_000);

  it('serviceAccountName cannot change on update', async () => {
    const r = await c.kubectl(['patch', 'pod', 'web', '-n', NS, '--type=merge', '-p', '{"spec":{"serviceAccountName":"quiet","serviceAccount":"quiet"}}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('pod updates may not change fields other than');
    // The deprecated spec.serviceAccount follows serviceAccountName: a replace that sends only the new field changes neither.
    const current = await getPod('web');
    delete current.spec.serviceAccount;
    current.spec.containers[0].image = 'busybox:1.36';
    await c.kubectlOk(['replace', '-f', '-'], { input: JSON.stringify(current) });
    const replaced = await getPod('web');
    expect(replaced.spec).toMatchObject({ serviceAccountName: 'default', serviceAccount: 'default' });
    expect(replaced.spec.containers[0].image).toBe('busybox:1.36');
  }, 30_000);
});

describe('bindings (core/v1, create only)', () => {
  it('kubectl create -f binding.yaml binds the pod the Binding names; a second bind is a 409', async () => {
    expect((await create(pod('to-bind'))).code).toBe(0);
    const binding = (node: string) => YAML.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'to-bind', namespace: NS }, target: { apiVersion: 'v1', kind: 'Node', name: node } });
    const files = writeFiles({ 'binding.yaml': binding('node-a'), 'again.yaml': binding('node-b') });
    // kubectl validates a Binding against /openapi/v2 (its v3 check only looks at PATCH operations, and bindings have none).
    await c.kubectlOk(['create', '-f', files.path('binding.yaml')]);
    const out = await c.kubectlOk(['get', 'pod', 'to-bind', '-n', NS, '-o', 'jsonpath={.spec.nodeName} {.status.conditions[?(@.type=="PodScheduled")].status}']);
    expect(out).toBe('node-a True');
    const again = await c.kubectl(['create', '-f', files.path('again.yaml')]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('Error from server (Conflict)');
    expect(again.stderr).toContain('pod to-bind is already assigned to node "node-a"');
  }, 30_000);

  it('a raw POST to bindings, and upstream\'s errors on both routes', async () => {
    expect((await create(pod('raw-bind'))).code).toBe(0);
    const body = (name: string, node = 'node-b') => JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: node } });
    const ok = await post(`/api/v1/namespaces/${NS}/bindings`, body('raw-bind'), 'application/json');
    expect(ok).toMatchObject({ status: 201, json: { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 201 } });
    expect((await getPod('raw-bind')).spec.nodeName).toBe('node-b');
    const missing = await post(`/api/v1/namespaces/${NS}/bindings`, body('ghost'), 'application/json');
    expect(missing).toMatchObject({ status: 404, json: { reason: 'NotFound', message: 'pods "ghost" not found' } });
    const conflict = await post(`/api/v1/namespaces/${NS}/pods/raw-bind/binding`, body('raw-bind', 'node-c'), 'application/json');
    expect(conflict).toMatchObject({ status: 409, json: { reason: 'Conflict', message: 'Operation cannot be fulfilled on pods/binding "raw-bind": pod raw-bind is already assigned to node "node-b"' } });
    const mismatch = await post(`/api/v1/namespaces/${NS}/pods/raw-bind/binding`, body('other'), 'application/json');
    expect(mismatch).toMatchObject({ status: 400, json: { reason: 'BadRequest', message: 'name in URL does not match name in Binding object' } });
    // Create is the only verb.
    const list = await c.kubectl(['get', '--raw', `/api/v1/namespaces/${NS}/bindings`]);
    expect(list.code).not.toBe(0);
    expect(list.stderr).toContain('MethodNotAllowed');
  }, 30_000);

  it('decodes protobuf Bindings (client-go\'s typed Bind) on both routes', async () => {
    expect((await create(pod('pb-top'))).code).toBe(0);
    expect((await create(pod('pb-sub'))).code).toBe(0);
    const PB = 'application/vnd.kubernetes.protobuf';
    expect((await post(`/api/v1/namespaces/${NS}/bindings`, protobufBinding('pb-top', 'node-p'), PB)).status).toBe(201);
    expect((await post(`/api/v1/namespaces/${NS}/pods/pb-sub/binding`, protobufBinding('pb-sub', 'node-q'), PB)).status).toBe(201);
    expect((await getPod('pb-top')).spec.nodeName).toBe('node-p');
    expect((await getPod('pb-sub')).spec.nodeName).toBe('node-q');
  }, 30_000);

  it('discovery lists bindings with the create verb, legacy and aggregated', async () => {
    const table = await c.kubectlOk(['api-resources', '--api-group=', '-o', 'wide']);
    const row = table.split('\n').find((l) => /^bindings\s/.test(l));
    expect(row).toBeDefined();
    // kubectl 1.32's wide table: NAME SHORTNAMES APIVERSION NAMESPACED KIND VERBS CATEGORIES.
    expect(row!.trim().split(/\s+/)).toEqual(['bindings', 'v1', 'true', 'Binding', 'create']);
    const legacy = JSON.parse(await c.kubectlOk(['get', '--raw', '/api/v1']));
    expect(legacy.resources.find((r: any) => r.name === 'bindings')).toMatchObject({ namespaced: true, kind: 'Binding', verbs: ['create'] });
    const res = await request(`${c.url}/api`, {
      dispatcher, headers: { authorization: `Bearer ${c.server!.adminToken}`, accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' },
    });
    const aggregated = JSON.parse(await res.body.text());
    const v1 = aggregated.items[0].versions.find((v: any) => v.version === 'v1');
    expect(v1.resources.find((r: any) => r.resource === 'bindings')).toMatchObject({ scope: 'Namespaced', responseKind: { kind: 'Binding' }, verbs: ['create'] });
  }, 30_000);
});
