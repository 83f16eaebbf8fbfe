// Preemption in a real in-process `orch server` (SQLite store, Priority admission, the real
// scheduler) on two hollow nodes, driven by the real kubectl: low-priority pods fill both nodes,
// a high-priority pod is nominated to one, that node's pods are evicted gracefully (DisruptionTarget
// condition, Preempted event shown by `kubectl describe`), and once the hollow kubelet finishes
// their deletion the preemptor is bound there; the other node's pods are untouched. A class with
// preemptionPolicy: Never leaves its pod Pending with upstream's message and evicts nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from './helpers/cluster';
import { startHollowCluster, type HollowCluster } from './helpers/hollow-cluster';
import { waitFor } from '../unit/helpers/wait';

const NS = 'preempt';
const NODES = ['preempt-1', 'preempt-2'];
let h: HollowCluster | undefined;
let c: TestCluster;

const getPod = async (name: string): Promise<any> => JSON.parse(await c.kubectlOk(['get', 'pod', name, '-n', NS, '-o', 'json']));
const podYaml = (name: string, priorityClassName: string, cpu: string) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { tier: priorityClassName } },
  spec: { priorityClassName, terminationGracePeriodSeconds: 30, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu } } }] },
});

beforeAll(async () => {
  h = await startHollowCluster({
    nodes: NODES, cpu: '2', kubeletNamespace: NS, kubeletWorkers: 4,
    prepare: async ({ c }) => {
      await c.kubectlOk(['create', 'namespace', NS]);
      await waitFor(async () => (await c.kubectl(['get', 'serviceaccount', 'default', '-n', NS])).code === 0, 20_000, 'default ServiceAccount');
      await c.kubectlOk(['create', 'priorityclass', 'low', '--value=10']);
      await c.kubectlOk(['create', 'priorityclass', 'high', '--value=1000']);
    },
  });
  c = h.c;
}, 60_000);

afterAll(async () => { await h?.stop(); }, 60_000);

describe('scheduler preemption', () => {
  it('evicts the lower-priority pods of one node for a high-priority pod, which then binds there', async () => {
    for (let i = 0; i < 4; i++) await c.kubectlOk(['create', '-f', '-'], { input: podYaml(`low-${i}`, 'low', '1') });
    await waitFor(async () => (await c.kubectlOk(['get', 'pods', '-n', NS, '-l', 'tier=low', '-o', 'jsonpath={.items[*].status.phase}'])).split(' ').filter((p) => p === 'Running').length === 4,
      20_000, 'four low pods Running');
    const lows = await Promise.all([0, 1, 2, 3].map((i) => getPod(`low-${i}`)));
    expect(lows.map((p) => p.spec.priority)).toEqual([10, 10, 10, 10]);
    // Stop the kubelet so the victims stay Terminating long enough to look at them.
    await h!.stopKubelet();

    await c.kubectlOk(['create', '-f', '-'], { input: podYaml('high', 'high', '2') });
    let nominated = '';
    await waitFor(async () => { nominated = (await getPod('high')).status?.nominatedNodeName ?? ''; return nominated !== ''; }, 20_000, 'high nominated');
    expect(NODES).toContain(nominated);
    // kubectl's wide columns: NAME READY STATUS RESTARTS AGE IP NODE NOMINATED-NODE READINESS-GATES.
    const wide = (await c.kubectlOk(['get', 'pod', 'high', '-n', NS, '-o', 'wide', '--no-headers'])).trim().split(/\s+/);
    expect([wide[0], wide[2], wide[6], wide[7]]).toEqual(['high', 'Pending', '<none>', nominated]);
    const victims = lows.filter((p) => p.spec.nodeName === nominated).map((p) => p.metadata.name as string);
    const spared = lows.filter((p) => p.spec.nodeName !== nominated).map((p) => p.metadata.name as string);
    expect(victims).toHaveLength(2);
    await waitFor(async () => (await Promise.all(victims.map(getPod))).every((p) => p.metadata.deletionTimestamp), 20_000, 'victims terminating');

    const high = await getPod('high');
    expect(high.spec.nodeName).toBeUndefined();
    expect(high.status.conditions.find((x: any) => x.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient cpu.' });
    const victim = await getPod(victims[0]);
    expect(victim.status.conditions.find((x: any) => x.type === 'DisruptionTarget')).toMatchObject({
      status: 'True', reason: 'PreemptionByScheduler', message: 'default-scheduler: preempting to accommodate a higher priority pod',
    });
    let described = '';
    await waitFor(async () => { described = await c.kubectlOk(['describe', 'pod', victims[0], '-n', NS]); return described.includes('Preempted'); }, 10_000, 'Preempted event');
    expect(described).toMatch(new RegExp(`Normal\\s+Preempted\\s+\\S+\\s+default-scheduler\\s+Preempted by pod ${high.metadata.uid} on node ${nominated}`));
    expect(described).toMatch(/Status:\s+Terminating/);
    expect(described).toMatch(/DisruptionTarget\s+True/);
    // While the victims terminate the preemptor waits; it does not preempt on the other node.
    expect((await Promise.all(spared.map(getPod))).every((p) => !p.metadata.deletionTimestamp)).toBe(true);

    // The kubelet finishes the graceful deletions; the preemptor binds to its nominated node.
    await h!.startKubelet();
    await waitFor(async () => (await getPod('high')).spec.nodeName === nominated, 30_000, `high bound to ${nominated}`);
    for (const v of victims) expect((await c.kubectl(['get', 'pod', v, '-n', NS])).code).not.toBe(0);
    const rest = await Promise.all(spared.map(getPod));
    expect(rest.every((p) => !p.metadata.deletionTimestamp && p.spec.nodeName !== nominated)).toBe(true);
    const events = await c.kubectlOk(['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=high', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);
    expect(events.split('\n')).toEqual(expect.arrayContaining(['FailedScheduling', 'Scheduled']));
  }, 120_000);

  it('does not preempt for a pod whose PriorityClass says preemptionPolicy: Never', async () => {
    await c.kubectlOk(['create', 'priorityclass', 'high-never', '--value=1000', '--preemption-policy=Never']);
    const before = JSON.parse(await c.kubectlOk(['get', 'pods', '-n', NS, '-l', 'tier=low', '-o', 'json'])).items.map((p: any) => p.metadata.uid).sort();
    expect(before).toHaveLength(2);
    await c.kubectlOk(['create', '-f', '-'], { input: podYaml('never', 'high-never', '1') });
    let cond: any;
    await waitFor(async () => { cond = (await getPod('never')).status?.conditions?.find((x: any) => x.type === 'PodScheduled'); return !!cond; }, 20_000, 'never: PodScheduled condition');
    expect((await getPod('never')).spec).toMatchObject({ priority: 1000, preemptionPolicy: 'Never' });
    expect(cond).toMatchObject({ status: 'False', reason: 'Unschedulable',
      message: '0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..' });
    const after = JSON.parse(await c.kubectlOk(['get', 'pods', '-n', NS, '-l', 'tier=low', '-o', 'json'])).items;
    expect(after.map((p: any) => p.metadata.uid).sort()).toEqual(before);
    expect(after.every((p: any) => !p.metadata.deletionTimestamp)).toBe(true);
    expect((await getPod('never')).status.nominatedNodeName).toBeUndefined();
  }, 60_000);
});
