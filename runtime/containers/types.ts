// The runtime's CRI-like vocabulary (Kubernetes-free): sandbox and container configs and statuses.
import type { CgroupResources } from '../cgroups/types';

/** The OCI image config fields a container start uses. */
export interface ImageConfig {
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  User?: string;
  StopSignal?: string;
}

/** What the image side hands the container side: overlay lower dirs (top-most first) and config. */
export interface PreparedRootfs {
  lowerDirs: string[];
  config: ImageConfig;
  imageDigest: string;
}

/** The image side, as the container side needs it (runtime/images implements it). */
export interface RootfsProvider {
  prepareRootfs(imageRef: string): Promise<PreparedRootfs>;
}

export interface PodSandboxConfig {
  /** Unique name (the agent uses <namespace>_<pod>_<uid>_<attempt>). */
  name: string;
  hostname: string;
  /** Content of /etc/hosts and /etc/resolv.conf bind-mounted into every container. */
  hosts?: string;
  resolvConf?: string;
  /** One PID namespace for all containers (Kubernetes shareProcessNamespace). */
  shareProcessNamespace?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PodSandboxStatus {
  id: string;
  name: string;
  hostname: string;
  state: 'ready' | 'notready';
  createdAt: string;
  /** The namespace files: enter the pod's network with `nsenter --net=<netns>`. */
  netnsPath: string;
  ipcnsPath: string;
  utsnsPath: string;
  pidnsPath?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface VolumeMount {
  hostPath: string;
  containerPath: string;
  readOnly?: boolean;
}

export interface ContainerConfig {
  name: string;
  /** An image reference (resolved by the RootfsProvider) or an already prepared rootfs. */
  image: string | PreparedRootfs;
  /** Kubernetes semantics: command replaces the image Entrypoint, args replace its Cmd. */
  command?: string[];
  args?: string[];
  workingDir?: string;
  /** Added to (and overriding by name) the image's Env. */
  env?: Array<{ name: string; value: string }>;
  /** "uid", "uid:gid", "name" or "name:group"; default the image's User, else root. */
  user?: string;
  supplementalGroups?: number[];
  mounts?: VolumeMount[];
  tty?: boolean;
  stdin?: boolean;
  resources?: CgroupResources;
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  noNewPrivileges?: boolean;
  readOnlyRootFilesystem?: boolean;
  rlimits?: Array<{ type: string; soft: number; hard: number }>;
  /** Host path of the CRI log; default <state>/<id>/container.log. */
  logPath?: string;
  logMaxBytes?: number;
  logMaxFiles?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface ContainerStatus {
  id: string;
  name: string;
  sandboxId: string;
  image: string;
  imageDigest: string;
  state: ContainerState;
  /** Host PID of the workload (PID 1 inside the container). */
  pid?: number;
  shimPid?: number;
  exitCode?: number;
  signal?: string;
  /** Completed, Error, OOMKilled, StartError (Kubernetes' words). */
  reason?: string;
  message?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  logPath: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerStats {
  id: string;
  timestamp: string;
  cpuUsageNs: number;
  memoryUsageBytes: number;
  memoryWorkingSetBytes: number;
  pidsCurrent: number;
}

export interface ExecOptions {
  args: string[];
  env?: Array<{ name: string; value: string }>;
  cwd?: string;
  user?: string;
  tty?: boolean;
  stdin?: boolean;
  rows?: number;
  cols?: number;
}

export interface ExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}
