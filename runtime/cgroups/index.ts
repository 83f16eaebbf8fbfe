// Detects the host's cgroup mode and finds this process's own place in each hierarchy, so orch's
// cgroups are created below where orch already runs (never assuming the hierarchy root).
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CgroupManagerV1, CgroupV1, V1_CONTROLLERS } from './v1';
import { CgroupManagerV2, CgroupV2 } from './v2';
import type { Cgroup, CgroupManager, CgroupRef } from './types';
import { CgroupError } from './types';

export * from './types';
export { sharesToWeight } from './v2';

interface CgroupMount {
  mountPoint: string;
  root: string;
  fstype: 'cgroup' | 'cgroup2';
  controllers: string[];
}

/** The cgroup mounts of /proc/self/mountinfo (v1 ones with their controllers). */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push({
      mountPoint: left[4].replace(/\\040/g, ' '),
      root: left[3],
      fstype,
      controllers: fstype === 'cgroup' ? superOpts.split(',').filter((o) => V1_CONTROLLERS.includes(o as never)) : [],
    });
  }
  return out;
}

/** /proc/self/cgroup: hierarchy controllers ("" for v2) -> path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const c of m[2] === '' ? [''] : m[2].split(',')) out.set(c, m[3]);
  }
  return out;
}

export interface CgroupHost {
  mountinfo: string;
  procCgroup: string;
}

/**
 * The cgroup manager for this host. v1 when the memory controller is on a v1 hierarchy (a hybrid
 * host's cgroup2 mount, e.g. /sys/fs/cgroup/unified with only hugetlb, is ignored); else v2.
 * `parentName` is orch's parent cgroup below this process's own (tests use a unique one per run).
 */
export function openCgroupManager(parentName: string, host?: CgroupHost): CgroupManager {
  const mountinfo = host?.mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8');
  const procCgroup = parseProcCgroup(host?.procCgroup ?? readFileSync('/proc/self/cgroup', 'utf8'));
  const mounts = parseCgroupMounts(mountinfo);
  const v1 = mounts.filter((m) => m.fstype === 'cgroup' && m.controllers.length > 0);
  if (v1.some((m) => m.controllers.includes('memory'))) {
    const bases: Record<string, string> = {};
    for (const c of V1_CONTROLLERS) {
      const m = v1.find((x) => x.controllers.includes(c));
      const own = procCgroup.get(c);
      if (!m || own === undefined) continue;
      bases[c] = join(m.mountPoint, relative(m.root, own));
    }
    return new CgroupManagerV1(bases, parentName);
  }
  const unified = mounts.find((m) => m.fstype === 'cgroup2');
  const own = procCgroup.get('');
  if (!unified || own === undefined) throw new CgroupError('no cgroup filesystem found: /proc/self/mountinfo has neither a v1 memory hierarchy nor a cgroup2 mount');
  return new CgroupManagerV2(join(unified.mountPoint, relative(unified.root, own)), parentName);
}

/**
 * The manager owning `ref`, rebuilt from paths alone (in a shim): `<parent>/<relPath>` = ref's dirs.
 * v2 also needs the directory above the parent, whose subtree_control it may have to enable.
 */
export function cgroupManagerFor(ref: CgroupRef, relPath: string): CgroupManager {
  const up = (d: string, n: number) => join(d, ...Array(n).fill('..'));
  const depth = relPath.split('/').filter(Boolean).length;
  if (ref.mode === 'v1') {
    const bases: Record<string, string> = {};
    for (const [c, d] of Object.entries(ref.dirs)) bases[c] = up(d, depth + 1);
    const parentName = relative(up(Object.values(ref.dirs)[0], depth + 1), up(Object.values(ref.dirs)[0], depth));
    return new CgroupManagerV1(bases, parentName);
  }
  const base = up(ref.dirs.unified, depth + 1);
  return new CgroupManagerV2(base, relative(base, up(ref.dirs.unified, depth)));
}

/** Reopens a cgroup from its serialised ref (in a shim, or a runtime re-adopting containers). */
export function openCgroup(ref: CgroupRef): Cgroup {
  return ref.mode === 'v1' ? new CgroupV1(ref) : new CgroupV2(ref);
}
