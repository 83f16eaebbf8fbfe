// The shim's side of the orch-init protocol (see runtime/linux/init/orch-init.c for the table):
// spawn orch-init, send its config, wait for "ready", then "start" and learn whether execve worked.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

/** One fd slot of a spawned init: a host fd to pass, a new pipe, or /dev/null. */
export type StdioSlot = 'pipe' | 'ignore' | number;
import type { Duplex } from 'node:stream';

const MAGIC = 0x74696e6f;
export const InitFlags = { noNewPrivs: 1, setCtty: 2, readonlyRoot: 4 } as const;

/** Linux capability numbers (include/uapi/linux/capability.h). */
export const CAPABILITIES: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5,
  CAP_SETGID: 6, CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_LINUX_IMMUTABLE: 9, CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17, CAP_SYS_CHROOT: 18, CAP_SYS_PTRACE: 19, CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23, CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27, CAP_LEASE: 28, CAP_AUDIT_WRITE: 29, CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31, CAP_MAC_OVERRIDE: 32, CAP_MAC_ADMIN: 33, CAP_SYSLOG: 34, CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37, CAP_PERFMON: 38, CAP_BPF: 39, CAP_CHECKPOINT_RESTORE: 40,
};

export function capabilityMask(names: string[]): bigint {
  let mask = 0n;
  for (const n of names) {
    const key = n.toUpperCase().startsWith('CAP_') ? n.toUpperCase() : `CAP_${n.toUpperCase()}`;
    if (key === 'CAP_ALL' || key === 'ALL') return (1n << 64n) - 1n;
    const bit = CAPABILITIES[key];
    if (bit === undefined) throw new Error(`unknown capability ${n}`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}

export interface InitConfig {
  flags: number;
  uid: number;
  gid: number;
  groups: number[];
  capMask: bigint;
  rootfs: string;
  cwd: string;
  masked: string[];
  readonly: string[];
  /** Namespace files orch-init joins itself (a pre-spawned init does not inherit the sandbox's). */
  joinNamespaces?: { mnt?: string; net?: string; ipc?: string; uts?: string };
  /** A terminal orch-init opens as its stdin/stdout/stderr. */
  ttyPath?: string;
  /** What to exec, for an init spawned before its container was known (else spawn's argv/env). */
  program?: { exe: string; args: string[]; env: string[] };
}

export function encodeConfig(c: InitConfig): Buffer {
  const ns = c.joinNamespaces ?? {};
  const prog = c.program;
  const strings = Buffer.from([
    c.rootfs, c.cwd, ...c.masked, ...c.readonly, ns.mnt ?? '', ns.net ?? '', ns.ipc ?? '', ns.uts ?? '', c.ttyPath ?? '',
    prog?.exe ?? '', ...(prog?.args ?? []), ...(prog?.env ?? []),
  ].map((s) => `${s}\0`).join(''));
  const head = Buffer.alloc(4 * 5 + 4 * 32 + 8 + 4 * 5);
  let o = 0;
  for (const v of [MAGIC, c.flags, c.uid, c.gid, Math.min(32, c.groups.length)]) o = head.writeUInt32LE(v >>> 0, o);
  for (let i = 0; i < 32; i++) o = head.writeUInt32LE((c.groups[i] ?? 0) >>> 0, o);
  o = head.writeBigUInt64LE(c.capMask & ((1n << 64n) - 1n), o);
  for (const v of [c.masked.length, c.readonly.length, strings.length, prog?.args.length ?? 0, prog?.env.length ?? 0]) o = head.writeUInt32LE(v, o);
  return Buffer.concat([head, strings]);
}

const STEPS: Record<number, string> = {
  1: 'arguments', 2: 'reading config', 3: 'reading config strings', 4: 'reading config (too many args)',
  5: 'opening a namespace file', 6: 'joining a namespace', 7: 'opening the terminal', 8: 'taking the terminal as stdio', 10: 'unshare mount namespace',
  11: 'making / private', 12: 'chdir to rootfs', 13: 'mounting /proc', 14: 'pivot_root', 15: 'unmounting old root',
  16: 'chdir /', 17: 'masking a path', 18: 'binding a read-only path', 19: 'remounting a path read-only',
  20: 'remounting / read-only', 30: 'joining the mount namespace', 40: 'chdir to the working directory',
  41: 'setting the controlling terminal', 42: 'dropping capabilities', 43: 'setgroups', 44: 'setgid', 45: 'setuid',
  46: 'setting no_new_privs', 47: 'fcntl',
};

const ERRNO_TEXT: Record<number, string> = {
  1: 'operation not permitted', 2: 'no such file or directory', 8: 'exec format error', 13: 'permission denied',
  20: 'not a directory', 21: 'is a directory', 22: 'invalid argument', 26: 'text file busy',
};

/** Container start failed: `reason` StartError, message in runc's words. */
export class InitError extends Error {
  readonly code = 'StartError';
}

interface Report {
  kind: number;
  err: number;
}

/** One orch-init child and its sync socket. */
export class InitProcess {
  private buf = Buffer.alloc(0);
  private ended = false;
  private waiter: (() => void) | undefined;
  readonly sync: Duplex;

  private constructor(readonly child: ChildProcess, private exe: string) {
    this.sync = child.stdio[3] as Duplex;
    this.sync.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    const end = () => {
      this.ended = true;
      this.waiter?.();
    };
    this.sync.on('end', end);
    this.sync.on('close', end);
    this.sync.on('error', end);
  }

  /**
   * Spawns orch-init. `stdio` gives fds 0-2 (and 4, the mount namespace, for exec); fd 3 is the sync socket.
   */
  static spawn(initPath: string, mode: 'init' | 'exec', exe: string, args: string[], env: string[], stdio: StdioSlot[], config: InitConfig): InitProcess {
    const envObj: Record<string, string> = {};
    for (const e of env) {
      const i = e.indexOf('=');
      if (i > 0) envObj[e.slice(0, i)] = e.slice(i + 1);
    }
    const fds = [stdio[0], stdio[1], stdio[2], 'pipe', ...stdio.slice(3)] as StdioOptions;
    const child = spawn(initPath, [mode, exe, ...args], { env: envObj, stdio: fds, detached: true, argv0: 'orch-init' });
    const p = new InitProcess(child, exe);
    p.sync.write(encodeConfig(config));
    return p;
  }

  /**
   * Spawns a container's init before the container is known (a warm shim does this): it waits
   * for configure() and then runs what the config says. stdio are pipes (or the config's tty).
   */
  static prespawn(initPath: string): InitProcess {
    const child = spawn(initPath, ['init', '-', '-'], { env: {}, stdio: ['pipe', 'pipe', 'pipe', 'pipe'], detached: true, argv0: 'orch-init' });
    return new InitProcess(child, '');
  }

  configure(config: InitConfig): void {
    if (config.program) this.exe = config.program.exe;
    this.sync.write(encodeConfig(config));
  }

  private async next(): Promise<Report | 'eof'> {
    for (;;) {
      if (this.buf.length >= 8) {
        const r = { kind: this.buf.readUInt32LE(0), err: this.buf.readUInt32LE(4) };
        this.buf = this.buf.subarray(8);
        return r;
      }
      if (this.ended) return 'eof';
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
  }

  private failure(r: Report | 'eof'): InitError {
    if (r === 'eof') return new InitError('container init exited before reporting');
    const step = r.err >>> 16;
    const errno = r.err & 0xffff;
    const text = ERRNO_TEXT[errno] ?? `errno ${errno}`;
    if (r.kind === 2) return new InitError(`exec: "${this.exe}": ${text}`);
    return new InitError(`container init failed ${STEPS[step] ?? `at step ${step}`}: ${text}`);
  }

  /** Waits until mounts are done and init waits for start. */
  async ready(): Promise<void> {
    const r = await this.next();
    if (r === 'eof' || r.kind !== 1) throw this.failure(r);
  }

  /** Lets init execve the workload; resolves once execve succeeded. */
  async start(): Promise<void> {
    this.sync.write(Buffer.from([1]));
    const r = await this.next();
    if (r !== 'eof') throw this.failure(r);
    this.sync.destroy();
  }

  /** Aborts before start: init exits. */
  abort(): void {
    this.sync.destroy();
  }
}
