// Import of image archives: `docker save` archives (manifest.json + config + layer tars, also the
// docker 25+ variant with an OCI layout inside) and OCI archives (an OCI image layout in a tar).
// The archive is streamed once: every regular file is hashed while it is written to a temp dir in
// the store's ingest area; then the referenced files are moved into the content store by digest
// (OCI blobs are checked against the digest in their name) and the rest is dropped. For a
// docker-archive, orch writes a Docker v2 manifest for each image, as containerd does on import.
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { PassThrough, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import type { ContentStore } from './content-store';
import { DigestMismatchError, ImageError, InvalidArchiveError, NoMatchingPlatformError } from './errors';
import { formatPlatform, platformMatches } from './platform';
import { isDigest, normalizeReference } from './reference';
import { MediaType, isIndexType, type Descriptor, type ImageConfigFile, type ImageIndex, type Manifest, type Platform } from './types';

/** One image found in an archive and stored; the service turns it into records. */
export interface ArchiveImage {
  /** Normalised names (from RepoTags or ref-name annotations); may be empty for untagged images. */
  names: string[];
  target: Descriptor;
  manifestDigest: string;
  configDigest: string;
  size: number;
  platform: string;
}

interface ExtractedFile { tmp: string; digest: string; size: number; small?: Buffer; gzip?: boolean }

const SMALL = 1 << 20;

async function sniff(file: string): Promise<'gzip' | 'zstd' | 'none'> {
  const fh = await fsp.open(file, 'r');
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    if (bytesRead >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    if (bytesRead === 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  } finally {
    await fh.close();
  }
}

function decompressed(file: string, kind: 'gzip' | 'zstd' | 'none'): Readable {
  const src = createReadStream(file);
  if (kind === 'gzip') return src.pipe(createGunzip());
  if (kind === 'zstd') {
    const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = new PassThrough();
    child.on('error', (err) => out.destroy(new InvalidArchiveError(file, `zstd archives need the zstd command: ${err.message}`)));
    child.on('exit', (code) => { if (code !== 0) out.destroy(new InvalidArchiveError(file, `zstd exited ${code}`)); });
    src.pipe(child.stdin);
    child.stdout.pipe(out);
    return out;
  }
  return src;
}

/** Streams the archive into `workDir`: name -> file (hashed); symlink and hard link names -> their targets. */
async function extractAll(file: string, workDir: string, store: ContentStore): Promise<{ files: Map<string, ExtractedFile>; links: Map<string, string> }> {
  const files = new Map<string, ExtractedFile>();
  const links = new Map<string, string>();
  const extract = tar.extract();
  let n = 0;
  const consume = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const name = posix.normalize(h.name.replace(/^(\.\/|\/)+/, '')).replace(/\/+$/, '');
      const body = entry as unknown as Readable;
      if (h.type === 'symlink' || h.type === 'link') {
        // Symlinks are relative to their directory; hard links name an archive path.
        links.set(name, h.type === 'symlink' ? posix.normalize(posix.join(posix.dirname(name), h.linkname ?? '')) : posix.normalize((h.linkname ?? '').replace(/^(\.\/|\/)+/, '')));
        body.resume();
        continue;
      }
      if (h.type !== 'file' && h.type !== 'contiguous-file') { body.resume(); continue; }
      // An OCI blob already in the store need not be written again.
      const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
      if (m && (await store.has(`sha256:${m[1]}`)) && (h.size ?? 0) > SMALL) {
        body.resume();
        files.set(name, { tmp: '', digest: `sha256:${m[1]}`, size: h.size ?? 0 });
        continue;
      }
      const tmp = join(workDir, String(n++));
      const hash = createHash('sha256');
      const keep: Buffer[] = [];
      const small = (h.size ?? 0) <= SMALL;
      let head: Buffer | undefined;
      await pipeline(body, new Transform({
        transform(chunk: Buffer, _e, cb) { head ??= chunk; hash.update(chunk); if (small) keep.push(chunk); cb(null, chunk); },
      }), createWriteStream(tmp));
      const gzip = head !== undefined && head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
      files.set(name, { tmp, digest: `sha256:${hash.digest('hex')}`, size: h.size ?? 0, small: small ? Buffer.concat(keep) : undefined, gzip });
    }
  })();
  const sink = new Writable({
    write(chunk, _e, cb) { if (!extract.write(chunk)) extract.once('drain', () => cb()); else cb(); },
    final(cb) { (extract as unknown as NodeJS.WritableStream).end(); cb(); },
  });
  consume.catch(() => sink.destroy());
  try {
    await Promise.all([pipeline(decompressed(file, await sniff(file)), sink), consume]);
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new InvalidArchiveError(file, `not a readable tar archive: ${(err as Error).message}`, { cause: err });
  }
  return { files, links };
}

/**
 * Imports every image in a docker-archive or OCI archive (plain, gzip or zstd compressed) into
 * `store`. For an index, the manifest matching `platform` is the one recorded.
 */
export async function importArchiveFile(file: string, store: ContentStore, platform: Platform): Promise<ArchiveImage[]> {
  await store.init();
  const workDir = join(store.ingestDir, `import-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fsp.mkdir(workDir, { recursive: true });
  try {
    const { files, links } = await extractAll(file, workDir, store);
    const resolve = (name: string): ExtractedFile | undefined => {
      let cur = posix.normalize(name.replace(/^(\.\/|\/)+/, ''));
      for (let i = 0; i < 16 && !files.has(cur) && links.has(cur); i++) cur = links.get(cur)!;
      return files.get(cur);
    };
    const readJSON = async <T>(name: string): Promise<T> => {
      const f = resolve(name);
      if (!f) throw new InvalidArchiveError(file, `missing ${name}`);
      const data = f.small ?? await fsp.readFile(f.tmp);
      try { return JSON.parse(data.toString('utf8')) as T; } catch { throw new InvalidArchiveError(file, `${name} is not JSON`); }
    };
    const commit = async (name: string, what: string, expected?: string): Promise<{ digest: string; size: number }> => {
      const f = resolve(name);
      if (!f) throw new InvalidArchiveError(file, `missing ${name} (${what})`);
      if (expected && f.digest !== expected) throw new DigestMismatchError(`${what} (${name} in ${basename(file)})`, expected, f.digest);
      if (f.tmp) {
        await store.commitFile(f.tmp, expected, what, f.digest);
        f.tmp = '';
      }
      return { digest: f.digest, size: f.size };
    };
    if (files.has('manifest.json')) return await importDocker(file, readJSON, commit, resolve, store);
    if (files.has('index.json') && files.has('oci-layout')) return await importOCI(file, readJSON, commit, store, platform);
    throw new InvalidArchiveError(file, 'neither a docker-archive (manifest.json) nor an OCI archive (oci-layout, index.json)');
  } finally {
    await fsp.rm(workDir, { recursive: true, force: true });
  }
}

type ReadJSON = <T>(name: string) => Promise<T>;
type Commit = (name: string, what: string, expected?: string) => Promise<{ digest: string; size: number }>;

async function importDocker(file: string, readJSON: ReadJSON, commit: Commit, resolve: (n: string) => ExtractedFile | undefined, store: ContentStore): Promise<ArchiveImage[]> {
  const items = await readJSON<Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>>('manifest.json');
  if (!Array.isArray(items) || items.length === 0) throw new InvalidArchiveError(file, 'manifest.json lists no images');
  const out: ArchiveImage[] = [];
  for (const item of items) {
    const config = await commit(item.Config, 'image config');
    const configFile = await store.readJSON<ImageConfigFile>(config.digest);
    const diffIDs = configFile.rootfs?.diff_ids ?? [];
    if (diffIDs.length !== item.Layers.length) throw new InvalidArchiveError(file, `${item.Config} lists ${diffIDs.length} diff_ids but the archive has ${item.Layers.length} layers`);
    const layers: Descriptor[] = [];
    for (let i = 0; i < item.Layers.length; i++) {
      const f = resolve(item.Layers[i]);
      if (!f) throw new InvalidArchiveError(file, `missing layer ${item.Layers[i]}`);
      const gz = f.gzip ?? (await sniff(store.blobPath(f.digest))) === 'gzip';
      // An uncompressed layer's digest is its diffID: check it now; compressed ones are checked at unpack.
      const stored = await commit(item.Layers[i], `layer ${i}`, gz ? undefined : diffIDs[i]);
      layers.push({ mediaType: gz ? MediaType.dockerLayerGzip : MediaType.dockerLayer, digest: stored.digest, size: stored.size });
    }
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: config.digest, size: config.size },
      layers,
    };
    const data = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = await store.writeBlob(data);
    out.push({
      names: (item.RepoTags ?? []).map((t) => normalizeReference(t)),
      target: { mediaType: MediaType.dockerManifest, digest: manifestDigest, size: data.length },
      manifestDigest, configDigest: config.digest,
      size: config.size + layers.reduce((s, l) => s + l.size, 0),
      platform: formatPlatform({ os: configFile.os, architecture: configFile.architecture, variant: configFile.variant }),
    });
  }
  return out;
}

async function importOCI(file: string, readJSON: ReadJSON, commit: Commit, store: ContentStore, platform: Platform): Promise<ArchiveImage[]> {
  const index = await readJSON<ImageIndex>('index.json');
  const blob = (d: Descriptor) => {
    if (!isDigest(d.digest)) throw new InvalidArchiveError(file, `bad digest ${d.digest}`);
    return commit(`blobs/sha256/${d.digest.slice(7)}`, `${d.mediaType} ${d.digest}`, d.digest);
  };
  const out: ArchiveImage[] = [];
  for (const desc of index.manifests ?? []) {
    await blob(desc);
    let manifestDesc = desc;
    if (isIndexType(desc.mediaType)) {
      const inner = await store.readJSON<ImageIndex>(desc.digest);
      const match = inner.manifests.find((m) => platformMatches(m.platform, platform));
      if (!match) throw new NoMatchingPlatformError(basename(file), formatPlatform(platform), inner.manifests.map((m) => formatPlatform(m.platform)));
      manifestDesc = match;
      await blob(match);
    }
    const manifest = await store.readJSON<Manifest>(manifestDesc.digest);
    await blob(manifest.config);
    for (const l of manifest.layers) await blob(l);
    const configFile = await store.readJSON<ImageConfigFile>(manifest.config.digest);
    const a = desc.annotations ?? {};
    // containerd writes the full name; skopeo/umoci write "name:tag" or just a tag.
    const rawName = a['io.containerd.image.name'] ?? a['org.opencontainers.image.ref.name'];
    const names: string[] = [];
    if (rawName) {
      const full = /[/:]/.test(rawName) ? rawName : `${basename(file).replace(/\.(tar|tgz|tar\.gz|tar\.zst|tar\.zstd)$/, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}:${rawName}`;
      try { names.push(normalizeReference(full)); } catch { /* an unusable name leaves the image reachable by digest */ }
    }
    out.push({
      names, target: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size },
      manifestDigest: manifestDesc.digest, configDigest: manifest.config.digest,
      size: manifest.config.size + manifest.layers.reduce((s, l) => s + l.size, 0),
      platform: formatPlatform({ os: configFile.os, architecture: configFile.architecture, variant: configFile.variant }),
    });
  }
  if (out.length === 0) throw new InvalidArchiveError(file, 'index.json lists no images');
  return out;
}
