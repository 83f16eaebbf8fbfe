// A reusable test cluster: `orch server` on 127.0.0.1 with a random port and a temp data dir,
// in this process (fast, lets tests reach the registry) or as a child process (the real CLI),
// plus the real kubectl pointed at it through a temp kubeconfig and a temp HOME, so each test
// run has its own discovery and HTTP caches. Everything is removed on stop(), on afterAll and on exit.
// A child server is one process whose PID we know (server-process.ts): stop() and exit-time
// cleanup kill it (and its process group) by that PID.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, type RunningServer } from '../../../server/server';
import { onProcessExit, REPO_ROOT, spawnServerProcess, type ServerProcess } from './server-process';

export { REPO_ROOT };

/** The run id every temp dir of this process carries: `orch-test-<id>-...`. */
export const RUN_ID = randomBytes(4).toString('hex');

const onExit = onProcessExit;

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
  /** Child mode: the server process (its PID is the server's own; undefined in-process). */
  serverProcess?: ServerProcess;
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
  /** 'in-process' (default) or 'child' (`node --import tsx cmd/orch.ts server`, or `bin` if given). */
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

async function startChild(dataDir: string, kubeconfig: string, o: StartOptions, port = 0): Promise<{ proc: ServerProcess; url: string; port: number }> {
  const args = ['--data-dir', dataDir, '--https-listen-port', String(port), '--bind-address', '127.0.0.1', '--write-kubeconfig', kubeconfig, '--disable-agent'];
  const proc = spawnServerProcess({ args, bin: o.bin });
  const { child } = proc;
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); o.log?.(d.toString()); });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => { void proc.stop(0); reject(new Error(`orch server did not become ready in 30 s:\n${out}\n${err}`)); }, 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready at (https:\/\/127\.0\.0\.1:(\d+))/.exec(out);
      if (m) { clearTimeout(timer); resolvePromise({ proc, url: m[1]!, port: Number(m[2]) }); }
    });
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`orch server exited with ${code ?? signal} before ready:\n${out}\n${err}`)); });
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
  let proc: ServerProcess | undefined;
  let url = '';
  let port = 0;

  const up = async (wantPort: number): Promise<void> => {
    if (mode === 'in-process') {
      server = await startServer({ dataDir, httpsListenPort: wantPort, bindAddress: '127.0.0.1', writeKubeconfig: kubeconfig, bookmarkIntervalMs: o.bookmarkIntervalMs, log });
      url = server.url;
      port = server.port;
    } else {
      const c = await startChild(dataDir, kubeconfig, { ...o, log }, wantPort);
      proc = c.proc;
      url = c.url;
      port = c.port;
    }
  };
  const down = async (): Promise<void> => {
    if (server) { await server.close(); server = undefined; }
    if (proc) { await proc.stop(); proc = undefined; }
  };
  await up(0);

  const env = { KUBECONFIG: kubeconfig, HOME: home };
  const kubectl = (args: string[], ko: KubectlOptions = {}): Promise<RunResult> =>
    runCommand('kubectl', args, { env: { ...env, ...ko.env }, input: ko.input, timeoutMs: ko.timeoutMs ?? 30_000, cwd: ko.cwd });

  const cluster: TestCluster = {
    get url() { return url; },
    get port() { return port; },
    get server() { return server; },
    get serverProcess() { return proc; },
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
