import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import type { QueueController } from '../../server/controllers/controller';
import { resolveFenceposts } from '../../server/controllers/deployment/util';
import { computeHash, safeEncodeString } from '../../server/controllers/util/pods';
import { startControllers, type Harness } from './helpers/harness';
import { markPodsReady, startHollowKubelet } from './helpers/hollow';
import { waitFor } from './helpers/wait';

function deploy(name: string, replicas: number, extra: any = {}) {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: 'default', annotations: extra.annotations },
    spec: {
      replicas, selector: { matchLabels: { app: name } }, revisionHistoryLimit: extra.revisionHistoryLimit ?? 10,
      progressDeadlineSeconds: extra.progressDeadlineSeconds ?? 600, paused: extra.paused,
      strategy: extra.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: extra.image ?? 'busybox:1' }] } },
    },
  };
}

let h: Harness | undefined;
let kubelet: { stop(): Promise<void> } | undefined;
afterEach(async () => { await kubelet?.stop(); kubelet = undefined; await h?.stop(); h = undefined; });

const rsOf = (f: any) => f.all(R.replicasets).sort((a: any, b: any) => Number(a.metadata.annotations['deployment.kubernetes.io/revision']) - Number(b.metadata.annotations['deployment.kubernetes.io/revision']));

function complete(d: any): boolean {
  const s = d?.status;
  return !!s && s.observedGeneration >= d.metadata.generation && s.updatedReplicas === d.spec.replicas && s.replicas === d.spec.replicas
    && s.availableReplicas === d.spec.replicas && s.conditions?.some((c: any) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable');
}

describe('deployment arithmetic', () => {
  it('rounds surge up and unavailable down, as upstream', () => {
    const d = deploy('x', 10);
    expect(resolveFenceposts(d)).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts(deploy('x', 1))).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(deploy('x', 3, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }))).toEqual({ surge: 0, unavailable: 1 });
  });
  it('hashes templates with the collision count into safe-encoded names', () => {
    const t = deploy('x', 1).spec.template;
    expect(computeHash(t)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(computeHash(t, 1)).not.toBe(computeHash(t));
    expect(computeHash(t)).toBe(computeHash(structuredClone(t)));
    expect(safeEncodeString('123')).toBe('567');
  });
});

describe('Deployment controller', () => {
  it('creates <deploy>-<hash> with pod-template-hash, revision 1, and completes with the conditions rollout status reads', async () => {
    h = await startControllers(['deployment', 'replicaset']);
    const { f } = h;
    kubelet = startHollowKubelet(f, { assignTo: 'n1' });
    await f.create(R.deployments, 'default', deploy('web', 3, { annotations: { 'kubernetes.io/change-cause': 'first' } }));
    await waitFor(() => complete(f.peek(R.deployments, 'default', 'web')), 5000, 'rollout complete');
    const [rs] = rsOf(f);
    const hash = rs.metadata.labels['pod-template-hash'];
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.spec.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '1', 'kubernetes.io/change-cause': 'first',
      'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
    expect(rs.metadata.ownerReferences[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });
    const d = f.peek(R.deployments, 'default', 'web')!;
    expect(d.metadata.annotations!['deployment.kubernetes.io/revision']).toBe('1');
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: d.metadata.generation });
    expect(d.status.conditions.map((c: any) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'], ['Progressing', 'True', 'NewReplicaSetAvailable']]);
    expect(d.status.conditions[1].message).toBe(`ReplicaSet "web-${hash}" has successfully progressed.`);
    await h.mgr.ctx.recorder('deployment-controller');
    await waitFor(() => f.all(R.events).some((e) => e.message === `Scaled up replica set web-${hash} from 0 to 3`), 2000, 'event');
  });

  it('rolls out a new template within maxSurge/maxUnavailable, then rolls back reusing the old ReplicaSet', async () => {
    h = await startControllers(['deployment', 'replicaset']);
    const { f } = h;
    kubelet = startHollowKubelet(f, { assignTo: 'n1' });
    await f.create(R.deployments, 'default', deploy('web', 4));
    await waitFor(() => complete(f.peek(R.deployments, 'default', 'web')), 5000);
    // Watch the bounds while rolling: total pods <= 4 + 1 (25% of 4 rounds up to 1); ready >= 3.
    let maxPods = 0;
    let minReady = Infinity;
    const probe = setInterval(() => {
      const pods = f.all(R.pods);
      maxPods = Math.max(maxPods, pods.length);
      minReady = Math.min(minReady, pods.filter((p) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length);
    }, 1);
    await f.patch(R.deployments, 'default', 'web', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } });
    await waitFor(() => complete(f.peek(R.deployments, 'default', 'web')) && f.all(R.pods).length === 4
      && f.all(R.pods).every((p) => p.spec.containers[0].image === 'busybox:2'), 8000, 'rolled to v2');
    clearInterval(probe);
    expect(maxPods).toBeLessThanOrEqual(5);
    expect(minReady).toBeGreaterThanOrEqual(3);
    const [v1, v2] = rsOf(f);
    expect(v1.spec.replicas).toBe(0);
    expect(v2.metadata.annotations['deployment.kubernetes.io/revision']).toBe('2');
    // kubectl rollout undo: a JSON patch puts revision 1's template (minus the hash) back.
    const tmpl = structuredClone(v1.spec.template);
    delete tmpl.metadata.labels['pod-template-hash'];
    await f.patch(R.deployments, 'default', 'web', 'json', [{ op: 'replace', path: '/spec/template', value: tmpl }]);
    await waitFor(() => complete(f.peek(R.deployments, 'default', 'web')) && f.all(R.pods).every((p) => p.spec.containers[0].image === 'busybox:1')
      && f.all(R.pods).length === 4, 8000, 'rolled back');
    const after = f.all(R.replicasets);
    expect(after).toHaveLength(2);
    const reused = after.find((r) => r.metadata.name === v1.metadata.name)!;
    expect(reused.metadata.annotations!['deployment.kubernetes.io/revision']).toBe('3');
    expect(reused.metadata.annotations!['deployment.kubernetes.io/revision-history']).toBe('1');
    expect(f.peek(R.deployments, 'default', 'web')!.metadata.annotations!['deployment.kubernetes.io/revision']).toBe('3');
  });

  it('Recreate deletes all old pods before creating new ones', async () => {
    h = await startControllers(['deployment', 'replicaset']);
    const { f } = h;
    kubelet = startHollowKubelet(f, { assignTo: 'n1' });
    await f.create(R.deployments, 'default', deploy('db', 2, { strategy: { type: 'Recreate' } }));
    await waitFor(() => complete(f.peek(R.deployments, 'default', 'db')), 5000);
    let mixed = false;
    const probe = setInterval(() => {
      const images = new Set(f.all(R.pods).map((p) => p.spec.containers[0].image));
      if (images.size > 1) mixed = true;
    }, 1);
    await f.patch(R.deployments, 'default', 'db', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } });
    await waitFor(() => complete(f.peek(R.deployments, 'default', 'db')) && f.all(R.pods).every((p) => p.spec.containers[0].image === 'busybox:2') && f.all(R.pods).length === 2, 8000);
    clearInterval(probe);
    expect(mixed).toBe(false);
  });

  it('pause holds template changes; resume and `rollout restart` roll; history is trimmed to revisionHistoryLimit', async () => {
    h = await startControllers(['deployment', 'replicaset']);
    const { f } = h;
    kubelet = startHollowKubelet(f, { assignTo: 'n1' });
    await f.create(R.deployments, 'default', deploy('web', 2, { revisionHistoryLimit: 1 }));
    await waitFor(() => complete(f.peek(R.deployments, 'default', 'web')), 5000);
    await f.patch(R.deployments, 'default', 'web', 'merge', { spec: { paused: true } });
    await waitFor(() => f.peek(R.deployments, 'default', 'web')!.status.conditions.some((c: any) => c.reason === 'DeploymentPaused'), 3000);
    await f.patch(R.deployments, 'default', 'web', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } });
    await f.patch(R.deployments, 'default', 'web', 'merge', { spec: { replicas: 3 } });
    await waitFor(() => f.all(R.pods).length === 3, 3000, 'scaled while paused');
    expect(f.all(R.replicasets)).toHaveLength(1);
    await f.patch(R.deployments, 'default', 'web', 'merge', { spec: { paused: null } });
    await waitFor(() => complete(f.peek(R.deployments, 'default', 'web')) && f.all(R.pods).every((p) => p.spec.containers[0].image === 'busybox:2') && f.all(R.pods).length === 3, 8000, 'resumed');
    // kubectl rollout restart: a template annotation -> a third ReplicaSet; only one old kept.
    await f.patch(R.deployments, 'default', 'web', 'merge', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-01T00:00:00Z' } } } } });
    await waitFor(() => complete(f.peek(R.deployments, 'default', 'web')) && f.all(R.replicasets).length === 2
      && f.all(R.pods).every((p) => p.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']), 8000, 'restarted');
    expect(rsOf(f).map((r: any) => r.metadata.annotations['deployment.kubernetes.io/revision'])).toEqual(['2', '3']);
  });

  it('reports ProgressDeadlineExceeded when pods never become available', async () => {
    h = await startControllers(['deployment', 'replicaset']);
    const { f } = h;
    await f.create(R.deployments, 'default', deploy('stuck', 2, { progressDeadlineSeconds: 60 }));
    await waitFor(() => f.all(R.pods).length === 2, 3000);
    // Let the rollout settle first: every status the ReplicaSet will ever report (2 replicas, none
    // ready) is observed, so no later sync sees "progress" and restarts the deadline clock.
    await waitFor(() => {
      const st = f.peek(R.deployments, 'default', 'stuck')!.status;
      const rs = f.all(R.replicasets)[0];
      return st?.conditions?.some((c: any) => c.type === 'Progressing') && st.replicas === 2 && st.updatedReplicas === 2
        && rs?.status?.replicas === 2 && rs.status.observedGeneration === rs.metadata.generation;
    }, 3000, 'settled');
    f.now += 61_000;
    // Through the work queue, not a direct sync(): a worker may be syncing the same key right now,
    // and the queue is what guarantees one sync per key at a time.
    (h.mgr.controllers[0] as unknown as QueueController).queue.add('default/stuck');
    await waitFor(() => f.peek(R.deployments, 'default', 'stuck')!.status?.conditions?.some((c: any) => c.reason === 'ProgressDeadlineExceeded'), 5000, 'deadline');
    const d = f.peek(R.deployments, 'default', 'stuck')!;
    const cond = d.status.conditions.find((c: any) => c.type === 'Progressing');
    expect(cond).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(cond.message).toMatch(/^ReplicaSet "stuck-\w+" has timed out progressing\.$/);
    expect(d.status.conditions.find((c: any) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    expect(d.status.unavailableReplicas).toBe(2);
    await markPodsReady(f, { assignTo: 'n1' });
    await waitFor(() => complete(f.peek(R.deployments, 'default', 'stuck')), 5000, 'recovers');
  });
});
