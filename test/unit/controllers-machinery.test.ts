import { describe, expect, it } from 'vitest';
import { ApiError, Informer, R, isConflict, isAlreadyExists } from '../../server/controllers/client';
import { ApiEventRecorder } from '../../server/controllers/events';
import { fromLabelSelector, parseSelector } from '../../server/controllers/selectors';
import { WorkQueue, RateLimiter, runWorkers } from '../../server/controllers/workqueue';
import { FakeCluster } from './helpers/fake-cluster';
import { waitFor } from './helpers/wait';

const cm = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, namespace: 'default', labels }, data: { a: '1' } });

describe('workqueue', () => {
  it('collapses repeated adds and never hands out a key twice at once', async () => {
    const q = new WorkQueue('t');
    q.add('a'); q.add('a'); q.add('b');
    expect(q.len()).toBe(2);
    const k1 = await q.get();
    expect(k1).toBe('a');
    q.add('a'); // while processing: deferred until done()
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
    q.done('a');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a'); q.done('b');
    q.shutDown();
    expect(await q.get()).toBeUndefined();
  });

  it('backs off per item exponentially and forgets on success', () => {
    let t = 0;
    const rl = new RateLimiter(5, 1000, 10, 100, () => t);
    expect([rl.when('x'), rl.when('x'), rl.when('x'), rl.when('x')]).toEqual([5, 10, 20, 40]);
    expect(rl.when('y')).toBe(5);
    rl.forget('x');
    expect(rl.when('x')).toBe(5);
    t = 0;
  });

  it('token bucket limits the overall rate after the burst', () => {
    const rl = new RateLimiter(0, 0, 10, 2, () => 0);
    expect(rl.when('a')).toBe(0);
    expect(rl.when('b')).toBe(0);
    expect(rl.when('c')).toBeCloseTo(100);
  });

  it('runWorkers retries a failing key with back-off and stops on shutDown', async () => {
    const q = new WorkQueue('t', new RateLimiter(1, 10));
    let calls = 0;
    const running = new Set<string>();
    let overlap = false;
    const done = runWorkers(q, 3, async (k) => {
      if (running.has(k)) overlap = true;
      running.add(k);
      await new Promise((r) => setTimeout(r, 2));
      running.delete(k);
      if (k === 'bad' && ++calls < 3) throw new Error('boom');
    }, () => {});
    for (let i = 0; i < 20; i++) { q.add('bad'); q.add(`k${i % 4}`); }
    await waitFor(() => calls >= 3, 5000);
    q.shutDown();
    await done;
    expect(overlap).toBe(false);
    expect(q.numRequeues('bad')).toBe(0);
  });
});

describe('selectors', () => {
  it('parses and matches string and structured selectors', () => {
    const s = parseSelector('app=web,tier!=db,env in (prod,stage),!legacy,track');
    expect(s.matches({ app: 'web', env: 'prod', track: 'x' })).toBe(true);
    expect(s.matches({ app: 'web', env: 'dev', track: 'x' })).toBe(false);
    expect(s.matches({ app: 'web', env: 'prod', track: 'x', legacy: '1' })).toBe(false);
    const ls = fromLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['1'] }] });
    expect(ls.matches({ app: 'web' })).toBe(true);
    expect(ls.matches({ app: 'web', x: '1' })).toBe(false);
    expect(parseSelector(ls.toString()).matches({ app: 'web', x: '2' })).toBe(true);
    expect(fromLabelSelector(undefined).matches({})).toBe(false);
    expect(fromLabelSelector({}).matches({ any: 'thing' })).toBe(true);
  });
});

describe('fake cluster', () => {
  it('enforces resourceVersion conflicts, AlreadyExists and generateName', async () => {
    const f = new FakeCluster();
    const a = await f.create(R.configmaps, 'default', cm('a'));
    await expect(f.create(R.configmaps, 'default', cm('a'))).rejects.toSatisfy(isAlreadyExists);
    const a2 = await f.update(R.configmaps, { ...a, data: { a: '2' } });
    expect(Number(a2.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    await expect(f.update(R.configmaps, { ...a, data: { a: '3' } })).rejects.toSatisfy(isConflict);
    const g = await f.create(R.pods, 'default', { metadata: { generateName: 'web-' }, spec: { containers: [] } });
    expect(g.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(f.writes('create').map((w) => w.name)).toEqual(['a', g.metadata.name]);
  });
});

describe('informer', () => {
  it('lists, watches, and re-lists after 410 Expired without losing deletes', async () => {
    const f = new FakeCluster();
    f.seed(R.configmaps, cm('a', { app: 'x' }), cm('b'));
    const inf = new Informer(f, R.configmaps, { relistDelayMs: 5 });
    const seen: string[] = [];
    inf.addEventHandler({
      onAdd: (o) => seen.push(`add ${o.metadata.name}`),
      onUpdate: (_o, n) => seen.push(`update ${n.metadata.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    inf.run();
    await inf.waitForSync();
    expect(inf.store.list('default', parseSelector('app=x')).map((o) => o.metadata.name)).toEqual(['a']);
    expect(Object.isFrozen(inf.store.get('default', 'a')!.metadata)).toBe(true);
    await f.create(R.configmaps, 'default', cm('c'));
    await waitFor(() => inf.store.get('default', 'c') !== undefined, 2000);
    // Break the watch, change things while nobody watches, and compact history: the informer
    // must get 410 on re-watch, re-list, and synthesize the delete.
    f.closeWatches(new Error('connection reset'));
    await f.delete(R.configmaps, 'default', 'b');
    await f.create(R.configmaps, 'default', cm('d'));
    f.compact();
    await waitFor(() => inf.store.get('default', 'd') !== undefined && !inf.store.get('default', 'b'), 3000);
    expect(inf.listCount).toBeGreaterThanOrEqual(2);
    expect(seen).toContain('delete b');
    expect(seen).toContain('add d');
    inf.stop();
  });
});

describe('event recorder', () => {
  it('writes core/v1 Events and folds repeats into count', async () => {
    const f = new FakeCluster();
    const rec = new ApiEventRecorder(f, 'deployment-controller', { now: () => f.now });
    const obj = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', uid: 'u1' } };
    rec.event(obj, 'Normal', 'ScalingReplicaSet', 'Scaled up replica set web-abc to 3');
    await rec.flush();
    f.now += 5000;
    rec.event(obj, 'Normal', 'ScalingReplicaSet', 'Scaled up replica set web-abc to 3');
    await rec.flush();
    const evs = f.all(R.events, 'default');
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ reason: 'ScalingReplicaSet', type: 'Normal', count: 2, source: { component: 'deployment-controller' },
      involvedObject: { kind: 'Deployment', name: 'web', uid: 'u1' }, firstTimestamp: '2025-01-01T00:00:00Z', lastTimestamp: '2025-01-01T00:00:05Z' });
  });

  it('does not throw when the API fails', async () => {
    const f = new FakeCluster();
    const logs: string[] = [];
    const rec = new ApiEventRecorder(f, 'x', undefined, (m) => logs.push(m));
    f.failNext('create', 'events', new ApiError(500, 'InternalError', 'boom'));
    rec.event({ kind: 'Pod', metadata: { name: 'p', namespace: 'default' } }, 'Warning', 'Failed', 'x');
    await rec.flush();
    expect(logs[0]).toContain('boom');
  });
});
