// The one cgroup interface the runtime uses, whatever the host runs (v1 hierarchies or v2 unified).

/** Limits for one container's cgroup; an absent field leaves the kernel default. */
export interface CgroupResources {
  /** CFS bandwidth: at most cpuQuotaUs of CPU time every cpuPeriodUs (20000/100000 = 20% of one CPU). */
  cpuQuotaUs?: number;
  cpuPeriodUs?: number;
  /** Relative CPU weight in v1 "shares" units (Kubernetes: milliCPU * 1024 / 1000, min 2). */
  cpuShares?: number;
  memoryLimitBytes?: number;
  pidsLimit?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
}

/** Usage figures for the metrics API (cadvisor's names in spirit). */
export interface CgroupStats {
  /** Total CPU time consumed, nanoseconds. */
  cpuUsageNs: number;
  memoryUsageBytes: number;
  /** usage - inactive_file, what the kubelet evicts on. */
  memoryWorkingSetBytes: number;
  pidsCurrent: number;
  /** How many processes the kernel OOM killer killed in this cgroup. */
  oomKills: number;
}

/** Where a cgroup lives, serialisable so a shim or a later runtime instance can reopen it. */
export interface CgroupRef {
  mode: 'v1' | 'v2';
  /** v1: controller name -> absolute directory; v2: { unified: directory }. */
  dirs: Record<string, string>;
}

/** One container's (or sandbox's) cgroup. */
export interface Cgroup {
  readonly ref: CgroupRef;
  /** Moves a process (all its threads) into the cgroup. */
  addProcess(pid: number): void;
  /** PIDs currently in the cgroup. */
  processes(): number[];
  stats(): CgroupStats;
  /** Removes the cgroup; processes still inside are SIGKILLed first. Missing is fine. */
  remove(timeoutMs?: number): Promise<void>;
}

/** Creates and opens cgroups below orch's own parent, relative to where this process sits. */
export interface CgroupManager {
  readonly mode: 'v1' | 'v2';
  /** The absolute directories of orch's parent (per controller on v1). */
  readonly parentDirs: Record<string, string>;
  /** Creates (or reuses) `<parent>/<relPath>` with limits applied. */
  create(relPath: string, resources: CgroupResources): Cgroup;
  /** Where `<parent>/<relPath>` lives, without creating it (a shim creates it off the critical path). */
  refFor(relPath: string): CgroupRef;
  /** Removes orch's parent directory if it is empty (tests use a unique parent per run). */
  removeParent(): Promise<void>;
}

export class CgroupError extends Error {
  readonly code = 'CgroupError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CgroupError';
  }
}
