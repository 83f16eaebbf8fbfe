import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { formatIndexes } from '../../server/controllers/job/job';
import { matchPodFailurePolicy } from '../../server/controllers/job/podfailurepolicy';
import { matchSuccessPolicy, parseIndexes } from '../../server/controllers/job/successpolicy';
import type { FakeCluster } from './helpers/fake-cluster';
import { startControllers, type Harness } from './helpers/harness';
import { waitFor } from './helpers/wait';

let h: Harness | undefined;
afterEach(async () => { await h?.stop(); h = undefined; });

const job = (name: string, spec: any) => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'default' },
  spec: { template: { metadata: { labels: { app: name } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
});

async function finishPods(f: FakeCluster, phase: 'Succeeded' | 'Failed', n = Infinity): Promise<number> {
  let done = 0;
  for (const p of f.all(R.pods)) {
    if (done >= n) break;
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    p.status = { phase };
    await f.updateStatus(R.pods, p);
    done++;
  }
  return done;
}

/** Calls sync as a worker would: a 409 from a cache that lags is retried after the watch catches up. */
async function syncSettled(h: Harness, key: string): Promise<void> {
  for (let i = 0; ; i++) {
    await h.f.settle();
    try { await h.mgr.controllers[0].sync(key); return; } catch (e) { if ((e as any).reason !== 'Conflict' || i > 20) throw e; }
  }
}

const cond = (f: FakeCluster, name: string, type: string) => f.peek(R.jobs, 'default', name)?.status?.conditions?.find((c: any) => c.type === type);

describe('Job controller', () => {
  it('runs completions with parallelism and reports Complete', async () => {
    h = await startControllers(['job']);
    const { f } = h;
    await f.create(R.jobs, 'default', job('pi', { completions: 3, parallelism: 2 }));
    await waitFor(() => f.all(R.pods).length === 2, 3000, '2 active');
    const p = f.all(R.pods)[0];
    expect(p.metadata.labels).toMatchObject({ 'batch.kubernetes.io/job-name': 'pi', 'job-name': 'pi' });
    expect(p.metadata.ownerReferences![0]).toMatchObject({ kind: 'Job', name: 'pi', controller: true });
    await finishPods(f, 'Succeeded');
    await waitFor(() => f.all(R.pods).filter((x) => x.status?.phase !== 'Succeeded').length === 1, 3000, 'third pod');
    await finishPods(f, 'Succeeded');
    await waitFor(() => cond(f, 'pi', 'Complete')?.status === 'True', 3000, 'Complete');
    const st = f.peek(R.jobs, 'default', 'pi')!.status;
    expect(st).toMatchObject({ succeeded: 3, failed: 0, active: 0 });
    expect(st.completionTime).toBeDefined();
    expect(f.all(R.pods)).toHaveLength(3);
  });

  it('fails after backoffLimit failed pods', async () => {
    h = await startControllers(['job']);
    const { f } = h;
    await f.create(R.jobs, 'default', job('bad', { backoffLimit: 1 }));
    await waitFor(() => f.all(R.pods).length === 1, 3000);
    await finishPods(f, 'Failed');
    await waitFor(() => f.all(R.pods).length === 2, 3000, 'retry pod');
    await finishPods(f, 'Failed');
    await waitFor(() => cond(f, 'bad', 'Failed')?.status === 'True', 3000, 'Failed');
    expect(cond(f, 'bad', 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    expect(f.peek(R.jobs, 'default', 'bad')!.status.failed).toBe(2);
  });

  it('fails on activeDeadlineSeconds and deletes active pods; ttlSecondsAfterFinished deletes the job', async () => {
    h = await startControllers(['job']);
    const { f } = h;
    await f.create(R.jobs, 'default', job('slow', { activeDeadlineSeconds: 30, ttlSecondsAfterFinished: 60 }));
    await waitFor(() => f.all(R.pods).length === 1, 3000);
    f.now += 31_000;
    await syncSettled(h, 'default/slow');
    expect(cond(f, 'slow', 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
    expect(f.all(R.pods)).toHaveLength(0);
    f.now += 61_000;
    await syncSettled(h, 'default/slow');
    expect(f.peek(R.jobs, 'default', 'slow')).toBeUndefined();
  });

  it('Indexed completion mode gives each pod an index and tracks completedIndexes', async () => {
    h = await startControllers(['job']);
    const { f } = h;
    await f.create(R.jobs, 'default', job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    await waitFor(() => f.all(R.pods).length === 3, 3000);
    const idx = f.all(R.pods).map((p) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index']).sort();
    expect(idx).toEqual(['0', '1', '2']);
    expect(f.all(R.pods).find((p) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index'] === '1')!.spec.hostname).toBe('idx-1');
    await finishPods(f, 'Succeeded');
    await waitFor(() => cond(f, 'idx', 'Complete')?.status === 'True', 3000);
    expect(f.peek(R.jobs, 'default', 'idx')!.status.completedIndexes).toBe('0-2');
    expect(formatIndexes([0, 1, 2, 4, 6, 7])).toBe('0-2,4,6-7');
  });
  describe('podFailurePolicy', () => {
    const exited = (name: string, exitCode: number) => ({ name, state: { terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed' } } });
    const failedPod = (extra: any) => ({ metadata: { name: 'p', namespace: 'ns' }, status: { phase: 'Failed', ...extra } });

    it('matches exit-code rules in order, with containerName and NotIn; succeeded containers never match', () => {
      const policy = { rules: [
        { action: 'Ignore', onExitCodes: { containerName: 'sidecar', operator: 'In', values: [1] } },
        { action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } },
        { action: 'Count', onExitCodes: { containerName: 'main', operator: 'NotIn', values: [0, 42, 7] } },
      ] };
      expect(matchPodFailurePolicy(policy, failedPod({ containerStatuses: [exited('main', 42)] })))
        .toEqual({ action: 'FailJob', message: 'Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1' });
      expect(matchPodFailurePolicy(policy, failedPod({ containerStatuses: [exited('sidecar', 1), exited('main', 42)] }))).toEqual({ action: 'Ignore' });
      // exit 1 in "main": not the sidecar rule (containerName), not 42, NotIn [0,42,7] -> Count.
      expect(matchPodFailurePolicy(policy, failedPod({ containerStatuses: [exited('main', 1)] }))).toEqual({ action: 'Count' });
      expect(matchPodFailurePolicy(policy, failedPod({ containerStatuses: [exited('main', 7)] }))).toBeUndefined();
      expect(matchPodFailurePolicy({ rules: [{ action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [5] } }] },
        failedPod({ containerStatuses: [exited('main', 0)] }))).toBeUndefined();
      // Init containers are looked at after app containers.
      expect(matchPodFailurePolicy(policy, failedPod({ initContainerStatuses: [exited('setup', 42)] }))?.message).toContain('Container setup for pod ns/p failed with exit code 42');
      // FailIndex needs backoffLimitPerIndex; without it the rule is passed over.
      expect(matchPodFailurePolicy({ rules: [{ action: 'FailIndex', onExitCodes: { operator: 'In', values: [3] } }, { action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } }] },
        failedPod({ containerStatuses: [exited('main', 3)] }))).toEqual({ action: 'Ignore' });
    });

    it('matches pod-condition rules by type and status', () => {
      const policy = { rules: [{ action: 'FailJob', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] };
      expect(matchPodFailurePolicy(policy, failedPod({ conditions: [{ type: 'DisruptionTarget', status: 'True' }] })))
        .toEqual({ action: 'FailJob', message: 'Pod ns/p has condition DisruptionTarget matching FailJob rule at index 0' });
      expect(matchPodFailurePolicy(policy, failedPod({ conditions: [{ type: 'DisruptionTarget', status: 'False' }] }))).toBeUndefined();
    });

    async function failPod(f: FakeCluster, status: any): Promise<string> {
      const p = f.all(R.pods).find((x) => x.status?.phase !== 'Failed' && x.status?.phase !== 'Succeeded')!;
      p.status = { phase: 'Failed', ...status };
      await f.updateStatus(R.pods, p);
      return p.metadata.name!;
    }

    it('Ignore does not count toward backoffLimit; Count (and no match) does', async () => {
      h = await startControllers(['job']);
      const { f } = h;
      await f.create(R.jobs, 'default', job('ign', { backoffLimit: 0, podFailurePolicy: { rules: [
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
        { action: 'Count', onExitCodes: { operator: 'In', values: [1] } },
      ] } }));
      await waitFor(() => f.all(R.pods).length === 1, 3000);
      for (let i = 0; i < 3; i++) {
        await failPod(f, { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }], containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 137 } } }] });
        await waitFor(() => f.all(R.pods).filter((p) => p.status?.phase !== 'Failed').length === 1, 3000, `replacement ${i + 1}`);
      }
      await h.f.settle();
      expect(f.peek(R.jobs, 'default', 'ign')!.status.failed).toBe(0);
      expect(cond(f, 'ign', 'Failed')).toBeUndefined();
      await failPod(f, { containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 1 } } }] });
      await waitFor(() => cond(f, 'ign', 'Failed')?.status === 'True', 3000, 'Failed');
      expect(cond(f, 'ign', 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded' });
      expect(cond(f, 'ign', 'FailureTarget')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded' });
      expect(f.peek(R.jobs, 'default', 'ign')!.status.failed).toBe(1);
    });

    it('FailJob fails the Job with reason PodFailurePolicy and upstream\'s message, deleting the remaining pods', async () => {
      h = await startControllers(['job']);
      const { f } = h;
      await f.create(R.jobs, 'default', job('fj', { parallelism: 3, completions: 3, backoffLimit: 6, podFailurePolicy: { rules: [
        { action: 'FailJob', onExitCodes: { containerName: 'c', operator: 'In', values: [42] } },
      ] } }));
      await waitFor(() => f.all(R.pods).length === 3, 3000);
      f.clearActions();
      const failedName = await failPod(f, { containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 42, reason: 'Error' } } }] });
      await waitFor(() => cond(f, 'fj', 'Failed')?.status === 'True', 3000, 'Failed');
      const msg = `Container c for pod default/${failedName} failed with exit code 42 matching FailJob rule at index 0`;
      expect(cond(f, 'fj', 'Failed')).toMatchObject({ reason: 'PodFailurePolicy', message: msg });
      expect(cond(f, 'fj', 'FailureTarget')).toMatchObject({ status: 'True', reason: 'PodFailurePolicy', message: msg });
      expect(f.writes('delete', 'pods')).toHaveLength(2);
      expect(f.all(R.pods).map((p) => p.metadata.name)).toEqual([failedName]);
      expect(f.writes('create', 'pods')).toHaveLength(0);
      expect(f.peek(R.jobs, 'default', 'fj')!.status).toMatchObject({ failed: 1, active: 0 });
    });
      it('sets FailureTarget at once and Failed only when no pod is left terminating', async () => {
      h = await startControllers(['job']);
      const { f } = h;
      const j: any = job('held', { parallelism: 2, completions: 2, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [0] } }] } });
      j.spec.template.metadata.finalizers = ['example.com/hold'];
      await f.create(R.jobs, 'default', j);
      await waitFor(() => f.all(R.pods).length === 2, 3000);
      await failPod(f, { containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 3 } } }] });
      await waitFor(() => cond(f, 'held', 'FailureTarget')?.status === 'True', 3000, 'FailureTarget');
      await waitFor(() => f.all(R.pods).some((p) => p.metadata.deletionTimestamp), 3000, 'other pod terminating');
      await h.f.settle();
      expect(cond(f, 'held', 'Failed')).toBeUndefined();
      for (const p of f.all(R.pods)) { p.metadata.finalizers = []; await f.update(R.pods, p); }
      await waitFor(() => cond(f, 'held', 'Failed')?.status === 'True', 3000, 'Failed after termination');
      expect(cond(f, 'held', 'Failed')!.reason).toBe('PodFailurePolicy');
    });
});
  describe('podReplacementPolicy', () => {
    for (const [label, extra, replacedEarly] of [
      ['default with a podFailurePolicy is Failed: a terminating pod is replaced only once it is gone', { podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] } }, false],
      ['explicit Failed', { podReplacementPolicy: 'Failed' }, false],
      ['default TerminatingOrFailed: a terminating pod is replaced at once', {}, true],
    ] as Array<[string, any, boolean]>) {
      it(label, async () => {
        h = await startControllers(['job']);
        const { f } = h;
        const j: any = job('rp', { parallelism: 2, completions: 4, ...extra });
        j.spec.template.metadata.finalizers = ['example.com/hold'];
        await f.create(R.jobs, 'default', j);
        await waitFor(() => f.all(R.pods).length === 2, 3000);
        const victim = f.all(R.pods)[0];
        f.clearActions();
        await f.delete(R.pods, 'default', victim.metadata.name!);
        await waitFor(() => f.peek(R.jobs, 'default', 'rp')?.status?.terminating === 1, 3000, 'terminating counted');
        if (replacedEarly) {
          await waitFor(() => f.writes('create', 'pods').length === 1, 3000, 'replacement while terminating');
        } else {
          await f.settle();
          await syncSettled(h, 'default/rp');
          expect(f.writes('create', 'pods')).toHaveLength(0);
          const cur = f.peek(R.pods, 'default', victim.metadata.name!)!;
          cur.metadata.finalizers = [];
          await f.update(R.pods, cur);
          await waitFor(() => f.writes('create', 'pods').length === 1, 3000, 'replacement once gone');
          await waitFor(() => f.peek(R.jobs, 'default', 'rp')?.status?.terminating === 0, 3000, 'terminating 0');
        }
      });
    }
  });

  describe('successPolicy', () => {
    it('matches succeededIndexes, succeededCount and both, first rule wins', () => {
      expect([...parseIndexes('0,2-4,9', 5)]).toEqual([0, 2, 3, 4]);
      expect(parseIndexes('3-1', 5).size).toBe(0);
      const policy = { rules: [{ succeededIndexes: '0-2', succeededCount: 2 }, { succeededIndexes: '4' }, { succeededCount: 3 }] };
      expect(matchSuccessPolicy(policy, 5, new Set([1, 3]))).toBeUndefined();
      expect(matchSuccessPolicy(policy, 5, new Set([0, 2]))).toBe('Matched rules at index 0');
      expect(matchSuccessPolicy(policy, 5, new Set([4]))).toBe('Matched rules at index 1');
      expect(matchSuccessPolicy(policy, 5, new Set([1, 3, 4]))).toBe('Matched rules at index 1');
      expect(matchSuccessPolicy({ rules: [{ succeededCount: 3 }] }, 5, new Set([1, 3, 4]))).toBe('Matched rules at index 0');
      expect(matchSuccessPolicy({ rules: [{ succeededIndexes: '0-2' }] }, 5, new Set([0, 1]))).toBeUndefined();
      expect(matchSuccessPolicy(undefined, 5, new Set([0]))).toBeUndefined();
    });

    it('an Indexed Job completes when the leader index succeeds: SuccessCriteriaMet and Complete with reason SuccessPolicy, other pods deleted', async () => {
      h = await startControllers(['job']);
      const { f } = h;
      await f.create(R.jobs, 'default', job('leader', { completions: 4, parallelism: 4, completionMode: 'Indexed', successPolicy: { rules: [{ succeededIndexes: '0' }] } }));
      await waitFor(() => f.all(R.pods).length === 4, 3000);
      const idx = (p: any) => p.metadata.annotations['batch.kubernetes.io/job-completion-index'];
      const worker = f.all(R.pods).find((p) => idx(p) === '2')!;
      worker.status = { phase: 'Succeeded' };
      await f.updateStatus(R.pods, worker);
      await f.settle();
      await h.f.settle();
      expect(cond(f, 'leader', 'Complete')).toBeUndefined();
      const leader = f.all(R.pods).find((p) => idx(p) === '0')!;
      leader.status = { phase: 'Succeeded' };
      await f.updateStatus(R.pods, leader);
      await waitFor(() => cond(f, 'leader', 'Complete')?.status === 'True', 3000, 'Complete');
      expect(cond(f, 'leader', 'SuccessCriteriaMet')).toMatchObject({ status: 'True', reason: 'SuccessPolicy', message: 'Matched rules at index 0' });
      expect(cond(f, 'leader', 'Complete')).toMatchObject({ reason: 'SuccessPolicy', message: 'Matched rules at index 0' });
      expect(f.all(R.pods).map(idx).sort()).toEqual(['0', '2']);
      expect(f.peek(R.jobs, 'default', 'leader')!.status).toMatchObject({ succeeded: 2, active: 0, completedIndexes: '0,2' });
    });
  });
});
