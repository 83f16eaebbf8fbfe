// A reusable test cluster: `orch server` on 127.0.0.1 with a random port and a temp data dir,
// in this process (fast, lets tests reach the registry) or as a child process (the real CLI),
// plus the real kubectl pointed at it through a temp kubeconfig and a temp HOME, so each test
// run has its own discovery and HTTP caches. Everything is removed on stop(), on afterAll and on exit.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, type RunningServer } from '../../../server/server';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** The run id every temp dir of this process carries: `orch-test-<id>-...`. */
export const RUN_ID = randomBytes(4).toString('hex');

const cleanups = new Set<() => void>();
let exitHooked = false;
function onExit(fn: () => void): () => void {
  cleanups.add(fn);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => { for (const f of cleanups) { try { f(); } catch { /* best effort at exit */ } } });
  }
  return () => cleanups.delete(fn);
}

export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `orch-test-${RUN_ID}-${label}-`));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface RunResult { code: number; stdout: string; stderr: string }

export interface KubectlOptions {
  /** stdin for the command (e.g. `-f -`). */
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
}

export interface TestCluster {
  url: string;
  port: number;
  dataDir: string;
  /** The admin kubeconfig kubectl uses. */
  kubeconfig: string;
  /** kubectl's HOME (its ~/.kube/cache lives here). */
  home: string;
  /** The in-process server (undefined in child mode). */
  server?: RunningServer;
  /** Runs the real kubectl against the cluster; never rejects on a non-zero exit. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<RunResult>;
  /** kubectl that must succeed: returns stdout, throws with stderr otherwise. */
  kubectlOk(args: string[], opts?: KubectlOptions): Promise<string>;
  /** Environment for other clients (python, node): KUBECONFIG and HOME. */
  env: Record<string, string>;
  /** Stops and starts the server again on the same data dir (same port when possible). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** 'in-process' (default) or 'child' (`tsx cmd/orch.ts server`, or `bin` if given). */
  mode?: 'in-process' | 'child';
  /** Reuse a data dir (restart tests); a temp one otherwise. */
  dataDir?: string;
  /** An executable to run in child mode instead of tsx (e.g. dist/orch). */
  bin?: string;
  bookmarkIntervalMs?: number;
  /** Where the server's log lines go (default: collected, printed on failure by the caller). */
  log?: (line: string) => void;
}

export function runCommand(cmd: string, args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, cwd: opts.cwd }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 124) : 0;
      resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

async function startChild(dataDir: string, kubeconfig: string, o: StartOptions, port = 0): Promise<{ child: ChildProcess; url: string; port: number }> {
  const args = ['server', '--data-dir', dataDir, '--https-listen-port', String(port), '--bind-address', '127.0.0.1', '--write-kubeconfig', kubeconfig, '--disable-agent'];
  const child = o.bin
    ? spawn(o.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [join(REPO_ROOT, 'cmd', 'orch.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  const remove = onExit(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
  child.once('exit', remove);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); o.log?.(d.toString()); });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`orch server did not become ready in 30 s:\n${out}\n${err}`)); }, 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready at (https:\/\/127\.0\.0\.1:(\d+))/.exec(out);
      if (m) { clearTimeout(timer); resolvePromise({ child, url: m[1]!, port: Number(m[2]) }); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`orch server exited with ${code} before ready:\n${out}\n${err}`)); });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((r) => {
    const t = setTimeout(() => { child.kill('SIGKILL'); }, 10_000);
    child.once('exit', () => { clearTimeout(t); r(); });
    child.kill('SIGTERM');
  });
}

/** Starts a server and returns a handle; call stop() in afterAll. */
export async function startTestCluster(o: StartOptions = {}): Promise<TestCluster> {
  const base = tempDir('cluster');
  const dataDir = o.dataDir ?? join(base, 'data');
  const home = join(base, 'home');
  mkdirSync(home, { recursive: true });
  const kubeconfig = join(base, 'kubeconfig.yaml');
  const mode = o.mode ?? 'in-process';
  const logs: string[] = [];
  const log = o.log ?? ((l: string) => { logs.push(l); });

  let server: RunningServer | undefined;
  let child: ChildProcess | undefined;
  let url = '';
  let port = 0;

  const up = async (wantPort: number): Promise<void> => {
    if (mode === 'in-process') {
      server = await startServer({ dataDir, httpsListenPort: wantPort, bindAddress: '127.0.0.1', writeKubeconfig: kubeconfig, bookmarkIntervalMs: o.bookmarkIntervalMs, log });
      url = server.url;
      port = server.port;
    } else {
      const c = await startChild(dataDir, kubeconfig, { ...o, log }, wantPort);
      child = c.child;
      url = c.url;
      port = c.port;
    }
  };
  const down = async (): Promise<void> => {
    if (server) { await server.close(); server = undefined; }
    if (child) { await stopChild(child); child = undefined; }
  };
  await up(0);
  const unhook = onExit(() => { if (child) child.kill('SIGKILL'); });

  const env = { KUBECONFIG: kubeconfig, HOME: home };
  const kubectl = (args: string[], ko: KubectlOptions = {}): Promise<RunResult> =>
    runCommand('kubectl', args, { env: { ...env, ...ko.env }, input: ko.input, timeoutMs: ko.timeoutMs ?? 30_000, cwd: ko.cwd });

  const cluster: TestCluster = {
    get url() { return url; },
    get port() { return port; },
    get server() { return server; },
    dataDir, kubeconfig, home, env,
    kubectl,
    async kubectlOk(args, ko) {
      const r = await kubectl(args, ko);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
      return r.stdout;
    },
    async restart() {
      const keep = port;
      await down();
      try { await up(keep); } catch { await up(0); }
      // The port may have changed: kubectl's discovery cache is keyed by host:port, which is fine.
    },
    async stop() {
      await down();
      unhook();
      rmSync(base, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** Writes files into a temp dir and returns their paths (manifests for `kubectl apply -f`). */
export function writeFiles(files: Record<string, string>): { dir: string; path: (name: string) => string } {
  const dir = tempDir('files');
  for (const [name, content] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, content);
  }
  return { dir, path: (name) => join(dir, name) };
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
