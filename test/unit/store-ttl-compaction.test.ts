// TTL expiry and compaction, against the real SQLite driver in a temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { CompactedError, openSqliteStore, type Watch, type WatchEvent } from '../../embedded-store';

const root = mkdtempSync(join(tmpdir(), 'orch-test-store-ttl-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dbPath = (): string => join(root, `case-${++n}`, 'state.db');
const b = (s: string): Buffer => Buffer.from(s);

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function nextEvents(w: Watch, timeoutMs: number): Promise<WatchEvent[]> {
  const it = w.events[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([
      it.next(),
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error('no watch event in time')), timeoutMs);
      }),
    ]);
    return r.done ? [] : r.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Rows physically left in the log table (read with a second connection). */
function rowCount(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM log').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('TTL keys', () => {
  it('expire as a normal delete that watchers see', async () => {
    const s = await openSqliteStore({ path: dbPath(), compactIntervalMs: 0 });
    try {
      const w = s.watch('/registry/events/', 0);
      const t0 = Date.now();
      const kv = await s.create('/registry/events/default/e1', b('event'), { ttlSeconds: 1 });
      expect(kv.ttlSeconds).toBe(1);
      await s.create('/registry/events/default/keep', b('no ttl'));
      const first = await nextEvents(w, 2000);
      expect(first.map((e) => e.type)).toEqual(['create', 'create']);
      const del = await nextEvents(w, 3000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
      expect(del).toHaveLength(1);
      expect(del[0]).toMatchObject({ type: 'delete', revision: 3, kv: { key: '/registry/events/default/e1' } });
      expect(del[0].prevKv?.value).toEqual(b('event'));
      expect(await s.get('/registry/events/default/e1')).toBeUndefined();
      expect(await s.get('/registry/events/default/keep')).toBeDefined();
      expect(s.stats().expiredKeys).toBe(1);
      w.close();
    } finally {
      await s.close();
    }
  });

  it('a rewrite without TTL cancels the expiry; a rewrite with TTL restarts it', async () => {
    const s = await openSqliteStore({ path: dbPath(), compactIntervalMs: 0 });
    try {
      const a = await s.create('/a', b('1'), { ttlSeconds: 1 });
      await s.update('/a', b('2'), a.modRevision); // no TTL any more
      const c = await s.create('/c', b('1'), { ttlSeconds: 1 });
      await new Promise((r) => setTimeout(r, 600));
      await s.update('/c', b('2'), c.modRevision, { ttlSeconds: 1 }); // restarts the clock
      const t = Date.now();
      await until('/c to expire', async () => (await s.get('/c')) === undefined, 3000);
      expect(Date.now() - t).toBeGreaterThanOrEqual(800);
      expect((await s.get('/a'))?.value).toEqual(b('2'));
    } finally {
      await s.close();
    }
  });

  it('survives a restart: expiry counts from the stored write time', async () => {
    const path = dbPath();
    const s1 = await openSqliteStore({ path, compactIntervalMs: 0 });
    const written = Date.now();
    await s1.create('/ttl/k', b('v'), { ttlSeconds: 2 });
    await s1.create('/ttl/long', b('v'), { ttlSeconds: 3600 });
    await s1.close();
    // Stay closed past the expiry time: the key must go right after reopening, not 2 s later.
    await until('2.1 s since the write', async () => Date.now() - written > 2100, 5000);
    const s2 = await openSqliteStore({ path, compactIntervalMs: 0 });
    try {
      const opened = Date.now();
      await until('/ttl/k to expire after reopen', async () => (await s2.get('/ttl/k')) === undefined, 3000);
      expect(Date.now() - opened).toBeLessThan(1000);
      expect(await s2.get('/ttl/long')).toBeDefined();
    } finally {
      await s2.close();
    }
  });
});

describe('compaction', () => {
  it('removes superseded and deleted rows, never the latest row of a live key', async () => {
    const path = dbPath();
    const s = await openSqliteStore({ path, compactIntervalMs: 0 });
    try {
      const revs = new Map<string, number>();
      for (let i = 0; i < 10; i++) revs.set(`/k/${i}`, (await s.create(`/k/${i}`, b('v0'))).modRevision);
      for (let round = 1; round <= 5; round++) {
        for (const [k, r] of revs) revs.set(k, (await s.update(k, b(`v${round}`), r)).modRevision);
      }
      await s.delete('/k/8');
      await s.delete('/k/9');
      expect(rowCount(path)).toBe(62);
      const before = s.currentRevision();
      await s.compact(before);
      expect(s.compactRevision()).toBe(before);
      expect(rowCount(path)).toBe(8);
      expect(s.stats().rowsCompacted).toBe(54);
      const list = await s.list('/k/');
      expect(list.items.map((i) => [i.key, i.value.toString()])).toEqual(
        Array.from({ length: 8 }, (_, i) => [`/k/${i}`, 'v5']),
      );
      await expect(s.list('/k/', { revision: before - 1 })).rejects.toBeInstanceOf(CompactedError);
      // Writes and watches go on from the compact revision.
      const w = s.watch('/k/', before);
      await s.update('/k/0', b('v6'), revs.get('/k/0') as number);
      const evs = await nextEvents(w, 2000);
      expect(evs[0]).toMatchObject({ type: 'update', revision: before + 1 });
      expect(evs[0].prevKv?.value).toEqual(b('v5'));
      w.close();
    } finally {
      await s.close();
    }
  });

  it('keeps the predecessor of a row newer than the compact revision (its prevKv)', async () => {
    const path = dbPath();
    const s = await openSqliteStore({ path, compactIntervalMs: 0 });
    try {
      const a = await s.create('/p', b('1')); // rev 1
      await s.create('/q', b('x')); // rev 2
      await s.update('/p', b('2'), a.modRevision); // rev 3, supersedes rev 1 after the compact revision
      await s.compact(2);
      expect(rowCount(path)).toBe(3);
      const w = s.watch('/p', 2);
      const evs = await nextEvents(w, 2000);
      expect(evs).toHaveLength(1);
      expect(evs[0].prevKv?.value).toEqual(b('1'));
      w.close();
    } finally {
      await s.close();
    }
  });

  it('runs in the background and honours the window', async () => {
    const path = dbPath();
    const wide = await openSqliteStore({ path, compactIntervalMs: 20, compactionWindowSeconds: 3600 });
    const a = await wide.create('/k', b('1'));
    await wide.update('/k', b('2'), a.modRevision);
    await wide.runCompaction();
    expect(wide.compactRevision()).toBe(0); // nothing is older than an hour
    await wide.close();

    const s = await openSqliteStore({ path, compactIntervalMs: 20, compactionWindowSeconds: 0 });
    try {
      const kv = await s.get('/k');
      await s.update('/k', b('3'), kv?.modRevision as number);
      await until('background compaction', async () => s.compactRevision() === 3, 3000);
      await until('rows swept', async () => rowCount(path) === 1, 3000);
      expect((await s.get('/k'))?.value).toEqual(b('3'));
    } finally {
      await s.close();
    }
  });

  it('resumes a sweep interrupted by a restart', async () => {
    const path = dbPath();
    const s1 = await openSqliteStore({ path, compactIntervalMs: 0 });
    let kv = await s1.create('/k', b('0'));
    for (let i = 1; i <= 20; i++) kv = await s1.update('/k', b(String(i)), kv.modRevision);
    await s1.close();
    // Simulate a crash right after the floor was raised and before any row was swept.
    const raw = new Database(path);
    raw.prepare("INSERT INTO meta (key, value) VALUES ('compact_revision', 21) ON CONFLICT (key) DO UPDATE SET value = 21").run();
    raw.close();
    const s2 = await openSqliteStore({ path, compactIntervalMs: 0 });
    try {
      expect(s2.compactRevision()).toBe(21);
      expect(rowCount(path)).toBe(21);
      await s2.runCompaction(); // window 300 s: no new floor, but the pending sweep completes
      expect(rowCount(path)).toBe(1);
    } finally {
      await s2.close();
    }
  });

  it('keeps the WAL bounded without the checkpoint worker (the single executable\'s mode)', async () => {
    const path = dbPath();
    const s = await openSqliteStore({ path, compactIntervalMs: 50, compactionWindowSeconds: 0, checkpointInWorker: false });
    try {
      const value = Buffer.alloc(1024, 2);
      let peakWal = 0;
      await Promise.all(
        Array.from({ length: 10 }, async (_, k) => {
          let rev = (await s.create(`/w/${k}`, value)).modRevision;
          for (let i = 0; i < 1000; i++) {
            rev = (await s.update(`/w/${k}`, value, rev)).modRevision;
            if (i % 100 === 0) peakWal = Math.max(peakWal, (await s.sizes()).wal);
          }
        }),
      );
      await s.runCompaction();
      const end = await s.sizes();
      // 10 MiB of values went through; SQLite checkpoints every 1,000 pages (4 MiB) in the commit.
      expect(peakWal).toBeLessThan(6 * 2 ** 20);
      expect(end.database + end.wal).toBeLessThan(6 * 2 ** 20);
      expect((await s.list('/w/')).items).toHaveLength(10);
    } finally {
      await s.close();
    }
  }, 60_000);
});
