// Event names draw their random suffix from a pool: every name stays `<object>.<16 hex>` and
// unique across pool refills; timestamps follow the recorder's clock to the second.
import { describe, expect, it } from 'vitest';
import { R } from '../../server/controllers/client';
import { ApiEventRecorder } from '../../server/controllers/events';
import { FakeCluster } from './helpers/fake-cluster';

describe('event recorder names and timestamps', { timeout: 20_000 }, () => {
  it('gives 1,500 events (three pool refills) unique names and per-second timestamps', async () => {
    const f = new FakeCluster();
    let now = Date.parse('2025-01-01T00:00:00Z');
    const rec = new ApiEventRecorder(f, 'default-scheduler', { now: () => now });
    for (let i = 0; i < 1500; i++) {
      if (i === 1000) now += 1500;
      rec.event({ kind: 'Pod', metadata: { name: `p${i}`, namespace: 'default', uid: `u${i}` } }, 'Warning', 'FailedScheduling', '0/0 nodes are available.');
    }
    await rec.flush();
    const evs = f.all(R.events, 'default');
    expect(evs).toHaveLength(1500);
    expect(new Set(evs.map((e: any) => e.metadata.name)).size).toBe(1500);
    for (const e of evs as any[]) expect(e.metadata.name).toMatch(new RegExp(`^${e.involvedObject.name}\\.[0-9a-f]{16}$`));
    const byName = new Map((evs as any[]).map((e) => [e.involvedObject.name, e]));
    expect(byName.get('p999')).toMatchObject({ firstTimestamp: '2025-01-01T00:00:00Z', lastTimestamp: '2025-01-01T00:00:00Z' });
    expect(byName.get('p1000')).toMatchObject({ firstTimestamp: '2025-01-01T00:00:01Z', lastTimestamp: '2025-01-01T00:00:01Z' });
  });
});
