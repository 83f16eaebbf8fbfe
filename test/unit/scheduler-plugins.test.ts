import { describe, expect, it } from 'vitest';
import { PodInfo, SchedulerCache } from '../../server/scheduler/cache';
import { Code, CycleState, FitError, Framework, Status, fitErrorMessage } from '../../server/scheduler/framework';
import { defaultProfile } from '../../server/scheduler/registry';
import { NodeAffinity, NodeName, NodePorts, NodeUnschedulable, TaintToleration } from '../../server/scheduler/plugins/basic';
import { DefaultPreemption } from '../../server/scheduler/plugins/defaultpreemption';
import { InterPodAffinity } from '../../server/scheduler/plugins/interpodaffinity';
import { NodeResourcesBalancedAllocation, NodeResourcesFit } from '../../server/scheduler/plugins/noderesources';
import { PodTopologySpread } from '../../server/scheduler/plugins/podtopologyspread';
import { parseQuantity, podRequests } from '../../server/scheduler/resources';
import { node, pod } from './helpers/objects';

function cacheWith(nodes: any[], pods: any[] = []): SchedulerCache {
  const c = new SchedulerCache();
  for (const n of nodes) c.addOrUpdateNode(n);
  for (const p of pods) c.addOrUpdatePod(p);
  return c;
}

describe('resources', () => {
  it('parses quantities', () => {
    expect(parseQuantity('100m')).toBeCloseTo(0.1);
    expect(parseQuantity('128Mi')).toBe(128 * 1024 * 1024);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('2')).toBe(2);
    expect(() => parseQuantity('12xyz')).toThrow(/quantities must match/);
  });
  it('takes the max of init containers, adds sidecars and overhead', () => {
    const p = pod('p', { spec: {
      containers: [{ name: 'a', resources: { requests: { cpu: '100m', memory: '100Mi' } } }, { name: 'b', resources: { requests: { cpu: '200m' } } }],
      initContainers: [{ name: 'i1', resources: { requests: { cpu: '1', memory: '10Mi' } } }],
      overhead: { cpu: '50m' },
    } });
    expect(podRequests(p)).toEqual({ cpu: 1050, memory: 100 * 2 ** 20 });
    const nz = podRequests(pod('q'), true);
    expect(nz).toEqual({ cpu: 100, memory: 200 * 2 ** 20 });
  });
});

describe('filter plugins', () => {
  const s = new CycleState();
  it('NodeName and NodeUnschedulable', () => {
    const c = cacheWith([node('a'), node('b', { unschedulable: true })]);
    expect(new NodeName().filter(s, pod('p', { spec: { nodeName: 'a' } }), c.get('b')!).reasons).toEqual(["node(s) didn't match the requested node name"]);
    expect(new NodeName().filter(s, pod('p'), c.get('b')!).isSuccess()).toBe(true);
    const st = new NodeUnschedulable().filter(s, pod('p'), c.get('b')!);
    expect(st.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(st.reasons).toEqual(['node(s) were unschedulable']);
    const tolerant = pod('p', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
    expect(new NodeUnschedulable().filter(s, tolerant, c.get('b')!).isSuccess()).toBe(true);
  });

  it('NodeAffinity: nodeSelector, required terms (In/NotIn/Gt, matchFields) and preferred scoring', () => {
    const c = cacheWith([node('a', { labels: { disk: 'ssd', gen: '5' } }), node('b', { labels: { disk: 'hdd', gen: '3' } })]);
    const na = new NodeAffinity();
    expect(na.filter(s, pod('p', { spec: { nodeSelector: { disk: 'ssd' } } }), c.get('b')!).reasons).toEqual(["node(s) didn't match Pod's node affinity/selector"]);
    const req = pod('p', { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
      { matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] },
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] },
    ] } } } } });
    expect(na.filter(s, req, c.get('a')!).isSuccess()).toBe(true);
    expect(na.filter(s, req, c.get('b')!).isSuccess()).toBe(true);
    const pref = pod('p', { spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['hdd'] }] } },
      { weight: 5, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
    ] } } } });
    const scores = [{ name: 'a', score: na.score(s, pref, c.get('a')!) }, { name: 'b', score: na.score(s, pref, c.get('b')!) }];
    na.normalizeScore(s, pref, scores);
    expect(scores).toEqual([{ name: 'a', score: 50 }, { name: 'b', score: 100 }]);
  });

  it('TaintToleration filters NoSchedule/NoExecute and scores PreferNoSchedule', () => {
    const c = cacheWith([
      node('a', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      node('b', { taints: [{ key: 'soft', value: 'x', effect: 'PreferNoSchedule' }] }),
      node('c'),
    ]);
    const tt = new TaintToleration();
    expect(tt.filter(s, pod('p'), c.get('a')!).reasons).toEqual(['node(s) had untolerated taint {dedicated: gpu}']);
    expect(tt.filter(s, pod('p', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } }), c.get('a')!).isSuccess()).toBe(true);
    expect(tt.filter(s, pod('p', { spec: { tolerations: [{ operator: 'Exists' }] } }), c.get('a')!).isSuccess()).toBe(true);
    expect(tt.filter(s, pod('p', { spec: { tolerations: [{ key: 'dedicated', value: 'cpu' }] } }), c.get('a')!).isSuccess()).toBe(false);
    expect(tt.filter(s, pod('p'), c.get('b')!).isSuccess()).toBe(true);
    const scores = ['b', 'c'].map((n) => ({ name: n, score: tt.score(s, pod('p'), c.get(n)!) }));
    tt.normalizeScore(s, pod('p'), scores);
    expect(scores).toEqual([{ name: 'b', score: 0 }, { name: 'c', score: 100 }]);
  });

  it('NodeResourcesFit: requests vs allocatable, all insufficient resources, pod count', () => {
    const c = cacheWith([node('a', { cpu: '1', memory: '1Gi', pods: '2' })], [pod('x', { nodeName: 'a', cpu: '600m', memory: '100Mi' })]);
    const fit = new NodeResourcesFit();
    const st = new CycleState();
    const big = pod('p', { cpu: '500m', memory: '2Gi' });
    fit.preFilter(st, big);
    expect(fit.filter(st, big, c.get('a')!).reasons).toEqual(['Insufficient cpu', 'Insufficient memory']);
    const small = pod('q', { cpu: '400m' });
    const st2 = new CycleState();
    fit.preFilter(st2, small);
    expect(fit.filter(st2, small, c.get('a')!).isSuccess()).toBe(true);
    c.addOrUpdatePod(pod('y', { nodeName: 'a' }));
    expect(fit.filter(st2, small, c.get('a')!).reasons).toEqual(['Too many pods']);
  });

  it('NodePorts: host port conflicts', () => {
    const withPort = (name: string, nodeName?: string) => pod(name, { nodeName, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080 }] }] } });
    const c = cacheWith([node('a'), node('b')], [withPort('x', 'a')]);
    expect(new NodePorts().filter(s, withPort('p'), c.get('a')!).reasons).toEqual(["node(s) didn't have free ports for the requested pod ports"]);
    expect(new NodePorts().filter(s, withPort('p'), c.get('b')!).isSuccess()).toBe(true);
  });

  it('InterPodAffinity: required anti-affinity by hostname, existing anti-affinity, required affinity incl. first pod', () => {
    const anti = (name: string, nodeName?: string) => pod(name, { nodeName, labels: { app: 'db' }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [
      { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } } } });
    const c = cacheWith([node('a'), node('b')], [anti('db-0', 'a')]);
    const ipa = new InterPodAffinity({ snapshot: () => c });
    const st = new CycleState();
    const p = anti('db-1');
    expect(ipa.preFilter(st, p).isSuccess()).toBe(true);
    expect(ipa.filter(st, p, c.get('a')!).reasons).toEqual(["node(s) didn't satisfy existing pods anti-affinity rules"]);
    expect(ipa.filter(st, p, c.get('b')!).isSuccess()).toBe(true);
    // A pod without affinity but matched by the existing pod's anti-affinity is kept away too.
    const plain = pod('plain', { labels: { app: 'db' } });
    const st2 = new CycleState();
    expect(ipa.preFilter(st2, plain).isSuccess()).toBe(true);
    expect(ipa.filter(st2, plain, c.get('a')!).isSuccess()).toBe(false);
    // Required affinity: follow the cache pod; the first of a self-selecting group goes anywhere.
    const web = (name: string) => pod(name, { labels: { app: 'web' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [
      { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } } } });
    const c2 = cacheWith([node('a'), node('b')]);
    const ipa2 = new InterPodAffinity({ snapshot: () => c2 });
    const st3 = new CycleState();
    ipa2.preFilter(st3, web('w0'));
    expect(ipa2.filter(st3, web('w0'), c2.get('a')!).isSuccess()).toBe(true);
    c2.addOrUpdatePod({ ...web('w0'), spec: { ...web('w0').spec, nodeName: 'b' } });
    const st4 = new CycleState();
    ipa2.preFilter(st4, web('w1'));
    expect(ipa2.filter(st4, web('w1'), c2.get('a')!).reasons).toEqual(["node(s) didn't match pod affinity rules"]);
    expect(ipa2.filter(st4, web('w1'), c2.get('b')!).code).toBe(Code.Success);
  });

  it('InterPodAffinity: preferred anti-affinity scores nodes with matching pods lower', () => {
    const c = cacheWith([node('a'), node('b')], [pod('w0', { nodeName: 'a', labels: { app: 'web' } })]);
    const ipa = new InterPodAffinity({ snapshot: () => c });
    const p = pod('w1', { labels: { app: 'web' }, spec: { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' } }] } } } });
    const st = new CycleState();
    expect(ipa.preScore(st, p).isSuccess()).toBe(true);
    const scores = ['a', 'b'].map((n) => ({ name: n, score: ipa.score(st, p, c.get(n)!) }));
    ipa.normalizeScore(st, p, scores);
    expect(scores).toEqual([{ name: 'a', score: 0 }, { name: 'b', score: 100 }]);
  });

  it('PodTopologySpread: maxSkew on hostname, missing label, ScheduleAnyway scoring', () => {
    const c = cacheWith([node('a'), node('b'), node('nolabel')],
      [pod('w0', { nodeName: 'a', labels: { app: 'web' } }), pod('w1', { nodeName: 'a', labels: { app: 'web' } })]);
    c.addOrUpdateNode({ ...node('nolabel'), metadata: { name: 'nolabel', labels: {} } });
    const pts = new PodTopologySpread({ snapshot: () => c });
    const spread = (when: string) => pod('w2', { labels: { app: 'web' }, spec: { topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: when, labelSelector: { matchLabels: { app: 'web' } } }] } });
    const st = new CycleState();
    const p = spread('DoNotSchedule');
    expect(pts.preFilter(st, p).isSuccess()).toBe(true);
    expect(pts.filter(st, p, c.get('a')!).reasons).toEqual(["node(s) didn't match pod topology spread constraints"]);
    expect(pts.filter(st, p, c.get('b')!).isSuccess()).toBe(true);
    expect(pts.filter(st, p, c.get('nolabel')!).reasons).toEqual(["node(s) didn't match pod topology spread constraints (missing required label)"]);
    const q = spread('ScheduleAnyway');
    const st2 = new CycleState();
    expect(pts.preFilter(st2, q).code).toBe(Code.Skip);
    pts.preScore(st2, q, [c.get('a')!, c.get('b')!]);
    const scores = ['a', 'b'].map((n) => ({ name: n, score: pts.score(st2, q, c.get(n)!) }));
    pts.normalizeScore(st2, q, scores);
    expect(scores[1].score).toBeGreaterThan(scores[0].score);
    expect(scores[1].score).toBe(100);
  });

  it('LeastAllocated and BalancedAllocation scores', () => {
    const c = cacheWith([node('a', { cpu: '4', memory: '4Gi' }), node('b', { cpu: '4', memory: '4Gi' })],
      [pod('x', { nodeName: 'a', cpu: '2', memory: '512Mi' })]);
    const fit = new NodeResourcesFit();
    const st = new CycleState();
    const p = pod('p', { cpu: '1', memory: '1Gi' });
    fit.preFilter(st, p);
    // a: cpu (4000-3000)/4000 = 25, mem (4Gi-1.5Gi)/4Gi = 62 -> 43; b: cpu 75, mem 75 -> 75
    expect(fit.score(st, p, c.get('a')!)).toBe(43);
    expect(fit.score(st, p, c.get('b')!)).toBe(75);
    const ba = new NodeResourcesBalancedAllocation();
    // a: cpu 0.75, mem 0.375 -> std 0.1875 -> 81; b: 0.25/0.25 -> 100
    expect(ba.score(st, p, c.get('a')!)).toBe(81);
    expect(ba.score(st, p, c.get('b')!)).toBe(100);
  });
});

describe('FitError', () => {
  it('formats the message exactly like upstream, including the preemption PostFilter part', () => {
    const statuses = new Map<string, Status>([
      ['n1', Status.unresolvable('node(s) had untolerated taint {dedicated: gpu}')],
      ['n2', Status.unschedulable('Insufficient cpu')],
      ['n3', Status.unschedulable('Insufficient cpu')],
    ]);
    // Only n2 and n3 may help, and they hold no lower-priority pods.
    const c = cacheWith([node('n1'), node('n2'), node('n3')]);
    const fw = new Framework(defaultProfile(), []);
    const pre = new DefaultPreemption({ snapshot: () => c, runFilterWithNominatedPods: (s, p, n) => fw.runFilterWithNominatedPods(s, p, n) });
    const r = pre.postFilter(new CycleState(), pod('p'), statuses, 3);
    expect(r.status.isSuccess()).toBe(false);
    expect(r.nominatedNodeName).toBe('');
    const post = r.message;
    const err = new FitError(pod('p'), 3, statuses, '', post);
    expect(err.message).toBe('0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. '
      + 'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..');
    expect(fitErrorMessage(0, new Map(), '', '')).toBe('0/0 nodes are available:');
  });
});

describe('PodInfo', () => {
  it('defaults affinity namespaces to the pod namespace', () => {
    const pi = new PodInfo(pod('p', { ns: 'team', spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [
      { labelSelector: { matchLabels: { a: 'b' } }, topologyKey: 'kubernetes.io/hostname' }] } } } }));
    expect([...pi.requiredAntiAffinity[0].namespaces!]).toEqual(['team']);
  });
});
