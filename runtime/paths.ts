// The runtime's default host paths. Kept apart from the heavy modules so the CLI can show them as
// flag defaults without loading the runtime. (server/paths.ts names the same data dir for the
// control plane; runtime imports no other orch module, hence the second constant.)

/** The data dir when none is given; the runtime keeps its state under `<data-dir>/agent/`. */
export const DEFAULT_DATA_DIR = '/var/lib/orch';

/** registries.yaml: mirrors, credentials and TLS per registry (k3s: /etc/rancher/k3s/registries.yaml). */
export const DEFAULT_REGISTRIES_CONFIG = '/etc/orch/registries.yaml';
