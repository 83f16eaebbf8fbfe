// `orch images ls|pull|import|rm|inspect`: the node's image store (like `k3s crictl images`/`ctr
// images`). Works on <data-dir>/agent/images directly, with the registries.yaml the agent uses.
// Errors (ImageError classes) reach orch's main, which prints them to stderr and exits 1.
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ImageService, PullProgress } from '../../runtime/images';
import { DEFAULT_DATA_DIR, DEFAULT_REGISTRIES_CONFIG } from '../../runtime/paths';

interface CommonOpts { dataDir: string; registriesConfig: string }

/** The images root under a data dir, as the agent uses it. */
export function imagesRoot(dataDir: string): string {
  return join(dataDir, 'agent', 'images');
}

async function withService<T>(opts: CommonOpts, fn: (svc: ImageService) => Promise<T>): Promise<T> {
  const { ImageService } = await import('../../runtime/images');
  const svc = new ImageService({ root: imagesRoot(opts.dataDir), registriesConfigPath: opts.registriesConfig });
  try {
    return await fn(svc);
  } finally {
    await svc.close();
  }
}

function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)}${units[i]}`;
}

function short(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] + 3))).join('')).join('\n');
}

/** Progress per blob: redrawn lines on a terminal, one line per finished blob otherwise. */
function progressPrinter(out: NodeJS.WriteStream): { onProgress: (p: PullProgress) => void; finish: () => void } {
  const tty = out.isTTY === true;
  const lines = new Map<string, string>();
  let drawn = 0;
  let last = 0;
  const redraw = (force = false) => {
    if (!tty) return;
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    if (drawn > 0) out.write(`\x1b[${drawn}A`);
    for (const l of lines.values()) out.write(`\x1b[2K${l}\n`);
    drawn = lines.size;
  };
  return {
    onProgress(p) {
      if (p.kind === 'resolved') out.write(`resolved ${p.reference} -> ${p.digest} (${p.endpoint})\n`);
      else if (p.kind === 'manifest') out.write(`manifest ${p.digest} ${p.platform}: ${p.layers} layers, ${humanSize(p.totalBytes)}\n`);
      else if (p.kind === 'blob') {
        const label = `${p.role} ${short(p.digest)}`;
        const status = p.status === 'downloading'
          ? `downloading ${humanSize(p.done)}/${humanSize(p.total)}${p.resumedFrom ? ` (resumed at ${humanSize(p.resumedFrom)})` : ''}`
          : p.status === 'exists' ? 'already present' : p.status;
        lines.set(p.digest, `${label}: ${status}`);
        if (tty) redraw(p.status !== 'downloading');
        else if (p.status === 'done' || p.status === 'exists') out.write(`${label}: ${status}\n`);
      } else if (p.kind === 'unpacked') {
        if (!tty) out.write(`unpacked ${short(p.chainID)}\n`);
      }
    },
    finish() { redraw(true); },
  };
}

export function registerImages(program: Command): void {
  const images = program.command('images').description("manage the node's container images (pull, import, list, inspect, remove)");
  const common = (cmd: Command) => cmd
    .option('--data-dir <dir>', 'orch data directory', DEFAULT_DATA_DIR)
    .option('--registries-config <file>', 'registries.yaml (mirrors, credentials, TLS)', DEFAULT_REGISTRIES_CONFIG);

  common(images.command('ls').alias('list').description('list images'))
    .option('-q, --quiet', 'print image IDs only')
    .action(async (opts: CommonOpts & { quiet?: boolean }) => withService(opts, async (svc) => {
      const records = await svc.list();
      const { familiarName } = await import('../../runtime/images');
      if (opts.quiet) {
        for (const id of new Set(records.map((r) => r.configDigest))) process.stdout.write(`${id}\n`);
        return;
      }
      const rows = [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE', 'PLATFORM']];
      for (const r of records) {
        const name = familiarName(r.name);
        const at = name.indexOf('@');
        const colon = name.lastIndexOf(':');
        const [repo, tag] = at >= 0 ? [name.slice(0, at), '<none>'] : colon > name.lastIndexOf('/') ? [name.slice(0, colon), name.slice(colon + 1)] : [name, '<none>'];
        rows.push([repo, tag, short(r.configDigest), humanSize(r.size), r.platform]);
      }
      process.stdout.write(`${table(rows)}\n`);
    }));

  common(images.command('pull <image>').description('pull an image from its registry (short names mean docker.io/library/NAME:latest)'))
    .action(async (image: string, opts: CommonOpts) => withService(opts, async (svc) => {
      const printer = progressPrinter(process.stderr);
      try {
        const res = await svc.pull(image, { onProgress: printer.onProgress });
        printer.finish();
        process.stdout.write(`${res.image.name} ${res.image.manifestDigest}\n`);
      } catch (err) {
        printer.finish();
        throw err;
      }
    }));

  common(images.command('import <files...>').description('import docker-archive (`docker save`) or OCI archive files'))
    .action(async (files: string[], opts: CommonOpts) => withService(opts, async (svc) => {
      for (const f of files) {
        for (const r of await svc.importArchive(f)) process.stdout.write(`${r.name} ${r.manifestDigest}\n`);
      }
    }));

  common(images.command('rm <images...>').alias('rmi').description('remove images by name or ID, then delete content nothing references'))
    .action(async (refs: string[], opts: CommonOpts) => withService(opts, async (svc) => {
      for (const ref of refs) {
        for (const r of await svc.remove(ref)) process.stdout.write(`Deleted: ${r.name}\n`);
      }
      const gc = await svc.garbageCollect();
      if (gc.removedBlobs.length || gc.removedSnapshots.length) {
        process.stdout.write(`Reclaimed ${humanSize(gc.reclaimedBytes)} (${gc.removedBlobs.length} blobs, ${gc.removedSnapshots.length} snapshots)\n`);
      }
    }));

  common(images.command('inspect <image>').description('print an image record, manifest, config and layers as JSON'))
    .action(async (ref: string, opts: CommonOpts) => withService(opts, async (svc) => {
      process.stdout.write(`${JSON.stringify(await svc.inspect(ref), null, 2)}\n`);
    }));
}
