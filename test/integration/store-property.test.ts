// Property: random concurrent writers and watchers agree. Every watcher's ordered event stream,
// folded onto the list it started from, equals a fresh list at the end; revisions are strictly
// increasing (contiguous for watchers of everything) and prevKv is always the previous state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreError, StoreErrorCodes, openSqliteStore, type KeyValue, type LogStore, type Watch, type WatchEvent } from '../../embedded-store';
import { rng } from '../unit/helpers/rng';

const root = mkdtempSync(join(tmpdir(), 'orch-test-store-property-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Small seeded PRNG (mulberry32) so a failure can be replayed from the printed seed. */
const EXPECTED = new Set<string>([StoreErrorCodes.AlreadyExists, StoreErrorCodes.Conflict, StoreErrorCodes.NotFound]);

interface Observer {
  name: string;
  prefix: string;
  startRevision: number;
  start: Map<string, KeyValue>;
  watch: Watch;
  events: WatchEvent[];
  done: Promise<void>;
}

function observe(store: LogStore, name: string, prefix: string, startRevision: number, start: KeyValue[], sentinels: string[]): Observer {
  const watch = store.watch(prefix, startRevision);
  const o: Observer = { name, prefix, startRevision, start: new Map(start.map((kv) => [kv.key, kv])), watch, events: [], done: Promise.resolve() };
  o.done = (async () => {
    const waiting = new Set(sentinels);
    for await (const batch of watch.events) {
      o.events.push(...batch);
      for (const ev of batch) waiting.delete(ev.kv.key);
      if (waiting.size === 0) return;
    }
  })();
  return o;
}

describe('random concurrent writers and watchers', () => {
  it('agree on one ordered history', async () => {
    const seed = Number(process.env.STORE_PROPERTY_SEED ?? Date.now() % 1_000_000);
    console.log(`store property seed ${seed} (STORE_PROPERTY_SEED=${seed} replays it)`);
    const rand = rng(seed);
    const store = await openSqliteStore({ path: join(root, 'state.db'), compactIntervalMs: 0, watchBufferEvents: 1_000_000 });
    try {
      const keys = Array.from({ length: 24 }, (_, i) => `/${i % 2 ? 'p' : 'q'}/k${i}`);
      const sentinels = ['/p/~end', '/q/~end'];
      const observers: Observer[] = [
        observe(store, 'all-from-start', '/', 0, [], sentinels),
        observe(store, 'p-from-start', '/p/', 0, [], ['/p/~end']),
      ];
      let ops = 0;
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; i < 250; i++) {
          const key = keys[Math.floor(rand() * keys.length)];
          const value = Buffer.from(`w${w}-${i}`);
          const r = rand();
          try {
            if (r < 0.3) await store.create(key, value, rand() < 0.1 ? { ttlSeconds: 3600 } : undefined);
            else if (r < 0.8) {
              const cur = await store.get(key);
              // Sometimes a stale revision on purpose, to exercise conflicts.
              await store.update(key, value, (cur?.modRevision ?? 1) - (rand() < 0.2 ? 1 : 0));
            } else if (r < 0.9) await store.delete(key);
            else {
              const cur = await store.get(key);
              await store.delete(key, cur?.modRevision ?? 1);
            }
            ops++;
          } catch (err) {
            if (!(err instanceof StoreError) || !EXPECTED.has(err.code)) throw err;
          }
          // Watchers joining mid-stream: from a fresh list, and replaying from an older revision.
          if (w === 0 && (i === 80 || i === 160)) {
            const now = await store.list('/');
            observers.push(observe(store, `all-from-${now.revision}`, '/', now.revision, now.items, sentinels));
            const past = Math.max(0, now.revision - 150);
            const q = await store.list('/q/', { revision: past });
            observers.push(observe(store, `q-replay-from-${past}`, '/q/', past, q.items, ['/q/~end']));
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
      for (const k of sentinels) await store.create(k, Buffer.from('end'));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(observers.map((o) => o.done)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('watchers did not reach the end in time')), 30_000);
        }),
      ]).finally(() => clearTimeout(timer));
      expect(ops).toBeGreaterThan(500);

      const finalRevision = store.currentRevision();
      for (const o of observers) {
        o.watch.close();
        const state = new Map(o.start);
        let last = o.startRevision;
        for (const ev of o.events) {
          expect(ev.revision, `${o.name}: order`).toBeGreaterThan(last);
          if (o.prefix === '/') expect(ev.revision, `${o.name}: no gap`).toBe(last + 1);
          last = ev.revision;
          expect(ev.kv.key.startsWith(o.prefix), `${o.name}: prefix`).toBe(true);
          const before = state.get(ev.kv.key);
          expect(ev.kv.modRevision).toBe(ev.revision);
          if (ev.type === 'create') {
            expect(before, `${o.name}: create of a live key ${ev.kv.key}`).toBeUndefined();
            expect(ev.kv.createRevision).toBe(ev.revision);
            state.set(ev.kv.key, ev.kv);
          } else {
            expect(ev.prevKv, `${o.name}: prevKv at ${ev.revision}`).toEqual(before);
            if (ev.type === 'update') state.set(ev.kv.key, ev.kv);
            else state.delete(ev.kv.key);
          }
        }
        if (o.prefix === '/') expect(last, `${o.name}: reached the end`).toBe(finalRevision);
        const fresh = await store.list(o.prefix);
        expect([...state.values()].sort((a, b) => (a.key < b.key ? -1 : 1)), `${o.name}: folded history equals a fresh list`).toEqual(fresh.items);
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});
