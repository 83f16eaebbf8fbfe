// What the runtime hands a shim (ShimSpec), what a shim records (ShimState), and the wire types of
// their unix-socket protocol. Kept free of imports so the shim's bundle stays small.
import type { CgroupRef, CgroupResources } from '../cgroups/types';

export interface ShimMount {
  /** Host path (file or directory) bind-mounted into the container. */
  source: string;
  /** Absolute path inside the container; created if missing. */
  destination: string;
  readOnly?: boolean;
}

export interface ShimRlimit {
  /** RLIMIT_ name without prefix: NOFILE, NPROC, CORE, ... */
  type: string;
  soft: number;
  hard: number;
}

export interface ShimProcess {
  /** argv; args[0] is resolved in the container's PATH when it has no "/". */
  args: string[];
  /** KEY=value entries. */
  env: string[];
  cwd: string;
  /** "uid", "uid:gid", "name", "name:group" resolved with the rootfs's /etc/passwd and /etc/group. */
  user: string;
  supplementalGroups?: number[];
  tty?: boolean;
  stdin?: boolean;
  noNewPrivileges: boolean;
  /** Capability names (CAP_CHOWN, ...) the process keeps; every other one is dropped. */
  capabilities: string[];
  rlimits: ShimRlimit[];
}

export interface ShimSpec {
  id: string;
  /** The container's state directory (holds state.json, shim.sock, upper/, work/, rootfs/). */
  bundleDir: string;
  rootfs: { lowerDirs: string[]; readOnly?: boolean };
  /** Namespace files to join; pid absent means a new PID namespace. */
  namespaces: { net?: string; ipc?: string; uts?: string; pid?: string };
  mounts: ShimMount[];
  process: ShimProcess;
  maskedPaths: string[];
  readonlyPaths: string[];
  /** The container's cgroup: created by the shim (while orch-init mounts) at `ref`, `relPath` below orch's parent. */
  cgroup?: { ref: CgroupRef; relPath: string; resources: CgroupResources };
  log: { path: string; maxBytes: number; maxFiles: number };
  /** Signal name sent first by stop (image StopSignal), SIGKILL follows after the grace period. */
  stopSignal: string;
  /** Host path of the orch-init program. */
  initPath: string;
}

export type ContainerStatus = 'created' | 'running' | 'exited';

export interface ShimState {
  id: string;
  status: ContainerStatus;
  shimPid: number;
  /** Host PID of the workload (PID 1 inside the container). */
  pid?: number;
  exitCode?: number;
  signal?: string;
  /** Kubernetes' words: Completed, Error, OOMKilled, StartError. */
  reason?: string;
  message?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface ShimRequest {
  id: number;
  method: string;
  params?: Record<string, unknown>;
}

export interface ShimResponse {
  id?: number;
  result?: unknown;
  error?: { code: string; message: string };
  /** Pushed to subscribers: "exit" when the workload ended. */
  event?: string;
  state?: ShimState;
}

export interface ExecRequest {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: string;
  tty?: boolean;
  stdin?: boolean;
  rows?: number;
  cols?: number;
}

/** Frame channels of exec/attach streams: [channel u8][length u32 BE][payload]. */
export const Channel = { stdin: 0, stdout: 1, stderr: 2, resize: 3, exit: 4, closeStdin: 5, error: 6 } as const;
