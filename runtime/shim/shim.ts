// The per-container shim: `orch shim --pool-socket PATH`. Started ahead of time (warm), it waits on
// its pool socket for one "create" with a ShimSpec, then becomes that container's parent and door:
// it joins the sandbox's namespaces, unshares mount and PID namespaces, mounts the rootfs, spawns
// orch-init (which becomes the workload, PID 1), writes the CRI log, records state.json, and
// answers requests on <bundle>/shim.sock until the workload exits. It runs detached, so the
// container outlives the runtime process that asked for it.
//
// Control protocol: newline-delimited JSON requests {id, method, params} and responses
// {id, result | error}; "subscribe" also receives {event: "exit", state}. "exec" and "attach"
// switch their connection to frames (see frames.ts) after the request line.
//   create(spec) -> state   (warm socket only)    start -> state    state -> state
//   stop({timeoutSeconds}) -> state               stats -> CgroupStats
//   exec(ExecRequest) -> frames                    attach({stdin}) -> frames    retire (warm only)
import { createServer, type Server, type Socket } from 'node:net';
import { ReadStream as TtyReadStream } from 'node:tty';
import { appendFileSync, existsSync, stat, closeSync, mkdirSync, openSync, renameSync, unlinkSync, writeFileSync, constants as fsc, write as fsWrite } from 'node:fs';
import type { Writable, Readable } from 'node:stream';

import { constants as osc } from 'node:os';
import * as libc from '../linux/libc';
import { cgroupManagerFor } from '../cgroups/index';
import type { Cgroup } from '../cgroups/types';
import { CriLogWriter } from './log';
import { mountBind, mountDev, mountOverlay, mountSys } from './mounts';
import { InitError, InitFlags, InitProcess, capabilityMask } from './init';
import { lookPath, resolveInRoot, resolveUser } from './rootfs';
import { Channel, type ExecRequest, type ShimRequest, type ShimResponse, type ShimSpec, type ShimState } from './spec';
import { encodeFrame, readFrames, readLines } from './frames';


function errorBody(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; message?: string };
  return { code: typeof e?.code === 'string' ? e.code : 'ShimError', message: e?.message ?? String(err) };
}

class Shim {
  private spec!: ShimSpec;
  private state!: ShimState;
  private init?: InitProcess;
  private cgroup?: Cgroup;
  private log?: CriLogWriter;
  private server?: Server;
  private subscribers = new Set<Socket>();
  private exitWaiters: Array<() => void> = [];
  private attached = new Set<Socket>();
  private rootfs = '';
  private readonly shimLog: string;

  constructor(private readonly poolSocket: string, private readonly initPath?: string) {
    this.shimLog = `${poolSocket}.log`;
  }

  private pre?: InitProcess;
  private pidUnshared = false;

  /**
   * What a container start would otherwise wait for: a new PID namespace with orch-init already
   * spawned in it (PID 1 to be), waiting for its config. The mount namespace is unshared only at
   * create, so the shim sees the host's mounts as they are then (sandbox namespace files, volumes);
   * orch-init joins it by /proc/<shim>/ns/mnt.
   */
  prewarm(): void {
    if (!this.initPath) return;
    try {
      libc.unshare(libc.CLONE_NEWPID);
      this.pidUnshared = true;
      this.pre = InitProcess.prespawn(this.initPath);
      this.pre.child.on('error', (err) => this.note(`pre-spawned init: ${err.message}`));
    } catch (err) {
      this.note(`prewarm failed, containers start the slow way: ${String(err)}`);
    }
  }

  private note(msg: string): void {
    try {
      appendFileSync(this.spec ? `${this.spec.bundleDir}/shim.log` : this.shimLog, `${new Date().toISOString()} ${msg}\n`);
    } catch {
      // nowhere left to report to
    }
  }

  listenWarm(): void {
    const server = createServer((conn) => this.serve(conn, true));
    server.listen(this.poolSocket);
    this.server = server;
    // a runtime that died (or a removed state dir) cannot retire us: leave once our socket is gone
    const watch = setInterval(() => {
      if (this.spec) clearInterval(watch);
      else if (!existsSync(this.poolSocket)) this.shutdown(0);
    }, 2000);
  }

  private serve(conn: Socket, warm: boolean): void {
    conn.on('error', (err) => {
      this.note(`connection error: ${err.message}`);
      conn.destroy();
    });
    conn.on('close', () => {
      this.subscribers.delete(conn);
      this.attached.delete(conn);
    });
    readLines(conn, (line, rest) => {
      let req: ShimRequest;
      try {
        req = JSON.parse(line);
      } catch {
        conn.destroy();
        return;
      }
      if (req.method === 'exec' || req.method === 'attach') {
        const buffered = rest();
        if (req.method === 'exec') this.exec(conn, req.params as unknown as ExecRequest, buffered).catch((err) => this.streamError(conn, err));
        else this.attach(conn, req.params ?? {}, buffered);
        return;
      }
      this.handle(req, conn, warm).then(
        (result) => conn.write(JSON.stringify({ id: req.id, result } satisfies ShimResponse) + '\n'),
        (err) => conn.write(JSON.stringify({ id: req.id, error: errorBody(err) } satisfies ShimResponse) + '\n'),
      );
    });
  }

  private async handle(req: ShimRequest, conn: Socket, warm: boolean): Promise<unknown> {
    // the connection that sent "create" stays open as a control connection of the container
    if (warm && !(this.spec && req.method !== 'create')) {
      if (req.method === 'retire') {
        setImmediate(() => this.shutdown(0));
        return {};
      }
      if (req.method !== 'create' || this.spec) throw new Error(`unexpected request ${req.method} on a warm shim`);
      // the creator is subscribed to the exit event without asking
      this.subscribers.add(conn);
      return this.create(req.params as unknown as ShimSpec);
    }
    switch (req.method) {
      case 'state':
        return this.state;
      case 'start':
        return this.start();
      case 'stop':
        return this.stop(Number(req.params?.timeoutSeconds ?? 30));
      case 'stats':
        return this.cgroup ? this.cgroup.stats() : null;
      case 'subscribe':
        this.subscribers.add(conn);
        return this.state;
      default:
        throw new Error(`unknown method ${req.method}`);
    }
  }

  private saveState(): void {
    const path = `${this.spec.bundleDir}/state.json`;
    writeFileSync(`${path}.tmp`, JSON.stringify(this.state));
    renameSync(`${path}.tmp`, path);
  }

  private async create(spec: ShimSpec): Promise<ShimState> {
    this.spec = spec;
    this.state = { id: spec.id, status: 'created', shimPid: process.pid, createdAt: new Date().toISOString() };
    try {
      return await this.createInner(spec);
    } catch (err) {
      this.note(`create failed: ${(err as Error).stack ?? String(err)}`);
      this.state = { ...this.state, status: 'exited', exitCode: 128, reason: 'StartError', message: (err as Error).message, finishedAt: new Date().toISOString() };
      this.saveState();
      this.init?.abort();
      setTimeout(() => this.shutdown(0), 100);
      throw err;
    }
  }

  private async createInner(spec: ShimSpec): Promise<ShimState> {
    const bundle = spec.bundleDir;
    // the container socket first, so a caller can find us as soon as create answers
    this.server?.close();
    try {
      unlinkSync(this.poolSocket);
    } catch {
      // already gone
    }
    const server = createServer((conn) => this.serve(conn, false));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(`${bundle}/shim.sock`, resolve);
    });
    this.server = server;

    this.log = new CriLogWriter(spec.log.path, spec.log.maxBytes, spec.log.maxFiles);

    // namespaces: join the sandbox's, then new mount and (unless shared) PID namespaces
    let pre = this.pre;
    this.pre = undefined;
    if (pre && (spec.namespaces.pid || pre.child.exitCode !== null || pre.child.signalCode !== null)) {
      pre.child.kill('SIGKILL');
      pre = undefined;
    }
    const joins: Array<[string | undefined, number]> = [
      [spec.namespaces.net, libc.CLONE_NEWNET], [spec.namespaces.ipc, libc.CLONE_NEWIPC],
      [spec.namespaces.uts, libc.CLONE_NEWUTS], [spec.namespaces.pid, libc.CLONE_NEWPID],
    ];
    for (const [path, type] of joins) {
      if (!path) continue;
      const fd = openSync(path, 'r');
      try {
        libc.setns(fd, type);
      } finally {
        closeSync(fd);
      }
    }
    if (this.pidUnshared && !pre && !spec.namespaces.pid) {
      throw new Error('the pre-spawned container init is gone and this shim\'s PID namespace cannot be made again');
    }
    libc.unshare(libc.CLONE_NEWNS | (spec.namespaces.pid || this.pidUnshared ? 0 : libc.CLONE_NEWPID));
    libc.mount(null, '/', null, libc.MS_REC | libc.MS_PRIVATE);

    // filesystem
    const rootfs = `${bundle}/rootfs`;
    this.rootfs = rootfs;
    mountOverlay(rootfs, spec.rootfs.lowerDirs, `${bundle}/upper`, `${bundle}/work`);
    mkdirSync(resolveInRoot(rootfs, '/proc'), { recursive: true });
    mountDev(rootfs);
    mountSys(rootfs);
    for (const m of spec.mounts) mountBind(rootfs, m);

    // process
    const p = spec.process;
    const user = resolveUser(rootfs, p.user);
    const env = p.env.some((e) => e.startsWith('HOME=')) ? p.env : [...p.env, `HOME=${user.home}`];
    const exe = lookPath(rootfs, p.args[0], env);
    const cwd = p.cwd || '/';
    mkdirSync(resolveInRoot(rootfs, cwd), { recursive: true });
    let stdio: Array<'pipe' | 'ignore' | number>;
    let ttyMaster: number | undefined;
    let ttyPath: string | undefined;
    if (p.tty) {
      const { master, index } = libc.openPtyAt(`${rootfs}/dev/pts/ptmx`, openSync);
      ttyMaster = master;
      ttyPath = `${rootfs}/dev/pts/${index}`;
      stdio = pre ? [] : [openSync(ttyPath, fsc.O_RDWR | fsc.O_NOCTTY)];
      stdio = [stdio[0], stdio[0], stdio[0]];
    } else {
      stdio = [p.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'];
    }
    const config = {
      flags: (p.noNewPrivileges ? InitFlags.noNewPrivs : 0) | (p.tty ? InitFlags.setCtty : 0) | (spec.rootfs.readOnly ? InitFlags.readonlyRoot : 0),
      uid: user.uid, gid: user.gid, groups: [...user.additionalGids, ...(p.supplementalGroups ?? [])],
      capMask: capabilityMask(p.capabilities), rootfs, cwd, masked: spec.maskedPaths, readonly: spec.readonlyPaths,
    };
    let init: InitProcess;
    if (pre) {
      init = pre;
      init.configure({
        ...config, ttyPath, program: { exe, args: p.args, env },
        joinNamespaces: { mnt: `/proc/${process.pid}/ns/mnt`, net: spec.namespaces.net, ipc: spec.namespaces.ipc, uts: spec.namespaces.uts },
      });
      if (!p.stdin || p.tty) init.child.stdin?.end();
    } else {
      init = InitProcess.spawn(spec.initPath, 'init', exe, p.args, env, stdio, config);
      if (typeof stdio[0] === 'number') closeSync(stdio[0]);
    }
    this.init = init;
    const child = init.child;
    child.on('exit', (code, signal) => this.onExit(code, signal));
    this.wireOutput(child.stdout, child.stderr, ttyMaster);
    // cgroup and rlimits while orch-init makes its mounts in parallel; it execs only after "start"
    const pid = child.pid!;
    if (spec.cgroup) {
      this.cgroup = cgroupManagerFor(spec.cgroup.ref, spec.cgroup.relPath).create(spec.cgroup.relPath, spec.cgroup.resources);
      this.cgroup.addProcess(pid);
    }
    for (const r of p.rlimits) {
      const res = (libc.RLIMIT as Record<string, number>)[r.type.replace(/^RLIMIT_/, '')];
      if (res === undefined) throw new Error(`unknown rlimit ${r.type}`);
      libc.prlimit(pid, res, BigInt(r.soft), BigInt(r.hard));
    }
    await init.ready();
    this.state = { ...this.state, pid };
    this.saveState();
    return this.state;
  }

  private wireOutput(stdout: Readable | null, stderr: Readable | null, ttyMaster: number | undefined): void {
    const log = this.log!;
    const fan = (stream: 'stdout' | 'stderr', d: Buffer) => {
      log.write(stream, d);
      for (const a of this.attached) a.write(encodeFrame(stream === 'stdout' ? Channel.stdout : Channel.stderr, d));
    };
    if (ttyMaster !== undefined) {
      const rs = new TtyReadStream(ttyMaster);
      rs.on('data', (d: Buffer) => fan('stdout', d));
      rs.on('error', () => log.end('stdout'));
      this.ttyMaster = ttyMaster;
      return;
    }
    stdout?.on('data', (d: Buffer) => fan('stdout', d));
    stdout?.on('end', () => log.end('stdout'));
    stderr?.on('data', (d: Buffer) => fan('stderr', d));
    stderr?.on('end', () => log.end('stderr'));
  }
  private ttyMaster?: number;

  private async start(): Promise<ShimState> {
    if (this.state.status !== 'created' || !this.init) return this.state;
    try {
      await this.init.start();
    } catch (err) {
      if (err instanceof InitError) {
        this.startError = err.message;
        await this.waitExit();
        return this.state;
      }
      throw err;
    }
    if (this.state.status === 'created') {
      this.state = { ...this.state, status: 'running', startedAt: new Date().toISOString() };
      this.saveState();
    }
    return this.state;
  }
  private startError?: string;

  private waitExit(): Promise<void> {
    if (this.state.status === 'exited') return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  private async stop(timeoutSeconds: number): Promise<ShimState> {
    const pid = this.state.pid;
    if (this.state.status === 'exited' || !pid) return this.state;
    if (this.state.status === 'created') this.init?.abort();
    const signal = this.spec.stopSignal || 'SIGTERM';
    try {
      process.kill(pid, signal as NodeJS.Signals);
    } catch {
      // gone already; the exit handler records it
    }
    const exited = this.waitExit();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), Math.max(0, timeoutSeconds) * 1000))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // raced with exit
      }
      await exited;
    }
    return this.state;
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    const signo = signal ? (osc.signals as Record<string, number>)[signal] ?? 0 : 0;
    const exitCode = code ?? 128 + signo;
    const oom = this.cgroup ? this.cgroup.stats().oomKills > 0 : false;
    let reason = exitCode === 0 ? 'Completed' : 'Error';
    if (oom) reason = 'OOMKilled';
    let message: string | undefined;
    if (this.startError) {
      reason = 'StartError';
      message = this.startError;
    }
    this.state = {
      ...this.state, status: 'exited', exitCode: this.startError ? 128 : exitCode, signal: signal ?? undefined,
      reason, message, finishedAt: new Date().toISOString(),
    };
    // a shared PID namespace outlives PID 1: take the container's other processes down with it
    if (this.spec.namespaces.pid && this.cgroup) for (const p of this.cgroup.processes()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const child = this.init?.child;
    const finish = () => {
      try {
        this.log?.close();
      } catch (err) {
        this.note(`closing log: ${String(err)}`);
      }
      this.saveState();
      for (const w of this.exitWaiters.splice(0)) w();
      const msg = JSON.stringify({ event: 'exit', state: this.state } satisfies ShimResponse) + '\n';
      for (const s of this.subscribers) s.write(msg);
      for (const a of this.attached) a.end(encodeFrame(Channel.exit, JSON.stringify({ exitCode: this.state.exitCode })));
      setTimeout(() => this.shutdown(0), 50);
    };
    // let the pipes drain into the log, but not forever (a shared PID namespace may hold them)
    let done = false;
    const once = () => {
      if (!done) {
        done = true;
        finish();
      }
    };
    if (child && (child.stdout || child.stderr)) {
      child.once('close', once);
      setTimeout(once, 1000);
    } else setTimeout(once, this.ttyMaster !== undefined ? 50 : 0);
  }

  private streamError(conn: Socket, err: unknown): void {
    conn.end(encodeFrame(Channel.error, JSON.stringify(errorBody(err))));
  }

  private attach(conn: Socket, params: Record<string, unknown>, rest: Buffer): void {
    this.attached.add(conn);
    const stdin = this.init?.child.stdin;
    readFrames(conn, rest, (ch, payload) => {
      if (ch === Channel.stdin) {
        if (this.ttyMaster !== undefined) fsWrite(this.ttyMaster, payload, () => undefined);
        else stdin?.write(payload);
      } else if (ch === Channel.closeStdin) stdin?.end();
      else if (ch === Channel.resize && this.ttyMaster !== undefined) {
        const { rows, cols } = JSON.parse(payload.toString());
        libc.setWindowSize(this.ttyMaster, rows, cols);
      }
    });
    void params;
    if (this.state.status === 'exited') conn.end(encodeFrame(Channel.exit, JSON.stringify({ exitCode: this.state.exitCode })));
  }

  private async exec(conn: Socket, req: ExecRequest, rest: Buffer): Promise<void> {
    if (this.state.status !== 'running' || !this.state.pid) throw Object.assign(new Error(`container ${this.spec.id} is not running`), { code: 'ContainerNotRunning' });
    const p = this.spec.process;
    const env = req.env ? [...p.env.filter((e) => !req.env!.some((x) => x.split('=')[0] === e.split('=')[0])), ...req.env] : p.env;
    const exe = lookPath(this.rootfs, req.args[0], env);
    const user = resolveUser(this.rootfs, req.user ?? p.user);
    const nsFd = openSync(`/proc/${this.state.pid}/ns/mnt`, 'r');
    let stdio: Array<'pipe' | 'ignore' | number>;
    let master: number | undefined;
    let slave: number | undefined;
    if (req.tty) {
      const pty = libc.openPtyAt(`${this.rootfs}/dev/pts/ptmx`, openSync);
      master = pty.master;
      slave = openSync(`${this.rootfs}/dev/pts/${pty.index}`, fsc.O_RDWR | fsc.O_NOCTTY);
      if (req.rows && req.cols) libc.setWindowSize(master, req.rows, req.cols);
      stdio = [slave, slave, slave, nsFd];
    } else {
      stdio = [req.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', nsFd];
    }
    let init: InitProcess;
    try {
      init = InitProcess.spawn(this.spec.initPath, 'exec', exe, req.args, env, stdio, {
        flags: (p.noNewPrivileges ? InitFlags.noNewPrivs : 0) | (req.tty ? InitFlags.setCtty : 0),
        uid: user.uid, gid: user.gid, groups: [...user.additionalGids, ...(p.supplementalGroups ?? [])],
        capMask: capabilityMask(p.capabilities), rootfs: '/', cwd: req.cwd || p.cwd || '/', masked: [], readonly: [],
      });
    } finally {
      closeSync(nsFd);
      if (slave !== undefined) closeSync(slave);
    }
    const child = init.child;
    let exitCode: number | null = null;
    const exited = new Promise<void>((resolve) => child.on('exit', (code, signal) => {
      exitCode = code ?? 128 + ((signal && (osc.signals as Record<string, number>)[signal]) || 0);
      resolve();
    }));
    await init.ready();
    if (this.cgroup) this.cgroup.addProcess(child.pid!);
    try {
      await init.start();
    } catch (err) {
      if (master !== undefined) closeSync(master);
      throw err;
    }
    const outputs: Array<Promise<void>> = [];
    const pump = (r: Readable | null | undefined, ch: number) => {
      if (!r) return;
      outputs.push(new Promise((resolve) => {
        r.on('data', (d: Buffer) => conn.write(encodeFrame(ch, d)));
        r.on('end', resolve);
        r.on('error', () => resolve());
        r.on('close', resolve);
      }));
    };
    let stdinW: Writable | null = child.stdin;
    if (master !== undefined) {
      const m = master;
      const rs = new TtyReadStream(m);
      pump(rs, Channel.stdout);
      stdinW = null;
      readFrames(conn, rest, (ch, payload) => {
        if (ch === Channel.stdin) fsWrite(m, payload, (err) => err && this.note(`tty write: ${err.message}`));
        else if (ch === Channel.resize) {
          const { rows, cols } = JSON.parse(payload.toString());
          libc.setWindowSize(m, rows, cols);
        }
      });
    } else {
      pump(child.stdout, Channel.stdout);
      pump(child.stderr, Channel.stderr);
      readFrames(conn, rest, (ch, payload) => {
        if (ch === Channel.stdin) stdinW?.write(payload);
        else if (ch === Channel.closeStdin) stdinW?.end();
      });
    }
    await exited;
    await Promise.race([Promise.all(outputs), new Promise((r) => setTimeout(r, master !== undefined ? 100 : 1000))]);
    conn.end(encodeFrame(Channel.exit, JSON.stringify({ exitCode })));
  }

  shutdown(code: number): void {
    this.server?.close();
    for (const s of [...this.subscribers, ...this.attached]) s.end();
    try {
      if (!this.spec) unlinkSync(this.poolSocket);
      else unlinkSync(`${this.spec.bundleDir}/shim.sock`);
    } catch {
      // already gone
    }
    process.exit(code);
  }
}

/** Entry of `orch shim --pool-socket PATH`. */
export function runShim(argv: string[]): void {
  const i = argv.indexOf('--pool-socket');
  if (i < 0 || !argv[i + 1]) {
    process.stderr.write('usage: orch shim --pool-socket PATH\n');
    process.exit(2);
  }
  process.title = 'orch-shim';
  process.on('uncaughtException', (err) => {
    try {
      appendFileSync(`${argv[i + 1]}.log`, `${new Date().toISOString()} uncaught: ${err.stack}\n`);
    } catch {
      // nothing more to do
    }
  });
  // libuv starts its thread pool on first use, and no thread can be created once the PID
  // namespace is unshared (clone(CLONE_THREAD) fails): start the pool now, then wait for work.
  // koffi and the libc bindings load now, not on a container's critical path
  libc.gettid();
  const j = argv.indexOf('--init');
  stat('/', () => {
    const shim = new Shim(argv[i + 1], j >= 0 ? argv[j + 1] : undefined);
    shim.prewarm();
    shim.listenWarm();
  });
}
