// cgroup v1: one hierarchy per controller (cpu, cpuacct, cpuset, memory, pids), each with its own
// directory tree. orch's parent sits below this process's own cgroup in every hierarchy.
import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readKeyed, readNumber, readProcs, readTrim, removeDir, writeFile } from './common';
import type { Cgroup, CgroupManager, CgroupRef, CgroupResources, CgroupStats } from './types';
import { CgroupError } from './types';

export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids'] as const;

/** cpuset children start empty and refuse tasks until cpus and mems are copied from the parent. */
function initCpuset(dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    if (readTrim(join(dir, f)) === '') writeFile(join(dir, f), readTrim(join(dir, '..', f)));
  }
}

export class CgroupV1 implements Cgroup {
  constructor(readonly ref: CgroupRef) {}

  private dir(controller: string): string | undefined {
    return this.ref.dirs[controller];
  }

  addProcess(pid: number): void {
    for (const dir of Object.values(this.ref.dirs)) writeFile(join(dir, 'cgroup.procs'), String(pid));
  }

  processes(): number[] {
    const any = this.dir('pids') ?? this.dir('memory') ?? Object.values(this.ref.dirs)[0];
    return any ? readProcs(any) : [];
  }

  stats(): CgroupStats {
    const cpuacct = this.dir('cpuacct');
    const memory = this.dir('memory');
    const pids = this.dir('pids');
    const usage = memory ? readNumber(join(memory, 'memory.usage_in_bytes')) : 0;
    const stat = memory ? readKeyed(join(memory, 'memory.stat')) : new Map<string, number>();
    const inactive = stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0;
    return {
      cpuUsageNs: cpuacct ? readNumber(join(cpuacct, 'cpuacct.usage')) : 0,
      memoryUsageBytes: usage,
      memoryWorkingSetBytes: Math.max(0, usage - inactive),
      pidsCurrent: pids ? readNumber(join(pids, 'pids.current')) : 0,
      oomKills: memory ? (readKeyed(join(memory, 'memory.oom_control')).get('oom_kill') ?? 0) : 0,
    };
  }

  async remove(timeoutMs = 5000): Promise<void> {
    for (const dir of Object.values(this.ref.dirs)) await removeDir(dir, timeoutMs);
  }
}

export class CgroupManagerV1 implements CgroupManager {
  readonly mode = 'v1' as const;

  /** `bases`: controller -> this process's own cgroup directory in that hierarchy. */
  constructor(bases: Record<string, string>, parentName: string) {
    this.parentDirs = {};
    for (const [c, base] of Object.entries(bases)) this.parentDirs[c] = join(base, parentName);
  }
  readonly parentDirs: Record<string, string>;

  create(relPath: string, r: CgroupResources): Cgroup {
    const dirs: Record<string, string> = {};
    for (const [controller, parent] of Object.entries(this.parentDirs)) {
      const dir = join(parent, relPath);
      // create level by level so each new cpuset level gets its cpus/mems
      const parts = [parent, ...relPath.split('/').filter(Boolean).map((_, i, a) => join(parent, ...a.slice(0, i + 1)))];
      for (const level of parts) {
        if (!existsSync(level)) {
          try {
            mkdirSync(level);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CgroupError(`cannot create cgroup ${level}: ${(err as Error).message}`, { cause: err });
          }
        }
        if (controller === 'cpuset') initCpuset(level);
      }
      dirs[controller] = dir;
    }
    const cpu = dirs.cpu;
    if (cpu) {
      if (r.cpuPeriodUs !== undefined) writeFile(join(cpu, 'cpu.cfs_period_us'), String(r.cpuPeriodUs));
      if (r.cpuQuotaUs !== undefined) writeFile(join(cpu, 'cpu.cfs_quota_us'), String(r.cpuQuotaUs));
      if (r.cpuShares !== undefined) writeFile(join(cpu, 'cpu.shares'), String(r.cpuShares));
    }
    if (dirs.memory && r.memoryLimitBytes !== undefined) writeFile(join(dirs.memory, 'memory.limit_in_bytes'), String(r.memoryLimitBytes));
    if (dirs.pids && r.pidsLimit !== undefined) writeFile(join(dirs.pids, 'pids.max'), r.pidsLimit > 0 ? String(r.pidsLimit) : 'max');
    if (dirs.cpuset) {
      if (r.cpusetCpus) writeFile(join(dirs.cpuset, 'cpuset.cpus'), r.cpusetCpus);
      if (r.cpusetMems) writeFile(join(dirs.cpuset, 'cpuset.mems'), r.cpusetMems);
    }
    return new CgroupV1({ mode: 'v1', dirs });
  }

  refFor(relPath: string): CgroupRef {
    const dirs: Record<string, string> = {};
    for (const [c, parent] of Object.entries(this.parentDirs)) dirs[c] = join(parent, relPath);
    return { mode: 'v1', dirs };
  }

  async removeParent(): Promise<void> {
    for (const dir of Object.values(this.parentDirs)) await removeDir(dir, 2000);
  }
}
