// apiserver throughput and latency: HTTPS keep-alive clients (undici) creating, getting, listing
// and updating configmaps and pods with 1, 16 and 64 concurrent clients; p99 mutating latency at
// a steady 200 req/s; watch fan-out to 100 watchers; the server's idle and loaded RSS. The server
// runs as a child process (controllers included) whose PID is the server's own: `node --import tsx
// cmd/orch.ts server` from the sources, or `ORCH_BENCH_SERVER=dist` for dist/orch (one process,
// what users run). ORCH_BENCH_NODE_ARGS adds node flags in source mode (e.g. --cpu-prof).
// Peer figure: the Kubernetes SLO for mutating calls is p99 <= 1 s.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import YAML from 'yaml';
import { onProcessExit, processAlive, REPO_ROOT, rssMiB, spawnServerProcess } from '../integration/helpers/server-process';

const dir = mkdtempSync(join(tmpdir(), 'orch-bench-apiserver-'));
const kubeconfig = join(dir, 'kc.yaml');

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : 0;
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU time (user + system, all threads) a process has used, in ms. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch { return 0; }
}
const ownCpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

async function main(): Promise<void> {
  const dist = process.env.ORCH_BENCH_SERVER === 'dist';
  const nodeArgs = (process.env.ORCH_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = spawnServerProcess({
    args: ['--data-dir', join(dir, 'data'), '--https-listen-port', '0', '--bind-address', '127.0.0.1', '--write-kubeconfig', kubeconfig],
    bin: dist ? join(REPO_ROOT, 'dist', 'orch') : undefined,
    nodeArgs,
  });
  onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  const child = server.child;
  child.stderr!.on('data', (d: Buffer) => { process.stderr.write(d); });
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d; const m = /ready at (\S+)/.exec(out); if (m) res(m[1]!); });
    child.once('exit', (c) => rej(new Error(`server exited ${c}`)));
  });
  const serverPid = server.pid;
  console.log(`server: ${dist ? 'dist/orch' : `node ${nodeArgs.join(' ')} --import tsx cmd/orch.ts`} server, pid ${serverPid}; load average at start ${load()}`);
  const kc = YAML.parse(readFileSync(kubeconfig, 'utf8'));
  const b64 = (s: string): string => Buffer.from(s, 'base64').toString();
  const tls = { ca: b64(kc.clusters[0].cluster['certificate-authority-data']), cert: b64(kc.users[0].user['client-certificate-data']), key: b64(kc.users[0].user['client-key-data']) };
  const agent = new Agent({ connections: 128, pipelining: 1, keepAliveTimeout: 60_000, connect: tls });
  const call = async (method: string, path: string, body?: unknown): Promise<any> => {
    const r = await request(url + path, { method: method as 'GET', dispatcher: agent, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${method} ${path}: ${r.statusCode} ${text.slice(0, 200)}`);
    return JSON.parse(text);
  };
  await new Promise((r) => setTimeout(r, 2000));
  const idleRss = Math.round(rssMiB(serverPid));
  // V8 returns the young generation that start-up grew only after ~30 s without work (its memory
  // reducer): the settled idle figure is what a server that sits idle keeps.
  const settleMs = Number(process.env.ORCH_BENCH_IDLE_SETTLE_MS ?? 35_000);
  await new Promise((r) => setTimeout(r, settleMs));
  const settledRss = Math.round(rssMiB(serverPid));
  console.log(`server RSS idle: ${idleRss} MB 2 s after ready, ${settledRss} MB after ${Math.round((settleMs + 2000) / 1000)} s idle; load average ${load()}`);
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });

  const cm = (name: string): any => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { bench: 'yes' } }, data: { a: 'x'.repeat(200) } });
  const pod = (name: string): any => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'yes' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }] } });

  /** Runs `total` operations with `conc` workers; returns ops/s and latencies. */
  const run = async (conc: number, total: number, op: (i: number) => Promise<unknown>): Promise<{ rate: number; p50: number; p99: number }> => {
    let next = 0;
    const lat: number[] = [];
    const t0 = performance.now();
    await Promise.all(Array.from({ length: conc }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const s = performance.now();
        await op(i);
        lat.push(performance.now() - s);
      }
    }));
    const secs = (performance.now() - t0) / 1000;
    return { rate: Math.round(total / secs), p50: +pct(lat, 50).toFixed(2), p99: +pct(lat, 99).toFixed(2) };
  };

  const figures: Record<string, number> = {};
  let round = 0;
  for (const kind of ['configmaps', 'pods'] as const) {
    for (const conc of [1, 16, 64]) {
      round++;
      const n = conc === 1 ? 200 : kind === 'pods' ? 1000 : 2000;
      const mk = kind === 'configmaps' ? cm : pod;
      const base = `r${round}-`;
      // CPU per create, server (all its threads) and this client, from /proc: less swayed by host load than rates.
      const [s0, b0] = [cpuMs(serverPid), ownCpuMs()];
      const c = await run(conc, n, (i) => call('POST', `/api/v1/namespaces/bench/${kind}`, mk(`${base}${i}`)));
      const [serverUs, clientUs] = [Math.round(((cpuMs(serverPid) - s0) * 1000) / n), Math.round(((ownCpuMs() - b0) * 1000) / n)];
      // Pods set off work that outlasts the phase (the scheduler's status write and Event per
      // pod): the until-idle figure counts the server's CPU until it is idle again (max 10 s).
      let settledUs: number | undefined;
      if (kind === 'pods' && conc === 64) {
        const until = Date.now() + 10_000;
        for (let last = cpuMs(serverPid); Date.now() < until;) {
          await new Promise((r) => setTimeout(r, 250));
          const now = cpuMs(serverPid);
          if (now - last < 25) break;
          last = now;
        }
        settledUs = Math.round(((cpuMs(serverPid) - s0) * 1000) / n);
        figures.server_cpu_us_per_pod_create_until_idle_64 = settledUs;
      }
      const g = await run(conc, n, (i) => call('GET', `/api/v1/namespaces/bench/${kind}/${base}${i}`));
      // Read-modify-write with a retry on 409: the scheduler and controllers write pods too.
      const u = await run(conc, n, async (i) => {
        for (let attempt = 0; ; attempt++) {
          const o = await call('GET', `/api/v1/namespaces/bench/${kind}/${base}${i}`);
          o.metadata.labels.updated = 'yes';
          try { return await call('PUT', `/api/v1/namespaces/bench/${kind}/${base}${i}`, o); } catch (err) {
            if (attempt > 5 || !String((err as Error).message).includes(': 409 ')) throw err;
          }
        }
      });
      const l = await run(conc, conc === 1 ? 10 : 40, () => call('GET', `/api/v1/namespaces/bench/${kind}?limit=500`));
      console.log(`${kind} c=${conc}: create ${c.rate}/s (p50 ${c.p50} ms, p99 ${c.p99} ms; CPU per create: server ${serverUs} µs${settledUs !== undefined ? ` (${settledUs} µs until idle)` : ''}, client ${clientUs} µs); get ${g.rate}/s (p99 ${g.p99} ms); get+update ${u.rate}/s (p99 ${u.p99} ms); list(500) ${l.rate}/s (p99 ${l.p99} ms)`);
      if (kind === 'configmaps' && conc === 64) { figures.creates_per_s_64 = c.rate; figures.gets_per_s_64 = g.rate; figures.server_cpu_us_per_create_64 = serverUs; }
      if (kind === 'pods' && conc === 64) { figures.pod_creates_per_s_64 = c.rate; figures.server_cpu_us_per_pod_create_64 = serverUs; }
    }
  }
  const loadedRss = Math.round(rssMiB(serverPid));
  console.log(`load average after the throughput phases ${load()}`);

  // Steady 200 req/s of mutating calls (creates and updates of configmaps) for 10 s.
  const lat: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < 2000; i++) {
    const due = start + i * 5;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push((async () => {
      const s = performance.now();
      await call('POST', '/api/v1/namespaces/bench/configmaps', cm(`steady-${i}`));
      lat.push(performance.now() - s);
    })());
  }
  await Promise.all(pending);
  figures.p99_mutating_ms_at_200rps = +pct(lat, 99).toFixed(1);
  console.log(`steady 200 req/s creates: p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms (Kubernetes SLO: p99 <= 1000 ms)`);

  // Watch fan-out: 100 watchers on one namespace; delivery latency of 200 events to all of them.
  const list = await call('GET', '/api/v1/namespaces/bench/secrets');
  const sent = new Map<string, number>();
  const delivery: number[] = [];
  const watchAgent = new Agent({ connections: 200, connect: tls });
  const EVENTS = 200;
  let received = 0;
  const aborts: AbortController[] = [];
  await Promise.all(Array.from({ length: 100 }, async () => {
    const ac = new AbortController();
    aborts.push(ac);
    const r = await request(`${url}/api/v1/namespaces/bench/secrets?watch=1&resourceVersion=${list.metadata.resourceVersion}`, { dispatcher: watchAgent, signal: ac.signal });
    void (async () => {
      let buf = '';
      try {
        for await (const chunk of r.body) {
          buf += chunk.toString();
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const ev = JSON.parse(buf.slice(0, i));
            buf = buf.slice(i + 1);
            const t = sent.get(ev.object.metadata.name);
            if (t !== undefined) { delivery.push(performance.now() - t); received++; }
          }
        }
      } catch { /* aborted */ }
    })();
  }));
  for (let i = 0; i < EVENTS; i++) {
    const name = `w-${i}`;
    sent.set(name, performance.now());
    await call('POST', '/api/v1/namespaces/bench/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { k: 'v' } });
    await new Promise((r) => setTimeout(r, 5));
  }
  const deadline = Date.now() + 15_000;
  while (received < EVENTS * 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const a of aborts) a.abort();
  figures.watch100_p99_ms = +pct(delivery, 99).toFixed(1);
  console.log(`watch fan-out: ${received}/${EVENTS * 100} deliveries to 100 watchers, p50 ${pct(delivery, 50).toFixed(1)} ms, p99 ${pct(delivery, 99).toFixed(1)} ms`);
  const finalRss = Math.round(rssMiB(serverPid));
  console.log(`server RSS (pid ${serverPid}): idle ${idleRss} MB, after the throughput phases ${loadedRss} MB, at the end ${finalRss} MB (target idle < 100 MB)`);
  figures.idle_rss_mb = idleRss;
  figures.settled_idle_rss_mb = settledRss;
  figures.loaded_rss_mb = Math.max(loadedRss, finalRss);
  await agent.close();
  await watchAgent.destroy();
  await server.stop();
  // The server process (and its process group) must be gone: checked by PID and start time.
  if (processAlive(serverPid, server.startTime)) throw new Error(`server process ${serverPid} outlived stop()`);
  console.log(`server process ${serverPid} ended; load average at the end ${load()}`);
  console.log(`apiserver: creates_per_s_64=${figures.creates_per_s_64} gets_per_s_64=${figures.gets_per_s_64} p99_mutating_ms_at_200rps=${figures.p99_mutating_ms_at_200rps} watch100_p99_ms=${figures.watch100_p99_ms} idle_rss_mb=${figures.idle_rss_mb} settled_idle_rss_mb=${figures.settled_idle_rss_mb} loaded_rss_mb=${figures.loaded_rss_mb} server_cpu_us_per_create_64=${figures.server_cpu_us_per_create_64} pod_creates_per_s_64=${figures.pod_creates_per_s_64} server_cpu_us_per_pod_create_64=${figures.server_cpu_us_per_pod_create_64} server_cpu_us_per_pod_create_until_idle_64=${figures.server_cpu_us_per_pod_create_until_idle_64}`);
  process.exit(0);
}

main().catch((err) => { console.error(err); process.exit(1); });
