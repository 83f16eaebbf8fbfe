// How the control plane opens its state: the embedded store at datastorePath(<data-dir>)
// (server/paths.ts names the file; k3s uses the same <data-dir>/server/db/state.db layout).
import { openSqliteStore, type LogStore, type LogStoreOptions } from '../embedded-store';

export { DEFAULT_DATA_DIR, datastorePath } from './paths';
import { datastorePath } from './paths';

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
