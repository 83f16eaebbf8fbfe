// Benchmark: the image service against the busybox fixture on a local docker-registry (127.0.0.1).
// - pull cold: empty store, manifest + config + 2 layers downloaded and verified (no unpack)
// - pull warm: same store again (manifest re-resolved, every blob skipped)
// - import: the OCI archive into an empty store
// - unpack: both layers into snapshots (diffID verified, whiteouts converted)
// Peer, same run, same registry: `skopeo copy docker://... dir:...` (download + verify to a dir).
// Each figure is the median of RUNS runs. Ends with one line:
//   images: pull_cold_ms=N skopeo_copy_ms=N import_ms=N unpack_ms=N
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImageService } from '../../runtime/images';
import { buildBusyboxImage } from '../fixtures/images/busybox';
import { pushImage, startRegistry } from '../fixtures/images/registry';

const run = promisify(execFile);
const RUNS = Number(process.env.IMAGES_BENCH_RUNS ?? 15);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function main(): Promise<void> {
  const fixture = await buildBusyboxImage();
  const registry = await startRegistry();
  const work = await fsp.mkdtemp(join(tmpdir(), 'orch-bench-images-'));
  try {
    const ref = await pushImage(registry, fixture, { tag: 'latest' });
    const registriesConfig = { mirrors: {}, configs: { [registry.host]: { tls: { insecure_skip_verify: true } } } };
    const bytes = fixture.layers.reduce((s, l) => s + l.size, 0);
    console.log(`image ${ref}: ${fixture.layers.length} layers, ${(bytes / 1e6).toFixed(2)} MB compressed; ${RUNS} runs each, medians`);

    const cold: number[] = [];
    const warm: number[] = [];
    const skopeo: number[] = [];
    const imports: number[] = [];
    const unpack: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Alternate orch and the peer so both see the same machine load.
      const root = join(work, `pull-${i}`);
      const svc = new ImageService({ root, registriesConfig });
      cold.push(await timed(() => svc.pull(ref, { unpack: false })));
      warm.push(await timed(() => svc.pull(ref, { unpack: false })));
      unpack.push(await timed(() => svc.prepareRootfs(ref)));
      await svc.close();

      const dest = join(work, `skopeo-${i}`);
      skopeo.push(await timed(() => run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `dir:${dest}`], { timeout: 60_000 })));

      const imp = new ImageService({ root: join(work, `import-${i}`), registriesConfig });
      imports.push(await timed(() => imp.importArchive(fixture.ociArchive)));
      await imp.close();
      await fsp.rm(root, { recursive: true, force: true });
      await fsp.rm(dest, { recursive: true, force: true });
      await fsp.rm(join(work, `import-${i}`), { recursive: true, force: true });
    }
    const r = (x: number) => Math.round(x);
    console.log(`orch pull (cold, no unpack)      ${median(cold).toFixed(1)} ms`);
    console.log(`orch pull (warm, all blobs kept) ${median(warm).toFixed(1)} ms`);
    console.log(`skopeo copy docker:// -> dir:    ${median(skopeo).toFixed(1)} ms   (peer)`);
    console.log(`orch import (OCI archive)        ${median(imports).toFixed(1)} ms`);
    console.log(`orch unpack (2 layers)           ${median(unpack).toFixed(1)} ms`);
    console.log(`images: pull_cold_ms=${r(median(cold))} skopeo_copy_ms=${r(median(skopeo))} import_ms=${r(median(imports))} unpack_ms=${r(median(unpack))} pull_warm_ms=${r(median(warm))}`);
  } finally {
    await registry.stop();
    await fsp.rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
