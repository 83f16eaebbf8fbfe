// cgroup v2: one unified tree. Controllers must be enabled in every ancestor's
// cgroup.subtree_control, and a cgroup with processes cannot enable them for its children (the
// "no internal processes" rule), so orch's own cgroup must be delegated (systemd Delegate=yes).
import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readKeyed, readNumber, readProcs, readTrim, removeDir, writeFile } from './common';
import type { Cgroup, CgroupManager, CgroupRef, CgroupResources, CgroupStats } from './types';
import { CgroupError } from './types';

const WANTED = ['cpu', 'cpuset', 'memory', 'pids'];

/** Kubernetes' conversion of v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000]. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((Math.max(2, Math.min(262144, shares)) - 2) * 9999) / 262142);
}

function enableControllers(dir: string): void {
  let available: string[];
  try {
    available = readTrim(join(dir, 'cgroup.controllers')).split(/\s+/);
  } catch (err) {
    throw new CgroupError(`cannot read ${dir}/cgroup.controllers: ${(err as Error).message}`, { cause: err });
  }
  const enabled = new Set(readTrim(join(dir, 'cgroup.subtree_control')).split(/\s+/).filter(Boolean));
  const missing = WANTED.filter((c) => available.includes(c) && !enabled.has(c));
  if (missing.length === 0) return;
  try {
    writeFile(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
  } catch (err) {
    throw new CgroupError(
      `cannot enable controllers ${missing.join(',')} below ${dir} (a cgroup v2 directory with processes cannot delegate controllers; run orch in a delegated cgroup): ${(err as Error).message}`,
      { cause: err });
  }
}

export class CgroupV2 implements Cgroup {
  constructor(readonly ref: CgroupRef) {}
  private get dir(): string {
    return this.ref.dirs.unified;
  }

  addProcess(pid: number): void {
    writeFile(join(this.dir, 'cgroup.procs'), String(pid));
  }

  processes(): number[] {
    return readProcs(this.dir);
  }

  stats(): CgroupStats {
    const usage = readNumber(join(this.dir, 'memory.current'));
    const stat = readKeyed(join(this.dir, 'memory.stat'));
    return {
      cpuUsageNs: (readKeyed(join(this.dir, 'cpu.stat')).get('usage_usec') ?? 0) * 1000,
      memoryUsageBytes: usage,
      memoryWorkingSetBytes: Math.max(0, usage - (stat.get('inactive_file') ?? 0)),
      pidsCurrent: readNumber(join(this.dir, 'pids.current')),
      oomKills: readKeyed(join(this.dir, 'memory.events')).get('oom_kill') ?? 0,
    };
  }

  async remove(timeoutMs = 5000): Promise<void> {
    await removeDir(this.dir, timeoutMs);
  }
}

export class CgroupManagerV2 implements CgroupManager {
  readonly mode = 'v2' as const;
  readonly parentDirs: Record<string, string>;

  /** `base`: this process's own cgroup directory in the unified tree. */
  constructor(private readonly base: string, parentName: string) {
    this.parentDirs = { unified: join(base, parentName) };
  }

  create(relPath: string, r: CgroupResources): Cgroup {
    const levels = [this.parentDirs.unified];
    for (const part of relPath.split('/').filter(Boolean)) levels.push(join(levels[levels.length - 1], part));
    enableControllers(this.base);
    for (let i = 0; i < levels.length; i++) {
      if (!existsSync(levels[i])) {
        try {
          mkdirSync(levels[i]);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CgroupError(`cannot create cgroup ${levels[i]}: ${(err as Error).message}`, { cause: err });
        }
      }
      if (i < levels.length - 1) enableControllers(levels[i]);
    }
    const dir = levels[levels.length - 1];
    if (r.cpuQuotaUs !== undefined || r.cpuPeriodUs !== undefined) {
      const quota = r.cpuQuotaUs !== undefined && r.cpuQuotaUs > 0 ? String(r.cpuQuotaUs) : 'max';
      writeFile(join(dir, 'cpu.max'), `${quota} ${r.cpuPeriodUs ?? 100000}`);
    }
    if (r.cpuShares !== undefined) writeFile(join(dir, 'cpu.weight'), String(sharesToWeight(r.cpuShares)));
    if (r.memoryLimitBytes !== undefined) {
      writeFile(join(dir, 'memory.max'), String(r.memoryLimitBytes));
      // no swap for containers, as the kubelet does when swap is off
      if (existsSync(join(dir, 'memory.swap.max'))) writeFile(join(dir, 'memory.swap.max'), '0');
    }
    if (r.pidsLimit !== undefined) writeFile(join(dir, 'pids.max'), r.pidsLimit > 0 ? String(r.pidsLimit) : 'max');
    if (r.cpusetCpus) writeFile(join(dir, 'cpuset.cpus'), r.cpusetCpus);
    if (r.cpusetMems) writeFile(join(dir, 'cpuset.mems'), r.cpusetMems);
    return new CgroupV2({ mode: 'v2', dirs: { unified: dir } });
  }

  refFor(relPath: string): CgroupRef {
    return { mode: 'v2', dirs: { unified: join(this.parentDirs.unified, relPath) } };
  }

  async removeParent(): Promise<void> {
    await removeDir(this.parentDirs.unified, 2000);
  }
}
