// Watch fan-out. After each commit the engine hands the batch's events to the hub, which appends
// them to every matching watcher's bounded queue. A watcher whose queue overflows is cut off with
// WatchTooSlowError (kine's broadcaster drops a blocking subscriber): writers never wait on readers.
import { CompactedError, StoreError, WatchTooSlowError } from './errors';
import type { LogChange, LogRow } from './driver';
import type { KeyValue, Watch, WatchEvent } from './types';

export function toKeyValue(row: LogRow): KeyValue {
  return {
    key: row.key,
    value: row.value,
    createRevision: row.createRevision,
    modRevision: row.revision,
    ttlSeconds: row.ttlSeconds,
  };
}

export function toWatchEvent(change: LogChange): WatchEvent {
  const { row, prev } = change;
  const type = row.deleted ? 'delete' : row.created ? 'create' : 'update';
  const ev: WatchEvent = { type, revision: row.revision, kv: toKeyValue(row) };
  if (type !== 'create' && prev && !prev.deleted) ev.prevKv = toKeyValue(prev);
  return ev;
}

/** How a watcher reads history it missed: changes in (after, until] under its prefix. */
export interface ReplaySource {
  changes(prefix: string, after: number, until: number, limit: number): Promise<WatchEvent[]>;
  compactRevision(): number;
}

const REPLAY_CHUNK = 1000;

/** One watcher: a replay cursor over the log, then live events from the hub, in order, once. */
export class Subscription implements Watch {
  readonly events: AsyncIterable<WatchEvent[]>;
  /** Events ready for the consumer. */
  private queue: WatchEvent[] = [];
  /** Live events that arrived while the replay was still reading history. */
  private backlog: WatchEvent[] = [];
  private replaying: boolean;
  /** Revision of the newest event queued or delivered; later events only. */
  private cursor: number;
  private error?: StoreError;
  private closed = false;
  private waiter?: { resolve: (r: IteratorResult<WatchEvent[]>) => void; reject: (e: unknown) => void };

  constructor(
    private readonly hub: WatchHub,
    readonly prefix: string,
    fromRevision: number,
    /** The revision committed when the watch began: replay covers (fromRevision, replayUntil]. */
    private readonly replayUntil: number,
    private readonly limit: number,
    private readonly source: ReplaySource,
  ) {
    this.cursor = fromRevision;
    this.replaying = fromRevision < replayUntil;
    if (fromRevision > 0 && fromRevision < source.compactRevision()) {
      this.error = new CompactedError(fromRevision, source.compactRevision());
    }
    const iterator: AsyncIterator<WatchEvent[]> = {
      next: () => this.next(),
      return: async () => {
        this.close();
        return { done: true, value: undefined };
      },
    };
    this.events = { [Symbol.asyncIterator]: () => iterator };
  }

  get active(): boolean {
    return !this.closed && this.error === undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.remove(this);
    this.queue = [];
    this.backlog = [];
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve({ done: true, value: undefined });
  }

  /** Called by the hub with one commit's events (all prefixes); never blocks. */
  offer(events: WatchEvent[]): void {
    if (!this.active) return;
    let added = 0;
    const target = this.replaying ? this.backlog : this.queue;
    for (const ev of events) {
      if (ev.revision <= this.replayUntil && this.replaying) continue;
      if (!this.replaying && ev.revision <= this.cursor) continue;
      if (!ev.kv.key.startsWith(this.prefix)) continue;
      target.push(ev);
      added++;
    }
    if (added === 0) return;
    // A reader already waiting takes the whole batch at once: only what waits in memory counts.
    const buffered = this.waiter && !this.replaying ? 0 : this.queue.length + this.backlog.length;
    if (buffered > this.limit) {
      this.fail(new WatchTooSlowError(buffered, this.cursor));
      return;
    }
    if (!this.replaying) this.cursor = this.queue[this.queue.length - 1].revision;
    if (this.waiter && this.queue.length > 0) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ done: false, value: this.drain() });
    }
  }

  /** Ends the watch with an error the consumer sees on its next read. */
  fail(err: StoreError): void {
    if (!this.active) return;
    this.error = err;
    this.hub.remove(this);
    this.queue = [];
    this.backlog = [];
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  private drain(): WatchEvent[] {
    const out = this.queue;
    this.queue = [];
    return out;
  }

  private async next(): Promise<IteratorResult<WatchEvent[]>> {
    if (this.error) {
      const err = this.error;
      this.closed = true;
      throw err;
    }
    if (this.queue.length > 0) return { done: false, value: this.drain() };
    if (this.closed) return { done: true, value: undefined };
    while (this.replaying) {
      const compactRevision = this.source.compactRevision();
      if (this.cursor < compactRevision) {
        this.fail(new CompactedError(this.cursor, compactRevision));
        return this.next();
      }
      let chunk: WatchEvent[];
      try {
        chunk = await this.source.changes(this.prefix, this.cursor, this.replayUntil, REPLAY_CHUNK);
      } catch (err) {
        this.fail(err instanceof StoreError ? err : new CompactedError(this.cursor, compactRevision));
        return this.next();
      }
      if (!this.active) return this.next();
      if (chunk.length > 0) {
        this.cursor = chunk[chunk.length - 1].revision;
        // A chunk shorter than asked means the replay reached replayUntil.
        if (chunk.length < REPLAY_CHUNK) this.finishReplay();
        return { done: false, value: chunk };
      }
      this.finishReplay();
      if (this.queue.length > 0) return { done: false, value: this.drain() };
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private finishReplay(): void {
    this.replaying = false;
    this.cursor = this.replayUntil;
    this.queue = this.backlog;
    this.backlog = [];
    if (this.queue.length > 0) this.cursor = this.queue[this.queue.length - 1].revision;
  }
}

/** The set of live watchers; publish() runs after each commit. */
export class WatchHub {
  private readonly subs = new Set<Subscription>();

  add(sub: Subscription): void {
    if (sub.active) this.subs.add(sub);
  }

  remove(sub: Subscription): void {
    this.subs.delete(sub);
  }

  get size(): number {
    return this.subs.size;
  }

  publish(events: WatchEvent[]): void {
    if (events.length === 0) return;
    for (const sub of this.subs) sub.offer(events);
  }

  closeAll(): void {
    for (const sub of [...this.subs]) sub.close();
  }
}
