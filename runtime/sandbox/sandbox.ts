// Pod sandboxes without a pause process: the pod's network, IPC and UTS namespaces are created by
// a synchronous unshare() on this thread, bind-mounted to files under <state>/sandboxes/<id>/ns/,
// and the thread goes straight back to its own namespaces (setns works for these three). A shared
// PID namespace needs a living PID 1, so shareProcessNamespace starts orch-init in "pause" mode.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as libc from '../linux/libc';
import { InvalidConfigError, NotFoundError, RuntimeError } from '../containers/errors';
import type { PodSandboxConfig, PodSandboxStatus } from '../containers/types';

interface SandboxRecord extends PodSandboxStatus {
  pausePid?: number;
}

const NAMESPACES: Array<[string, number]> = [['net', libc.CLONE_NEWNET], ['ipc', libc.CLONE_NEWIPC], ['uts', libc.CLONE_NEWUTS]];

function isMounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
}

export class SandboxService {
  constructor(private readonly dir: string, private readonly initPath: string) {
    mkdirSync(dir, { recursive: true });
  }

  private recordPath(id: string): string {
    return `${this.dir}/${id}/sandbox.json`;
  }

  private save(rec: SandboxRecord): void {
    const p = this.recordPath(rec.id);
    writeFileSync(`${p}.tmp`, JSON.stringify(rec, null, 1));
    renameSync(`${p}.tmp`, p);
  }

  private load(id: string): SandboxRecord {
    try {
      return JSON.parse(readFileSync(this.recordPath(id), 'utf8'));
    } catch {
      throw new NotFoundError('sandbox', id);
    }
  }

  run(config: PodSandboxConfig): PodSandboxStatus {
    if (!config.name) throw new InvalidConfigError('sandbox name is required');
    if (!/^[a-zA-Z0-9]([-a-zA-Z0-9.]{0,62})$/.test(config.hostname)) throw new InvalidConfigError(`invalid hostname ${JSON.stringify(config.hostname)}`);
    const existing = this.list().find((s) => s.name === config.name);
    if (existing) throw new RuntimeError('AlreadyExists', `sandbox name ${JSON.stringify(config.name)} is in use by ${existing.id}`);
    const id = randomBytes(32).toString('hex');
    const dir = `${this.dir}/${id}`;
    mkdirSync(`${dir}/ns`, { recursive: true });
    writeFileSync(`${dir}/hostname`, `${config.hostname}\n`);
    writeFileSync(`${dir}/hosts`, config.hosts ?? `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
    writeFileSync(`${dir}/resolv.conf`, config.resolvConf ?? '');
    const rec: SandboxRecord = {
      id, name: config.name, hostname: config.hostname, state: 'ready', createdAt: new Date().toISOString(),
      netnsPath: `${dir}/ns/net`, ipcnsPath: `${dir}/ns/ipc`, utsnsPath: `${dir}/ns/uts`,
      labels: config.labels ?? {}, annotations: config.annotations ?? {},
    };
    try {
      this.createNamespaces(dir, config.hostname);
      if (config.shareProcessNamespace) {
        rec.pidnsPath = `${dir}/ns/pid`;
        rec.pausePid = this.createPidNamespace(rec.pidnsPath);
      }
    } catch (err) {
      this.save(rec);
      this.remove(id);
      throw err;
    }
    this.save(rec);
    return this.publicStatus(rec);
  }

  /** unshare -> bind-mount the thread's new namespaces -> setns back, all without yielding. */
  private createNamespaces(dir: string, hostname: string): void {
    const saved = NAMESPACES.map(([ns]) => openSync(`/proc/thread-self/ns/${ns}`, 'r'));
    const tid = libc.gettid();
    try {
      libc.unshare(libc.CLONE_NEWNET | libc.CLONE_NEWIPC | libc.CLONE_NEWUTS);
      try {
        libc.sethostname(hostname);
        for (const [ns] of NAMESPACES) {
          const target = `${dir}/ns/${ns}`;
          writeFileSync(target, '');
          libc.mount(`/proc/${process.pid}/task/${tid}/ns/${ns}`, target, null, libc.MS_BIND);
        }
      } finally {
        NAMESPACES.forEach(([, type], i) => libc.setns(saved[i], type));
      }
    } finally {
      for (const fd of saved) closeSync(fd);
    }
  }

  /** PID 1 of a shared PID namespace: orch-init pausing and reaping, detached from us. */
  private createPidNamespace(target: string): number {
    const own = openSync('/proc/thread-self/ns/pid', 'r');
    let pid: number;
    try {
      libc.unshare(libc.CLONE_NEWPID);
      try {
        const child = spawn(this.initPath, ['pause'], { detached: true, stdio: 'ignore', argv0: 'orch-pause' });
        child.unref();
        if (!child.pid) throw new RuntimeError('SandboxFailed', 'cannot start the PID namespace holder');
        pid = child.pid;
      } finally {
        libc.setns(own, libc.CLONE_NEWPID);
      }
    } finally {
      closeSync(own);
    }
    writeFileSync(target, '');
    libc.mount(`/proc/${pid}/ns/pid`, target, null, libc.MS_BIND);
    return pid;
  }

  private publicStatus(rec: SandboxRecord): PodSandboxStatus {
    const { pausePid: _pausePid, ...status } = rec;
    return status;
  }

  status(id: string): PodSandboxStatus {
    return this.publicStatus(this.load(id));
  }

  /** Files containers bind-mount: /etc/hosts, /etc/resolv.conf, /etc/hostname. */
  etcFiles(id: string): Array<{ source: string; destination: string }> {
    const dir = `${this.dir}/${id}`;
    return [['hosts', '/etc/hosts'], ['resolv.conf', '/etc/resolv.conf'], ['hostname', '/etc/hostname']]
      .map(([f, destination]) => ({ source: `${dir}/${f}`, destination }));
  }

  list(): PodSandboxStatus[] {
    if (!existsSync(this.dir)) return [];
    const out: PodSandboxStatus[] = [];
    for (const id of readdirSync(this.dir)) {
      try {
        out.push(this.publicStatus(this.load(id)));
      } catch {
        // a half-removed sandbox directory
      }
    }
    return out;
  }

  /** Marks the sandbox not ready and ends its PID namespace holder (containers are the caller's). */
  stop(id: string): void {
    const rec = this.load(id);
    if (rec.pausePid) {
      try {
        if (readFileSync(`/proc/${rec.pausePid}/cmdline`, 'utf8').startsWith('orch-pause')) process.kill(rec.pausePid, 'SIGKILL');
      } catch {
        // already gone
      }
      rec.pausePid = undefined;
    }
    rec.state = 'notready';
    this.save(rec);
  }

  /** Unmounts and deletes the namespace files and the sandbox directory. Idempotent. */
  remove(id: string): void {
    const dir = `${this.dir}/${id}`;
    if (!existsSync(dir)) return;
    try {
      this.stop(id);
    } catch {
      // no record: still clean what is there
    }
    for (const ns of ['net', 'ipc', 'uts', 'pid']) {
      const p = `${dir}/ns/${ns}`;
      if (existsSync(p) && isMounted(p)) libc.umount2(p, libc.MNT_DETACH);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
