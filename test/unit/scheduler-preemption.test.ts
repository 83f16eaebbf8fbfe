// Preemption (DefaultPreemption PostFilter) over the scheduler's cache and the fake cluster:
// victim selection and the reprieve loop, PDB preference, upstream's node-choice criteria,
// preemptionPolicy Never, unresolvable nodes, nominated pods in Filter, and the queue's order.
import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { PodInfo, SchedulerCache } from '../../server/scheduler/cache';
import { CycleState, FitError } from '../../server/scheduler/framework';
import {
  type Candidate, DefaultPreemption, ErrNoVictims, ErrNotHelpful, budgetView, filterPodsWithPDBViolation, pickOneNodeForPreemption,
} from '../../server/scheduler/plugins/defaultpreemption';
import { SchedulingQueue } from '../../server/scheduler/queue';
import { Scheduler } from '../../server/scheduler/scheduler';
import { FakeCluster } from './helpers/fake-cluster';
import { node, pod } from './helpers/objects';
import { waitFor } from './helpers/wait';

const scheds: Scheduler[] = [];
afterEach(async () => { for (const s of scheds.splice(0)) await s.stop(); });

/** A scheduler that is not started: its cache is filled by hand, cycles run synchronously. */
function offline(nodes: any[], pods: any[] = []): Scheduler {
  const s = new Scheduler({ client: new FakeCluster(), recordScheduledEvents: false });
  scheds.push(s);
  for (const n of nodes) s.cache.addOrUpdateNode(n);
  for (const p of pods) s.cache.addOrUpdatePod(p);
  return s;
}

function prio(name: string, priority: number, opts: { cpu?: string; nodeName?: string; labels?: Record<string, string>; startTime?: string; ready?: boolean; spec?: any } = {}): any {
  const p = pod(name, { cpu: opts.cpu, nodeName: opts.nodeName, labels: opts.labels, spec: { priority, ...(opts.spec ?? {}) }, phase: opts.nodeName ? 'Running' : 'Pending' });
  p.metadata.uid = `uid-${name}`;
  if (opts.startTime) p.status.startTime = opts.startTime;
  if (opts.ready) p.status.conditions = [{ type: 'Ready', status: 'True' }];
  return p;
}

function fitError(s: Scheduler, p: any): FitError {
  try {
    s.schedulePod(new CycleState(), p);
  } catch (e) {
    if (e instanceof FitError) return e;
    throw e;
  }
  throw new Error(`${p.metadata.name} fitted`);
}

function victimsOn(s: Scheduler, p: any, nodeName: string, pdbs: any[] = []): { names: string[]; violations: number; status: string } {
  const state = new CycleState();
  s.framework.runPreFilter(state, p, s.cache.list());
  const r = s.preemption!.selectVictimsOnNode(state, p, s.cache.get(nodeName)!, pdbs.map(budgetView));
  return { names: (r.victims?.pods ?? []).map((v) => v.pod.metadata.name), violations: r.victims?.numPDBViolations ?? 0, status: r.status.message() };
}

function pdb(name: string, selector: any, spec: any = { minAvailable: 1 }, status?: any): any {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: 'default', generation: 1 }, spec: { selector, ...spec }, status };
}

describe('victim selection (SelectVictimsOnNode)', () => {
  it('removes only lower-priority pods and reprieves the most important ones first', () => {
    // 4 cpu node: a(2, prio 10), b(1, prio 5), c(1, prio 1). Preemptor wants 2 cpu at prio 100.
    const s = offline([node('n1', { cpu: '4' })], [
      prio('a', 10, { cpu: '2', nodeName: 'n1' }), prio('b', 5, { cpu: '1', nodeName: 'n1' }), prio('c', 1, { cpu: '1', nodeName: 'n1' }),
    ]);
    // a goes back first (2+2 = 4 fits); then neither b nor c fits: both are victims, highest first,
    // although evicting a alone would be one victim (upstream keeps higher priorities instead).
    expect(victimsOn(s, prio('hi', 100, { cpu: '2' }), 'n1')).toEqual({ names: ['b', 'c'], violations: 0, status: '' });
    // A preemptor of priority 5 may only evict c, which is not enough: the filter's reason comes back.
    expect(victimsOn(s, prio('mid', 5, { cpu: '2' }), 'n1')).toEqual({ names: [], violations: 0, status: 'Insufficient cpu' });
    // Nothing below priority 1: no victims.
    expect(victimsOn(s, prio('low', 1, { cpu: '2' }), 'n1').status).toBe(ErrNoVictims);
  });

  it('keeps a smaller set when a lower-priority pod alone frees enough', () => {
    const s = offline([node('n1', { cpu: '4' })], [
      prio('a', 10, { cpu: '1', nodeName: 'n1' }), prio('b', 5, { cpu: '1', nodeName: 'n1' }), prio('c', 1, { cpu: '2', nodeName: 'n1' }),
    ]);
    expect(victimsOn(s, prio('hi', 100, { cpu: '2' }), 'n1').names).toEqual(['c']);
  });

  it('reprieves PDB-protected pods first, so victims come from pods no budget protects', () => {
    // x started later than y: by importance alone y is reprieved first and x is the victim.
    const pods = [
      prio('x', 5, { cpu: '2', nodeName: 'n1', labels: { app: 'x' }, startTime: '2025-01-01T00:10:00Z', ready: true }),
      prio('y', 5, { cpu: '2', nodeName: 'n1', labels: { app: 'y' }, startTime: '2025-01-01T00:00:00Z', ready: true }),
    ];
    const s = offline([node('n1', { cpu: '4' })], pods);
    const hi = prio('hi', 100, { cpu: '2' });
    expect(victimsOn(s, hi, 'n1').names).toEqual(['x']);
    // x's budget allows no disruption (the disruption controller's status): x is kept.
    const none = { observedGeneration: 1, disruptionsAllowed: 0 };
    expect(victimsOn(s, hi, 'n1', [pdb('x-pdb', { matchLabels: { app: 'x' } }, undefined, none)])).toEqual({ names: ['y'], violations: 0, status: '' });
    // A budget with no status yet allows nothing either (upstream reads the zero value).
    expect(victimsOn(s, hi, 'n1', [pdb('x-pdb', { matchLabels: { app: 'x' } })])).toEqual({ names: ['y'], violations: 0, status: '' });
    // Both protected: one victim is unavoidable and counts as a violation.
    const both = [pdb('x-pdb', { matchLabels: { app: 'x' } }, undefined, none), pdb('y-pdb', { matchLabels: { app: 'y' } }, undefined, none)];
    expect(victimsOn(s, hi, 'n1', both)).toEqual({ names: ['x'], violations: 1, status: '' });
    // One disruption allowed: x may go.
    const observed = pdb('x-pdb', { matchLabels: { app: 'x' } }, { minAvailable: 1 }, { observedGeneration: 1, disruptionsAllowed: 1 });
    expect(victimsOn(s, hi, 'n1', [observed]).names).toEqual(['x']);
  });

  it('groups pods by budget as upstream: empty selectors match nothing, disruptedPods are not counted again', () => {
    const a = new PodInfo(prio('a', 1, { labels: { app: 'w' }, ready: true, nodeName: 'n1' }));
    const b = new PodInfo(prio('b', 1, { labels: { app: 'w' }, ready: true, nodeName: 'n1' }));
    // maxUnavailable 1 over two healthy pods: one may go, the second would violate.
    let r = filterPodsWithPDBViolation([a, b], [budgetView(pdb('w', { matchLabels: { app: 'w' } }, { maxUnavailable: 1 }, { observedGeneration: 1, disruptionsAllowed: 1 }))]);
    expect([r.violating.map((p) => p.pod.metadata.name), r.nonViolating.map((p) => p.pod.metadata.name)]).toEqual([['b'], ['a']]);
    r = filterPodsWithPDBViolation([a, b], [budgetView(pdb('w', {}))]);
    expect(r.violating).toEqual([]);
    const disrupted = pdb('w', { matchLabels: { app: 'w' } }, { minAvailable: 2 }, { observedGeneration: 1, disruptionsAllowed: 0, disruptedPods: { a: '2025-01-01T00:00:00Z' } });
    r = filterPodsWithPDBViolation([a, b], [budgetView(disrupted)]);
    expect(r.violating.map((p) => p.pod.metadata.name)).toEqual(['b']);
  });
});

describe('PreFilter extensions in the dry run (affinity and spread state follow removed victims)', () => {
  const antiWeb = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [
    { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };

  it('evicts a lower-priority pod whose anti-affinity keeps the preemptor off the node, and only that one', () => {
    const s = offline([node('n1'), node('n2')], [
      prio('guard', 1, { cpu: '100m', nodeName: 'n1', spec: { affinity: antiWeb } }),
      prio('bystander', 1, { cpu: '100m', nodeName: 'n1' }),
      prio('vip-guard', 1000, { cpu: '100m', nodeName: 'n2', spec: { affinity: antiWeb } }),
    ]);
    const web = prio('web', 100, { cpu: '100m', labels: { app: 'web' } });
    const e = fitError(s, web);
    expect(e.message).toBe("0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules.");
    expect(e.postFilter?.nominatedNodeName).toBe('n1');
    expect(victimsOn(s, web, 'n1').names).toEqual(['guard']);
    expect(victimsOn(s, web, 'n2').status).toBe(ErrNoVictims);
    // The what-if worked on copies: the cycle's own state still sees the guard.
    expect(fitError(s, web).message).toMatch(/existing pods anti-affinity/);
  });

  it('evicts just enough matching pods to satisfy a topology spread constraint', () => {
    const spread = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 's' } } }] };
    const s = offline([node('n1', { cpu: '4' }), node('n2', { cpu: '1' })], [
      prio('s-a', 1, { cpu: '100m', nodeName: 'n1', labels: { app: 's' }, startTime: '2025-01-01T00:00:00Z' }),
      prio('s-b', 1, { cpu: '100m', nodeName: 'n1', labels: { app: 's' }, startTime: '2025-01-01T01:00:00Z' }),
      prio('s-vip', 1000, { cpu: '1', nodeName: 'n2', labels: { app: 's' } }),
    ]);
    const p = prio('s-new', 100, { cpu: '500m', labels: { app: 's' }, spec: spread });
    const e = fitError(s, p);
    expect(e.message).toBe("0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match pod topology spread constraints.");
    expect(e.postFilter?.nominatedNodeName).toBe('n1');
    // s-a (started first) is reprieved; with it back n1 holds 1 against n2's 1: one more would skew by 2.
    expect(victimsOn(s, p, 'n1').names).toEqual(['s-b']);
  });

  it('counts nominated pods in affinity state too: a nominated web pod repels a new anti-web pod', () => {
    const s = offline([node('n1')]);
    s.nominator.add(prio('web', 100, { cpu: '100m', labels: { app: 'web' } }), 'n1');
    const e = fitError(s, prio('anti', 10, { cpu: '100m', spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [
      { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } } } }));
    expect(e.message).toMatch(/^0\/1 nodes are available: 1 node\(s\) didn't match pod anti-affinity rules\./);
  });
});

describe('node choice (pickOneNodeForPreemption)', () => {
  const v = (name: string, priority: number, startTime = '2025-01-01T00:00:00Z') => new PodInfo(prio(name, priority, { startTime }));
  const cand = (nodeName: string, pods: PodInfo[], numPDBViolations = 0): Candidate => ({ nodeName, victims: { pods, numPDBViolations } });

  it('applies upstream criteria in order', () => {
    // 1. fewest PDB violations beats everything else.
    expect(pickOneNodeForPreemption([cand('a', [v('1', 1)], 1), cand('b', [v('2', 50), v('3', 50)], 0)])!.nodeName).toBe('b');
    // 2. lowest highest-priority victim.
    expect(pickOneNodeForPreemption([cand('a', [v('1', 20)]), cand('b', [v('2', 10), v('3', 10), v('4', 10)])])!.nodeName).toBe('b');
    // 3. smallest sum of priorities (with negative priorities still counting per pod).
    expect(pickOneNodeForPreemption([cand('a', [v('1', 10), v('2', 5)]), cand('b', [v('3', 10), v('4', 1)])])!.nodeName).toBe('b');
    expect(pickOneNodeForPreemption([cand('a', [v('1', -5), v('2', -5)]), cand('b', [v('3', -5)])])!.nodeName).toBe('b');
    // (4. fewest victims: with the 2^31 offset per pod, equal sums imply equal counts for valid priorities.)
    // 5. latest start time among the highest-priority victims.
    expect(pickOneNodeForPreemption([
      cand('a', [v('1', 10, '2025-01-01T00:00:00Z')]), cand('b', [v('2', 10, '2025-01-01T05:00:00Z')]),
    ])!.nodeName).toBe('b');
    // 6. a full tie: the first.
    expect(pickOneNodeForPreemption([cand('a', [v('1', 10)]), cand('b', [v('2', 10)])])!.nodeName).toBe('a');
  });

  it('the scheduler nominates the node whose victims matter least', () => {
    const s = offline([node('n1', { cpu: '2' }), node('n2', { cpu: '2' }), node('n3', { cpu: '2' })], [
      prio('p1', 50, { cpu: '2', nodeName: 'n1' }),
      prio('p2', 10, { cpu: '2', nodeName: 'n2' }),
      prio('p3', 20, { cpu: '2', nodeName: 'n3' }),
    ]);
    const e = fitError(s, prio('hi', 100, { cpu: '2' }));
    expect(e.postFilter?.nominatedNodeName).toBe('n2');
    // Preemption succeeded: the message carries only the filter part, as upstream.
    expect(e.message).toBe('0/3 nodes are available: 3 Insufficient cpu.');
    expect(s.preemption!.preempting.has('default/p2')).toBe(true);
  });
});

describe('eligibility and unresolvable nodes', () => {
  it('refuses to be built without Filter access (it would only pretend to preempt)', () => {
    expect(() => new DefaultPreemption({ snapshot: () => new SchedulerCache() })).toThrow(/DefaultPreemption: the handle must run Filter/);
  });

  it('preemptionPolicy Never does not preempt', () => {
    const s = offline([node('n1', { cpu: '2' })], [prio('low', 1, { cpu: '2', nodeName: 'n1' })]);
    const e = fitError(s, prio('hi', 100, { cpu: '2', spec: { preemptionPolicy: 'Never' } }));
    expect(e.postFilter?.nominatedNodeName).toBeUndefined();
    expect(e.message).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..');
    expect(s.preemption!.preempting.size).toBe(0);
  });

  it('skips nodes where the failure is unresolvable (taint, node selector) and says so', () => {
    const s = offline([
      node('tainted', { cpu: '2', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      node('other', { cpu: '2', labels: { disk: 'hdd' } }),
    ], [prio('l1', 1, { cpu: '2', nodeName: 'tainted' }), prio('l2', 1, { cpu: '2', nodeName: 'other' })]);
    const e = fitError(s, prio('hi', 100, { cpu: '1', spec: { nodeSelector: { disk: 'ssd' } } }));
    expect(e.postFilter?.nominatedNodeName).toBe('');
    expect(e.message).toBe("0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}. "
      + `preemption: 0/2 nodes are available: 2 ${ErrNotHelpful}..`);
  });

  it('reports per node why preemption cannot help, as upstream', () => {
    const s = offline([node('n1', { cpu: '2' }), node('n2', { cpu: '2' }), node('n3', { cpu: '2', taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] })], [
      prio('same', 100, { cpu: '2', nodeName: 'n1' }),       // equal priority: not a victim
      prio('small', 1, { cpu: '500m', nodeName: 'n2' }), prio('big', 100, { cpu: '1500m', nodeName: 'n2' }),
    ]);
    const e = fitError(s, prio('hi', 100, { cpu: '2' }));
    expect(e.message).toBe('0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu. '
      + `preemption: 0/3 nodes are available: 1 Insufficient cpu, 1 ${ErrNoVictims}, 1 ${ErrNotHelpful}..`);
  });

  it('does not preempt again while a lower-priority pod on its nominated node is terminating', () => {
    const s = offline([node('n1', { cpu: '2' }), node('n2', { cpu: '2' })], [
      prio('v1', 1, { cpu: '2', nodeName: 'n1' }), prio('v2', 1, { cpu: '2', nodeName: 'n2' }),
    ]);
    const hi = prio('hi', 100, { cpu: '2' });
    const first = fitError(s, hi);
    const nominated = first.postFilter!.nominatedNodeName!;
    s.nominator.add(hi, nominated);
    const second = fitError(s, hi);
    expect(second.postFilter?.nominatedNodeName).toBeUndefined();
    expect(second.message).toBe('0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node..');
    // The victim is gone: the pod goes to its nominated node.
    s.cache.removePod(`default/${nominated === 'n1' ? 'v1' : 'v2'}`);
    s.preemption!.victimObserved(`default/${nominated === 'n1' ? 'v1' : 'v2'}`);
    expect(s.schedulePod(new CycleState(), hi).nodeName).toBe(nominated);
  });
});

describe('nominated pods in Filter', () => {
  it('a node nominated to a higher-priority pod is full for lower-priority pods, not for higher ones', () => {
    const s = offline([node('n1', { cpu: '2' })]);
    s.nominator.add(prio('waiting', 50, { cpu: '2' }), 'n1');
    const low = fitError(s, prio('low', 10, { cpu: '1' }));
    expect(low.message).toMatch(/^0\/1 nodes are available: 1 Insufficient cpu\./);
    expect(s.schedulePod(new CycleState(), prio('higher', 60, { cpu: '1' })).nodeName).toBe('n1');
    expect(fitError(s, prio('equal', 50, { cpu: '1' })).message).toMatch(/Insufficient cpu/);
    s.nominator.delete('default/waiting');
    expect(s.schedulePod(new CycleState(), prio('low', 10, { cpu: '1' })).nodeName).toBe('n1');
  });
});

describe('queue order', () => {
  it('pops higher priority first, then earlier arrivals', async () => {
    let t = 0;
    const q = new SchedulingQueue({ now: () => ++t });
    q.add(prio('a', 1));
    q.add(prio('b', 10));
    q.add(prio('c', 1));
    q.add(prio('d', 10));
    q.add(prio('e', 5));
    const order: string[] = [];
    for (let i = 0; i < 5; i++) order.push((await q.pop())!.pod.metadata.name);
    q.close();
    expect(order).toEqual(['b', 'd', 'e', 'a', 'c']);
  });
});

describe('preemption against the fake cluster', () => {
  it('nominates, marks and deletes the victims with a Preempted event, then binds the preemptor there', async () => {
    const f = new FakeCluster();
    f.seed(R.nodes, node('n1', { cpu: '2' }), node('n2', { cpu: '2' }));
    f.seed(R.pods,
      prio('low-1', 1, { cpu: '2', nodeName: 'n1', startTime: '2025-01-01T00:00:00Z' }),
      prio('low-2', 1, { cpu: '2', nodeName: 'n2', startTime: '2025-01-01T01:00:00Z' }));
    // low-2 is protected by a budget: low-1 must be the victim although it started earlier.
    f.seed(R.poddisruptionbudgets, pdb('keep-2', { matchLabels: { app: 'two' } }, { minAvailable: 1 }, { observedGeneration: 1, disruptionsAllowed: 0 }));
    const l2 = f.peek(R.pods, 'default', 'low-2')!;
    l2.metadata.labels = { app: 'two' };
    await f.update(R.pods, l2);
    const s = new Scheduler({ client: f, queue: { initialBackoffMs: 20, maxBackoffMs: 100 } });
    scheds.push(s);
    await s.start();
    const hi = await f.create(R.pods, 'default', prio('hi', 1000, { cpu: '2' }));
    await waitFor(() => f.peek(R.pods, 'default', 'hi')?.spec.nodeName === 'n1', 5000, 'preemptor bound to n1');
    expect(f.peek(R.pods, 'default', 'low-1')).toBeUndefined();
    expect(f.peek(R.pods, 'default', 'low-2')).toBeDefined();
    const cond = f.writes('patch', 'pods').find((w) => w.name === 'low-1')!.object.status.conditions.at(-1);
    expect(cond).toMatchObject({ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: 'default-scheduler: preempting to accommodate a higher priority pod' });
    const nominated = f.writes('patch', 'pods').find((w) => w.name === 'hi' && w.object.status.nominatedNodeName);
    expect(nominated?.object.status.nominatedNodeName).toBe('n1');
    await waitFor(() => f.all(R.events).some((e) => e.reason === 'Preempted'), 2000, 'Preempted event');
    const ev = f.all(R.events).find((e) => e.reason === 'Preempted')!;
    expect(ev).toMatchObject({ type: 'Normal', involvedObject: { name: 'low-1' }, message: `Preempted by pod ${hi.metadata.uid} on node n1` });
    expect(s.nominator.size).toBe(0);
  });

  it('clears a nomination when the pod binds elsewhere, and forgets it when the pod is deleted', async () => {
    const f = new FakeCluster();
    f.seed(R.nodes, node('n1', { cpu: '2' }), node('n2', { cpu: '2' }), node('n3', { cpu: '2' }));
    f.seed(R.pods, prio('vip-1', 1000, { cpu: '2', nodeName: 'n1' }), prio('vip-2', 1000, { cpu: '2', nodeName: 'n2' }));
    const moved = prio('moved', 100, { cpu: '1' });
    moved.status.nominatedNodeName = 'n1';
    const stuck = prio('stuck', 100, { cpu: '4' });
    stuck.status.nominatedNodeName = 'n2';
    f.seed(R.pods, moved, stuck);
    const s = new Scheduler({ client: f, queue: { initialBackoffMs: 20, maxBackoffMs: 100 } });
    scheds.push(s);
    await s.start();
    // n1 is held by a higher-priority pod: "moved" goes to n3 and its stale nomination is cleared.
    await waitFor(() => f.peek(R.pods, 'default', 'moved')?.spec.nodeName === 'n3', 5000, 'moved bound to n3');
    await waitFor(() => !f.peek(R.pods, 'default', 'moved')!.status.nominatedNodeName, 3000, 'nomination cleared');
    expect(s.nominator.nominatedNodeOf('default/moved')).toBeUndefined();
    // "stuck" fits nowhere (4 cpu) and no node has victims for it: its nomination is cleared too.
    await waitFor(() => f.peek(R.pods, 'default', 'stuck')!.status.nominatedNodeName === undefined || f.peek(R.pods, 'default', 'stuck')!.status.nominatedNodeName === null, 3000, 'stuck nomination cleared');
    expect(s.nominator.size).toBe(0);
    // A nominated pod that is deleted leaves the nominator.
    s.nominator.add(f.peek(R.pods, 'default', 'stuck')!, 'n2');
    await f.delete(R.pods, 'default', 'stuck');
    await waitFor(() => s.nominator.size === 0, 3000, 'nominator empty');
  });

  it('retries the preemptor when a victim cannot be evicted', async () => {
    const f = new FakeCluster();
    f.seed(R.nodes, node('n1', { cpu: '2' }));
    f.seed(R.pods, prio('low', 1, { cpu: '2', nodeName: 'n1' }));
    const { ApiError } = await import('../../server/controllers/client');
    f.failNext('delete', 'pods', new ApiError(500, 'InternalError', 'store busy'), 1);
    const logs: string[] = [];
    const s = new Scheduler({ client: f, queue: { initialBackoffMs: 20, maxBackoffMs: 100 }, logger: (m) => logs.push(m) });
    scheds.push(s);
    await s.start();
    await f.create(R.pods, 'default', prio('hi', 100, { cpu: '2' }));
    await waitFor(() => f.peek(R.pods, 'default', 'hi')?.spec.nodeName === 'n1', 5000, 'hi bound after a retried eviction');
    expect(logs.some((l) => l.includes('preempting for default/hi: default/low: store busy'))).toBe(true);
    // The fake records only writes that happened: the one successful delete, on the retry.
    expect(f.writes('delete', 'pods').filter((w) => w.name === 'low').length).toBe(1);
    expect(f.peek(R.pods, 'default', 'low')).toBeUndefined();
  });
});
