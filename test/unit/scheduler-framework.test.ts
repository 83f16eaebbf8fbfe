import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { Scheduler } from '../../server/scheduler/scheduler';
import { Status } from '../../server/scheduler/framework';
import { FakeCluster } from './helpers/fake-cluster';
import { node, pod } from './helpers/objects';
import { waitFor } from './helpers/wait';

let sched: Scheduler | undefined;
afterEach(async () => { await sched?.stop(); sched = undefined; });

async function start(f: FakeCluster): Promise<Scheduler> {
  sched = new Scheduler({ client: f, queue: { initialBackoffMs: 20, maxBackoffMs: 100 } });
  await sched.start();
  return sched;
}

describe('scheduler against the fake cluster', () => {
  it('binds pending pods through pods/binding, spreads them, and records Scheduled events', async () => {
    const f = new FakeCluster();
    f.seed(R.nodes, node('n1'), node('n2'), node('n3'));
    await start(f);
    for (let i = 0; i < 9; i++) await f.create(R.pods, 'default', pod(`p${i}`, { cpu: '100m' }));
    await waitFor(() => f.all(R.pods).every((p) => p.spec.nodeName), 5000, 'all pods bound');
    const binds = f.writes('createSubresource', 'pods');
    expect(binds).toHaveLength(9);
    expect(binds[0]).toMatchObject({ subresource: 'binding', object: { kind: 'Binding', target: { kind: 'Node' } } });
    const perNode = new Map<string, number>();
    for (const p of f.all(R.pods)) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    expect([...perNode.values()]).toEqual([3, 3, 3]);
    await waitFor(() => f.all(R.events).filter((e) => e.reason === 'Scheduled').length === 9, 2000, 'events');
    const ev = f.all(R.events).find((e) => e.involvedObject.name === 'p0')!;
    expect(ev.message).toBe(`Successfully assigned default/p0 to ${f.peek(R.pods, 'default', 'p0')!.spec.nodeName}`);
    expect(ev.source.component).toBe('default-scheduler');
  });

  it('leaves unschedulable pods Pending with PodScheduled=False and upstream message, and retries on node changes', async () => {
    const f = new FakeCluster();
    f.seed(R.nodes,
      node('n1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      node('n2', { cpu: '1' }), node('n3', { cpu: '1' }));
    await start(f);
    await f.create(R.pods, 'default', pod('big', { cpu: '2' }));
    const expected = '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. '
      + 'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..';
    await waitFor(() => f.peek(R.pods, 'default', 'big')?.status?.conditions?.some((c: any) => c.type === 'PodScheduled') === true, 3000);
    const p = f.peek(R.pods, 'default', 'big')!;
    expect(p.spec.nodeName).toBeUndefined();
    expect(p.status.conditions.find((c: any) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message: expected });
    await waitFor(() => f.all(R.events).some((e) => e.reason === 'FailedScheduling'), 2000);
    const ev = f.all(R.events).find((e) => e.reason === 'FailedScheduling')!;
    expect(ev).toMatchObject({ type: 'Warning', message: expected });
    // A bigger node arrives: the parked pod is retried and bound there.
    await f.create(R.nodes, '', node('n4', { cpu: '8' }));
    await waitFor(() => f.peek(R.pods, 'default', 'big')?.spec.nodeName === 'n4', 3000, 'bound to n4');
  });

  it('only schedules pods for default-scheduler, and accounts assumed pods so capacity is respected', async () => {
    const f = new FakeCluster();
    f.seed(R.nodes, node('n1', { cpu: '1' }), node('n2', { cpu: '1' }));
    await start(f);
    await f.create(R.pods, 'default', pod('other', { spec: { schedulerName: 'my-scheduler', containers: [{ name: 'c' }] } }));
    for (let i = 0; i < 5; i++) await f.create(R.pods, 'default', pod(`p${i}`, { cpu: '500m' }));
    await waitFor(() => f.all(R.pods).filter((p) => p.spec.nodeName).length === 4, 3000);
    await waitFor(() => f.all(R.pods).filter((p) => p.status.conditions?.some((c: any) => c.reason === 'Unschedulable')).length === 1, 3000);
    expect(f.peek(R.pods, 'default', 'other')!.spec.nodeName).toBeUndefined();
    expect(f.peek(R.pods, 'default', 'other')!.status.conditions).toBeUndefined();
    // Deleting a bound pod frees room: the waiting one is scheduled.
    const bound = f.all(R.pods).find((p) => p.spec.nodeName)!;
    await f.delete(R.pods, 'default', bound.metadata.name!);
    await waitFor(() => f.all(R.pods).filter((p) => p.spec.nodeName).length === 4
      && f.all(R.pods).filter((p) => p.metadata.name !== 'other').every((p) => p.spec.nodeName), 3000, 'rescheduled');
  });

  it('retries with back-off when binding fails, then binds', async () => {
    const f = new FakeCluster();
    f.seed(R.nodes, node('n1'));
    const { ApiError } = await import('../../server/controllers/client');
    f.failNext('createSubresource', 'pods', new ApiError(500, 'InternalError', 'etcd busy'), 2);
    await start(f);
    await f.create(R.pods, 'default', pod('p'));
    await waitFor(() => f.peek(R.pods, 'default', 'p')?.spec.nodeName === 'n1', 5000);
    await waitFor(() => !sched!.cache.isAssumed('default/p'), 3000, 'assumed pod confirmed by the informer');
  });

  it('framework: statuses are typed, reserve rolls back', () => {
    expect(Status.unschedulable('x').isRejected()).toBe(true);
    expect(Status.success().isSuccess()).toBe(true);
    expect(Status.error(new Error('e')).reasons).toEqual(['e']);
  });

  it('numFeasibleNodesToFind follows the adaptive percentage', () => {
    const s = new Scheduler({ client: new FakeCluster() });
    expect(s.numFeasibleNodesToFind(50)).toBe(50);
    expect(s.numFeasibleNodesToFind(1000)).toBe(420);
    expect(s.numFeasibleNodesToFind(5000)).toBe(500);
    s.queue.close();
  });
});
