// The log engine (kine's logstructured layer), the same for every driver: group commit, watch
// fan-out from committed batches, TTL expiry as ordinary deletes, and background compaction in
// short steps.
import type { AppendOutcome, BatchResult, Driver, LogRow, LogWrite, SweepResult } from './driver';
import {
  CompactedError,
  FutureRevisionError,
  InvalidArgumentError,
  StoreClosedError,
  StoreError,
  StoreErrorCodes,
} from './errors';
import type { KeyValue, ListOptions, ListResult, Store, Watch, WatchEvent, WriteOptions } from './types';
import { Subscription, WatchHub, toKeyValue, toWatchEvent } from './watch';

export interface LogStoreOptions {
  /** Rows superseded or deleted longer ago than this are compacted (default 300 s, as kine's 5 minutes). */
  compactionWindowSeconds?: number;
  /** How often background compaction looks for work (default 60 s; 0 disables it). */
  compactIntervalMs?: number;
  /** Events a watcher may have buffered before it is cut off with WatchTooSlowError (default 10,000). */
  watchBufferEvents?: number;
  /** Time budget of one compaction step; the step size adapts to it (default 5 ms). */
  compactStepBudgetMs?: number;
}

/** Figures the engine keeps about itself (tests and benchmarks read them). */
export interface StoreStats {
  revision: number;
  compactRevision: number;
  /** Commits (transactions) and writes since open: writes/commits is the mean group size. */
  commits: number;
  writes: number;
  watchers: number;
  /** The longest single compaction or reclaim step since open (ms): writes wait at most this long. */
  maxCompactionStepMs: number;
  /** The longest row-sweeping step and the longest file-reclaiming step (ms). */
  maxSweepStepMs: number;
  maxReclaimStepMs: number;
  compactions: number;
  rowsCompacted: number;
  expiredKeys: number;
}

/** A Store with the engine's own figures and maintenance controls. */
export interface LogStore extends Store {
  stats(): StoreStats;
  /** Database and write-ahead-log file sizes in bytes. */
  sizes(): Promise<{ database: number; wal: number }>;
  /** Runs one background compaction pass now (window rule) and file reclamation; resolves when done. */
  runCompaction(): Promise<void>;
}

interface PendingWrite {
  write: LogWrite;
  resolve: (o: Extract<AppendOutcome, { ok: true }>) => void;
  reject: (err: unknown) => void;
}

interface Expiry {
  atMs: number;
  key: string;
  revision: number;
}

const CONTINUE_VERSION = 1;

export class LogEngine implements LogStore {
  private revision = 0;
  private compactRev = 0;
  private lastWrittenAtMs = 0;
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private flushing = false;
  private flushIdle: (() => void)[] = [];
  private flushDone: (() => void)[] = [];
  /** The compact revision was raised and rows below it are still being swept. */
  private sweepPending = false;
  private closed = false;
  private readonly hub = new WatchHub();
  private readonly windowMs: number;
  private readonly intervalMs: number;
  private readonly watchLimit: number;
  private readonly stepBudgetMs: number;
  private compactTimer?: NodeJS.Timeout;
  private compacting?: Promise<void>;
  private stepRows = 500;
  // TTL: the live expiry of each key, plus a min-heap of (time, key, revision) with lazy removal.
  private readonly expiries = new Map<string, Expiry>();
  private readonly heap: Expiry[] = [];
  private expiryTimer?: NodeJS.Timeout;
  private expiryTimerAt = Infinity;
  private readonly counters = { commits: 0, writes: 0, maxCompactionStepMs: 0, maxSweepStepMs: 0, maxReclaimStepMs: 0, compactions: 0, rowsCompacted: 0, expiredKeys: 0 };

  private constructor(private readonly driver: Driver, opts: LogStoreOptions) {
    this.windowMs = (opts.compactionWindowSeconds ?? 300) * 1000;
    this.intervalMs = opts.compactIntervalMs ?? 60_000;
    this.watchLimit = opts.watchBufferEvents ?? 10_000;
    this.stepBudgetMs = opts.compactStepBudgetMs ?? 5;
  }

  /** Starts the engine over an opened driver: loads revisions, re-arms TTLs, starts compaction. */
  static async start(driver: Driver, opts: LogStoreOptions = {}): Promise<LogEngine> {
    const e = new LogEngine(driver, opts);
    e.revision = await driver.currentRevision();
    e.compactRev = (await driver.compactState()).compactRevision;
    for (const x of await driver.expiringKeys()) e.armExpiry(x.key, x.revision, x.expiresAtMs);
    if (e.intervalMs > 0) {
      e.compactTimer = setInterval(() => e.backgroundCompaction(), e.intervalMs);
      e.compactTimer.unref();
    }
    return e;
  }

  // ---- writes -------------------------------------------------------------------------------

  async create(key: string, value: Buffer, opts?: WriteOptions): Promise<KeyValue> {
    checkKey(key);
    checkValue(value);
    const o = await this.enqueue({ kind: 'create', key, value, ttlSeconds: ttlOf(opts) });
    return toKeyValue(o.row);
  }

  async update(key: string, value: Buffer, expectedRevision: number, opts?: WriteOptions): Promise<KeyValue> {
    checkKey(key);
    checkValue(value);
    checkRevision(expectedRevision, 'expectedRevision');
    const o = await this.enqueue({ kind: 'update', key, value, ttlSeconds: ttlOf(opts), expectedRevision });
    return toKeyValue(o.row);
  }

  async delete(key: string, expectedRevision?: number): Promise<{ revision: number; prevKv: KeyValue }> {
    checkKey(key);
    if (expectedRevision !== undefined) checkRevision(expectedRevision, 'expectedRevision');
    const o = await this.enqueue({ kind: 'delete', key, expectedRevision });
    return { revision: o.row.revision, prevKv: toKeyValue(o.prev as LogRow) };
  }

  private enqueue(write: LogWrite): Promise<Extract<AppendOutcome, { ok: true }>> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    return new Promise((resolve, reject) => {
      this.pending.push({ write, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    // Writes issued until the event loop's next check phase join this commit (group commit).
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    if (this.flushing) return;
    if (this.pending.length === 0) {
      for (const f of this.flushIdle.splice(0)) f();
      return;
    }
    this.flushing = true;
    const batch = this.pending;
    this.pending = [];
    const writtenAtMs = Math.max(Date.now(), this.lastWrittenAtMs);
    let result: BatchResult | undefined;
    try {
      // A pending compaction sweep rides along in this commit's transaction.
      result = await this.driver.appendBatch(
        batch.map((p) => p.write),
        writtenAtMs,
        // At least twice the batch: the sweep must outpace the rows this very commit adds.
        this.sweepPending ? Math.max(this.stepRows, 2 * batch.length) : 0,
      );
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
    if (result) {
      const outcomes = result.outcomes;
      if (result.sweep) this.noteSweep(result.sweep);
      this.lastWrittenAtMs = writtenAtMs;
      this.counters.commits++;
      const events: WatchEvent[] = [];
      for (const o of outcomes) {
        if (!o.ok) continue;
        this.revision = o.row.revision;
        this.counters.writes++;
        events.push(toWatchEvent(o));
        this.trackExpiry(o.row);
      }
      // Watchers first, then callers: by the time a write resolves, its event is queued.
      this.hub.publish(events);
      for (let i = 0; i < batch.length; i++) {
        const o = outcomes[i];
        if (o.ok) batch[i].resolve(o);
        else batch[i].reject(o.error);
      }
    }
    this.flushing = false;
    for (const f of this.flushDone.splice(0)) f();
    if (this.pending.length > 0) this.scheduleFlush();
    else for (const f of this.flushIdle.splice(0)) f();
  }

  /** True while writes are queued or committing: compaction then rides along instead of taking turns. */
  private writesActive(): boolean {
    return this.flushing || this.flushScheduled || this.pending.length > 0;
  }

  // ---- reads --------------------------------------------------------------------------------

  currentRevision(): number {
    return this.revision;
  }

  compactRevision(): number {
    return this.compactRev;
  }

  private readRevision(requested: number | undefined): number {
    if (this.closed) throw new StoreClosedError();
    if (requested === undefined || requested === 0) return this.revision;
    checkRevision(requested, 'revision');
    if (requested > this.revision) throw new FutureRevisionError(requested, this.revision);
    if (requested < this.compactRev) throw new CompactedError(requested, this.compactRev);
    return requested;
  }

  /** A read below the compact revision may have raced a compaction step: it is not trustworthy. */
  private checkNotCompacted(revision: number): void {
    if (revision < this.compactRev) throw new CompactedError(revision, this.compactRev);
  }

  async get(key: string, opts?: { revision?: number }): Promise<KeyValue | undefined> {
    checkKey(key);
    const rev = this.readRevision(opts?.revision);
    const row = await this.driver.get(key, rev);
    this.checkNotCompacted(rev);
    return row && !row.deleted ? toKeyValue(row) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    if (typeof prefix !== 'string') throw new InvalidArgumentError('prefix must be a string');
    let requested = opts.revision;
    let startAfter: string | undefined;
    if (opts.continue) {
      const tok = decodeContinue(opts.continue, prefix);
      requested = tok.revision;
      startAfter = tok.key;
    }
    const limit = opts.limit ?? 0;
    if (!Number.isInteger(limit) || limit < 0) throw new InvalidArgumentError(`limit must be a non-negative integer, got ${limit}`);
    const rev = this.readRevision(requested);
    const rows = await this.driver.range(prefix, rev, startAfter, limit > 0 ? limit + 1 : 0);
    const more = limit > 0 && rows.length > limit;
    if (more) rows.length = limit;
    const result: ListResult = { items: rows.map(toKeyValue), revision: rev };
    if (more) {
      const last = rows[rows.length - 1].key;
      result.continue = encodeContinue(rev, last, prefix);
      result.remaining = await this.driver.count(prefix, rev, last);
    }
    this.checkNotCompacted(rev);
    return result;
  }

  async count(prefix: string): Promise<{ count: number; revision: number }> {
    const rev = this.readRevision(undefined);
    return { count: await this.driver.count(prefix, rev), revision: rev };
  }

  watch(prefix: string, fromRevision: number): Watch {
    if (typeof prefix !== 'string') throw new InvalidArgumentError('prefix must be a string');
    if (fromRevision !== 0) checkRevision(fromRevision, 'fromRevision');
    if (this.closed) throw new StoreClosedError();
    const from = fromRevision === 0 ? this.revision : fromRevision;
    const sub = new Subscription(this.hub, prefix, from, this.revision, this.watchLimit, {
      changes: async (p, after, until, limit) => {
        const changes = await this.driver.changes(p, after, until, limit);
        this.checkNotCompacted(after);
        return changes.map(toWatchEvent);
      },
      compactRevision: () => this.compactRev,
    });
    this.hub.add(sub);
    return sub;
  }

  // ---- TTL ----------------------------------------------------------------------------------

  private trackExpiry(row: LogRow): void {
    if (row.deleted || row.ttlSeconds === 0) {
      this.expiries.delete(row.key);
      return;
    }
    this.armExpiry(row.key, row.revision, row.writtenAtMs + row.ttlSeconds * 1000);
  }

  private armExpiry(key: string, revision: number, atMs: number): void {
    const e = { atMs, key, revision };
    this.expiries.set(key, e);
    heapPush(this.heap, e);
    this.scheduleExpiryTimer();
  }

  private scheduleExpiryTimer(): void {
    if (this.closed) return;
    const next = this.heap[0];
    if (!next) return;
    if (this.expiryTimer && this.expiryTimerAt <= next.atMs) return;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimerAt = next.atMs;
    // setTimeout caps at ~24.8 days; a longer wait just re-checks.
    const delay = Math.min(Math.max(0, next.atMs - Date.now()), 2 ** 31 - 1);
    this.expiryTimer = setTimeout(() => this.expireDue(), delay);
    this.expiryTimer.unref();
  }

  private expireDue(): void {
    this.expiryTimer = undefined;
    this.expiryTimerAt = Infinity;
    const now = Date.now();
    while (this.heap.length > 0 && this.heap[0].atMs <= now) {
      const e = heapPop(this.heap) as Expiry;
      if (this.expiries.get(e.key) !== e) continue; // rewritten or deleted since
      this.expiries.delete(e.key);
      // An expiry is an ordinary conditional delete: watchers see it, and a concurrent rewrite wins.
      this.enqueue({ kind: 'delete', key: e.key, expectedRevision: e.revision }).then(
        () => this.counters.expiredKeys++,
        (err) => {
          if (err instanceof StoreError && (err.code === StoreErrorCodes.Conflict || err.code === StoreErrorCodes.NotFound)) return;
          if (err instanceof StoreClosedError) return;
          // A failed commit: try again shortly rather than leave the key forever.
          if (!this.closed && !this.expiries.has(e.key)) this.armExpiry(e.key, e.revision, Date.now() + 1000);
        },
      );
    }
    this.scheduleExpiryTimer();
  }

  // ---- compaction ---------------------------------------------------------------------------

  /** Compacts to `revision` now: reads below it fail with Compacted afterwards. */
  async compact(revision: number): Promise<void> {
    checkRevision(revision, 'revision');
    if (this.closed) throw new StoreClosedError();
    if (revision > this.revision) throw new FutureRevisionError(revision, this.revision);
    await this.serializeCompaction(() => this.compactTo(revision));
  }

  async runCompaction(): Promise<void> {
    if (this.closed) return;
    await this.serializeCompaction(() => this.compactByWindow());
  }

  /** The timer's pass: skipped while another pass still runs, so passes never pile up. */
  private backgroundCompaction(): void {
    if (this.compacting || this.closed) return;
    this.serializeCompaction(() => this.compactByWindow()).catch(() => {
      // A failed pass is retried on the next tick; the driver error is already typed.
    });
  }

  private async compactByWindow(): Promise<void> {
    const target = Math.min(await this.driver.revisionWrittenBefore(Date.now() - this.windowMs), this.revision);
    await this.compactTo(target);
  }

  private async serializeCompaction(fn: () => Promise<void>): Promise<void> {
    while (this.compacting) await this.compacting.catch(() => undefined);
    const p = fn();
    this.compacting = p;
    try {
      await p;
    } finally {
      if (this.compacting === p) this.compacting = undefined;
    }
  }

  private async compactTo(revision: number): Promise<void> {
    if (revision > this.compactRev) {
      await this.driver.beginCompaction(revision);
      this.compactRev = revision;
      this.counters.compactions++;
      // Watchers still replaying below the new floor can no longer be served exactly.
    }
    this.sweepPending = (await this.driver.compactState()).cleanedRevision < this.compactRev;
    // Sweep in steps sized to the time budget. While writes flow, each commit carries one step
    // (sharing its fsync); when idle, standalone steps run, yielding to writes between them.
    while (this.sweepPending) {
      if (this.closed) return;
      if (!(await this.idle())) continue;
      const t0 = performance.now();
      const r = await this.driver.compactStep(this.stepRows);
      // Alone, the step's commit (and its fsync) is time writes may wait: count all of it.
      this.noteStep(performance.now() - t0);
      this.noteSweep(r);
      await yieldToWrites();
    }
    // Returning free pages to the file system needs its own transactions: only when writes pause
    // (inserts reuse free pages meanwhile, so the file does not grow while this waits).
    for (let waits = 0; ; ) {
      if (this.closed) return;
      if (!(await this.idle())) {
        // Busy: leave it to a later pass rather than hold up the next compaction.
        if (++waits > 3) return;
        continue;
      }
      const { done, ms } = await this.driver.reclaimStep();
      this.noteStep(ms);
      if (ms > this.counters.maxReclaimStepMs) this.counters.maxReclaimStepMs = ms;
      if (done) break;
      await yieldToWrites();
    }
  }

  /**
   * Resolves true when no write is queued or committing, checked after a full event-loop turn
   * (writers re-issue their next write a few microtasks after a commit resolves them); false
   * after waiting for the current commit to finish.
   */
  private async idle(): Promise<boolean> {
    await yieldToWrites();
    if (!this.writesActive()) return true;
    await new Promise<void>((resolve) => this.flushDone.push(resolve));
    return false;
  }

  private noteSweep(r: SweepResult): void {
    this.noteStep(r.ms);
    if (r.ms > this.counters.maxSweepStepMs) this.counters.maxSweepStepMs = r.ms;
    this.counters.rowsCompacted += r.removed;
    if (r.done) this.sweepPending = false;
    if (r.ms < this.stepBudgetMs / 2 && this.stepRows < 2048) this.stepRows *= 2;
    else if (r.ms > this.stepBudgetMs && this.stepRows > 50) this.stepRows = Math.max(50, Math.floor(this.stepRows / 2));
  }

  private noteStep(ms: number): void {
    if (ms > this.counters.maxCompactionStepMs) this.counters.maxCompactionStepMs = ms;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  stats(): StoreStats {
    return { revision: this.revision, compactRevision: this.compactRev, watchers: this.hub.size, ...this.counters };
  }

  sizes(): Promise<{ database: number; wal: number }> {
    return this.driver.sizes();
  }

  /** Waits for queued writes to commit, ends every watch, stops timers and closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.compactTimer) clearInterval(this.compactTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.flushing || this.flushScheduled || this.pending.length > 0) {
      await new Promise<void>((resolve) => this.flushIdle.push(resolve));
    }
    if (this.compacting) await this.compacting.catch(() => undefined);
    this.hub.closeAll();
    await this.driver.close();
  }
}

function yieldToWrites(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidArgumentError('key must be a non-empty string');
}

function checkValue(value: Buffer): void {
  if (!Buffer.isBuffer(value)) throw new InvalidArgumentError('value must be a Buffer');
}

function checkRevision(rev: number, what: string): void {
  if (!Number.isSafeInteger(rev) || rev < 0) throw new InvalidArgumentError(`${what} must be a non-negative integer, got ${rev}`);
}

function ttlOf(opts: WriteOptions | undefined): number {
  const ttl = opts?.ttlSeconds ?? 0;
  if (!Number.isSafeInteger(ttl) || ttl < 0) throw new InvalidArgumentError(`ttlSeconds must be a non-negative integer, got ${ttl}`);
  return ttl;
}

function encodeContinue(revision: number, key: string, prefix: string): string {
  return Buffer.from(JSON.stringify({ v: CONTINUE_VERSION, r: revision, k: key, p: prefix })).toString('base64url');
}

function decodeContinue(token: string, prefix: string): { revision: number; key: string } {
  let t: { v?: unknown; r?: unknown; k?: unknown; p?: unknown };
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidArgumentError('continue token is not valid');
  }
  if (t.v !== CONTINUE_VERSION || typeof t.r !== 'number' || typeof t.k !== 'string' || typeof t.p !== 'string') {
    throw new InvalidArgumentError('continue token is not valid');
  }
  if (t.p !== prefix) throw new InvalidArgumentError(`continue token was issued for prefix "${t.p}", not "${prefix}"`);
  return { revision: t.r, key: t.k };
}

function heapPush(h: Expiry[], e: Expiry): void {
  h.push(e);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p].atMs <= h[i].atMs) break;
    [h[p], h[i]] = [h[i], h[p]];
    i = p;
  }
}

function heapPop(h: Expiry[]): Expiry | undefined {
  const top = h[0];
  const last = h.pop();
  if (h.length > 0 && last) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].atMs < h[m].atMs) m = l;
      if (r < h.length && h[r].atMs < h[m].atMs) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }
  return top;
}
