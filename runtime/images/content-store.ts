// The content-addressed blob store: every blob lives at <root>/blobs/sha256/<hex> and is only ever
// put there by a rename after its bytes hashed to that digest. Downloads write to
// <root>/ingest/<hex>.partial first, so an interrupted pull resumes from the bytes it already has.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestMismatchError, ImageError } from './errors';
import { isDigest } from './reference';

/** A blob download source: returns the body starting at `offset`, or at 0 if the server ignores ranges. */
export type BlobOpener = (offset: number) => Promise<{ body: Readable; offset: number }>;

export interface IngestProgress {
  digest: string;
  total: number;
  /** Bytes on disk so far (including bytes kept from an earlier partial download). */
  done: number;
  /** Set once, when a download continues a partial file: the offset it resumed from. */
  resumedFrom?: number;
  status: 'exists' | 'downloading' | 'verifying' | 'done' | 'restarting';
}

export interface IngestResult {
  /** The blob was already in the store (nothing was downloaded). */
  existed: boolean;
  /** Bytes fetched over the network by this call. */
  fetched: number;
  /** Offset the download resumed from (0 if it started fresh). */
  resumedFrom: number;
}

/** Several pulls of the same blob in one process share one download, keyed by blob path. */
const inflight = new Map<string, Promise<IngestResult>>();

class BadBlobRequestError extends ImageError {
  readonly code = 'INVALID_DIGEST';
  constructor(digest: string) {
    super(`"${digest}" is not a sha256 digest`);
  }
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function digestOf(data: Buffer | string): string {
  return `sha256:${sha256Hex(data)}`;
}

function hexOf(digest: string): string {
  if (!isDigest(digest)) throw new BadBlobRequestError(digest);
  return digest.slice('sha256:'.length);
}

async function hashFilePrefix(path: string, length: number, hash: Hash): Promise<void> {
  if (length === 0) return;
  await pipeline(createReadStream(path, { start: 0, end: length - 1 }), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) hash.update(chunk);
  });
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await fsp.stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return -1;
    throw err;
  }
}

/**
 * Contract: `has(d)` is true only for complete, verified blobs; `ingest` and `writeBlob` never
 * leave a blob under blobs/ whose bytes do not hash to its name; concurrent ingests of one digest
 * in this process share a single download.
 */
export class ContentStore {
  readonly blobsDir: string;
  readonly ingestDir: string;

  constructor(readonly root: string) {
    this.blobsDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.blobsDir, { recursive: true });
    await fsp.mkdir(this.ingestDir, { recursive: true });
  }

  blobPath(digest: string): string {
    return join(this.blobsDir, hexOf(digest));
  }

  /** Where a download of `digest` keeps its bytes until verified (tests may pre-seed it). */
  partialPath(digest: string): string {
    return join(this.ingestDir, `${hexOf(digest)}.partial`);
  }

  async has(digest: string): Promise<boolean> {
    return (await fileSize(this.blobPath(digest))) >= 0;
  }

  async size(digest: string): Promise<number> {
    return fileSize(this.blobPath(digest));
  }

  /** Reads a blob, re-verifying it (use for small blobs: manifests, configs, indexes). */
  async read(digest: string): Promise<Buffer> {
    const data = await fsp.readFile(this.blobPath(digest));
    const actual = digestOf(data);
    if (actual !== digest) throw new DigestMismatchError(`stored blob ${digest}`, digest, actual);
    return data;
  }

  async readJSON<T>(digest: string): Promise<T> {
    return JSON.parse((await this.read(digest)).toString('utf8')) as T;
  }

  /** Stores bytes; if `expected` is given they must hash to it. Returns the digest. */
  async writeBlob(data: Buffer, expected?: string, what = 'blob'): Promise<string> {
    const digest = digestOf(data);
    if (expected && expected !== digest) throw new DigestMismatchError(what, expected, digest);
    if (await this.has(digest)) return digest;
    const tmp = join(this.ingestDir, `${hexOf(digest)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, this.blobPath(digest));
    return digest;
  }

  /**
   * Moves a file that was written elsewhere under the store (e.g. by an archive import) into the
   * store, after checking it hashes to `expected` (when given). Returns the digest.
   */
  async commitFile(tmpPath: string, expected: string | undefined, what: string, knownDigest?: string): Promise<string> {
    let digest = knownDigest;
    if (!digest) {
      const hash = createHash('sha256');
      await hashFilePrefix(tmpPath, (await fsp.stat(tmpPath)).size, hash);
      digest = `sha256:${hash.digest('hex')}`;
    }
    if (expected && expected !== digest) {
      await fsp.rm(tmpPath, { force: true });
      throw new DigestMismatchError(what, expected, digest);
    }
    if (await this.has(digest)) await fsp.rm(tmpPath, { force: true });
    else await fsp.rename(tmpPath, this.blobPath(digest));
    return digest;
  }

  /**
   * Downloads a blob into the store unless it is already there: resumes from a partial file with
   * a Range request, verifies size and digest, then renames it into place. A resumed download
   * that fails verification is retried once from zero (the partial bytes may have been bad).
   */
  async ingest(desc: { digest: string; size: number }, open: BlobOpener, onProgress?: (p: IngestProgress) => void): Promise<IngestResult> {
    const key = this.blobPath(desc.digest);
    const running = inflight.get(key);
    if (running) return running;
    const job = this.ingestOnce(desc, open, onProgress).finally(() => inflight.delete(key));
    inflight.set(key, job);
    return job;
  }

  private async ingestOnce(desc: { digest: string; size: number }, open: BlobOpener, onProgress?: (p: IngestProgress) => void): Promise<IngestResult> {
    const report = (p: Omit<IngestProgress, 'digest' | 'total'>) => onProgress?.({ digest: desc.digest, total: desc.size, ...p });
    if (await this.has(desc.digest)) {
      report({ done: desc.size, status: 'exists' });
      return { existed: true, fetched: 0, resumedFrom: 0 };
    }
    await this.init();
    const partial = this.partialPath(desc.digest);
    let fetched = 0;
    let resumedFrom = 0;
    for (let attempt = 0; attempt < 2; attempt++) {
      let have = Math.max(0, await fileSize(partial));
      if (have > desc.size) have = 0;
      const hash = createHash('sha256');
      let offset = 0;
      if (have < desc.size || desc.size === 0) {
        const res = await open(have);
        offset = res.offset;
        if (offset > 0) {
          resumedFrom = offset;
          report({ done: offset, resumedFrom: offset, status: 'downloading' });
        }
        await hashFilePrefix(partial, offset, hash);
        let received = offset;
        const counter = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            received += chunk.length;
            fetched += chunk.length;
            if (received > desc.size) {
              cb(new DigestMismatchError(`blob ${desc.digest} (size)`, `${desc.size} bytes`, `more than ${desc.size} bytes`));
              return;
            }
            hash.update(chunk);
            report({ done: received, status: 'downloading' });
            cb(null, chunk);
          },
        });
        await pipeline(res.body, counter, createWriteStream(partial, { flags: offset > 0 ? 'r+' : 'w', start: offset }));
        await fsp.truncate(partial, received);
      } else {
        // The partial file already holds every byte: only verification is left.
        await hashFilePrefix(partial, have, hash);
        resumedFrom = have;
      }
      report({ done: desc.size, status: 'verifying' });
      const actual = `sha256:${hash.digest('hex')}`;
      const size = await fileSize(partial);
      if (actual === desc.digest && size === desc.size) {
        const fh = await fsp.open(partial, 'r');
        try { await fh.sync(); } finally { await fh.close(); }
        await fsp.rename(partial, this.blobPath(desc.digest));
        report({ done: desc.size, status: 'done' });
        return { existed: false, fetched, resumedFrom };
      }
      await fsp.rm(partial, { force: true });
      if (offset === 0 && resumedFrom === 0) {
        throw new DigestMismatchError(`blob ${desc.digest}`, desc.digest, size !== desc.size ? `${actual} (${size} of ${desc.size} bytes)` : actual);
      }
      report({ done: 0, status: 'restarting' });
      resumedFrom = 0;
      if (attempt === 1) throw new DigestMismatchError(`blob ${desc.digest}`, desc.digest, actual);
    }
    throw new DigestMismatchError(`blob ${desc.digest}`, desc.digest, 'unverifiable');
  }

  /** Every complete blob in the store. */
  async list(): Promise<Array<{ digest: string; size: number }>> {
    let names: string[];
    try {
      names = await fsp.readdir(this.blobsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: Array<{ digest: string; size: number }> = [];
    for (const n of names) {
      if (!/^[a-f0-9]{64}$/.test(n)) continue;
      const size = await fileSize(join(this.blobsDir, n));
      if (size >= 0) out.push({ digest: `sha256:${n}`, size });
    }
    return out;
  }

  async delete(digest: string): Promise<void> {
    await fsp.rm(this.blobPath(digest), { force: true });
  }
}
