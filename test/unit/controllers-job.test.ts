import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { formatIndexes } from '../../server/controllers/job/job';
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
});
