// The seam under the log engine (kine's Backend/Dialect split): a Driver holds only what differs
// between databases (SQL text, transactions, durability knobs). The engine in log.ts owns group
// commit, watch fan-out, TTL and the compaction schedule, and is the same for every driver.
import { AlreadyExistsError, ConflictError, NotFoundError, type StoreError } from './errors';

/** One row of the log: one version of one key. `revision` is the row's id. */
export interface LogRow {
  revision: number;
  key: string;
  /** This row created the key (first write, or first write after a delete). */
  created: boolean;
  /** This row is a delete (a tombstone); its value is empty. */
  deleted: boolean;
  createRevision: number;
  /** Revision of the key's previous row (0 when none): the chain compaction and prevKv follow. */
  prevRevision: number;
  ttlSeconds: number;
  /** Wall-clock write time (ms since epoch), non-decreasing with revision; TTL expiry and the compaction window use it. */
  writtenAtMs: number;
  value: Buffer;
}

/** A log row with the row it superseded, for watch replay (prevKv). */
export interface LogChange {
  row: LogRow;
  prev?: LogRow;
}

/** A conditional append. Each write's condition is checked on its own, in order, inside the batch. */
export type LogWrite =
  | { kind: 'create'; key: string; value: Buffer; ttlSeconds: number }
  | { kind: 'update'; key: string; value: Buffer; ttlSeconds: number; expectedRevision: number }
  | { kind: 'delete'; key: string; expectedRevision?: number };

export type AppendOutcome = { ok: true; row: LogRow; prev?: LogRow } | { ok: false; error: StoreError };

/** What one compaction sweep step did; `ms` is the time the sweep itself took (without any commit). */
export interface SweepResult {
  removed: number;
  done: boolean;
  ms: number;
}

/** What one commit did: each write's outcome, and the compaction sweep that shared its transaction. */
export interface BatchResult {
  outcomes: AppendOutcome[];
  sweep?: SweepResult;
}

/** Where compaction stands: reads below `compactRevision` fail; rows up to `cleanedRevision` are already swept. */
export interface CompactState {
  compactRevision: number;
  cleanedRevision: number;
}

/** A live key whose latest write carries a TTL. */
export interface ExpiringKey {
  key: string;
  revision: number;
  expiresAtMs: number;
}

/**
 * What a database must provide to hold the log. Contract:
 * - appendBatch is atomic with respect to every read of this driver and resolves only after the
 *   transaction is durable; each write gets revision currentRevision+1, +2, ... in order (failed
 *   conditions consume none); a thrown error means nothing of the batch was written.
 * - Reads see every committed batch. Keys compare bytewise (UTF-8).
 * - Revisions never go backwards, even after the newest rows were compacted away and the database
 *   was reopened.
 */
export interface Driver {
  /** Short name for messages and docs ("sqlite"). */
  readonly name: string;
  /**
   * Applies the writes in one transaction with the shared rules of decideWrite(). With sweepRows
   * > 0 and a compaction sweep pending, the same transaction also sweeps up to that many rows
   * (compaction shares the commit's fsync instead of paying its own).
   */
  appendBatch(writes: LogWrite[], writtenAtMs: number, sweepRows?: number): Promise<BatchResult>;
  currentRevision(): Promise<number>;
  compactState(): Promise<CompactState>;
  /** The row of key current at revision (the latest row with id <= revision), tombstones included. */
  get(key: string, revision: number): Promise<LogRow | undefined>;
  /** Live keys in [prefix range] after `startAfter` as of revision, in key order, at most limit (0: all). */
  range(prefix: string, revision: number, startAfter: string | undefined, limit: number): Promise<LogRow[]>;
  /** Number of live keys in the prefix after `startAfter` as of revision. */
  count(prefix: string, revision: number, startAfter?: string): Promise<number>;
  /** Rows with afterRevision < revision <= untilRevision under prefix, in revision order, at most limit. */
  changes(prefix: string, afterRevision: number, untilRevision: number, limit: number): Promise<LogChange[]>;
  /** The newest revision written at or before timeMs (0 when none). */
  revisionWrittenBefore(timeMs: number): Promise<number>;
  /** Raises the readable floor to `revision` (durably) before any row is removed. */
  beginCompaction(revision: number): Promise<void>;
  /**
   * Sweeps at most `maxRows` log rows after cleanedRevision, up to the compact revision, in one
   * short transaction: removes each swept row's predecessor and each swept tombstone. Never removes
   * the latest row of a live key. Returns how many rows it removed and whether the sweep is done.
   */
  compactStep(maxRows: number): Promise<SweepResult>;
  /** Live keys whose latest row has a TTL (used at open to re-arm expiry timers). */
  expiringKeys(): Promise<ExpiringKey[]>;
  /**
   * Returns freed space to the file system in a bounded step and folds the WAL into the database.
   * `done` is true when nothing is left; `ms` is the time the step held the database (writes wait
   * that long), excluding work another thread did meanwhile.
   */
  reclaimStep(): Promise<{ done: boolean; ms: number }>;
  /** File sizes in bytes (database, write-ahead log) for observability and tests. */
  sizes(): Promise<{ database: number; wal: number }>;
  close(): Promise<void>;
}

/** The shared write rules every driver applies inside its transaction (create/CAS update/delete). */
export function decideWrite(
  write: LogWrite,
  current: LogRow | undefined,
  revision: number,
  writtenAtMs: number,
): { row: LogRow; prev?: LogRow } | StoreError {
  const live = current !== undefined && !current.deleted ? current : undefined;
  switch (write.kind) {
    case 'create':
      if (live) return new AlreadyExistsError(write.key, live.revision);
      return {
        row: {
          revision,
          key: write.key,
          created: true,
          deleted: false,
          createRevision: revision,
          prevRevision: current?.revision ?? 0,
          ttlSeconds: write.ttlSeconds,
          writtenAtMs,
          value: write.value,
        },
      };
    case 'update':
      if (!live) return new NotFoundError(write.key);
      if (live.revision !== write.expectedRevision) {
        return new ConflictError(write.key, write.expectedRevision, live.revision);
      }
      return {
        row: {
          revision,
          key: write.key,
          created: false,
          deleted: false,
          createRevision: live.createRevision,
          prevRevision: live.revision,
          ttlSeconds: write.ttlSeconds,
          writtenAtMs,
          value: write.value,
        },
        prev: live,
      };
    case 'delete':
      if (!live) return new NotFoundError(write.key);
      if (write.expectedRevision !== undefined && live.revision !== write.expectedRevision) {
        return new ConflictError(write.key, write.expectedRevision, live.revision);
      }
      return {
        row: {
          revision,
          key: write.key,
          created: false,
          deleted: true,
          createRevision: live.createRevision,
          prevRevision: live.revision,
          ttlSeconds: 0,
          writtenAtMs,
          value: EMPTY,
        },
        prev: live,
      };
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * The exclusive upper bound of a prefix range, or undefined when there is none (empty prefix, or
 * a last character with no successor). Incrementing the last UTF-16 unit keeps UTF-8 byte order
 * for every non-surrogate character.
 */
export function prefixEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xd7ff || (c >= 0xe000 && c < 0xffff)) return prefix.slice(0, i) + String.fromCharCode(c + 1);
    if (c >= 0xd800 && c <= 0xdfff) return undefined;
  }
  return undefined;
}
