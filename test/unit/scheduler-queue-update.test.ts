// A parked (unschedulable) pod stays parked when only its status changes (the scheduler's own
// PodScheduled write), and is retried when its spec or labels change.
import { describe, expect, it } from 'vitest';
import { FitError } from '../../server/scheduler/framework';
import { SchedulingQueue } from '../../server/scheduler/queue';

const pod = (labels: Record<string, string>, cpu: string, phaseMessage = ''): any => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u', labels },
  spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu } } }] },
  status: { phase: 'Pending', conditions: phaseMessage ? [{ type: 'PodScheduled', status: 'False', message: phaseMessage }] : [] },
});

async function parked(q: SchedulingQueue): Promise<void> {
  q.add(pod({ a: '1' }, '1'));
  const item = (await q.pop())!;
  q.requeueUnschedulable(item, q.schedulingCycle);
  expect(q.stats().unschedulable).toBe(1);
}

describe('scheduling queue update of a parked pod', { timeout: 10_000 }, () => {
  it('a status-only change (fresh objects, same content) keeps it parked', async () => {
    const q = new SchedulingQueue({ now: () => 0 });
    await parked(q);
    q.update(pod({ a: '1' }, '1', '0/0 nodes are available.'));
    expect(q.stats()).toMatchObject({ unschedulable: 1, active: 0, backoff: 0 });
    q.close();
  });

  it('a spec change or a label change moves it out', async () => {
    for (const next of [pod({ a: '1' }, '2'), pod({ a: '2' }, '1'), pod({ a: '1', b: '1' }, '1')]) {
      const q = new SchedulingQueue({ now: () => 0 });
      await parked(q);
      q.update(next);
      expect(q.stats().unschedulable).toBe(0);
      expect(q.stats().active + q.stats().backoff).toBe(1);
      q.close();
    }
  });
});

describe('FitError', { timeout: 10_000 }, () => {
  it('carries upstream message and leaves the stack trace limit as it was', () => {
    const before = Error.stackTraceLimit;
    const e = new FitError({ metadata: { name: 'p' } }, 0, new Map(), '', '');
    expect(e.message).toBe('0/0 nodes are available:');
    expect(e).toBeInstanceOf(Error);
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('x').stack).toContain('scheduler-queue-update.test.ts');
  });
});
