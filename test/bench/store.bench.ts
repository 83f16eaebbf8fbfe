// `npm run bench -- store`: the embedded store against etcd (Debian's /usr/bin/etcd, started and
// stopped here on 127.0.0.1) in the same run, with the same workload: durable write latency and
// throughput (1 KiB values), watch delivery latency to 1 and 100 watchers, list of 10,000 keys at
// a revision, and the longest write stall compaction causes. Ends with one `store:` summary line.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { openSqliteStore, type LogStore } from '../../embedded-store';

const VALUE = Buffer.alloc(1024, 0x61);
const THROUGHPUT_MS = Number(process.env.STORE_BENCH_MS ?? 3000);
const root = mkdtempSync(join(tmpdir(), 'orch-bench-store-'));
let etcdProc: ChildProcess | undefined;

function cleanup(): void {
  if (etcdProc?.pid && etcdProc.exitCode === null) {
    try {
      process.kill(etcdProc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(root, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
};
const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** The operations both systems run, so the workload is literally the same code. */
interface Target {
  name: string;
  /** Prepares `n` keys that `write(i)` then overwrites durably. */
  setup(prefix: string, n: number): Promise<void>;
  write(prefix: string, i: number): Promise<void>;
  create(key: string): Promise<void>;
  /** Resolves when every watcher has seen `count` events under the prefix; returns per-event delivery times. */
  watchers(prefix: string, n: number): Promise<{ arrived: (key: string) => number[]; close(): void; ready: Promise<void> }>;
  list(prefix: string): Promise<number>;
}

// ---- the embedded store ------------------------------------------------------------------------

function storeTarget(s: LogStore): Target {
  const revs = new Map<string, number>();
  return {
    name: 'orch',
    async setup(prefix, n) {
      await Promise.all(Array.from({ length: n }, async (_, i) => revs.set(`${prefix}${i}`, (await s.create(`${prefix}${i}`, VALUE)).modRevision)));
    },
    async write(prefix, i) {
      const key = `${prefix}${i}`;
      revs.set(key, (await s.update(key, VALUE, revs.get(key) as number)).modRevision);
    },
    async create(key) {
      await s.create(key, VALUE);
    },
    async watchers(prefix, n) {
      const arrivals = new Map<string, number[]>();
      const watches = Array.from({ length: n }, () => s.watch(prefix, 0));
      for (const w of watches) {
        void (async () => {
          for await (const batch of w.events) {
            const now = performance.now();
            for (const ev of batch) {
              const a = arrivals.get(ev.kv.key) ?? [];
              a.push(now);
              arrivals.set(ev.kv.key, a);
            }
          }
        })();
      }
      return { arrived: (k) => arrivals.get(k) ?? [], close: () => watches.forEach((w) => w.close()), ready: Promise.resolve() };
    },
    async list(prefix) {
      const rev = s.currentRevision();
      const r = await s.list(prefix, { revision: rev });
      return r.items.length;
    },
  };
}

// ---- etcd over its v3 HTTP/JSON gateway -------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function startEtcd(): Promise<string> {
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  etcdProc = spawn(
    '/usr/bin/etcd',
    [
      '--name', 'bench', '--data-dir', join(root, 'etcd'),
      '--listen-client-urls', url, '--advertise-client-urls', url,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `bench=${peerUrl}`, '--log-level', 'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  etcdProc.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const deadline = Date.now() + 20_000;
  const pool = new Pool(url, { connections: 1 });
  try {
    for (;;) {
      try {
        const r = await pool.request({ path: '/health', method: 'GET' });
        const body = await r.body.text();
        if (r.statusCode === 200 && body.includes('true')) return url;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || etcdProc.exitCode !== null) throw new Error(`etcd did not become healthy: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await pool.close();
  }
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
function rangeEnd(prefix: string): string {
  const buf = Buffer.from(prefix);
  buf[buf.length - 1]++;
  return buf.toString('base64');
}

function etcdTarget(url: string): Target & { close(): Promise<void> } {
  const pool = new Pool(url, { connections: 128, pipelining: 1 });
  const value64 = b64(VALUE);
  const post = async (path: string, body: unknown): Promise<any> => {
    const r = await pool.request({ path, method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`etcd ${path}: ${r.statusCode} ${text}`);
    return JSON.parse(text);
  };
  const put = (key: string): Promise<any> => post('/v3/kv/put', { key: b64(key), value: value64 });
  const streams: { destroy(): void }[] = [];
  return {
    name: 'etcd',
    async setup(prefix, n) {
      await Promise.all(Array.from({ length: n }, (_, i) => put(`${prefix}${i}`)));
    },
    async write(prefix, i) {
      await put(`${prefix}${i}`);
    },
    async create(key) {
      await put(key);
    },
    async watchers(prefix, n) {
      const arrivals = new Map<string, number[]>();
      // Watch streams hold their connection: give them their own pool.
      const wpool = new Pool(url, { connections: n + 1 });
      let created = 0;
      let markReady!: () => void;
      const ready = new Promise<void>((r) => (markReady = r));
      for (let i = 0; i < n; i++) {
        const r = await wpool.request({
          path: '/v3/watch',
          method: 'POST',
          body: JSON.stringify({ create_request: { key: b64(prefix), range_end: rangeEnd(prefix) } }),
          headers: { 'content-type': 'application/json' },
        });
        streams.push(r.body);
        let buf = '';
        r.body.setEncoding('utf8');
        r.body.on('data', (chunk: string) => {
          const now = performance.now();
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            const msg = JSON.parse(line) as { result?: { created?: boolean; events?: { kv: { key: string } }[] } };
            if (msg.result?.created && ++created === n) markReady();
            for (const ev of msg.result?.events ?? []) {
              const key = Buffer.from(ev.kv.key, 'base64').toString();
              const a = arrivals.get(key) ?? [];
              a.push(now);
              arrivals.set(key, a);
            }
          }
        });
        r.body.on('error', () => undefined);
      }
      return {
        arrived: (k) => arrivals.get(k) ?? [],
        close: () => {
          for (const s of streams.splice(0)) s.destroy();
          void wpool.destroy();
        },
        ready,
      };
    },
    async list(prefix) {
      const r = await post('/v3/kv/range', { key: b64(prefix), range_end: rangeEnd(prefix) });
      return Number(r.count ?? 0);
    },
    close: () => pool.close(),
  };
}

// ---- the workload ------------------------------------------------------------------------------

interface Figures {
  seqP50: number;
  seqP99: number;
  tput: Record<number, number>;
  watch1P50: number;
  watch1P99: number;
  watch100P50: number;
  watch100P99: number;
  listMs: number;
  listMaxMs: number;
}

async function sequential(t: Target): Promise<{ p50: number; p99: number }> {
  await t.setup('/bench/seq/', 1);
  const lat: number[] = [];
  for (let i = 0; i < 1500; i++) {
    const t0 = performance.now();
    await t.write('/bench/seq/', 0);
    lat.push(performance.now() - t0);
  }
  return { p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

async function throughput(t: Target, writers: number): Promise<number> {
  const prefix = `/bench/tput${writers}/`;
  await t.setup(prefix, writers);
  let count = 0;
  const end = Date.now() + THROUGHPUT_MS;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      while (Date.now() < end) {
        await t.write(prefix, w);
        count++;
      }
    }),
  );
  return count / ((performance.now() - t0) / 1000);
}

async function watchLatency(t: Target, watchers: number): Promise<{ p50: number; p99: number }> {
  const prefix = `/bench/watch${watchers}/`;
  const w = await t.watchers(prefix, watchers);
  await w.ready;
  const sent = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const key = `${prefix}${i}`;
    sent.set(key, performance.now());
    await t.create(key);
  }
  const deadline = Date.now() + 10_000;
  while ([...sent.keys()].some((k) => w.arrived(k).length < watchers) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const lat: number[] = [];
  let missing = 0;
  for (const [k, at] of sent) {
    const a = w.arrived(k);
    missing += watchers - a.length;
    for (const x of a) lat.push(x - at);
  }
  w.close();
  if (missing > 0) console.log(`  ${t.name}: ${missing} watch deliveries missing after 10 s`);
  return { p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

async function listTiming(t: Target): Promise<{ median: number; max: number }> {
  const prefix = '/bench/list/';
  for (let i = 0; i < 10_000; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => t.create(`${prefix}${String(i + j).padStart(5, '0')}`)));
  }
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const n = await t.list(prefix);
    times.push(performance.now() - t0);
    if (n !== 10_000) throw new Error(`${t.name} listed ${n} keys, expected 10000`);
  }
  return { median: pct(times, 0.5), max: Math.max(...times) };
}

/** Runs every measurement on both targets back to back, so both see the same host load. */
async function runBoth(targets: Target[]): Promise<Figures[]> {
  const out: Figures[] = targets.map(() => ({ tput: {} }) as Figures);
  const each = async (label: string, fn: (t: Target, fig: Figures) => Promise<string>): Promise<void> => {
    console.log(`-- ${label}`);
    for (let i = 0; i < targets.length; i++) console.log(`  ${targets[i].name.padEnd(10)} ${await fn(targets[i], out[i])}`);
  };
  await each('sequential durable write (1 KiB)', async (t, fig) => {
    const r = await sequential(t);
    fig.seqP50 = r.p50;
    fig.seqP99 = r.p99;
    return `p50 ${f(r.p50, 3)} ms, p99 ${f(r.p99, 3)} ms`;
  });
  for (const c of [1, 16, 64]) {
    await each(`${c} concurrent writers, ${THROUGHPUT_MS} ms`, async (t, fig) => {
      fig.tput[c] = await throughput(t, c);
      return `${fig.tput[c].toFixed(0)} durable writes/s`;
    });
  }
  for (const n of [1, 100]) {
    await each(`watch delivery to ${n} watcher(s), from issuing the write`, async (t, fig) => {
      const r = await watchLatency(t, n);
      if (n === 1) [fig.watch1P50, fig.watch1P99] = [r.p50, r.p99];
      else [fig.watch100P50, fig.watch100P99] = [r.p50, r.p99];
      return `p50 ${f(r.p50, 3)} ms, p99 ${f(r.p99, 3)} ms`;
    });
  }
  await each('list 10,000 keys (1 KiB values) at a revision, 7 runs', async (t, fig) => {
    const r = await listTiming(t);
    fig.listMs = r.median;
    fig.listMaxMs = r.max;
    return `median ${f(r.median)} ms, max ${f(r.max)} ms`;
  });
  return out;
}

/** Compacts a 200,000-row backlog while 16 writers keep writing; the store's own step timer and the writers' latencies. */
async function compactionStall(): Promise<{ maxStepMs: number; maxSweepMs: number; maxReclaimMs: number; writeP99: number; writeMax: number; baselineMax: number; rows: number; ms: number }> {
  const s = await openSqliteStore({ path: join(root, 'compact', 'state.db'), compactIntervalMs: 0, compactionWindowSeconds: 0 });
  try {
    const small = Buffer.alloc(256, 1);
    const revs = await Promise.all(Array.from({ length: 100 }, (_, k) => s.create(`/c/${k}`, small).then((kv) => kv.modRevision)));
    await Promise.all(revs.map(async (rev, k) => {
      for (let i = 0; i < 2000; i++) rev = (await s.update(`/c/${k}`, small, rev)).modRevision;
    }));
    const target = s.currentRevision();
    const measure = async (during: () => Promise<void>): Promise<number[]> => {
      let on = true;
      const lat: number[] = [];
      const writers = Promise.all(Array.from({ length: 16 }, async (_, w) => {
        const key = `/live/${w}-${Math.random()}`;
        let rev = (await s.create(key, VALUE)).modRevision;
        while (on) {
          const t0 = performance.now();
          rev = (await s.update(key, VALUE, rev)).modRevision;
          lat.push(performance.now() - t0);
        }
      }));
      await during();
      on = false;
      await writers;
      return lat;
    };
    const baseline = await measure(() => new Promise((r) => setTimeout(r, 2000)));
    const t0 = performance.now();
    const lat = await measure(() => s.compact(target));
    const ms = performance.now() - t0;
    const st = s.stats();
    return {
      maxStepMs: st.maxCompactionStepMs,
      maxSweepMs: st.maxSweepStepMs,
      maxReclaimMs: st.maxReclaimStepMs,
      writeP99: pct(lat, 0.99),
      writeMax: Math.max(...lat),
      baselineMax: Math.max(...baseline),
      rows: st.rowsCompacted,
      ms,
    };
  } finally {
    await s.close();
  }
}

async function main(): Promise<void> {
  console.log(`store benchmark: 1 KiB values, synchronous=FULL (store) / default fsync (etcd); host load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const store = await openSqliteStore({ path: join(root, 'store', 'state.db'), compactIntervalMs: 0 });
  const url = await startEtcd();
  const etcd = etcdTarget(url);
  const [mine, theirs] = await runBoth([storeTarget(store), etcd]);
  await store.close();
  await etcd.close();
  if (etcdProc?.pid) process.kill(etcdProc.pid, 'SIGTERM');

  console.log('-- compaction under write load (orch store)');
  const c = await compactionStall();
  console.log(
    `  compacted ${c.rows} rows in ${c.ms.toFixed(0)} ms; longest compaction step ${f(c.maxStepMs)} ms (sweep ${f(c.maxSweepMs)}, reclaim ${f(c.maxReclaimMs)}); ` +
      `16 writers meanwhile: p99 ${f(c.writeP99)} ms, max ${f(c.writeMax)} ms (max ${f(c.baselineMax)} ms without compaction)`,
  );

  console.log('');
  console.log('                               orch store      etcd');
  const row = (label: string, a: string, b: string): void => console.log(`  ${label.padEnd(28)} ${a.padStart(10)} ${b.padStart(10)}`);
  row('write p50 ms (sequential)', f(mine.seqP50, 3), f(theirs.seqP50, 3));
  row('write p99 ms (sequential)', f(mine.seqP99, 3), f(theirs.seqP99, 3));
  for (const n of [1, 16, 64]) row(`writes/s, ${n} writers`, mine.tput[n].toFixed(0), theirs.tput[n].toFixed(0));
  row('watch p99 ms, 1 watcher', f(mine.watch1P99, 3), f(theirs.watch1P99, 3));
  row('watch p99 ms, 100 watchers', f(mine.watch100P99, 3), f(theirs.watch100P99, 3));
  row('list 10k keys ms (median)', f(mine.listMs), f(theirs.listMs));
  console.log(`  ratio at 64 writers: ${(mine.tput[64] / theirs.tput[64]).toFixed(2)}x etcd`);
  console.log(
    `store: writes_per_s_1=${mine.tput[1].toFixed(0)} writes_per_s_16=${mine.tput[16].toFixed(0)} writes_per_s_64=${mine.tput[64].toFixed(0)} ` +
      `etcd_writes_per_s_64=${theirs.tput[64].toFixed(0)} write_p99_ms=${f(mine.seqP99, 3)} watch_p99_ms=${f(mine.watch1P99, 3)} ` +
      `watch100_p99_ms=${f(mine.watch100P99, 3)} etcd_watch100_p99_ms=${f(theirs.watch100P99, 3)} list_10k_ms=${f(mine.listMs)} ` +
      `compaction_max_stall_ms=${f(c.maxStepMs)}`,
  );
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
