// Unit tests of every store operation and error, against the real SQLite driver in a temp dir.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  CompactedError,
  ConflictError,
  CorruptDatabaseError,
  DatabaseOpenError,
  FutureRevisionError,
  InvalidArgumentError,
  NotFoundError,
  StoreClosedError,
  StoreError,
  StoreErrorCodes,
  WatchTooSlowError,
  openSqliteStore,
  type LogStore,
  type Watch,
  type WatchEvent,
} from '../../embedded-store';

const root = mkdtempSync(join(tmpdir(), 'orch-test-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function dbPath(): string {
  return join(root, `case-${++n}`, 'server', 'db', 'state.db');
}

const b = (s: string): Buffer => Buffer.from(s);

/** Reads watch batches until `count` events arrived or the deadline passed. */
async function collect(w: Watch, count: number, timeoutMs = 5000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const it = w.events[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (out.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out with ${out.length}/${count} events`);
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`timed out with ${out.length}/${count} events`)), left);
      }),
    ]).finally(() => clearTimeout(timer));
    if (r.done) break;
    out.push(...r.value);
  }
  return out;
}

describe('store operations', () => {
  let s: LogStore;
  beforeEach(async () => {
    s = await openSqliteStore({ path: dbPath(), compactIntervalMs: 0 });
  });
  afterEach(async () => {
    await s.close();
  });

  it('creates a key and reads it back', async () => {
    expect(s.currentRevision()).toBe(0);
    const kv = await s.create('/registry/pods/default/web-1', b('v1'));
    expect(kv).toEqual({ key: '/registry/pods/default/web-1', value: b('v1'), createRevision: 1, modRevision: 1, ttlSeconds: 0 });
    expect(s.currentRevision()).toBe(1);
    expect(await s.get('/registry/pods/default/web-1')).toEqual(kv);
    expect(await s.get('/registry/pods/default/missing')).toBeUndefined();
  });

  it('rejects a create of a live key with AlreadyExists', async () => {
    await s.create('/k', b('a'));
    const err = await s.create('/k', b('b')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect((err as StoreError).code).toBe(StoreErrorCodes.AlreadyExists);
    expect((err as AlreadyExistsError).currentRevision).toBe(1);
    expect(s.currentRevision()).toBe(1); // a failed write consumes no revision
  });

  it('updates with compare-and-swap and reports the current revision on conflict', async () => {
    const a = await s.create('/k', b('a'));
    const u = await s.update('/k', b('b'), a.modRevision);
    expect(u).toMatchObject({ value: b('b'), createRevision: 1, modRevision: 2 });
    const err = await s.update('/k', b('c'), a.modRevision).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).currentRevision).toBe(2);
    expect((err as ConflictError).code).toBe('STORE_CONFLICT');
    expect((await s.get('/k'))?.value).toEqual(b('b'));
  });

  it('rejects update and delete of an absent key with NotFound', async () => {
    await expect(s.update('/nope', b('x'), 1)).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.delete('/nope')).rejects.toBeInstanceOf(NotFoundError);
    await s.create('/gone', b('x'));
    await s.delete('/gone');
    await expect(s.update('/gone', b('y'), 1)).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.delete('/gone')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deletes unconditionally or at an expected revision', async () => {
    const a = await s.create('/k', b('a'));
    await expect(s.delete('/k', a.modRevision + 5)).rejects.toBeInstanceOf(ConflictError);
    const d = await s.delete('/k', a.modRevision);
    expect(d).toEqual({ revision: 2, prevKv: a });
    expect(await s.get('/k')).toBeUndefined();
    // A re-create starts a new incarnation with its own create revision.
    const again = await s.create('/k', b('again'));
    expect(again).toMatchObject({ createRevision: 3, modRevision: 3 });
    const d2 = await s.delete('/k');
    expect(d2.revision).toBe(4);
  });

  it('reads get and list as of a past revision', async () => {
    const a = await s.create('/p/a', b('a1'));
    await s.create('/p/b', b('b1'));
    await s.update('/p/a', b('a2'), a.modRevision);
    await s.delete('/p/b');
    expect((await s.get('/p/a', { revision: 1 }))?.value).toEqual(b('a1'));
    expect((await s.get('/p/a', { revision: 3 }))?.value).toEqual(b('a2'));
    expect(await s.get('/p/b', { revision: 1 })).toBeUndefined();
    expect((await s.get('/p/b', { revision: 3 }))?.value).toEqual(b('b1'));
    expect(await s.get('/p/b', { revision: 4 })).toBeUndefined();
    const at2 = await s.list('/p/', { revision: 2 });
    expect(at2.revision).toBe(2);
    expect(at2.items.map((i) => [i.key, i.value.toString()])).toEqual([['/p/a', 'a1'], ['/p/b', 'b1']]);
    const now = await s.list('/p/');
    expect(now.revision).toBe(4);
    expect(now.items.map((i) => [i.key, i.value.toString()])).toEqual([['/p/a', 'a2']]);
  });

  it('rejects reads at a future revision', async () => {
    await s.create('/k', b('a'));
    await expect(s.get('/k', { revision: 5 })).rejects.toBeInstanceOf(FutureRevisionError);
    await expect(s.list('/', { revision: 5 })).rejects.toBeInstanceOf(FutureRevisionError);
  });

  it('lists only the prefix, in key order', async () => {
    for (const k of ['/registry/pods/b', '/registry/pods/a', '/registry/podsx/z', '/registry/pod', '/registry/services/a']) {
      await s.create(k, b(k));
    }
    const r = await s.list('/registry/pods/');
    expect(r.items.map((i) => i.key)).toEqual(['/registry/pods/a', '/registry/pods/b']);
    expect((await s.list('')).items).toHaveLength(5);
    expect((await s.count('/registry/pods')).count).toBe(3);
    expect(await s.count('/registry/')).toEqual({ count: 5, revision: 5 });
  });

  it('pages a list with limit and a continue token that pins the revision', async () => {
    for (let i = 0; i < 10; i++) await s.create(`/l/${String(i).padStart(2, '0')}`, b(`v${i}`));
    const p1 = await s.list('/l/', { limit: 4 });
    expect(p1.items.map((i) => i.key)).toEqual(['/l/00', '/l/01', '/l/02', '/l/03']);
    expect(p1.remaining).toBe(6);
    expect(p1.continue).toBeTypeOf('string');
    // Changes after the first page do not show in later pages.
    await s.delete('/l/05');
    await s.create('/l/99', b('new'));
    const p2 = await s.list('/l/', { limit: 4, continue: p1.continue });
    expect(p2.revision).toBe(p1.revision);
    expect(p2.items.map((i) => i.key)).toEqual(['/l/04', '/l/05', '/l/06', '/l/07']);
    const p3 = await s.list('/l/', { limit: 4, continue: p2.continue });
    expect(p3.items.map((i) => i.key)).toEqual(['/l/08', '/l/09']);
    expect(p3.continue).toBeUndefined();
    await expect(s.list('/other/', { continue: p1.continue })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(s.list('/l/', { continue: 'garbage' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('rejects invalid arguments with InvalidArgument', async () => {
    await expect(s.create('', b('x'))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(Promise.resolve().then(() => s.create('/k', 'str' as unknown as Buffer))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(Promise.resolve().then(() => s.update('/k', b('x'), -1))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(Promise.resolve().then(() => s.create('/k', b('x'), { ttlSeconds: 1.5 }))).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('watches live changes with prevKv, in order, filtered by prefix', async () => {
    const w = s.watch('/w/', 0);
    const a = await s.create('/w/a', b('1'));
    await s.create('/other', b('x'));
    await s.update('/w/a', b('2'), a.modRevision);
    await s.delete('/w/a');
    const evs = await collect(w, 3);
    w.close();
    expect(evs.map((e) => [e.type, e.revision, e.kv.value.toString(), e.prevKv?.value.toString()])).toEqual([
      ['create', 1, '1', undefined],
      ['update', 3, '2', '1'],
      ['delete', 4, '', '2'],
    ]);
    expect(evs[2].kv).toMatchObject({ key: '/w/a', createRevision: 1, modRevision: 4 });
  });

  it('replays history from a past revision, then follows live, exactly once', async () => {
    const a = await s.create('/r/a', b('1'));
    await s.update('/r/a', b('2'), a.modRevision);
    await s.create('/r/b', b('3'));
    const w = s.watch('/r/', 1);
    const live = s.create('/r/c', b('4'));
    await live;
    const evs = await collect(w, 3);
    w.close();
    expect(evs.map((e) => [e.type, e.revision, e.kv.key])).toEqual([
      ['update', 2, '/r/a'],
      ['create', 3, '/r/b'],
      ['create', 4, '/r/c'],
    ]);
    expect(evs[0].prevKv?.value).toEqual(b('1'));
  });

  it('ends the events iterator when the watch is closed', async () => {
    const w = s.watch('/', 0);
    const it = w.events[Symbol.asyncIterator]();
    const pending = it.next();
    w.close();
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('fails a watch from a compacted revision with Compacted', async () => {
    const a = await s.create('/c/a', b('1'));
    await s.update('/c/a', b('2'), a.modRevision);
    await s.update('/c/a', b('3'), 2);
    await s.compact(3);
    expect(s.compactRevision()).toBe(3);
    const w = s.watch('/c/', 1);
    const err = await collect(w, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CompactedError);
    expect((err as CompactedError).compactRevision).toBe(3);
    await expect(s.get('/c/a', { revision: 2 })).rejects.toBeInstanceOf(CompactedError);
    await expect(s.list('/c/', { revision: 1 })).rejects.toBeInstanceOf(CompactedError);
    // At and after the compact revision everything still reads.
    expect((await s.get('/c/a', { revision: 3 }))?.value).toEqual(b('3'));
    const w2 = s.watch('/c/', 3);
    await s.update('/c/a', b('4'), 3);
    const evs = await collect(w2, 1);
    w2.close();
    expect(evs[0].prevKv?.value).toEqual(b('3'));
    await expect(s.compact(99)).rejects.toBeInstanceOf(FutureRevisionError);
  });

  it('cuts off a watcher that falls behind its buffer without stalling writers', async () => {
    await s.close();
    s = await openSqliteStore({ path: dbPath(), compactIntervalMs: 0, watchBufferEvents: 50 });
    const slow = s.watch('/', 0);
    const fast = s.watch('/', 0);
    const fastEvents = collect(fast, 200);
    await Promise.all(Array.from({ length: 200 }, (_, i) => s.create(`/k${i}`, b('x'))));
    expect((await fastEvents).length).toBe(200);
    fast.close();
    const err = await collect(slow, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchTooSlowError);
    expect((err as StoreError).code).toBe(StoreErrorCodes.WatchTooSlow);
    expect(s.stats().watchers).toBe(0);
  });

  it('rejects operations after close', async () => {
    const other = await openSqliteStore({ path: dbPath(), compactIntervalMs: 0 });
    await other.close();
    await expect(other.create('/k', b('x'))).rejects.toBeInstanceOf(StoreClosedError);
    await expect(other.get('/k')).rejects.toBeInstanceOf(StoreClosedError);
  });
});

describe('store files', () => {
  it('keeps data across close and reopen', async () => {
    const path = dbPath();
    const s1 = await openSqliteStore({ path, compactIntervalMs: 0 });
    const a = await s1.create('/k', b('v'));
    await s1.update('/k', b('w'), a.modRevision);
    await s1.close();
    const s2 = await openSqliteStore({ path, compactIntervalMs: 0 });
    expect(s2.currentRevision()).toBe(2);
    expect((await s2.get('/k'))?.value).toEqual(b('w'));
    expect((await s2.create('/k2', b('x'))).modRevision).toBe(3);
    await s2.close();
  });

  it('never reuses a revision after the newest rows were compacted away', async () => {
    const path = dbPath();
    const s1 = await openSqliteStore({ path, compactIntervalMs: 0 });
    await s1.create('/k', b('v'));
    await s1.delete('/k');
    await s1.compact(2);
    await s1.close();
    const s2 = await openSqliteStore({ path, compactIntervalMs: 0 });
    expect(s2.currentRevision()).toBe(2);
    expect(s2.compactRevision()).toBe(2);
    expect((await s2.create('/k', b('again'))).modRevision).toBe(3);
    await s2.close();
  });

  it('fails to open a garbage file with CorruptDatabaseError naming the file', async () => {
    const path = dbPath();
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, Buffer.alloc(64 * 1024, 'this is not a database '));
    const err = await openSqliteStore({ path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptDatabaseError);
    expect((err as StoreError).code).toBe(StoreErrorCodes.CorruptDatabase);
    expect((err as Error).message).toContain(path);
  });

  it('fails to open an unreadable location with DatabaseOpenError naming the file', async () => {
    const dir = join(root, `ro-${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'blocker'), 'a file where a directory should be');
    const path = join(dir, 'blocker', 'state.db');
    const err = await openSqliteStore({ path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseOpenError);
    expect((err as Error).message).toContain(path);
    chmodSync(dir, 0o755);
  });
});

describe('error codes', () => {
  it('are unique and each is documented in docs/architecture.md', () => {
    const codes = Object.values(StoreErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'architecture.md'), 'utf8');
    for (const code of codes) expect(doc, `${code} is not documented`).toContain(`\`${code}\``);
  });
});
