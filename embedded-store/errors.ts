// Typed store errors. Callers (the apiserver) switch on `code` or `instanceof` and map them to
// Kubernetes Status: AlreadyExists/Conflict -> 409, NotFound -> 404, Compacted -> 410.

/** Every stable error code the store produces. Codes never change once published. */
export const StoreErrorCodes = {
  AlreadyExists: 'STORE_ALREADY_EXISTS',
  Conflict: 'STORE_CONFLICT',
  NotFound: 'STORE_NOT_FOUND',
  Compacted: 'STORE_COMPACTED',
  FutureRevision: 'STORE_FUTURE_REVISION',
  WatchTooSlow: 'STORE_WATCH_TOO_SLOW',
  InvalidArgument: 'STORE_INVALID_ARGUMENT',
  Closed: 'STORE_CLOSED',
  CorruptDatabase: 'STORE_CORRUPT_DATABASE',
  DatabaseOpen: 'STORE_DATABASE_OPEN',
  Internal: 'STORE_INTERNAL',
} as const;

export type StoreErrorCode = (typeof StoreErrorCodes)[keyof typeof StoreErrorCodes];

/** Base class of every error the store throws or rejects with. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** create() of a key that is live. */
export class AlreadyExistsError extends StoreError {
  constructor(readonly key: string, readonly currentRevision: number) {
    super(StoreErrorCodes.AlreadyExists, `key "${key}" already exists (revision ${currentRevision})`);
  }
}

/** update()/delete() whose expected revision is not the key's current revision. */
export class ConflictError extends StoreError {
  constructor(readonly key: string, readonly expectedRevision: number, readonly currentRevision: number) {
    super(
      StoreErrorCodes.Conflict,
      `key "${key}" is at revision ${currentRevision}, not the expected revision ${expectedRevision}`,
    );
  }
}

/** update()/delete() of a key that is not live. */
export class NotFoundError extends StoreError {
  constructor(readonly key: string) {
    super(StoreErrorCodes.NotFound, `key "${key}" not found`);
  }
}

/** A read or watch at a revision older than the compaction revision: the caller must re-list. */
export class CompactedError extends StoreError {
  constructor(readonly requestedRevision: number, readonly compactRevision: number) {
    super(
      StoreErrorCodes.Compacted,
      `revision ${requestedRevision} has been compacted; the oldest readable revision is ${compactRevision}`,
    );
  }
}

/** A read at a revision newer than the latest committed write. */
export class FutureRevisionError extends StoreError {
  constructor(readonly requestedRevision: number, readonly currentRevision: number) {
    super(
      StoreErrorCodes.FutureRevision,
      `revision ${requestedRevision} is in the future; the current revision is ${currentRevision}`,
    );
  }
}

/** A watcher fell behind its bounded buffer and was cut off; the caller must re-list and re-watch. */
export class WatchTooSlowError extends StoreError {
  constructor(readonly bufferedEvents: number, readonly lastDeliveredRevision: number) {
    super(
      StoreErrorCodes.WatchTooSlow,
      `watcher fell ${bufferedEvents} events behind (last delivered revision ${lastDeliveredRevision}) and was cut off`,
    );
  }
}

export class InvalidArgumentError extends StoreError {
  constructor(message: string) {
    super(StoreErrorCodes.InvalidArgument, message);
  }
}

/** An operation on a store that is closed or closing. */
export class StoreClosedError extends StoreError {
  constructor() {
    super(StoreErrorCodes.Closed, 'the store is closed');
  }
}

/** The database file exists but is not a valid, intact store (garbage, truncated, damaged pages). */
export class CorruptDatabaseError extends StoreError {
  constructor(readonly path: string, detail: string, options?: { cause?: unknown }) {
    super(StoreErrorCodes.CorruptDatabase, `database file ${path} is corrupt or not a database: ${detail}`, options);
  }
}

/** The database file could not be opened or initialised (permissions, missing directory, locked, ...). */
export class DatabaseOpenError extends StoreError {
  constructor(readonly path: string, detail: string, options?: { cause?: unknown }) {
    super(StoreErrorCodes.DatabaseOpen, `cannot open database file ${path}: ${detail}`, options);
  }
}

/** A driver failure that is none of the above (I/O error during a commit, ...). */
export class InternalStoreError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(StoreErrorCodes.Internal, message, options);
  }
}
