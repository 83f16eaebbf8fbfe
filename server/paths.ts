// Where a default control plane keeps things on the host (k3s: /var/lib/rancher/k3s and
// /etc/rancher/k3s/k3s.yaml). No imports beyond node:path, so the CLI can read these defaults
// without loading the server.
import path from 'node:path';

/** The data dir when --data-dir is not given. */
export const DEFAULT_DATA_DIR = '/var/lib/orch';

/** Where `orch server` also writes the admin kubeconfig, like k3s's k3s.yaml. */
export const DEFAULT_KUBECONFIG = '/etc/orch/orch.yaml';

/** The SQLite file of the embedded store under a data dir (k3s: <data-dir>/server/db/state.db); its WAL sits beside it. */
export function datastorePath(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'server', 'db', 'state.db');
}
