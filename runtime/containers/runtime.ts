// ContainerRuntime: sandboxes and containers on this node. State lives in files under the state
// directory, one directory per container (config.json written here, state.json by its shim), so a
// new instance (after the caller restarts) re-adopts running containers by reconnecting to their
// shims. Event order per container is create -> start -> exit -> remove, as containerd states it.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isSea } from 'node:sea';
import { join } from 'node:path';
import { ORCH_INIT_X86_64_BASE64 } from '../linux/init-binary';
import { openCgroup, openCgroupManager } from '../cgroups/index';
import type { CgroupManager, CgroupRef } from '../cgroups/types';
import { SandboxService } from '../sandbox/sandbox';
import { ShimClient, ShimRequestError, ShimStream, ShimUnavailableError } from '../shim/client';
import type { ShimSpec, ShimState } from '../shim/spec';
import { ShimPool } from './pool';
import { DEFAULT_DATA_DIR } from '../paths';
import { ContainerStateError, InvalidConfigError, NotFoundError, RuntimeError } from './errors';
import type {
  ContainerConfig, ContainerStats, ContainerStatus, ExecOptions, ExecResult, PodSandboxConfig, PodSandboxStatus,
  PreparedRootfs, RootfsProvider,
} from './types';

/** containerd's default capability set; every other capability is dropped. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Paths hidden from containers (bind of /dev/null, or an empty read-only tmpfs for directories). */
export const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/proc/interrupts', '/sys/firmware', '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const ALL_CAPABILITIES = ['ALL'];

export interface ContainerRuntimeOptions {
  /** orch's data dir (default /var/lib/orch); state goes to <dataDir>/agent/containers. */
  dataDir?: string;
  /** Overrides the state directory. */
  stateDir?: string;
  /** orch's cgroup parent, created below this process's own cgroup (default "orch"). */
  cgroupParent?: string;
  /**
   * How to start a shim; "--pool-socket PATH" is appended. Default: this executable with its
   * exec arguments and script, plus "shim" (right for the orch CLI, from source or single binary).
   */
  shimCommand?: string[];
  /** Warm shims kept ready (default 2; 0 starts a shim per container on the critical path). */
  warmShims?: number;
  /**
   * false for a debugging client (`orch ctr`) next to a running agent: leave the agent's warm
   * shims alone and start none (creating containers still works, with a cold shim).
   */
  manageShimPool?: boolean;
  /** Resolves image references to overlay lower dirs (the image side). */
  images?: RootfsProvider;
  /** Default log rotation for containers. */
  logMaxBytes?: number;
  logMaxFiles?: number;
}

interface ContainerRecord {
  id: string;
  name: string;
  sandboxId: string;
  image: string;
  imageDigest: string;
  logPath: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  cgroup?: CgroupRef;
  createdAt: string;
}

/** This executable in its hidden shim mode: the single binary itself, or node + this script. */
function defaultShimCommand(): string[] {
  if (isSea()) return [process.execPath, 'shim'];
  return [process.execPath, ...process.execArgv, ...(process.argv[1] ? [process.argv[1]] : []), 'shim'];
}

function envList(image: string[] | undefined, extra: Array<{ name: string; value: string }> | undefined): string[] {
  const out = new Map<string, string>();
  for (const e of image ?? []) {
    const i = e.indexOf('=');
    out.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  for (const e of extra ?? []) out.set(e.name, e.value);
  if (!out.has('PATH')) out.set('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  return [...out].map(([k, v]) => `${k}=${v}`);
}

/** Kubernetes' rule: command replaces Entrypoint (and drops Cmd unless args), args replace Cmd. */
export function mergeCommand(image: { Entrypoint?: string[] | null; Cmd?: string[] | null }, command?: string[], args?: string[]): string[] {
  if (command && command.length) return [...command, ...(args ?? [])];
  return [...(image.Entrypoint ?? []), ...(args && args.length ? args : image.Cmd ?? [])];
}

export class ContainerRuntime {
  readonly stateDir: string;
  readonly cgroups: CgroupManager;
  readonly sandboxes: SandboxService;
  private readonly pool: ShimPool;
  private readonly initPath: string;
  private readonly clients = new Map<string, ShimClient>();
  private readonly exitWaiters = new Map<string, Array<() => void>>();

  private constructor(private readonly opts: ContainerRuntimeOptions) {
    this.stateDir = opts.stateDir ?? join(opts.dataDir ?? DEFAULT_DATA_DIR, 'agent', 'containers');
    mkdirSync(join(this.stateDir, 'bin'), { recursive: true });
    this.initPath = join(this.stateDir, 'bin', 'orch-init');
    const bytes = Buffer.from(ORCH_INIT_X86_64_BASE64, 'base64');
    if (!existsSync(this.initPath) || !readFileSync(this.initPath).equals(bytes)) {
      writeFileSync(`${this.initPath}.tmp`, bytes);
      chmodSync(`${this.initPath}.tmp`, 0o755);
      renameSync(`${this.initPath}.tmp`, this.initPath);
    }
    this.cgroups = openCgroupManager(opts.cgroupParent ?? 'orch');
    this.sandboxes = new SandboxService(join(this.stateDir, 'sandboxes'), this.initPath);
    const command = opts.shimCommand ?? defaultShimCommand();
    this.pool = new ShimPool(join(this.stateDir, 'pool'), command, opts.warmShims ?? 2, ['--init', this.initPath]);
  }

  /** Opens the runtime: re-adopts containers whose shims still run, and fills the warm pool. */
  static async open(opts: ContainerRuntimeOptions = {}): Promise<ContainerRuntime> {
    if (process.arch !== 'x64') throw new RuntimeError('Unsupported', `orch-init is built for x86_64 only, not ${process.arch}`);
    const rt = new ContainerRuntime(opts);
    if (opts.manageShimPool !== false) await rt.pool.init();
    for (const id of rt.containerIds()) await rt.adopt(id);
    return rt;
  }

  /** Waits until the warm pool is full (benchmarks and tests measuring warm starts). */
  waitForWarmShims(timeoutMs?: number): Promise<void> {
    return this.pool.waitFull(timeoutMs);
  }

  private containerIds(): string[] {
    return readdirSync(this.stateDir).filter((f) => /^[0-9a-f]{64}$/.test(f) && existsSync(join(this.stateDir, f, 'config.json')));
  }

  private dir(id: string): string {
    return join(this.stateDir, id);
  }

  private record(id: string): ContainerRecord {
    try {
      return JSON.parse(readFileSync(join(this.dir(id), 'config.json'), 'utf8'));
    } catch {
      throw new NotFoundError('container', id);
    }
  }

  private shimState(id: string): ShimState | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir(id), 'state.json'), 'utf8'));
    } catch {
      return undefined;
    }
  }

  private writeShimState(id: string, state: ShimState): void {
    const p = join(this.dir(id), 'state.json');
    writeFileSync(`${p}.tmp`, JSON.stringify(state));
    renameSync(`${p}.tmp`, p);
  }

  /** Reconnects to a container's shim; a shim that died leaves the container exited (Unknown). */
  private async adopt(id: string): Promise<void> {
    const st = this.shimState(id);
    if (!st || st.status === 'exited') return;
    try {
      await this.connect(id);
    } catch {
      const again = this.shimState(id);
      if (again && again.status !== 'exited') {
        this.writeShimState(id, { ...again, status: 'exited', exitCode: 255, reason: 'Unknown', message: 'the container\'s shim is gone', finishedAt: new Date().toISOString() });
      }
    }
  }

  private async connect(id: string): Promise<ShimClient> {
    const existing = this.clients.get(id);
    if (existing) return existing;
    const client = await ShimClient.connect(join(this.dir(id), 'shim.sock'));
    return this.track(id, client);
  }

  /** Keeps a connection to a container's shim and learns of its exit through it. */
  private async track(id: string, client: ShimClient, subscribed = false): Promise<ShimClient> {
    client.unref();
    this.clients.set(id, client);
    const done = () => {
      this.clients.delete(id);
      for (const w of this.exitWaiters.get(id)?.splice(0) ?? []) w();
    };
    // the shim closes the connection itself shortly after "exit" (answers may still be on the way)
    client.on('exit', done);
    client.on('close', done);
    if (subscribed) return client;
    const st = await client.subscribe();
    if (st.status === 'exited') done();
    return client;
  }

  // ---- sandboxes ----

  runPodSandbox(config: PodSandboxConfig): PodSandboxStatus {
    return this.sandboxes.run(config);
  }

  podSandboxStatus(id: string): PodSandboxStatus {
    return this.sandboxes.status(id);
  }

  listPodSandboxes(): PodSandboxStatus[] {
    return this.sandboxes.list();
  }

  /** Stops every container of the sandbox (grace period each), then the sandbox. */
  async stopPodSandbox(id: string, timeoutSeconds = 10): Promise<void> {
    this.sandboxes.status(id);
    await Promise.all(this.listContainers({ sandboxId: id }).map((c) => this.stopContainer(c.id, timeoutSeconds)));
    this.sandboxes.stop(id);
  }

  /** Removes the sandbox's containers, its namespaces and cgroup parent. */
  async removePodSandbox(id: string): Promise<void> {
    await this.stopPodSandbox(id, 0).catch((err) => {
      if (!(err instanceof NotFoundError)) throw err;
    });
    for (const c of this.listContainers({ sandboxId: id })) await this.removeContainer(c.id);
    this.sandboxes.remove(id);
    const mode = this.cgroups.mode;
    const dirs: Record<string, string> = {};
    for (const [c, d] of Object.entries(this.cgroups.parentDirs)) dirs[c] = join(d, id);
    await openCgroup({ mode, dirs }).remove();
  }

  // ---- containers ----

  /** Creates a container in a sandbox: rootfs mounted, PID 1 waiting to exec. Returns its id. */
  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const sandbox = this.sandboxes.status(sandboxId);
    if (sandbox.state !== 'ready') throw new ContainerStateError(`sandbox ${sandboxId} is not ready`);
    if (!config.name) throw new InvalidConfigError('container name is required');
    const holder = this.namesIn(sandboxId).get(config.name);
    // another process (orch ctr rm) may have removed it meanwhile: the disk has the last word
    if (holder && existsSync(join(this.dir(holder), 'config.json'))) {
      throw new RuntimeError('AlreadyExists', `container name ${JSON.stringify(config.name)} already exists in sandbox ${sandboxId}`);
    }
    let rootfs: PreparedRootfs;
    let imageRef: string;
    if (typeof config.image === 'string') {
      if (!this.opts.images) throw new InvalidConfigError('no image service configured: pass a prepared rootfs');
      imageRef = config.image;
      rootfs = await this.opts.images.prepareRootfs(config.image);
    } else {
      rootfs = config.image;
      imageRef = rootfs.imageDigest;
    }
    const args = mergeCommand(rootfs.config, config.command, config.args);
    if (args.length === 0) throw new InvalidConfigError(`container ${config.name}: no command specified (the image has neither Entrypoint nor Cmd)`);

    const id = randomBytes(32).toString('hex');
    const dir = this.dir(id);
    mkdirSync(dir);
    const logPath = config.logPath ?? join(dir, 'container.log');
    mkdirSync(join(logPath, '..'), { recursive: true });
    const cgroupPath = `${sandboxId}/${id}`;
    const cgroupRef = this.cgroups.refFor(cgroupPath);
    const record: ContainerRecord = {
      id, name: config.name, sandboxId, image: imageRef, imageDigest: rootfs.imageDigest, logPath,
      labels: config.labels ?? {}, annotations: config.annotations ?? {}, cgroup: cgroupRef, createdAt: new Date().toISOString(),
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(record, null, 1));
    this.namesIn(sandboxId).set(config.name, id);

    let caps = config.privileged ? ALL_CAPABILITIES : DEFAULT_CAPABILITIES;
    const norm = (c: string) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`);
    if (!config.privileged && config.capabilities) {
      const drop = (config.capabilities.drop ?? []).map(norm);
      caps = drop.includes('CAP_ALL') ? [] : caps.filter((c) => !drop.includes(c));
      caps = [...new Set([...caps, ...(config.capabilities.add ?? []).map(norm)])];
    }
    const mounts = [
      ...this.sandboxes.etcFiles(sandboxId),
      ...(config.mounts ?? []).map((m) => ({ source: m.hostPath, destination: m.containerPath, readOnly: m.readOnly })),
    ];
    const spec: ShimSpec = {
      id, bundleDir: dir,
      rootfs: { lowerDirs: rootfs.lowerDirs, readOnly: config.readOnlyRootFilesystem },
      namespaces: { net: sandbox.netnsPath, ipc: sandbox.ipcnsPath, uts: sandbox.utsnsPath, pid: sandbox.pidnsPath },
      mounts,
      process: {
        args, env: envList(rootfs.config.Env, config.env), cwd: config.workingDir || rootfs.config.WorkingDir || '/',
        user: config.user ?? (rootfs.config.User || '0'), supplementalGroups: config.supplementalGroups,
        tty: config.tty, stdin: config.stdin, noNewPrivileges: config.noNewPrivileges ?? false, capabilities: caps,
        rlimits: config.rlimits ?? [],
      },
      maskedPaths: config.privileged ? [] : MASKED_PATHS,
      readonlyPaths: config.privileged ? [] : READONLY_PATHS,
      cgroup: { ref: cgroupRef, relPath: cgroupPath, resources: config.resources ?? {} },
      log: { path: logPath, maxBytes: config.logMaxBytes ?? this.opts.logMaxBytes ?? 10 * 1024 * 1024, maxFiles: config.logMaxFiles ?? this.opts.logMaxFiles ?? 5 },
      stopSignal: rootfs.config.StopSignal || 'SIGTERM',
      initPath: this.initPath,
    };
    const shim = await this.pool.take();
    try {
      await shim.client.request<ShimState>('create', spec);
    } catch (err) {
      shim.client.close();
      // the shim recorded the failure in state.json (StartError) when it got that far
      if (!this.shimState(id)) {
        this.writeShimState(id, {
          id, status: 'exited', shimPid: 0, exitCode: 128, reason: 'StartError', message: (err as Error).message,
          createdAt: record.createdAt, finishedAt: new Date().toISOString(),
        });
      }
      if (err instanceof ShimRequestError) return id;
      throw err;
    }
    // the create connection becomes this container's control connection
    await this.track(id, shim.client, true);
    return id;
  }

  /** Starts a created container; a bad entrypoint leaves it exited with reason StartError. */
  async startContainer(id: string): Promise<ContainerStatus> {
    const st = this.containerStatus(id);
    if (st.state === 'exited' && st.reason === 'StartError') return st;
    if (st.state !== 'created') throw new ContainerStateError(`container ${id} is ${st.state}, not created`);
    const client = await this.connect(id);
    await client.request<ShimState>('start');
    return this.containerStatus(id);
  }

  /** Stop signal (SIGTERM or the image's StopSignal), then SIGKILL after timeoutSeconds. */
  async stopContainer(id: string, timeoutSeconds = 30): Promise<ContainerStatus> {
    const st = this.containerStatus(id);
    if (st.state === 'exited' || st.state === 'unknown') return st;
    try {
      const client = await this.connect(id);
      await client.request<ShimState>('stop', { timeoutSeconds });
    } catch (err) {
      if (!(err instanceof ShimUnavailableError)) throw err;
    }
    await this.waitContainer(id, (timeoutSeconds + 10) * 1000);
    return this.containerStatus(id);
  }

  /** Resolves with the container's status once it has exited. */
  async waitContainer(id: string, timeoutMs = 60_000): Promise<ContainerStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = this.containerStatus(id);
      if (st.state === 'exited') return st;
      if (Date.now() > deadline) throw new RuntimeError('Timeout', `container ${id} still ${st.state} after ${timeoutMs} ms`);
      if (!this.clients.has(id)) await this.connect(id).catch(() => undefined);
      await new Promise<void>((resolve) => {
        const list = this.exitWaiters.get(id) ?? [];
        list.push(resolve);
        this.exitWaiters.set(id, list);
        setTimeout(resolve, 200).unref();
      });
    }
  }

  /** Removes an exited (or created) container: state, upper dir, logs in the state dir, cgroup. */
  async removeContainer(id: string): Promise<void> {
    const rec = this.record(id);
    const st = this.containerStatus(id);
    if (st.state === 'running' || st.state === 'created') await this.stopContainer(id, 0);
    this.clients.get(id)?.close();
    this.clients.delete(id);
    await this.waitShimGone(this.shimState(id)?.shimPid);
    if (rec.cgroup) await openCgroup(rec.cgroup).remove();
    rmSync(this.dir(id), { recursive: true, force: true });
    this.names?.get(rec.sandboxId)?.delete(rec.name);
  }

  /** sandbox id -> container name -> id, read from disk once (a create checks names in O(1)). */
  private names?: Map<string, Map<string, string>>;
  private namesIn(sandboxId: string): Map<string, string> {
    if (!this.names) {
      this.names = new Map();
      for (const id of this.containerIds()) {
        try {
          const rec = this.record(id);
          const m = this.names.get(rec.sandboxId) ?? new Map<string, string>();
          m.set(rec.name, id);
          this.names.set(rec.sandboxId, m);
        } catch {
          // removed meanwhile
        }
      }
    }
    let m = this.names.get(sandboxId);
    if (!m) this.names.set(sandboxId, (m = new Map()));
    return m;
  }

  /** An exited container's shim leaves by itself within moments; only then is its directory ours. */
  private async waitShimGone(pid: number | undefined, timeoutMs = 3000): Promise<void> {
    if (!pid) return;
    const isShim = () => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('orch-shim');
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + timeoutMs;
    while (isShim()) {
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  containerStatus(id: string): ContainerStatus {
    const rec = this.record(id);
    const st = this.shimState(id);
    return {
      id, name: rec.name, sandboxId: rec.sandboxId, image: rec.image, imageDigest: rec.imageDigest,
      state: st ? st.status : 'unknown', pid: st?.pid, shimPid: st?.shimPid || undefined, exitCode: st?.exitCode, signal: st?.signal,
      reason: st?.reason, message: st?.message, createdAt: rec.createdAt, startedAt: st?.startedAt, finishedAt: st?.finishedAt,
      logPath: rec.logPath, labels: rec.labels, annotations: rec.annotations,
    };
  }

  listContainers(filter: { sandboxId?: string; state?: string } = {}): ContainerStatus[] {
    const out: ContainerStatus[] = [];
    for (const id of this.containerIds()) {
      let st: ContainerStatus;
      try {
        st = this.containerStatus(id);
      } catch {
        continue;
      }
      if (filter.sandboxId && st.sandboxId !== filter.sandboxId) continue;
      if (filter.state && st.state !== filter.state) continue;
      out.push(st);
    }
    return out;
  }

  containerStats(id: string): ContainerStats {
    const rec = this.record(id);
    const s = rec.cgroup ? openCgroup(rec.cgroup).stats() : { cpuUsageNs: 0, memoryUsageBytes: 0, memoryWorkingSetBytes: 0, pidsCurrent: 0 };
    return {
      id, timestamp: new Date().toISOString(), cpuUsageNs: s.cpuUsageNs, memoryUsageBytes: s.memoryUsageBytes,
      memoryWorkingSetBytes: s.memoryWorkingSetBytes, pidsCurrent: s.pidsCurrent,
    };
  }

  /** Starts a process inside a running container (all its namespaces and cgroup). */
  async exec(id: string, opts: ExecOptions): Promise<ShimStream> {
    const st = this.containerStatus(id);
    if (st.state !== 'running') throw new ContainerStateError(`container ${id} is ${st.state}, not running`);
    return ShimStream.open(join(this.dir(id), 'shim.sock'), 'exec', {
      args: opts.args, env: opts.env?.map((e) => `${e.name}=${e.value}`), cwd: opts.cwd, user: opts.user,
      tty: opts.tty, stdin: opts.stdin, rows: opts.rows, cols: opts.cols,
    });
  }

  /** exec and collect the output (kubelet's ExecSync for probes). */
  async execSync(id: string, args: string[], timeoutMs = 30_000): Promise<ExecResult> {
    const s = await this.exec(id, { args });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    s.on('stdout', (d: Buffer) => out.push(d));
    s.on('stderr', (d: Buffer) => err.push(d));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        s.close();
        reject(new RuntimeError('Timeout', `exec in ${id} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      const exitCode = await Promise.race([s.exit, timeout]);
      return { exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Attaches to the container's stdin (and its live output). */
  async attach(id: string): Promise<ShimStream> {
    const st = this.containerStatus(id);
    if (st.state !== 'running') throw new ContainerStateError(`container ${id} is ${st.state}, not running`);
    return ShimStream.open(join(this.dir(id), 'shim.sock'), 'attach', {});
  }

  /** Disconnects from shims and retires idle warm shims; running containers keep running. */
  async close(): Promise<void> {
    await this.pool.close();
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
