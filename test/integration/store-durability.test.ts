// The store under real load: group commit, kill -9 of a writer process, bounded files after a
// million updates, and compaction while writes continue. Real SQLite files in a temp dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../embedded-store';
import { crashValue } from '../fixtures/store-crash-writer';

const root = mkdtempSync(join(tmpdir(), 'orch-test-store-durability-'));
const children = new Set<ChildProcess>();
/** SIGKILL a child's whole process group: the tsx CLI runs the script in a grandchild process. */
function killGroup(c: ChildProcess): void {
  try {
    if (c.pid) process.kill(-c.pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
const killChildren = (): void => {
  for (const c of children) killGroup(c);
};
process.on('exit', killChildren);
afterAll(() => {
  killChildren();
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
const dbPath = (): string => join(root, `case-${++n}`, 'server', 'db', 'state.db');

/** Durable updates per second with `writers` concurrent compare-and-swap loops for `ms`. */
async function throughput(path: string, writers: number, ms: number): Promise<{ perSecond: number; groupSize: number }> {
  const s = await openSqliteStore({ path, compactIntervalMs: 0 });
  try {
    const value = Buffer.alloc(1024, 1);
    const revs = await Promise.all(Array.from({ length: writers }, (_, w) => s.create(`/t${writers}/${w}`, value).then((kv) => kv.modRevision)));
    const before = s.stats();
    let count = 0;
    const t0 = performance.now();
    const end = Date.now() + ms;
    await Promise.all(
      revs.map(async (rev, w) => {
        while (Date.now() < end) {
          rev = (await s.update(`/t${writers}/${w}`, value, rev)).modRevision;
          count++;
        }
      }),
    );
    const after = s.stats();
    return {
      perSecond: count / ((performance.now() - t0) / 1000),
      groupSize: (after.writes - before.writes) / (after.commits - before.commits),
    };
  } finally {
    await s.close();
  }
}

describe('group commit', () => {
  it('shares commits between concurrent writers, so throughput grows with concurrency', async () => {
    const one = await throughput(dbPath(), 1, 1500);
    const many = await throughput(dbPath(), 32, 1500);
    console.log(`durable writes/s: 1 writer ${one.perSecond.toFixed(0)}, 32 writers ${many.perSecond.toFixed(0)} (mean group ${many.groupSize.toFixed(1)})`);
    expect(one.groupSize).toBe(1);
    expect(many.groupSize).toBeGreaterThan(8);
    expect(many.perSecond).toBeGreaterThan(2 * one.perSecond);
  }, 60_000);
});

describe('crash safety', () => {
  it('keeps every acknowledged write after kill -9, and nothing half-written', async () => {
    const path = dbPath();
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const child = spawn(tsx, [join(process.cwd(), 'test', 'fixtures', 'store-crash-writer.ts'), path, '16'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so kill -9 reaches the writer itself
    });
    children.add(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const acked = new Map<string, number>();
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const outputClosed = new Promise<void>((resolve) => lines.once('close', resolve));
    const killedAt = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writer produced ${acked.size} acks in time; stderr: ${stderr}`)), 60_000);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`writer exited early (${code ?? signal}) after ${acked.size} acks; stderr: ${stderr}`));
      });
      lines.on('line', (line) => {
        const m = /^ack (\S+) (\d+)$/.exec(line);
        if (!m) return;
        acked.set(m[1], Number(m[2]));
        if (acked.size === 3000) {
          // Mid-stream: the writer has more commits in flight right now.
          killGroup(child);
          clearTimeout(timer);
          child.removeAllListeners('exit');
          resolve(acked.size);
        }
      });
    });
    await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    // Lines already in the pipe were acknowledged before the kill too; the pipe closes once
    // every process of the group is gone.
    let closeTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      outputClosed,
      new Promise<never>((_, reject) => {
        closeTimer = setTimeout(() => reject(new Error('writer output did not close after kill -9')), 10_000);
      }),
    ]).finally(() => clearTimeout(closeTimer));
    expect(acked.size).toBeGreaterThanOrEqual(killedAt);

    const s = await openSqliteStore({ path, compactIntervalMs: 0 });
    try {
      const all = await s.list('/crash/');
      const byKey = new Map(all.items.map((kv) => [kv.key, kv]));
      for (const [key, rev] of acked) {
        const kv = byKey.get(key);
        expect(kv, `acknowledged ${key} is missing`).toBeDefined();
        expect(kv?.modRevision).toBe(rev);
      }
      // Every row present is whole (its value is exactly what the writer wrote) ...
      for (const kv of all.items) expect(kv.value.equals(crashValue(kv.key)), `${kv.key} is damaged`).toBe(true);
      // ... and the log has no holes: revisions 1..current, one create each.
      const revs = all.items.map((kv) => kv.modRevision).sort((a, b) => a - b);
      expect(revs).toEqual(Array.from({ length: revs.length }, (_, i) => i + 1));
      expect(s.currentRevision()).toBe(revs.length);
      // Unacknowledged writes that did commit are whole too; the store accepts new writes.
      expect((await s.create('/crash/after', Buffer.from('x'))).modRevision).toBe(revs.length + 1);
    } finally {
      await s.close();
    }
  }, 120_000);
});

describe('bounded files', () => {
  it('1,000,000 updates of 100 keys end with a database and WAL of a few MB', async () => {
    const path = dbPath();
    const s = await openSqliteStore({ path, compactIntervalMs: 200, compactionWindowSeconds: 0 });
    const value = Buffer.alloc(200, 7); // about a Lease object's size
    const total = Number(process.env.STORE_UPDATES ?? 1_000_000);
    let issued = 0;
    let peak = 0;
    const sampler = setInterval(() => {
      void s.sizes().then((z) => (peak = Math.max(peak, z.database + z.wal)));
    }, 250);
    try {
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 100 }, async (_, k) => {
          const key = `/registry/leases/kube-node-lease/node-${k}`;
          let rev = (await s.create(key, value)).modRevision;
          while (issued < total) {
            issued++;
            rev = (await s.update(key, value, rev)).modRevision;
          }
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      await s.runCompaction();
      const end = await s.sizes();
      const st = s.stats();
      console.log(
        `1M updates in ${secs.toFixed(1)} s (${(total / secs).toFixed(0)}/s); peak db+wal ${(peak / 2 ** 20).toFixed(2)} MiB; ` +
          `end db ${(end.database / 2 ** 20).toFixed(2)} MiB wal ${(end.wal / 2 ** 20).toFixed(2)} MiB; rows compacted ${st.rowsCompacted}`,
      );
      expect(st.writes).toBe(total + 100);
      expect(s.compactRevision()).toBe(s.currentRevision());
      expect(end.database + end.wal).toBeLessThan(8 * 2 ** 20);
      expect(peak).toBeLessThan(16 * 2 ** 20);
      const list = await s.list('/registry/leases/');
      expect(list.items).toHaveLength(100);
    } finally {
      clearInterval(sampler);
      await s.close();
    }
    // About 60 s on a quiet 2-core host; the bound leaves room for a host shared with other work.
  }, 600_000);
});

describe('compaction under load', () => {
  it('sweeps a large backlog while writes continue, without long write stalls', async () => {
    const path = dbPath();
    const s = await openSqliteStore({ path, compactIntervalMs: 0, compactionWindowSeconds: 0 });
    try {
      // A backlog of 200,000 superseded rows.
      const value = Buffer.alloc(256, 3);
      const revs = await Promise.all(Array.from({ length: 100 }, (_, k) => s.create(`/b/${k}`, value).then((kv) => kv.modRevision)));
      await Promise.all(
        revs.map(async (rev, k) => {
          for (let i = 0; i < 2000; i++) rev = (await s.update(`/b/${k}`, value, rev)).modRevision;
          revs[k] = rev;
        }),
      );
      const target = s.currentRevision();
      // Writers keep going while the backlog is compacted; record every write's latency.
      let compacting = true;
      const latencies: number[] = [];
      const writers = Promise.all(
        Array.from({ length: 16 }, async (_, w) => {
          let rev = (await s.create(`/live/${w}`, value)).modRevision;
          while (compacting) {
            const t = performance.now();
            rev = (await s.update(`/live/${w}`, value, rev)).modRevision;
            latencies.push(performance.now() - t);
          }
        }),
      );
      const t0 = performance.now();
      await s.compact(target);
      const compactMs = performance.now() - t0;
      compacting = false;
      await writers;
      const st = s.stats();
      latencies.sort((a, b) => a - b);
      const p99 = latencies[Math.floor(latencies.length * 0.99)];
      console.log(
        `compacted ${st.rowsCompacted} rows in ${compactMs.toFixed(0)} ms with ${latencies.length} writes meanwhile; ` +
          `max compaction step ${st.maxCompactionStepMs.toFixed(1)} ms; write p99 ${p99.toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`,
      );
      expect(st.rowsCompacted).toBeGreaterThanOrEqual(200_000);
      expect(latencies.length).toBeGreaterThan(100); // writes went on during compaction
      // Each compaction step holds writes for a few ms; the bound leaves room for a busy CI host.
      expect(st.maxCompactionStepMs).toBeLessThan(100);
      // Every key still reads at its latest revision.
      for (let k = 0; k < 100; k++) expect((await s.get(`/b/${k}`))?.modRevision).toBe(revs[k]);
    } finally {
      await s.close();
    }
  }, 240_000);
});
