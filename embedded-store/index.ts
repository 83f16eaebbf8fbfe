// orch's embedded store: an MVCC key-value log with watch (see docs/architecture.md "embedded-store").
// Kubernetes-free; callers depend on the Store contract in types.ts and the errors in errors.ts.
import { SqliteDriver } from './drivers/sqlite';
import { LogEngine, type LogStore, type LogStoreOptions } from './log';

export * from './types';
export * from './errors';
export type { LogStore, LogStoreOptions, StoreStats } from './log';
export type { Driver, LogRow, LogWrite, LogChange, AppendOutcome, BatchResult, SweepResult, CompactState, ExpiringKey } from './driver';
export { decideWrite, prefixEnd } from './driver';

export interface SqliteStoreOptions extends LogStoreOptions {
  /** The database file (its parent directories are created). The WAL lives next to it (`<path>-wal`). */
  path: string;
  /** better-sqlite3's nativeBinding option: path of the .node addon or the loaded addon (single executable). */
  nativeBinding?: string | object;
  /** Run SQLite's quick_check at open so a damaged file fails open (default true). */
  integrityCheck?: boolean;
  /** Checkpoint the WAL from a worker thread (default true; falls back to in-commit checkpoints). */
  checkpointInWorker?: boolean;
}

/**
 * Opens (or creates) a store in one SQLite file. Rejects with CorruptDatabaseError when the file
 * is not an intact database and DatabaseOpenError when it cannot be opened; both name the file.
 */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<LogStore> {
  const driver = await SqliteDriver.open({
    path: opts.path,
    nativeBinding: opts.nativeBinding,
    integrityCheck: opts.integrityCheck,
    checkpointInWorker: opts.checkpointInWorker,
  });
  try {
    return await LogEngine.start(driver, opts);
  } catch (err) {
    await driver.close().catch(() => undefined);
    throw err;
  }
}

/** Runs the log engine over any driver (for drivers other than SQLite, and for tests). */
export function openStoreWithDriver(driver: import('./driver').Driver, opts: LogStoreOptions = {}): Promise<LogStore> {
  return LogEngine.start(driver, opts);
}
