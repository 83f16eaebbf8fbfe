import { afterEach, describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { scheduledTimes } from '../../server/controllers/cronjob/cronjob';
import { startControllers, type Harness } from './helpers/harness';

let h: Harness | undefined;
afterEach(async () => { await h?.stop(); h = undefined; });

async function syncSettled(h: Harness, key: string): Promise<void> {
  for (let i = 0; ; i++) {
    await h.f.settle();
    try { await h.mgr.controllers[0].sync(key); await h.f.settle(); return; } catch (e) { if ((e as any).reason !== 'Conflict' || i > 20) throw e; }
  }
}

const cron = (spec: any) => ({
  apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'hello', namespace: 'default' },
  spec: { schedule: '*/5 * * * *', jobTemplate: { metadata: { labels: { app: 'hello' } }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } }, ...spec },
});

const T0 = Date.parse('2025-01-01T00:00:00Z');

describe('CronJob schedules', () => {
  it('parses standard cron, macros and time zones', () => {
    expect(scheduledTimes('*/5 * * * *', undefined, T0, T0 + 11 * 60_000).due.map((t) => new Date(t).toISOString()))
      .toEqual(['2025-01-01T00:05:00.000Z', '2025-01-01T00:10:00.000Z']);
    expect(new Date(scheduledTimes('@hourly', undefined, T0, T0).next).toISOString()).toBe('2025-01-01T01:00:00.000Z');
    // 09:00 in Tokyo is 00:00 UTC.
    expect(new Date(scheduledTimes('0 9 * * *', 'Asia/Tokyo', T0 - 1000, T0 + 1000).due[0]).toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(() => scheduledTimes('61 * * * *', undefined, T0, T0)).toThrow(/unparseable schedule/);
  });
});

describe('CronJob controller', () => {
  it('creates a Job per scheduled time, tracks active/lastScheduleTime, and honours Forbid and Replace', async () => {
    h = await startControllers(['cronjob']);
    const { f } = h;
    f.now = T0;
    await f.create(R.cronjobs, 'default', cron({ concurrencyPolicy: 'Forbid' }));
    await syncSettled(h, 'default/hello');
    expect(f.all(R.jobs)).toHaveLength(0);
    f.now = T0 + 5 * 60_000 + 1000;
    await syncSettled(h, 'default/hello');
    const jobs = f.all(R.jobs);
    expect(jobs.map((j) => j.metadata.name)).toEqual([`hello-${(T0 + 5 * 60_000) / 60_000}`]);
    expect(jobs[0].metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe('2025-01-01T00:05:00Z');
    expect(jobs[0].metadata.ownerReferences![0]).toMatchObject({ kind: 'CronJob', name: 'hello', controller: true });
    const st = f.peek(R.cronjobs, 'default', 'hello')!.status;
    expect(st.lastScheduleTime).toBe('2025-01-01T00:05:00Z');
    expect(st.active.map((a: any) => a.name)).toEqual([jobs[0].metadata.name]);
    // Forbid: the next run is skipped while the first is active.
    f.now = T0 + 10 * 60_000 + 1000;
    await syncSettled(h, 'default/hello');
    expect(f.all(R.jobs)).toHaveLength(1);
    // Replace: the active job is deleted and a new one created.
    await f.patch(R.cronjobs, 'default', 'hello', 'merge', { spec: { concurrencyPolicy: 'Replace' } });
    await syncSettled(h, 'default/hello');
    expect(f.all(R.jobs).map((j) => j.metadata.name)).toEqual([`hello-${(T0 + 10 * 60_000) / 60_000}`]);
  });

  it('skips runs past startingDeadlineSeconds, does nothing when suspended, and trims history', async () => {
    h = await startControllers(['cronjob']);
    const { f } = h;
    f.now = T0;
    await f.create(R.cronjobs, 'default', cron({ startingDeadlineSeconds: 30, successfulJobsHistoryLimit: 1, suspend: true }));
    f.now = T0 + 5 * 60_000 + 1000;
    await syncSettled(h, 'default/hello');
    expect(f.all(R.jobs)).toHaveLength(0);
    await f.patch(R.cronjobs, 'default', 'hello', 'merge', { spec: { suspend: false } });
    f.now = T0 + 5 * 60_000 + 45_000;
    await syncSettled(h, 'default/hello');
    expect(f.all(R.jobs)).toHaveLength(0);
    expect(f.all(R.events).some((e) => e.reason === 'MissSchedule')).toBe(true);
    // Two completed runs: only the newest is kept.
    for (const m of [10, 15]) {
      f.now = T0 + m * 60_000 + 1000;
      await syncSettled(h, 'default/hello');
      for (const j of f.all(R.jobs)) {
        if (j.status?.conditions) continue;
        j.status = { startTime: new Date(f.now).toISOString(), completionTime: new Date(f.now).toISOString(), conditions: [{ type: 'Complete', status: 'True' }] };
        await f.updateStatus(R.jobs, j);
      }
      await syncSettled(h, 'default/hello');
    }
    expect(f.all(R.jobs).map((j) => j.metadata.name)).toEqual([`hello-${(T0 + 15 * 60_000) / 60_000}`]);
    expect(f.peek(R.cronjobs, 'default', 'hello')!.status.lastSuccessfulTime).toBeDefined();
  });
});
