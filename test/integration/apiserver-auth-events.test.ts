// Events through both APIs against `orch server`: core/v1 and events.k8s.io/v1 share one storage
// with upstream's field mapping (kubectl create, get, describe and watch see either kind of
// write), events.k8s.io validation, and the store TTL (a server started with a 2 s event TTL
// forgets events, updated ones included).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startTestCluster, tempDir, waitFor, runCommand, type TestCluster } from './helpers/cluster';
import { startServer, type RunningServer } from '../../server/server';

let c: TestCluster;

const CORE_EVENT = {
  apiVersion: 'v1', kind: 'Event',
  metadata: { name: 'core-ev', namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', apiVersion: 'v1' },
  reason: 'Pulled', message: 'Container image pulled', type: 'Normal',
  source: { component: 'kubelet', host: 'n1' },
  firstTimestamp: '2026-01-01T00:00:00Z', lastTimestamp: '2026-01-01T00:01:00Z', count: 3,
};

function v1Event(name: string, regarding: Record<string, string>, extra: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'events.k8s.io/v1', kind: 'Event',
    metadata: { name, namespace: 'default' },
    eventTime: '2026-01-01T00:00:00.000000Z',
    reportingController: 'example.com/ctl', reportingInstance: 'ctl-1',
    action: 'Scaling', reason: 'ScaledUp', note: 'scaled to 3', type: 'Normal',
    regarding, ...extra,
  };
}

beforeAll(async () => {
  c = await startTestCluster();
}, 60_000);

afterAll(async () => { await c?.stop(); });

describe('events', () => {
  it('serves a core/v1 Event through events.k8s.io/v1 with the field mapping', async () => {
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(CORE_EVENT) });
    const v1 = JSON.parse(await c.kubectlOk(['get', 'events.v1.events.k8s.io', 'core-ev', '-o', 'json']));
    expect(v1).toMatchObject({
      apiVersion: 'events.k8s.io/v1', kind: 'Event',
      regarding: CORE_EVENT.involvedObject, note: CORE_EVENT.message, reason: 'Pulled', type: 'Normal',
      deprecatedSource: CORE_EVENT.source, deprecatedFirstTimestamp: CORE_EVENT.firstTimestamp,
      deprecatedLastTimestamp: CORE_EVENT.lastTimestamp, deprecatedCount: 3,
    });
    expect(v1.message).toBeUndefined();
    expect(v1.involvedObject).toBeUndefined();
    const core = JSON.parse(await c.kubectlOk(['get', 'event', 'core-ev', '-o', 'json']));
    expect(core.metadata.resourceVersion).toBe(v1.metadata.resourceVersion);
    expect(core.metadata.uid).toBe(v1.metadata.uid);
  });

  it('serves an events.k8s.io/v1 Event through core/v1, kubectl get events and describe', async () => {
    await c.kubectlOk(['run', 'web', '--image=busybox']);
    const pod = JSON.parse(await c.kubectlOk(['get', 'pod', 'web', '-o', 'json']));
    const ev = v1Event('new-ev', { kind: 'Pod', name: 'web', namespace: 'default', uid: pod.metadata.uid, apiVersion: 'v1' }, { series: { count: 2, lastObservedTime: '2026-01-01T00:05:00.000000Z' } });
    const created = JSON.parse(await c.kubectlOk(['create', '-o', 'json', '-f', '-'], { input: JSON.stringify(ev) }));
    expect(created).toMatchObject({ apiVersion: 'events.k8s.io/v1', note: 'scaled to 3', reportingController: 'example.com/ctl' });
    const core = JSON.parse(await c.kubectlOk(['get', 'event', 'new-ev', '-o', 'json']));
    expect(core).toMatchObject({
      apiVersion: 'v1', kind: 'Event',
      involvedObject: ev.regarding, message: 'scaled to 3', reason: 'ScaledUp', action: 'Scaling', type: 'Normal',
      reportingComponent: 'example.com/ctl', reportingInstance: 'ctl-1',
      eventTime: '2026-01-01T00:00:00.000000Z', series: { count: 2, lastObservedTime: '2026-01-01T00:05:00.000000Z' },
    });
    expect(core.note).toBeUndefined();
    const table = await c.kubectlOk(['get', 'events']);
    expect(table).toMatch(/Normal\s+ScaledUp\s+pod\/web\s+scaled to 3/);
    const describe = await c.kubectlOk(['describe', 'pod', 'web']);
    expect(describe).toMatch(/Normal\s+ScaledUp\s+.*example\.com\/ctl\s+scaled to 3/);
  });

  it('shows writes through one API in watches of the other', async () => {
    const list = JSON.parse(await c.kubectlOk(['get', '--raw', '/apis/events.k8s.io/v1/namespaces/default/events']));
    const watch = c.kubectl(['get', '--raw', `/apis/events.k8s.io/v1/namespaces/default/events?watch=1&timeoutSeconds=3&resourceVersion=${list.metadata.resourceVersion}`], { timeoutMs: 20_000 });
    // No need to wait for the watch to open: it starts from the list's resourceVersion and replays what came after.
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ ...CORE_EVENT, metadata: { name: 'watched', namespace: 'default' } }) });
    const out = await watch;
    const events = out.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const added = events.find((e) => e.object.metadata.name === 'watched');
    expect(added).toMatchObject({ type: 'ADDED', object: { apiVersion: 'events.k8s.io/v1', note: 'Container image pulled', regarding: { name: 'web' } } });
  });

  it('validates events.k8s.io Events as upstream does', async () => {
    const bad = v1Event('bad', { kind: 'Pod', name: 'web', namespace: 'default' });
    delete bad.reportingController;
    bad.type = 'Odd';
    const r = await c.kubectl(['create', '-f', '-'], { input: JSON.stringify(bad) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('reportingController: Required value');
    expect(r.stderr).toContain('type: Unsupported value: "Odd"');
    // The core API stays lenient (kubelets and old clients write minimal events).
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'minimal', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' }, reason: 'X' }) });
  });
});

describe('event TTL', () => {
  let s: RunningServer;
  const kubectl = (args: string[], input?: string) => runCommand('kubectl', args, { env: { KUBECONFIG: s.adminKubeconfig, HOME: join(dir, 'home') }, input });
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('ttl');
    s = await startServer({ dataDir: join(dir, 'data'), httpsListenPort: 0, bindAddress: '127.0.0.1', writeKubeconfig: '', eventTtlSeconds: 2, disableControllers: true });
  }, 60_000);

  afterAll(async () => { await s?.close(); });

  it('expires events written through either API, updated ones included', async () => {
    expect((await kubectl(['create', '-f', '-'], JSON.stringify(CORE_EVENT))).code).toBe(0);
    expect((await kubectl(['create', '-f', '-'], JSON.stringify(v1Event('v1-ev', { kind: 'Pod', name: 'web', namespace: 'default' })))).code).toBe(0);
    // An update re-arms the TTL instead of dropping it.
    expect((await kubectl(['patch', 'event', 'core-ev', '--type=merge', '-p', '{"count":4}'])).code).toBe(0);
    const names = async (resource: string): Promise<string> => (await kubectl(['get', resource, '-o', 'name'])).stdout.trim();
    expect(await names('events')).toContain('core-ev');
    expect(await names('events.v1.events.k8s.io')).toContain('v1-ev');
    await waitFor(async () => (await names('events')) === '' && (await names('events.v1.events.k8s.io')) === '', 15_000, 'events expire');
  });
});
