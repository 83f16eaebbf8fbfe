// The image service: pull, import, list, inspect, remove, garbage-collect, and prepare an image's
// root filesystem as overlay lower dirs. Layout under the root the caller gives
// (e.g. <data-dir>/agent/images):
//   blobs/sha256/<hex>        content store (manifests, indexes, configs, layer blobs)
//   ingest/                   downloads in progress (<hex>.partial, resumed with Range) and temp files
//   images.json               image records: normalised name -> manifest/config digests
//   snapshots/<chainID>/fs    each layer unpacked once, in overlay lower-dir form
//   airgap-state.json         which air-gap archives were imported already (size + mtime)
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Snapshotter, chainIDs } from '../snapshots';
import { importArchiveFile } from './archive';
import { ContentStore, type IngestProgress } from './content-store';
import { ImageError, ImageNotFoundError, InvalidArchiveError, NoMatchingPlatformError, UnsupportedMediaTypeError } from './errors';
import { ImageMetadataStore, type ImageRecord } from './metadata';
import { formatPlatform, hostPlatform, platformMatches } from './platform';
import { parseReference } from './reference';
import { RegistryClient } from './registry-client';
import { endpointsFor, loadRegistriesConfig, type RegistriesConfig } from './registries';
import { isIndexType, layerCompression, type Descriptor, type ImageConfig, type ImageConfigFile, type ImageIndex, type Manifest, type Platform } from './types';

export { DEFAULT_REGISTRIES_CONFIG } from '../paths';
import { DEFAULT_REGISTRIES_CONFIG } from '../paths';

export interface ImageServiceOptions {
  /** Root directory of the store, e.g. "<data-dir>/agent/images". Created if missing. */
  root: string;
  /** registries.yaml (k3s format) read at each pull; a missing file means no settings. */
  registriesConfigPath?: string;
  /** Settings given directly (take precedence over registriesConfigPath). */
  registriesConfig?: RegistriesConfig;
  /** Do not fall back to a registry's own endpoint when it has mirrors (k3s --disable-default-registry-endpoint). */
  disableDefaultEndpoint?: boolean;
  /** Platform to pick from indexes; defaults to this host (linux/amd64 here). */
  platform?: Platform;
  /** Layers downloaded in parallel per pull (default 3). */
  pullConcurrency?: number;
}

/** Progress of a pull, for terminals and logs. */
export type PullProgress =
  | { kind: 'resolved'; reference: string; digest: string; mediaType: string; endpoint: string }
  | { kind: 'manifest'; digest: string; platform: string; layers: number; totalBytes: number }
  | ({ kind: 'blob'; role: 'config' | 'layer' } & IngestProgress)
  | { kind: 'unpacked'; chainID: string };

export interface PullOptions {
  onProgress?: (p: PullProgress) => void;
  /** Unpack the layers into snapshots after downloading (default true; CRI's PullImage does). */
  unpack?: boolean;
}

export interface PullResult {
  image: ImageRecord;
  /** Bytes fetched from the registry by this pull (0 when everything was present). */
  fetchedBytes: number;
  /** Blobs that were already in the store and not downloaded. */
  skippedBlobs: number;
  /** Blobs whose download continued a partial file, with the offset. */
  resumed: Array<{ digest: string; from: number }>;
}

/** What a container needs from its image (the container side mounts overlay over lowerDirs). */
export interface PreparedRootfs {
  /** Snapshot dirs, TOP-most layer first: overlay's lowerdir order (join with ':'). */
  lowerDirs: string[];
  /** The image's runtime config (Env, Entrypoint, Cmd, WorkingDir, User, ExposedPorts, Labels, StopSignal...). */
  config: ImageConfig;
  /** The platform manifest's digest. */
  imageDigest: string;
  /** The config digest (image ID). */
  imageID: string;
  /** The record's name the reference resolved to. */
  imageName: string;
  /** Chain IDs, bottom-most first (lowerDirs reversed). */
  chainIDs: string[];
}

export interface ImageInspect {
  record: ImageRecord;
  /** Other names pointing at the same manifest. */
  names: string[];
  manifest: Manifest;
  configFile: ImageConfigFile;
  /** Per layer: blob descriptor, diffID, chain ID and whether its snapshot is unpacked. */
  layers: Array<Descriptor & { diffID: string; chainID: string; unpacked: boolean }>;
}

export interface GarbageCollectResult {
  removedBlobs: string[];
  reclaimedBytes: number;
  removedSnapshots: string[];
  /** Snapshots kept only because an overlay mount uses them. */
  keptInUse: string[];
}

export interface AirgapImportResult {
  imported: Array<{ file: string; images: string[] }>;
  /** Archives unchanged since an earlier import whose images are all still present. */
  skipped: string[];
  failed: Array<{ file: string; error: Error }>;
}

const AIRGAP_ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.zst|tar\.zstd)$/;

/**
 * Contract:
 * - pull(ref) resolves ref (normalised: "busybox" -> "docker.io/library/busybox:latest") through
 *   registries.yaml mirrors/credentials/TLS, picks the node's platform from an index, verifies
 *   every manifest and blob digest, skips blobs already stored, resumes partial downloads, and
 *   records name -> manifest. Errors: RegistryError (the registry's code and message),
 *   RegistryUnreachableError (with the address), DigestMismatchError, NoMatchingPlatformError,
 *   UnsupportedMediaTypeError, InvalidReferenceError.
 * - importArchive(file) imports docker-archive / OCI archives (InvalidArchiveError otherwise).
 * - resolve/inspect/prepareRootfs take a reference or digest ("sha256:<hex>" of the manifest or the
 *   config, or a 12+ hex prefix of the config digest) and throw ImageNotFoundError when absent.
 * - prepareRootfs never returns a dir that is incomplete or shared for writing.
 * - remove(ref) drops names only; garbageCollect() then deletes unreferenced blobs and snapshots,
 *   keeping anything named in `inUse` or mounted as an overlay lower dir on this machine.
 */
export class ImageService {
  readonly root: string;
  readonly content: ContentStore;
  readonly metadata: ImageMetadataStore;
  readonly snapshots: Snapshotter;
  private readonly client = new RegistryClient();
  private readonly platform: Platform;

  constructor(private readonly opts: ImageServiceOptions) {
    this.root = opts.root;
    this.content = new ContentStore(opts.root);
    this.metadata = new ImageMetadataStore(opts.root);
    this.snapshots = new Snapshotter(join(opts.root, 'snapshots'));
    this.platform = opts.platform ?? hostPlatform();
  }

  async init(): Promise<void> {
    await this.content.init();
    await fsp.mkdir(this.snapshots.root, { recursive: true });
  }

  /** Releases HTTP connection pools. */
  async close(): Promise<void> {
    await this.client.close();
  }

  private async registriesConfig(): Promise<RegistriesConfig> {
    if (this.opts.registriesConfig) return this.opts.registriesConfig;
    return loadRegistriesConfig(this.opts.registriesConfigPath ?? DEFAULT_REGISTRIES_CONFIG);
  }

  async pull(reference: string, opts: PullOptions = {}): Promise<PullResult> {
    await this.init();
    const ref = parseReference(reference);
    const endpoints = endpointsFor(await this.registriesConfig(), ref.registry, { disableDefaultEndpoint: this.opts.disableDefaultEndpoint });
    const progress = opts.onProgress ?? (() => undefined);
    const top = await this.client.getManifest(ref, endpoints, ref.digest ?? ref.tag!, ref.digest);
    progress({ kind: 'resolved', reference: ref.name, digest: top.digest, mediaType: top.mediaType, endpoint: top.endpoint.url });
    // Prefer the endpoint that answered for the rest of the pull.
    const ordered = [top.endpoint, ...endpoints.filter((e) => e !== top.endpoint)];
    await this.content.writeBlob(top.data, top.digest, `manifest ${ref.name}`);
    let manifestDigest = top.digest;
    let manifestData = top.data;
    if (isIndexType(top.mediaType)) {
      const index = JSON.parse(top.data.toString('utf8')) as ImageIndex;
      const match = (index.manifests ?? []).find((m) => platformMatches(m.platform, this.platform));
      if (!match) throw new NoMatchingPlatformError(ref.name, formatPlatform(this.platform), (index.manifests ?? []).map((m) => formatPlatform(m.platform)));
      const child = await this.client.getManifest(ref, ordered, match.digest, match.digest);
      if (isIndexType(child.mediaType)) throw new UnsupportedMediaTypeError(child.mediaType, `nested index in ${ref.name}`);
      await this.content.writeBlob(child.data, child.digest, `manifest ${ref.locator}@${child.digest}`);
      manifestDigest = child.digest;
      manifestData = child.data;
    }
    const manifest = JSON.parse(manifestData.toString('utf8')) as Manifest;
    for (const l of manifest.layers ?? []) {
      if (layerCompression(l.mediaType) === undefined) throw new UnsupportedMediaTypeError(l.mediaType, `layer ${l.digest} of ${ref.name}`);
    }
    progress({ kind: 'manifest', digest: manifestDigest, platform: formatPlatform(this.platform), layers: manifest.layers.length, totalBytes: manifest.config.size + manifest.layers.reduce((s, l) => s + l.size, 0) });

    let fetchedBytes = 0;
    let skippedBlobs = 0;
    const resumed: PullResult['resumed'] = [];
    const fetchBlob = async (desc: Descriptor, role: 'config' | 'layer') => {
      const r = await this.content.ingest(desc, this.client.blobOpener(ref, ordered, desc.digest), (p) => progress({ kind: 'blob', role, ...p }));
      fetchedBytes += r.fetched;
      if (r.existed) skippedBlobs++;
      if (r.resumedFrom > 0) resumed.push({ digest: desc.digest, from: r.resumedFrom });
    };
    await fetchBlob(manifest.config, 'config');
    const configFile = await this.content.readJSON<ImageConfigFile>(manifest.config.digest);
    if ((configFile.rootfs?.diff_ids ?? []).length !== manifest.layers.length) {
      throw new InvalidArchiveError(ref.name, `config lists ${configFile.rootfs?.diff_ids?.length ?? 0} diff_ids for ${manifest.layers.length} layers`);
    }
    const queue = [...manifest.layers];
    const workers = Array.from({ length: Math.min(this.opts.pullConcurrency ?? 3, queue.length) }, async () => {
      for (let l = queue.shift(); l; l = queue.shift()) await fetchBlob(l, 'layer');
    });
    await Promise.all(workers);

    const image = await this.metadata.put({
      name: ref.name,
      target: { mediaType: top.mediaType, digest: top.digest, size: top.data.length },
      manifestDigest, configDigest: manifest.config.digest,
      size: manifest.config.size + manifest.layers.reduce((s, l) => s + l.size, 0),
      platform: formatPlatform({ os: configFile.os, architecture: configFile.architecture, variant: configFile.variant }),
      source: 'pull',
    });
    if (opts.unpack !== false) {
      const prepared = await this.prepareRootfs(image.name);
      for (const c of prepared.chainIDs) progress({ kind: 'unpacked', chainID: c });
    }
    return { image, fetchedBytes, skippedBlobs, resumed };
  }

  /** Imports a docker-archive or OCI archive; returns the records written (one per name). */
  async importArchive(file: string): Promise<ImageRecord[]> {
    await this.init();
    const images = await importArchiveFile(file, this.content, this.platform);
    const out: ImageRecord[] = [];
    for (const img of images) {
      // An untagged image is still reachable by its manifest digest.
      const names = img.names.length > 0 ? img.names : [img.manifestDigest];
      for (const name of names) {
        out.push(await this.metadata.put({ name, target: img.target, manifestDigest: img.manifestDigest, configDigest: img.configDigest, size: img.size, platform: img.platform, source: 'import' }));
      }
    }
    return out;
  }

  /**
   * Imports every archive (*.tar, *.tar.gz, *.tgz, *.tar.zst) in `dir` (k3s: agent/images/), skipping
   * archives imported before whose size and mtime are unchanged and whose images still exist. One
   * bad archive does not stop the others: it is reported in `failed`. A missing dir imports nothing.
   */
  async importAirgapDir(dir: string): Promise<AirgapImportResult> {
    const result: AirgapImportResult = { imported: [], skipped: [], failed: [] };
    let names: string[];
    try {
      names = (await fsp.readdir(dir)).filter((n) => AIRGAP_ARCHIVE.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
      throw err;
    }
    await this.init();
    const stateFile = join(this.root, 'airgap-state.json');
    let state: Record<string, { size: number; mtimeMs: number; images: string[] }> = {};
    try { state = JSON.parse(await fsp.readFile(stateFile, 'utf8')) as typeof state; } catch { /* first import */ }
    const existing = new Set((await this.metadata.list()).map((r) => r.name));
    for (const n of names) {
      const file = join(dir, n);
      try {
        const st = await fsp.stat(file);
        const prev = state[file];
        if (prev && prev.size === st.size && prev.mtimeMs === st.mtimeMs && prev.images.every((i) => existing.has(i))) {
          result.skipped.push(file);
          continue;
        }
        const records = await this.importArchive(file);
        const images = [...new Set(records.map((r) => r.name))];
        state[file] = { size: st.size, mtimeMs: st.mtimeMs, images };
        result.imported.push({ file, images });
      } catch (err) {
        result.failed.push({ file, error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
    const tmp = `${stateFile}.${process.pid}.tmp`;
    await fsp.writeFile(tmp, JSON.stringify(state, null, 1));
    await fsp.rename(tmp, stateFile);
    return result;
  }

  async list(): Promise<ImageRecord[]> {
    return this.metadata.list();
  }

  /** The record a reference or digest names; throws ImageNotFoundError. */
  async resolve(refOrDigest: string): Promise<ImageRecord> {
    const s = refOrDigest.trim();
    const records = await this.metadata.list();
    const hex = s.replace(/^sha256:/, '');
    if (/^[a-f0-9]{12,64}$/.test(hex) && (s.startsWith('sha256:') || hex.length >= 12)) {
      const full = hex.length === 64 ? `sha256:${hex}` : undefined;
      const hit = records.find((r) => r.name === s)
        ?? (full && records.find((r) => r.manifestDigest === full || r.target.digest === full || r.configDigest === full))
        ?? records.find((r) => r.configDigest.startsWith(`sha256:${hex}`));
      if (hit) return hit;
      if (s.startsWith('sha256:') || !/[/:]/.test(s)) throw new ImageNotFoundError(refOrDigest);
    }
    let name: string;
    try {
      name = parseReference(s).name;
    } catch (err) {
      if (err instanceof ImageError) throw new ImageNotFoundError(refOrDigest);
      throw err;
    }
    const rec = records.find((r) => r.name === name);
    if (!rec) throw new ImageNotFoundError(refOrDigest);
    return rec;
  }

  /** Whether the image is present locally (name or digest). */
  async has(refOrDigest: string): Promise<boolean> {
    try {
      await this.resolve(refOrDigest);
      return true;
    } catch (err) {
      if (err instanceof ImageNotFoundError) return false;
      throw err;
    }
  }

  async inspect(refOrDigest: string): Promise<ImageInspect> {
    const record = await this.resolve(refOrDigest);
    const manifest = await this.content.readJSON<Manifest>(record.manifestDigest);
    const configFile = await this.content.readJSON<ImageConfigFile>(record.configDigest);
    const diffIDs = configFile.rootfs.diff_ids;
    const chains = chainIDs(diffIDs);
    const layers = await Promise.all(manifest.layers.map(async (l, i) => ({
      ...l, diffID: diffIDs[i], chainID: chains[i], unpacked: (await this.snapshots.get(chains[i])) !== undefined,
    })));
    const names = (await this.metadata.list()).filter((r) => r.manifestDigest === record.manifestDigest).map((r) => r.name);
    return { record, names, manifest, configFile, layers };
  }

  /**
   * Removes the name (or, for a digest, every name of that image). Content stays until
   * garbageCollect(). Returns the removed records; throws ImageNotFoundError.
   */
  async remove(refOrDigest: string): Promise<ImageRecord[]> {
    const record = await this.resolve(refOrDigest);
    const byDigest = /^(sha256:)?[a-f0-9]{12,64}$/.test(refOrDigest.trim()) && record.name !== refOrDigest.trim();
    const doomed = byDigest ? (await this.metadata.list()).filter((r) => r.manifestDigest === record.manifestDigest) : [record];
    for (const r of doomed) await this.metadata.delete(r.name);
    return doomed;
  }

  /**
   * Unpacks (once) and returns the image's layers as overlay lower dirs, top-most first, with its
   * runtime config. Throws ImageNotFoundError if the image or any of its blobs is missing.
   */
  async prepareRootfs(refOrDigest: string): Promise<PreparedRootfs> {
    const record = await this.resolve(refOrDigest);
    const manifest = await this.content.readJSON<Manifest>(record.manifestDigest).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new ImageNotFoundError(`${refOrDigest} (manifest ${record.manifestDigest} missing)`);
      throw err;
    });
    const configFile = await this.content.readJSON<ImageConfigFile>(record.configDigest);
    const diffIDs = configFile.rootfs.diff_ids;
    const layers = [];
    for (let i = 0; i < manifest.layers.length; i++) {
      const l = manifest.layers[i];
      if (!(await this.content.has(l.digest))) throw new ImageNotFoundError(`${refOrDigest} (layer ${l.digest} missing)`);
      layers.push({ digest: l.digest, diffID: diffIDs[i], blobPath: this.content.blobPath(l.digest) });
    }
    const snaps = await this.snapshots.prepare(layers);
    return {
      lowerDirs: snaps.map((s) => s.dir).reverse(),
      config: configFile.config ?? {},
      imageDigest: record.manifestDigest,
      imageID: record.configDigest,
      imageName: record.name,
      chainIDs: snaps.map((s) => s.chainID),
    };
  }

  /**
   * Deletes blobs and snapshots no image record (nor `inUse`: references or digests of images
   * containers still use) reaches. Snapshots mounted as an overlay lower dir anywhere on the
   * machine are kept too. Temp files older than an hour and partial downloads older than a day go.
   */
  async garbageCollect(opts: { inUse?: string[] } = {}): Promise<GarbageCollectResult> {
    await this.init();
    const liveBlobs = new Set<string>();
    const liveChains = new Set<string>();
    const roots: Array<{ target: string; manifest: string; config: string }> = [];
    for (const r of await this.metadata.list()) roots.push({ target: r.target.digest, manifest: r.manifestDigest, config: r.configDigest });
    for (const u of opts.inUse ?? []) {
      if (/^sha256:[a-f0-9]{64}$/.test(u) && await this.content.has(u)) {
        roots.push({ target: u, manifest: u, config: '' });
        continue;
      }
      try {
        const r = await this.resolve(u);
        roots.push({ target: r.target.digest, manifest: r.manifestDigest, config: r.configDigest });
      } catch (err) {
        if (!(err instanceof ImageNotFoundError)) throw err;
      }
    }
    for (const root of roots) {
      liveBlobs.add(root.target);
      liveBlobs.add(root.manifest);
      let manifest: Manifest;
      try { manifest = await this.content.readJSON<Manifest>(root.manifest); } catch { continue; }
      if (!manifest.config) continue; // an index named in inUse: its children are not walked
      liveBlobs.add(manifest.config.digest);
      for (const l of manifest.layers) liveBlobs.add(l.digest);
      try {
        const cfg = await this.content.readJSON<ImageConfigFile>(manifest.config.digest);
        for (const c of chainIDs(cfg.rootfs.diff_ids)) liveChains.add(c);
      } catch { /* config gone: nothing to keep for snapshots */ }
    }
    const result: GarbageCollectResult = { removedBlobs: [], reclaimedBytes: 0, removedSnapshots: [], keptInUse: [] };
    for (const b of await this.content.list()) {
      if (liveBlobs.has(b.digest)) continue;
      await this.content.delete(b.digest);
      result.removedBlobs.push(b.digest);
      result.reclaimedBytes += b.size;
    }
    const mounted = this.snapshots.inUseChainIDs();
    for (const s of await this.snapshots.list()) {
      if (liveChains.has(s.chainID)) continue;
      if (mounted.has(s.chainID)) { result.keptInUse.push(s.chainID); continue; }
      await this.snapshots.remove(s.chainID);
      result.removedSnapshots.push(s.chainID);
    }
    await this.snapshots.pruneTemp(3600_000);
    await pruneIngest(this.content, 3600_000, 86400_000);
    return result;
  }
}

async function pruneIngest(store: ContentStore, tempMs: number, partialMs: number): Promise<void> {
  let names: string[] = [];
  try { names = await fsp.readdir(store.ingestDir); } catch { return; }
  for (const n of names) {
    const p = join(store.ingestDir, n);
    const st = await fsp.stat(p).catch(() => undefined);
    if (!st) continue;
    const age = Date.now() - st.mtimeMs;
    if ((n.endsWith('.partial') && age > partialMs) || (!n.endsWith('.partial') && age > tempMs)) {
      await fsp.rm(p, { recursive: true, force: true });
    }
  }
}
