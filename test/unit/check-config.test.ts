// orch check-config's cgroup assessment on the three kinds of host (this machine is only one).
import { describe, expect, it } from 'vitest';
import { assessCgroups, parseCgroupMounts, type HostCheck } from '../../cmd/host-checks';

const V1_HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const PROC_CGROUPS = `#subsys_name\thierarchy\tnum_cgroups\tenabled
cpuset\t3\t1\t1
cpu\t1\t1\t1
memory\t4\t48\t1
blkio\t7\t1\t1
freezer\t6\t1\t0
pids\t8\t1\t1`;
const V2_MOUNTINFO = `25 30 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
26 30 0:24 / /proc rw,nosuid - proc proc rw`;

const byName = (checks: HostCheck[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

describe('check-config cgroups', () => {
  it('parses cgroup mounts from mountinfo, skipping other filesystems', () => {
    expect(parseCgroupMounts(V1_HYBRID_MOUNTINFO).map((m) => [m.mountPoint, m.fsType])).toEqual([
      ['/sys/fs/cgroup/cpu', 'cgroup'], ['/sys/fs/cgroup/memory', 'cgroup'], ['/sys/fs/cgroup/pids', 'cgroup'],
      ['/sys/fs/cgroup/blkio', 'cgroup'], ['/sys/fs/cgroup/systemd', 'cgroup'], ['/sys/fs/cgroup/unified', 'cgroup2'],
    ]);
  });

  it('reads a hybrid host (v1 controllers, cgroup2 holding only hugetlb) as hybrid with v1 controllers', () => {
    const r = assessCgroups({ mountinfo: V1_HYBRID_MOUNTINFO, procCgroups: PROC_CGROUPS, readControllers: () => 'hugetlb\n' });
    expect(r.version).toBe('hybrid');
    const c = byName(r.checks);
    expect(c.cpu).toMatchObject({ status: 'ok', detail: 'v1 (cpu)' });
    expect(c.io).toMatchObject({ status: 'ok', detail: 'v1 (blkio)' });
    // cpuset is enabled but not mounted; freezer is mounted nowhere and disabled: optional, so warn.
    expect(c.cpuset).toMatchObject({ status: 'warn', required: false });
    expect(c.freezer).toMatchObject({ status: 'warn', required: false });
  });

  it('reads a unified v2 host from cgroup.controllers', () => {
    const seen: string[] = [];
    const r = assessCgroups({
      mountinfo: V2_MOUNTINFO, procCgroups: PROC_CGROUPS,
      readControllers: (mp) => { seen.push(mp); return 'cpuset cpu io memory hugetlb pids rdma misc\n'; },
    });
    expect(seen).toEqual(['/sys/fs/cgroup']);
    expect(r.version).toBe('v2');
    const c = byName(r.checks);
    for (const name of ['cpu', 'memory', 'pids', 'cpuset', 'io']) expect(c[name]?.detail, name).toBe('v2 (/sys/fs/cgroup)');
    expect(c.freezer?.status).toBe('ok');
  });

  it('fails the required controllers a v2 host does not offer', () => {
    const r = assessCgroups({ mountinfo: V2_MOUNTINFO, procCgroups: '', readControllers: () => 'cpu io' });
    const c = byName(r.checks);
    expect(c.memory).toMatchObject({ status: 'missing', required: true });
    expect(c.pids).toMatchObject({ status: 'missing', required: true });
  });

  it('reports no cgroups at all as a missing hierarchy', () => {
    const r = assessCgroups({ mountinfo: '', procCgroups: '', readControllers: () => '' });
    expect(r.version).toBe('none');
    expect(byName(r.checks).hierarchy?.status).toBe('missing');
  });
});
