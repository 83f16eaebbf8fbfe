// Memory the garbage collector's caches cost with many objects of a kind no other controller
// informs on: 10,000 ConfigMaps (~1 KiB of data each) in a real server (SQLite store, in-process
// client). Each case runs in its own child process on the same data dir, measuring heap and RSS
// after forced GCs, before and after its informers synced:
//  - peer "full": one full ConfigMap informer, which is what the old fixed-list collector kept;
//  - "gc": the GarbageCollector as it runs now (every deletable resource, metadata-only monitors).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../server/server';
import { InProcessClient } from '../../server/controllers/inprocess-client';
import { R, SharedInformerFactory } from '../../server/controllers/client';
import { ControllerManager } from '../../server/controllers/manager';
import type { GarbageCollector } from '../../server/controllers/garbagecollector/garbagecollector';

const N = Number(process.env.BENCH_CONFIGMAPS ?? 10_000);
const MiB = 1024 * 1024;

function measure(): { heap: number; rss: number } {
  const g = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 4; i++) g?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function warm(client: InProcessClient): Promise<number> {
  return (await client.list(R.configmaps, undefined)).items.length;
}

async function child(mode: string, dir: string): Promise<void> {
  const server = await startServer({ dataDir: dir, httpsListenPort: 0, bindAddress: '127.0.0.1', writeKubeconfig: '', disableControllers: true, log: () => {} });
  try {
    const local = server.api.client;
    if (mode === 'seed') {
      const data = { payload: 'x'.repeat(1024) };
      for (let i = 0; i < N; i += 100) {
        await Promise.all(Array.from({ length: Math.min(100, N - i) }, (_, j) => local.create(R.configmaps, 'default', {
          apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i + j}`, namespace: 'default', labels: { app: 'bench' } }, data,
        })));
      }
      return;
    }
    const client = new InProcessClient(local);
    // Warm the apiserver's own caches first, so the baseline holds them; the list itself must not
    // stay reachable (a suspended async frame keeps its last awaited value), hence the helper.
    await warm(client);
    await new Promise((r) => setImmediate(r));
    const before = measure();
    let count = 0;
    let keep: unknown;
    const t0 = Date.now();
    if (mode === 'full') {
      const f = new SharedInformerFactory(client);
      const inf = f.informerFor(R.configmaps);
      f.start();
      await f.waitForCacheSync(120_000);
      count = inf.store.size;
      keep = f;
    } else {
      const mgr = new ControllerManager({ client, controllers: ['garbagecollector'], logger: () => {} });
      await mgr.start();
      const gc = mgr.controllers[0] as GarbageCollector;
      await until(() => gc.monitoredResources().length > 0 && gc.monitoredResources().every((id) => gc.monitor(id)!.synced), 120_000, 'monitors synced');
      count = gc.monitor('configmaps')!.store.size;
      keep = [mgr, gc.monitoredResources().length];
    }
    const syncMs = Date.now() - t0;
    const after = measure();
    const monitors = Array.isArray(keep) ? keep[1] : 1;
    console.log(`RESULT ${JSON.stringify({ mode, count, monitors, syncMs, heapMiB: (after.heap - before.heap) / MiB, rssMiB: (after.rss - before.rss) / MiB, baseRssMiB: before.rss / MiB })}`);
  } finally {
    await server.close();
  }
}

function runChild(mode: string, dir: string): any {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, mode, dir], { encoding: 'utf8', maxBuffer: 16 * MiB, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`child ${mode} failed (${r.status}): ${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  return line ? JSON.parse(line.slice(7)) : undefined;
}

async function main(): Promise<void> {
  if (process.argv[2]) { await child(process.argv[2], process.argv[3]); return; }
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-gc-'));
  try {
    const t0 = Date.now();
    runChild('seed', dir);
    console.log(`seeded ${N} ConfigMaps (1 KiB data each) in ${Date.now() - t0} ms`);
    const full = runChild('full', dir);
    const gc = runChild('gc', dir);
    const f1 = (x: number) => x.toFixed(1);
    console.log(`peer: full ConfigMap informer (the old collector's configmaps monitor): ${full.count} cached, +${f1(full.heapMiB)} MiB heap, +${f1(full.rssMiB)} MiB RSS, synced in ${full.syncMs} ms  [peer]`);
    console.log(`garbage collector (${gc.monitors} monitors, metadata-only where unshared): ${gc.count} ConfigMaps cached, +${f1(gc.heapMiB)} MiB heap, +${f1(gc.rssMiB)} MiB RSS, synced in ${gc.syncMs} ms`);
    console.log(`garbagecollector: configmaps=${N} gc_heap_mib=${f1(gc.heapMiB)} gc_rss_mib=${f1(gc.rssMiB)} full_informer_heap_mib=${f1(full.heapMiB)} full_informer_rss_mib=${f1(full.rssMiB)} monitors=${gc.monitors}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
