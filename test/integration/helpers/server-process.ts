// `orch server` as a child process whose PID is the server's own: `node --import tsx cmd/orch.ts`
// (one node process, not tsx's launcher in front of it) or an executable such as dist/orch. The
// child leads its own process group (PGID = its PID), so stopping it also ends anything it started
// (tsx's esbuild helper). A pipe on fd 3 ties its life to ours: when this process dies, even by
// SIGKILL, the kernel closes the pipe and the preload (parent-watch.mjs) stops the server.
// Used by the test cluster (cluster.ts) and the apiserver benchmark.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const PARENT_WATCH = join(__dirname, 'parent-watch.mjs');

/** Process-exit and fatal-signal cleanups of this process (run once, in registration order). */
const cleanups = new Set<() => void>();
let hooked = false;
function runCleanups(): void {
  for (const f of [...cleanups]) { cleanups.delete(f); try { f(); } catch { /* best effort at exit */ } }
}
/** Runs `fn` when this process exits or is stopped by SIGINT/SIGTERM/SIGHUP; returns an unregister function. */
export function onProcessExit(fn: () => void): () => void {
  cleanups.add(fn);
  if (!hooked) {
    hooked = true;
    process.once('exit', runCleanups);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const h = (): void => {
        runCleanups();
        process.off(sig, h);
        // Nobody else handles it: die of the same signal, as we would have without this hook.
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      };
      process.on(sig, h);
    }
  }
  return () => { cleanups.delete(fn); };
}

/** Kills a process group we started (its PGID is the leader's PID); ESRCH means it is gone. */
export function killGroup(pgid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try { process.kill(-pgid, signal); } catch { /* no such group: already gone */ }
}

/** The start time (clock ticks since boot) of a live, non-zombie process, or undefined. */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  // Fields after the command name (which may hold spaces and parentheses): state is the first.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return Number(fields[19]);
}

/** Whether the process we started as `pid` (at `startTime`) still runs: a reused PID does not count. */
export function processAlive(pid: number, startTime: number | undefined): boolean {
  const now = processStartTime(pid);
  return now !== undefined && (startTime === undefined || now === startTime);
}

/** Resident set size of a process in MiB (VmRSS), 0 if it is gone. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch { return 0; }
}

export interface ServerProcessOptions {
  /** `orch server` flags. */
  args: string[];
  /** An executable to run instead of the sources (e.g. dist/orch). */
  bin?: string;
  /** Extra node flags for the source mode (e.g. --cpu-prof). */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface ServerProcess {
  child: ChildProcess;
  /** The server's own PID (also its process group's ID). */
  pid: number;
  /** Its start time from /proc, to tell it from a later process given the same PID. */
  startTime: number | undefined;
  alive(): boolean;
  /** SIGTERM (graceful shutdown), SIGKILL of the group after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `orch server` with stdout/stderr piped; stdin is closed and fd 3 is the life-line pipe. */
export function spawnServerProcess(o: ServerProcessOptions): ServerProcess {
  const env = { ...process.env, ...o.env, ORCH_PARENT_WATCH_FD: '3' };
  const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'pipe', 'pipe', 'pipe'];
  const child = o.bin
    ? spawn(o.bin, ['server', ...o.args], { stdio, env, detached: true })
    // NODE_OPTIONS would also reach the children the server starts; flags on the command line do not.
    : spawn(process.execPath, [...(o.nodeArgs ?? []), '--import', 'tsx', '--import', PARENT_WATCH, join(REPO_ROOT, 'cmd', 'orch.ts'), 'server', ...o.args], { stdio, env, cwd: REPO_ROOT, detached: true });
  if (child.pid === undefined) throw new Error(`cannot start orch server (${o.bin ?? process.execPath})`);
  const pid = child.pid;
  const startTime = processStartTime(pid);
  // The life-line's parent end stays open (and unreferenced) until this process ends.
  const lifeLine = child.stdio[3] as NodeJS.ReadableStream & { unref?: () => void } | null;
  lifeLine?.unref?.();
  const unhook = onProcessExit(() => killGroup(pid, 'SIGKILL'));
  let exited = child.exitCode !== null || child.signalCode !== null;
  const exitedP = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  void exitedP.then(() => { killGroup(pid, 'SIGKILL'); unhook(); });
  return {
    child, pid, startTime,
    alive: () => !exited && processAlive(pid, startTime),
    async stop(graceMs = 10_000) {
      if (!exited) {
        try { child.kill('SIGTERM'); } catch { /* gone */ }
        const t = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
        await exitedP;
        clearTimeout(t);
      }
      // Whatever the server started (esbuild's helper) goes with it.
      killGroup(pid, 'SIGKILL');
      unhook();
    },
  };
}
