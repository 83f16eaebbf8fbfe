// Pod admission on create against an in-process `orch server`, driven by the real kubectl:
// PodPreset (injection, the podpreset annotation, a conflict admitted unchanged with a Warning
// Event), DefaultTolerationSeconds (not-ready/unreachable for 300 s unless the pod has its own),
// and pods/binding (nodeName and PodScheduled=True in one write, no managedFields entry for it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, waitFor, type TestCluster } from './helpers/cluster';

let c: TestCluster;
const NS = 'admission';

const apply = (obj: unknown) => c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(obj) });
const getPod = async (name: string): Promise<any> => JSON.parse(await c.kubectlOk(['get', 'pod', name, '-n', NS, '-o', 'json']));

/** A pod the scheduler leaves alone (another schedulerName), so only the test binds it. */
function pod(name: string, labels: Record<string, string>, spec: Record<string, unknown> = {}, container: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels },
    spec: { schedulerName: 'test-only', containers: [{ name: 'app', image: 'busybox', ...container }], ...spec },
  };
}

const allowDatabase = {
  apiVersion: 'settings.k8s.io/v1alpha1', kind: 'PodPreset', metadata: { name: 'allow-database', namespace: NS },
  spec: {
    selector: { matchLabels: { role: 'frontend' } },
    env: [{ name: 'DB_PORT', value: '6379' }],
    volumeMounts: [{ mountPath: '/cache', name: 'cache-volume' }],
    volumes: [{ name: 'cache-volume', emptyDir: {} }],
  },
};

beforeAll(async () => {
  c = await startTestCluster();
  await c.kubectlOk(['create', 'namespace', NS]);
  // Pods need the namespace's default ServiceAccount, which a controller creates a moment later.
  await waitFor(async () => (await c.kubectl(['get', 'serviceaccount', 'default', '-n', NS])).code === 0, 20_000, 'default ServiceAccount');
  await apply(allowDatabase);
}, 60_000);

afterAll(async () => { await c?.stop(); }, 30_000);

describe('PodPreset admission', () => {
  it('injects env, volumes and mounts into a matching pod and annotates it', async () => {
    const rv = JSON.parse(await c.kubectlOk(['get', 'podpreset', 'allow-database', '-n', NS, '-o', 'json'])).metadata.resourceVersion;
    // The preset reaches admission through the watch cache: poll with fresh pod names until it applies.
    const p = await waitFor(async () => {
      const name = `website-${Math.random().toString(36).slice(2, 7)}`;
      await apply(pod(name, { role: 'frontend' }));
      const got = await getPod(name);
      return got.metadata.annotations?.['podpreset.admission.kubernetes.io/podpreset-allow-database'] ? got : false;
    }, 10_000, 'the preset applied');
    expect(p.metadata.annotations['podpreset.admission.kubernetes.io/podpreset-allow-database']).toBe(rv);
    expect(p.spec.containers[0].env).toEqual([{ name: 'DB_PORT', value: '6379' }]);
    expect(p.spec.containers[0].volumeMounts).toContainEqual({ mountPath: '/cache', name: 'cache-volume' });
    expect(p.spec.volumes).toContainEqual({ name: 'cache-volume', emptyDir: {} });
    const env = await c.kubectlOk(['get', 'pod', p.metadata.name, '-n', NS, '-o', 'jsonpath={.spec.containers[0].env[0].name}={.spec.containers[0].env[0].value}']);
    expect(env).toBe('DB_PORT=6379');
    // A pod the selector does not match is untouched.
    await apply(pod('backend', { role: 'backend' }));
    const other = await getPod('backend');
    expect(other.spec.containers[0].env).toBeUndefined();
    expect(other.metadata.annotations?.['podpreset.admission.kubernetes.io/podpreset-allow-database']).toBeUndefined();
  }, 30_000);

  it('admits a conflicting pod unchanged and records a Warning Event', async () => {
    await apply(pod('conflicted', { role: 'frontend' }, { volumes: [{ name: 'other-volume', emptyDir: {} }] }, { volumeMounts: [{ mountPath: '/cache', name: 'other-volume' }] }));
    const p = await getPod('conflicted');
    expect(p.metadata.annotations?.['podpreset.admission.kubernetes.io/podpreset-allow-database']).toBeUndefined();
    expect(p.spec.containers[0].env).toBeUndefined();
    expect(p.spec.containers[0].volumeMounts.filter((m: any) => m.mountPath === '/cache')).toEqual([{ mountPath: '/cache', name: 'other-volume' }]);
    expect(p.spec.volumes.map((v: any) => v.name)).not.toContain('cache-volume');
    const ev = await waitFor(async () => {
      const list = JSON.parse(await c.kubectlOk(['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=conflicted,reason=PodPreset', '-o', 'json']));
      return list.items[0];
    }, 10_000, 'the PodPreset Event');
    expect(ev.type).toBe('Warning');
    expect(ev.involvedObject).toMatchObject({ kind: 'Pod', name: 'conflicted', uid: p.metadata.uid });
    expect(ev.message).toContain('conflict occurred while applying podpresets: allow-database on pod:');
    expect(ev.message).toContain('/cache');
    const described = await c.kubectlOk(['describe', 'pod', 'conflicted', '-n', NS]);
    expect(described).toMatch(/Warning\s+PodPreset/);
  }, 30_000);

  it('honours dryRun: the preset applies to the answer, nothing is stored', async () => {
    const out = JSON.parse(await c.kubectlOk(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(pod('dry', { role: 'frontend' })) }));
    expect(out.spec.containers[0].env).toEqual([{ name: 'DB_PORT', value: '6379' }]);
    const r = await c.kubectl(['get', 'pod', 'dry', '-n', NS]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('NotFound');
  }, 30_000);
});

describe('DefaultTolerationSeconds admission', () => {
  it('adds not-ready and unreachable NoExecute tolerations for 300 s', async () => {
    await apply(pod('plain', { app: 'plain' }));
    const p = await getPod('plain');
    expect(p.spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  }, 30_000);

  it('keeps a pod\'s own unreachable toleration and adds only the missing one', async () => {
    const own = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 };
    await apply(pod('tolerant', { app: 'tolerant' }, { tolerations: [own] }));
    const p = await getPod('tolerant');
    expect(p.spec.tolerations).toEqual([own, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
    // operator Exists with no key tolerates everything: nothing is added.
    await apply(pod('everything', { app: 'everything' }, { tolerations: [{ operator: 'Exists' }] }));
    expect((await getPod('everything')).spec.tolerations).toEqual([{ operator: 'Exists' }]);
  }, 30_000);
});

describe('pods/binding', () => {
  it('sets nodeName and PodScheduled=True in one write', async () => {
    await apply(pod('to-bind', { app: 'bind' }));
    const before = await getPod('to-bind');
    // The scheduler's request: POST pods/<name>/binding.
    await c.kubectlOk(['create', '--raw', `/api/v1/namespaces/${NS}/pods/to-bind/binding`, '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'to-bind', namespace: NS }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' } }),
    });
    const out = await c.kubectlOk(['get', 'pod', 'to-bind', '-n', NS, '-o', 'jsonpath={.spec.nodeName} {.status.conditions[?(@.type=="PodScheduled")].status}']);
    expect(out).toBe('node-a True');
    const after = await getPod('to-bind');
    const cond = after.status.conditions.find((x: any) => x.type === 'PodScheduled');
    expect(cond.reason).toBeUndefined();
    expect(Date.parse(cond.lastTransitionTime)).toBeGreaterThan(Date.now() - 60_000);
    // Upstream records no managedFields entry on the pod for a binding.
    expect(after.metadata.managedFields).toEqual(before.metadata.managedFields);
    // A second binding is refused.
    const again = await c.kubectl(['create', '--raw', `/api/v1/namespaces/${NS}/pods/to-bind/binding`, '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'to-bind', namespace: NS }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-b' } }),
    });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('is already assigned to node');
  }, 30_000);

  it('binds through the in-process client the scheduler uses, the same way', async () => {
    await apply(pod('local-bind', { app: 'bind' }));
    const ref = { group: '', version: 'v1', resource: 'pods' };
    await c.server!.api.client.createSubresource(ref, NS, 'local-bind', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'local-bind' }, target: { kind: 'Node', name: 'node-b' } });
    const out = await c.kubectlOk(['get', 'pod', 'local-bind', '-n', NS, '-o', 'jsonpath={.spec.nodeName} {.status.conditions[?(@.type=="PodScheduled")].status}']);
    expect(out).toBe('node-b True');
  }, 30_000);
});
