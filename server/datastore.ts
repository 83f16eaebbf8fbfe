// Where the control plane keeps its state, and how it opens it: the one place that names the
// database file under a data dir (k3s: <data-dir>/server/db/state.db, the same layout).
import path from 'node:path';
import { openSqliteStore, type LogStore, type LogStoreOptions } from '../embedded-store';

/** The data dir when --data-dir is not given (k3s uses /var/lib/rancher/k3s). */
export const DEFAULT_DATA_DIR = '/var/lib/orch';

/** The SQLite file of the embedded store under a data dir; its WAL sits beside it (`state.db-wal`). */
export function datastorePath(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'server', 'db', 'state.db');
}

export interface DatastoreOptions extends LogStoreOptions {
  /**
   * better-sqlite3's addon, from cmd's prepareNativeAddons() in the single executable. Optional:
   * the executable's bundle also routes better-sqlite3's own lookup to the embedded addon.
   */
  nativeBinding?: string | object;
}

/**
 * Opens (creating it when absent) the store at datastorePath(dataDir). Rejects with the store's
 * CorruptDatabaseError or DatabaseOpenError, which name the file.
 */
export function openDatastore(dataDir: string, opts: DatastoreOptions = {}): Promise<LogStore> {
  return openSqliteStore({ ...opts, path: datastorePath(dataDir) });
}
