// The store's contract, Kubernetes-free (see ../shared/design.md "Store"; k3s-io/kine is the
// reference for the semantics). Keys are strings, values are bytes, every write is a new revision.

/** One version of one key, as stored in the log. */
export interface KeyValue {
  key: string;
  value: Buffer;
  /** Revision at which this incarnation of the key was created. */
  createRevision: number;
  /** Revision of the write that produced this version (the Kubernetes resourceVersion). */
  modRevision: number;
  /** Seconds to live given at the last write, 0 when the key does not expire. */
  ttlSeconds: number;
}

export type WatchEventType = 'create' | 'update' | 'delete';

/** One change, delivered to watchers in revision order, exactly once. */
export interface WatchEvent {
  type: WatchEventType;
  revision: number;
  /** The key's state after the change; for a delete, the key with an empty value. */
  kv: KeyValue;
  /** The key's state before the change (updates and deletes). */
  prevKv?: KeyValue;
}

export interface WriteOptions {
  /** The key is deleted (a normal delete row, seen by watchers) this many seconds after the write. */
  ttlSeconds?: number;
}

export interface ListOptions {
  /** Read as of this revision (0 or absent: the current revision). Older than compaction: Compacted. */
  revision?: number;
  /** At most this many items; a continue token is returned when more remain. */
  limit?: number;
  /** Token from a previous list; it pins the revision of the first page. */
  continue?: string;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at (pass it to watch to follow on without a gap). */
  revision: number;
  continue?: string;
  /** How many keys remain after this page, when known. */
  remaining?: number;
}

export interface Watch {
  /** Ends the watch; the events iterator finishes. */
  close(): void;
  /**
   * Events after the start revision, in order. The iterator throws a StoreError (Compacted when
   * the start revision was compacted, WatchTooSlow when this watcher fell behind its bounded
   * buffer) and then the caller must re-list.
   */
  events: AsyncIterable<WatchEvent[]>;
}

/** The MVCC key-value log every orch control-plane component stands on. */
export interface Store {
  /** Fails with AlreadyExists when the key is live. Resolves once durable, with the new revision. */
  create(key: string, value: Buffer, opts?: WriteOptions): Promise<KeyValue>;
  /** Compare-and-swap: fails with Conflict (carrying the current revision) or NotFound. */
  update(key: string, value: Buffer, expectedRevision: number, opts?: WriteOptions): Promise<KeyValue>;
  /** Deletes a live key; with expectedRevision, only at that revision (else Conflict). Resolves with the deleted version and the delete's revision. */
  delete(key: string, expectedRevision?: number): Promise<{ revision: number; prevKv: KeyValue }>;
  /** The latest version of a live key (or as of a revision); undefined when absent. */
  get(key: string, opts?: { revision?: number }): Promise<KeyValue | undefined>;
  /** Live keys under a prefix, in key order, as of one revision. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** How many live keys a prefix holds (for remainingItemCount and quotas). */
  count(prefix: string): Promise<{ count: number; revision: number }>;
  /** The revision of the latest committed write. */
  currentRevision(): number;
  /** Every change under the prefix after fromRevision (0: from now). */
  watch(prefix: string, fromRevision: number): Watch;
  /** Removes superseded and deleted rows up to revision; later reads below it are Compacted. */
  compact(revision: number): Promise<void>;
  /** The oldest revision still readable. */
  compactRevision(): number;
  close(): Promise<void>;
}
