// Image records: normalised name -> what it points at, in one small JSON file (<root>/images.json)
// replaced atomically (write temp, fsync, rename). Every change re-reads the file under an
// in-process lock, so the agent and an `orch images` command on the same node lose no record
// except in a truly simultaneous write (last writer wins).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Descriptor } from './types';

/** One named image in the local store. */
export interface ImageRecord {
  /** Normalised reference ("docker.io/library/busybox:latest", "127.0.0.1:5000/busybox@sha256:..."). */
  name: string;
  /** What the name resolved to: an index/manifest list, or a manifest. */
  target: Descriptor;
  /** The platform manifest used for this node (target.digest unless target is an index). */
  manifestDigest: string;
  /** The image config's digest: the image ID. */
  configDigest: string;
  /** Bytes of config + layers as stored (compressed layers for pulls). */
  size: number;
  /** "os/arch[/variant]" of the chosen manifest. */
  platform: string;
  source: 'pull' | 'import';
  createdAt: string;
  updatedAt: string;
}

interface IndexFile { version: 1; images: Record<string, ImageRecord> }

export class ImageMetadataStore {
  private readonly file: string;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(readonly root: string) {
    this.file = join(root, 'images.json');
  }

  private async load(): Promise<IndexFile> {
    try {
      const parsed = JSON.parse(await fsp.readFile(this.file, 'utf8')) as IndexFile;
      return { version: 1, images: parsed.images ?? {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, images: {} };
      throw err;
    }
  }

  private async save(index: IndexFile): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true });
    const tmp = `${this.file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(index, null, 1));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, this.file);
  }

  /** Runs `fn` on a fresh copy of the index and saves what it returns, one change at a time. */
  private update<T>(fn: (index: IndexFile) => T): Promise<T> {
    const run = this.lock.then(async () => {
      const index = await this.load();
      const result = fn(index);
      await this.save(index);
      return result;
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  async list(): Promise<ImageRecord[]> {
    const index = await this.load();
    return Object.values(index.images).sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<ImageRecord | undefined> {
    return (await this.load()).images[name];
  }

  /** Creates or replaces the record for `record.name`, keeping its first createdAt. */
  async put(record: Omit<ImageRecord, 'createdAt' | 'updatedAt'>): Promise<ImageRecord> {
    return this.update((index) => {
      const now = new Date().toISOString();
      const prev = index.images[record.name];
      const full: ImageRecord = { ...record, createdAt: prev?.createdAt ?? now, updatedAt: now };
      index.images[record.name] = full;
      return full;
    });
  }

  async delete(name: string): Promise<boolean> {
    return this.update((index) => {
      const had = name in index.images;
      delete index.images[name];
      return had;
    });
  }
}
