// Snapshots: each layer unpacked once into <root>/<chainID hex>/fs, ready to be an overlayfs lower
// dir. A snapshot is named by its chain ID, so images sharing a stack of layers share its
// snapshots. Unpacking goes to a temp dir renamed into place only after the diffID verified, so a
// snapshot dir that exists is complete (also across processes: the loser of a rename race drops
// its copy).
import { randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { chainIDs } from './chain';
import { unpackLayer, type LayerCompression } from './unpack';

/** A layer to unpack: its blob on disk and the diffID the image config gives it. */
export interface LayerSource {
  /** The layer blob's digest (compressed, as in the manifest): for messages. */
  digest: string;
  diffID: string;
  blobPath: string;
  compression?: LayerCompression;
}

export interface SnapshotInfo {
  chainID: string;
  diffID: string;
  /** The parent snapshot's chain ID ("" for a base layer). */
  parent: string;
  /** The directory to use as an overlay lower dir. */
  dir: string;
  createdAt: string;
}

/** Snapshot dirs are named by the chain ID's hex: overlayfs's lowerdir list is ':'-separated. */
function hexOf(chainID: string): string {
  return chainID.replace(/^sha256:/, '');
}

const inflight = new Map<string, Promise<SnapshotInfo>>();

/**
 * Contract: prepare() returns one directory per layer, bottom-most first, each holding exactly
 * that layer's changes in overlayfs form; directories are never modified after creation (a
 * container's writes go to its own upper dir), and remove() is the only way they go away.
 */
export class Snapshotter {
  constructor(readonly root: string) {}

  dirOf(chainID: string): string {
    return join(this.root, hexOf(chainID), 'fs');
  }

  async get(chainID: string): Promise<SnapshotInfo | undefined> {
    try {
      const meta = JSON.parse(await fsp.readFile(join(this.root, hexOf(chainID), 'snapshot.json'), 'utf8')) as Omit<SnapshotInfo, 'dir'>;
      return { ...meta, dir: this.dirOf(chainID) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * Makes sure every layer is unpacked (each at most once, layers in parallel two at a time) and
   * returns the snapshots bottom-most first.
   */
  async prepare(layers: LayerSource[]): Promise<SnapshotInfo[]> {
    await fsp.mkdir(this.root, { recursive: true });
    const ids = chainIDs(layers.map((l) => l.diffID));
    const out: SnapshotInfo[] = new Array(layers.length);
    let next = 0;
    const worker = async () => {
      while (next < layers.length) {
        const i = next++;
        out[i] = await this.ensure(layers[i], ids[i], i === 0 ? '' : ids[i - 1]);
      }
    };
    await Promise.all([worker(), worker()]);
    return out;
  }

  private ensure(layer: LayerSource, chainID: string, parent: string): Promise<SnapshotInfo> {
    const key = join(this.root, hexOf(chainID));
    const running = inflight.get(key);
    if (running) return running;
    const job = (async () => {
      const existing = await this.get(chainID);
      if (existing) return existing;
      const tmp = join(this.root, `.tmp-${hexOf(chainID).slice(0, 12)}-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        await fsp.mkdir(join(tmp, 'fs'), { recursive: true, mode: 0o755 });
        await unpackLayer(layer.blobPath, join(tmp, 'fs'), { layer: layer.digest, expectedDiffID: layer.diffID, compression: layer.compression });
        const meta = { chainID, diffID: layer.diffID, parent, createdAt: new Date().toISOString() };
        await fsp.writeFile(join(tmp, 'snapshot.json'), JSON.stringify(meta));
        try {
          await fsp.rename(tmp, key);
        } catch (err) {
          // Another process unpacked the same snapshot first; theirs is identical.
          if (!(await this.get(chainID))) throw err;
        }
        return (await this.get(chainID))!;
      } finally {
        await fsp.rm(tmp, { recursive: true, force: true });
      }
    })().finally(() => inflight.delete(key));
    inflight.set(key, job);
    return job;
  }

  /** Every complete snapshot. */
  async list(): Promise<SnapshotInfo[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: SnapshotInfo[] = [];
    for (const n of names) {
      if (!/^[a-f0-9]{64}$/.test(n)) continue;
      const info = await this.get(`sha256:${n}`);
      if (info) out.push(info);
    }
    return out;
  }

  async remove(chainID: string): Promise<void> {
    const dir = join(this.root, hexOf(chainID));
    // Rename first so a half-deleted snapshot never looks complete.
    const doomed = join(this.root, `.rm-${hexOf(chainID).slice(0, 12)}-${randomBytes(4).toString('hex')}`);
    try {
      await fsp.rename(dir, doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await fsp.rm(doomed, { recursive: true, force: true });
  }

  /** Removes temp dirs left by crashed unpacks (older than `olderThanMs`). */
  async pruneTemp(olderThanMs: number): Promise<number> {
    let names: string[] = [];
    try { names = await fsp.readdir(this.root); } catch { return 0; }
    let n = 0;
    for (const name of names) {
      if (!name.startsWith('.tmp-') && !name.startsWith('.rm-')) continue;
      const st = await fsp.stat(join(this.root, name)).catch(() => undefined);
      if (st && st.mtimeMs < Date.now() - olderThanMs) {
        await fsp.rm(join(this.root, name), { recursive: true, force: true });
        n++;
      }
    }
    return n;
  }

  /**
   * Snapshot dirs currently used as a lower dir by any overlay mount on this machine, found in
   * every mount namespace's mountinfo (containers mount in their own namespaces). GC keeps them.
   */
  inUseChainIDs(): Set<string> {
    const used = new Set<string>();
    const seenNs = new Set<string>();
    let pids: string[] = [];
    try { pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)); } catch { return used; }
    const rootPrefix = `${this.root.replace(/\/+$/, '')}/`;
    for (const pid of ['self', ...pids]) {
      let ns: string;
      try { ns = readlinkSync(`/proc/${pid}/ns/mnt`); } catch { continue; }
      if (seenNs.has(ns)) continue;
      seenNs.add(ns);
      let text: string;
      try { text = readFileSync(`/proc/${pid}/mountinfo`, 'utf8'); } catch { continue; }
      for (const line of text.split('\n')) {
        if (!line.includes(' - overlay ')) continue;
        const m = /lowerdir=([^,\s]+)/.exec(line);
        if (!m) continue;
        for (const d of m[1].split(':')) {
          const path = d.replace(/\\072/g, ':');
          if (!path.startsWith(rootPrefix)) continue;
          const hex = path.slice(rootPrefix.length).split('/')[0];
          if (/^[a-f0-9]{64}$/.test(hex)) used.add(`sha256:${hex}`);
        }
      }
    }
    return used;
  }
}
