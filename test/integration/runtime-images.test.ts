// The image service against a real docker-registry on 127.0.0.1 (no auth, basic auth, token auth),
// fixture images pushed with skopeo, and archives written by skopeo.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DigestMismatchError, ImageNotFoundError, ImageService, InvalidArchiveError, RegistryError, RegistryUnreachableError,
  MediaType, type ImageServiceOptions,
} from '../../runtime/images';
import { lgetxattr } from '../../runtime/snapshots';
import { buildBusyboxImage, type BusyboxImageFixture } from '../fixtures/images/busybox';
import { freePort, pushImage, startRegistry, type LocalRegistry } from '../fixtures/images/registry';

let fixture: BusyboxImageFixture;
let plain: LocalRegistry;
let basic: LocalRegistry;
let token: LocalRegistry;
const tmpDirs: string[] = [];
const services: ImageService[] = [];

async function tempDir(prefix: string): Promise<string> {
  const d = await fsp.mkdtemp(join(tmpdir(), `orch-test-images-${prefix}-`));
  tmpDirs.push(d);
  return d;
}

/** A fresh store with a registries.yaml written for this test. */
async function newService(registriesYaml = '', extra: Partial<ImageServiceOptions> = {}): Promise<ImageService> {
  const dir = await tempDir('svc');
  await fsp.writeFile(join(dir, 'registries.yaml'), registriesYaml);
  const svc = new ImageService({ root: join(dir, 'images'), registriesConfigPath: join(dir, 'registries.yaml'), disableDefaultEndpoint: true, ...extra });
  services.push(svc);
  return svc;
}

const insecure = (r: LocalRegistry | { host: string }, auth = '') =>
  `configs:\n  "${r.host}":\n    tls:\n      insecure_skip_verify: true\n${auth}`;

function blobFile(digest: string): string {
  return join(fixture.ociLayout, 'blobs', 'sha256', digest.slice(7));
}

/** A loopback HTTP proxy in front of a registry that records every request (method, path, range). */
async function recordingProxy(target: LocalRegistry): Promise<{ host: string; requests: Array<{ method: string; path: string; range?: string }>; close: () => Promise<void> }> {
  const requests: Array<{ method: string; path: string; range?: string }> = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', range: req.headers.range });
    const up = httpRequest({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { host: `127.0.0.1:${port}`, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

beforeAll(async () => {
  fixture = await buildBusyboxImage();
  [plain, basic, token] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: { kind: 'basic', username: 'alice', password: 's3cret' } }),
    startRegistry({ auth: { kind: 'token', username: 'bob', password: 'hunter2' } }),
  ]);
  // One push at a time into the same registry: docker-registry's filesystem driver can answer 500
  // ("failed to read from destination repository") when two pushes write the same blob links at once.
  const plainPushes = async (): Promise<void> => {
    for (const opts of [
      { tag: 'latest' }, { tag: 'v2', format: 'v2s2' as const }, { tag: 'multi', source: 'multi' as const },
      { tag: 'multilist', source: 'multi' as const, format: 'v2s2' as const }, { repository: 'library/busybox', tag: 'latest' },
    ]) await pushImage(plain, fixture, opts);
  };
  await Promise.all([plainPushes(), pushImage(basic, fixture, {}), pushImage(token, fixture, {})]);
}, 180_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
  await Promise.all([plain, basic, token].filter(Boolean).map((r) => r.stop()));
  await Promise.all(tmpDirs.map((d) => fsp.rm(d, { recursive: true, force: true })));
}, 60_000);

describe('pull from a local registry', () => {
  it('pulls an OCI manifest, verifies it, and prepares the rootfs', async () => {
    const svc = await newService(insecure(plain));
    const events: string[] = [];
    const res = await svc.pull(`${plain.host}/busybox:latest`, { onProgress: (p) => events.push(p.kind) });
    expect(res.image.name).toBe(`${plain.host}/busybox:latest`);
    expect(res.image.manifestDigest).toBe(fixture.manifestDigest);
    expect(res.image.target.mediaType).toBe(MediaType.ociManifest);
    expect(res.image.platform).toBe('linux/amd64');
    expect(res.fetchedBytes).toBe(fixture.layers.reduce((s, l) => s + l.size, 0) + (await svc.content.size(fixture.configDigest)));
    expect(events).toContain('resolved');
    expect(events).toContain('unpacked');
    for (const l of fixture.layers) expect(readFileSync(svc.content.blobPath(l.digest)).equals(readFileSync(blobFile(l.digest)))).toBe(true);

    const rootfs = await svc.prepareRootfs(`${plain.host}/busybox`);
    expect(rootfs.imageDigest).toBe(fixture.manifestDigest);
    expect(rootfs.imageID).toBe(fixture.configDigest);
    expect(rootfs.lowerDirs).toHaveLength(2);
    expect(rootfs.config.Cmd).toEqual(['/bin/sh']);
    expect(rootfs.config.Env).toContain('ORCH_FIXTURE=busybox');
    expect(rootfs.config.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(rootfs.config.StopSignal).toBe('SIGTERM');
    // Top-most first: the upper layer holds the whiteout device and the opaque xattr.
    const [upper, base] = rootfs.lowerDirs;
    const wh = await fsp.lstat(join(upper, 'etc/removed-by-whiteout'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect((await fsp.lstat(join(upper, 'gone-dir'))).isCharacterDevice()).toBe(true);
    expect(lgetxattr(join(upper, 'opaque-dir'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(lgetxattr(join(base, 'opaque-dir'), 'trusted.overlay.opaque')).toBeUndefined();
    expect(await fsp.readFile(join(base, 'etc/removed-by-whiteout'), 'utf8')).toContain('deleted by the upper layer');
    // Ownership, modes, hard and symbolic links survive.
    const owned = await fsp.lstat(join(upper, 'home/nobody/owned'));
    expect([owned.uid, owned.gid, owned.mode & 0o7777]).toEqual([65534, 65534, 0o600]);
    expect((await fsp.lstat(join(base, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect((await fsp.stat(join(base, 'etc/hardlink'))).ino).toBe((await fsp.stat(join(base, 'etc/hardlink-target'))).ino);
    expect(await fsp.readlink(join(base, 'bin/sh'))).toBe('busybox');
    expect((await fsp.lstat(join(base, 'bin/busybox'))).mode & 0o777).toBe(0o755);
    expect((await fsp.lstat(join(base, 'etc/passwd'))).mtime.toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });

  it('pulls a Docker v2 schema 2 manifest', async () => {
    const svc = await newService(insecure(plain));
    const res = await svc.pull(`${plain.host}/busybox:v2`);
    expect(res.image.target.mediaType).toBe(MediaType.dockerManifest);
    const info = await svc.inspect(`${plain.host}/busybox:v2`);
    expect(info.manifest.layers.map((l) => l.mediaType)).toEqual([MediaType.dockerLayerGzip, MediaType.dockerLayerGzip]);
    expect(info.layers.map((l) => l.diffID)).toEqual(fixture.layers.map((l) => l.diffID));
    expect(info.layers.every((l) => l.unpacked)).toBe(true);
  });

  it('resolves an OCI index and a Docker manifest list to the linux/amd64 manifest', async () => {
    const svc = await newService(insecure(plain));
    const oci = await svc.pull(`${plain.host}/busybox:multi`);
    expect(oci.image.target).toMatchObject({ mediaType: MediaType.ociIndex, digest: fixture.indexDigest });
    expect(oci.image.manifestDigest).toBe(fixture.manifestDigest);
    expect(oci.image.manifestDigest).not.toBe(fixture.arm64ManifestDigest);
    const list = await svc.pull(`${plain.host}/busybox:multilist`);
    expect(list.image.target.mediaType).toBe(MediaType.dockerManifestList);
    const info = await svc.inspect(`${plain.host}/busybox:multilist`);
    expect(info.configFile.architecture).toBe('amd64');
    expect(info.manifest.layers).toHaveLength(2); // the arm64 variant has three
    // Pulling for arm64 picks the other manifest.
    const arm = await newService(insecure(plain), { platform: { os: 'linux', architecture: 'arm64' } });
    const a = await arm.pull(`${plain.host}/busybox:multi`, { unpack: false });
    expect(a.image.manifestDigest).toBe(fixture.arm64ManifestDigest);
  });

  it('normalises a short name and pulls it through a docker.io mirror', async () => {
    const svc = await newService(`mirrors:\n  docker.io:\n    endpoint:\n      - "http://${plain.host}"\n`);
    const res = await svc.pull('busybox', { unpack: false });
    expect(res.image.name).toBe('docker.io/library/busybox:latest');
    expect(res.image.manifestDigest).toBe(fixture.manifestDigest);
    expect((await svc.resolve('busybox:latest')).name).toBe('docker.io/library/busybox:latest');
    expect((await svc.resolve('docker.io/library/busybox')).manifestDigest).toBe(fixture.manifestDigest);
  });

  it('authenticates with basic auth from registries.yaml and reports the registry error without it', async () => {
    const withCreds = await newService(insecure(basic, '    auth:\n      username: alice\n      password: s3cret\n'));
    const ok = await withCreds.pull(`${basic.host}/busybox:latest`, { unpack: false });
    expect(ok.image.manifestDigest).toBe(fixture.manifestDigest);
    const without = await newService(insecure(basic));
    const err = await without.pull(`${basic.host}/busybox:latest`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).code).toBe('REGISTRY_ERROR');
    expect((err as RegistryError).registryCode).toBe('UNAUTHORIZED');
    expect((err as RegistryError).status).toBe(401);
  });

  it('follows the bearer-token challenge to a token server', async () => {
    const before = token.tokenServer!.issued();
    const svc = await newService(insecure(token, '    auth:\n      username: bob\n      password: hunter2\n'));
    const ok = await svc.pull(`${token.host}/busybox:latest`, { unpack: false });
    expect(ok.image.manifestDigest).toBe(fixture.manifestDigest);
    // One token for the repository's pull scope, reused for every blob.
    expect(token.tokenServer!.issued() - before).toBe(1);
    const wrong = await newService(insecure(token, '    auth:\n      username: bob\n      password: wrong\n'));
    const err = await wrong.pull(`${token.host}/busybox:latest`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).registryCode).toBe('UNAUTHORIZED');
    expect((err as Error).message).toContain('bad credentials');
  });

  it('needs the insecure setting (or plain http) for a registry without TLS', async () => {
    // Explicit https mirror: the plain-HTTP registry cannot be reached over TLS.
    const strict = await newService(`mirrors:\n  "${plain.host}":\n    endpoint:\n      - "https://${plain.host}"\n`);
    const err = await strict.pull(`${plain.host}/busybox:latest`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryUnreachableError);
    expect((err as Error).message).toContain(plain.host);
    // insecure_skip_verify on the host: HTTPS is tried, then plain HTTP.
    const relaxed = await newService(insecure(plain));
    expect((await relaxed.pull(`${plain.host}/busybox:latest`, { unpack: false })).image.manifestDigest).toBe(fixture.manifestDigest);
  });

  it('resumes a partial blob with a Range request and restarts a corrupt one', async () => {
    const proxy = await recordingProxy(plain);
    try {
      const svc = await newService(insecure(proxy));
      await svc.init();
      const layer = fixture.layers[0];
      const data = readFileSync(blobFile(layer.digest));
      const half = Math.floor(data.length / 2);
      await fsp.writeFile(svc.content.partialPath(layer.digest), data.subarray(0, half));
      const res = await svc.pull(`${proxy.host}/busybox:latest`, { unpack: false });
      expect(res.resumed).toEqual([{ digest: layer.digest, from: half }]);
      const blobGets = proxy.requests.filter((r) => r.path.endsWith(`/blobs/${layer.digest}`));
      expect(blobGets).toEqual([{ method: 'GET', path: `/v2/busybox/blobs/${layer.digest}`, range: `bytes=${half}-` }]);
      expect(createHash('sha256').update(readFileSync(svc.content.blobPath(layer.digest))).digest('hex')).toBe(layer.digest.slice(7));

      // A partial file with wrong bytes: the resumed result fails verification, the blob is fetched again whole.
      const svc2 = await newService(insecure(proxy));
      await svc2.init();
      await fsp.writeFile(svc2.content.partialPath(layer.digest), Buffer.alloc(half, 0x41));
      proxy.requests.length = 0;
      const res2 = await svc2.pull(`${proxy.host}/busybox:latest`, { unpack: false });
      expect(res2.image.manifestDigest).toBe(fixture.manifestDigest);
      expect(proxy.requests.filter((r) => r.path.endsWith(`/blobs/${layer.digest}`)).map((r) => r.range)).toEqual([`bytes=${half}-`, undefined]);
      expect(await svc2.content.has(layer.digest)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('skips blobs it has and shares one download between concurrent pulls', async () => {
    const proxy = await recordingProxy(plain);
    try {
      const svc = await newService(insecure(proxy));
      const [a, b] = await Promise.all([
        svc.pull(`${proxy.host}/busybox:latest`, { unpack: false }),
        svc.pull(`${proxy.host}/busybox:v2`, { unpack: false }),
      ]);
      expect(a.image.configDigest).toBeDefined();
      expect(b.image.configDigest).toBeDefined();
      // The OCI and Docker variants share their (identical) layer blobs: each is fetched once.
      for (const l of fixture.layers) {
        expect(proxy.requests.filter((r) => r.path.endsWith(`/blobs/${l.digest}`))).toHaveLength(1);
      }
      proxy.requests.length = 0;
      const again = await svc.pull(`${proxy.host}/busybox:latest`, { unpack: false });
      expect(again.fetchedBytes).toBe(0);
      expect(again.skippedBlobs).toBe(3);
      expect(proxy.requests.filter((r) => r.path.includes('/blobs/'))).toHaveLength(0);
    } finally {
      await proxy.close();
    }
  });

  it('rejects a blob whose bytes do not match its digest', async () => {
    const reg = await startRegistry();
    try {
      await pushImage(reg, fixture, {});
      // Corrupt the stored upper layer in the registry's own storage (same length, other bytes).
      const victim = fixture.layers[1];
      const path = join(reg.storageDir, 'docker/registry/v2/blobs/sha256', victim.digest.slice(7, 9), victim.digest.slice(7), 'data');
      const bytes = readFileSync(path);
      bytes[bytes.length - 5] ^= 0xff;
      await fsp.writeFile(path, bytes);
      const svc = await newService(insecure(reg));
      const err = await svc.pull(`${reg.host}/busybox:latest`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DigestMismatchError);
      expect((err as DigestMismatchError).code).toBe('DIGEST_MISMATCH');
      expect((err as DigestMismatchError).expected).toBe(victim.digest);
      expect(await svc.content.has(victim.digest)).toBe(false);
      await expect(fsp.stat(svc.content.partialPath(victim.digest))).rejects.toThrow(/ENOENT/);
      await expect(svc.resolve(`${reg.host}/busybox:latest`)).rejects.toBeInstanceOf(ImageNotFoundError);
    } finally {
      await reg.stop();
    }
  });

  it("shows the registry's own message for a missing tag", async () => {
    const svc = await newService(insecure(plain));
    const err = await svc.pull(`${plain.host}/busybox:no-such-tag`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).status).toBe(404);
    expect((err as Error).message).toContain('MANIFEST_UNKNOWN: manifest unknown');
    expect((err as Error).message).toContain(`${plain.host}/busybox:no-such-tag`);
  });

  it('names the address of an unreachable registry', async () => {
    const port = await freePort();
    const svc = await newService(`configs:\n  "127.0.0.1:${port}":\n    tls:\n      insecure_skip_verify: true\n`);
    const err = await svc.pull(`127.0.0.1:${port}/busybox:latest`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryUnreachableError);
    expect((err as RegistryUnreachableError).code).toBe('REGISTRY_UNREACHABLE');
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).toContain('ECONNREFUSED');
  });
});

describe('archives', () => {
  it('imports a docker-archive (uncompressed layers) and unpacks it', async () => {
    const svc = await newService();
    const records = await svc.importArchive(fixture.dockerArchive);
    expect(records.map((r) => r.name)).toEqual(['docker.io/library/busybox:latest']);
    const info = await svc.inspect('busybox');
    expect(info.manifest.mediaType).toBe(MediaType.dockerManifest);
    expect(info.manifest.layers.map((l) => l.mediaType)).toEqual([MediaType.dockerLayer, MediaType.dockerLayer]);
    // Uncompressed layers: the blob digest is the diffID.
    expect(info.manifest.layers.map((l) => l.digest)).toEqual(fixture.layers.map((l) => l.diffID));
    const rootfs = await svc.prepareRootfs('busybox:latest');
    expect(rootfs.lowerDirs).toHaveLength(2);
    expect(rootfs.config.Cmd).toEqual(['/bin/sh']);
    expect((await fsp.lstat(join(rootfs.lowerDirs[0], 'etc/removed-by-whiteout'))).isCharacterDevice()).toBe(true);
    // Importing again stores nothing new and keeps one record.
    const blobsBefore = (await svc.content.list()).length;
    await svc.importArchive(fixture.dockerArchive);
    expect((await svc.content.list()).length).toBe(blobsBefore);
    expect(await svc.list()).toHaveLength(1);
  });

  it('imports an OCI archive with the same layers and snapshots', async () => {
    const svc = await newService();
    const records = await svc.importArchive(fixture.ociArchive);
    expect(records).toHaveLength(1);
    expect(records[0].manifestDigest).toBe(fixture.manifestDigest);
    expect(records[0].name).toBe('docker.io/library/busybox:latest');
    const rootfs = await svc.prepareRootfs(fixture.manifestDigest);
    expect(rootfs.imageName).toBe('docker.io/library/busybox:latest');
    expect(await fsp.readFile(join(rootfs.lowerDirs[0], 'opaque-dir/shared'), 'utf8')).toBe('upper\n');
    // Lookups by config digest (image ID) and its short prefix.
    expect((await svc.resolve(fixture.configDigest)).name).toBe('docker.io/library/busybox:latest');
    expect((await svc.resolve(fixture.configDigest.slice(7, 19))).name).toBe('docker.io/library/busybox:latest');
  });

  it('imports an air-gap directory once, reporting bad archives', async () => {
    const dir = await tempDir('airgap');
    await fsp.copyFile(fixture.dockerArchive, join(dir, 'a-busybox-docker.tar'));
    await fsp.copyFile(fixture.ociArchive, join(dir, 'b-busybox-oci.tar'));
    await fsp.writeFile(join(dir, 'c-broken.tar'), 'not a tar at all');
    await fsp.writeFile(join(dir, 'README.txt'), 'ignored');
    const svc = await newService();
    const first = await svc.importAirgapDir(dir);
    expect(first.imported.map((i) => i.file)).toEqual([join(dir, 'a-busybox-docker.tar'), join(dir, 'b-busybox-oci.tar')]);
    expect(first.failed.map((f) => f.file)).toEqual([join(dir, 'c-broken.tar')]);
    expect(first.failed[0].error).toBeInstanceOf(InvalidArchiveError);
    const second = await svc.importAirgapDir(dir);
    expect(second.skipped).toHaveLength(2);
    expect(second.imported).toHaveLength(0);
    expect((await svc.importAirgapDir(join(dir, 'missing'))).imported).toEqual([]);
  });
});

describe('store maintenance', () => {
  it('lists, inspects, removes and garbage-collects', async () => {
    const svc = await newService(insecure(plain));
    await svc.pull(`${plain.host}/busybox:latest`);
    const [imported] = await svc.importArchive(fixture.dockerArchive);
    expect((await svc.list()).map((r) => r.name).sort()).toEqual([`${plain.host}/busybox:latest`, 'docker.io/library/busybox:latest'].sort());
    // The docker-archive's uncompressed layers have the same diffIDs: the snapshots are shared.
    expect(await svc.snapshots.list()).toHaveLength(2);

    // Nothing unreferenced yet.
    expect((await svc.garbageCollect()).removedBlobs).toEqual([]);
    await svc.remove('busybox');
    await expect(svc.resolve('busybox')).rejects.toBeInstanceOf(ImageNotFoundError);
    const gc = await svc.garbageCollect();
    // The import's manifest and two uncompressed layers go; the config (same bytes) and the pulled image's blobs stay.
    expect(gc.removedBlobs.sort()).toEqual([imported.manifestDigest, ...fixture.layers.map((l) => l.diffID)].sort());
    expect(imported.configDigest).toBe(fixture.configDigest);
    expect(await svc.content.has(fixture.configDigest)).toBe(true);
    expect(gc.removedSnapshots).toEqual([]);
    for (const l of fixture.layers) expect(await svc.content.has(l.digest)).toBe(true);

    // An image still used by a container (inUse) survives removal of its name.
    const pulled = await svc.resolve(`${plain.host}/busybox:latest`);
    await svc.remove(pulled.configDigest);
    expect(await svc.list()).toEqual([]);
    const kept = await svc.garbageCollect({ inUse: [pulled.manifestDigest] });
    expect(kept.removedBlobs).toEqual([]);
    expect(kept.removedSnapshots).toEqual([]);
    const all = await svc.garbageCollect();
    expect(all.removedSnapshots).toHaveLength(2);
    expect(await svc.content.list()).toEqual([]);
    expect(await svc.snapshots.list()).toEqual([]);
    await expect(svc.prepareRootfs(`${plain.host}/busybox:latest`)).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });
});

describe('orch images CLI', () => {
  const repo = resolve(__dirname, '../..');
  const orch = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await promisify(execFile)(join(repo, 'node_modules/.bin/tsx'), [join(repo, 'cmd/orch.ts'), ...args], { cwd: repo, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  it('pulls, lists, inspects, imports and removes, with errors on stderr and a non-zero exit', async () => {
    const dir = await tempDir('cli');
    const cfg = join(dir, 'registries.yaml');
    await fsp.writeFile(cfg, insecure(plain));
    const common = ['--data-dir', dir, '--registries-config', cfg];
    const pull = await orch(['images', 'pull', ...common, `${plain.host}/busybox:latest`]);
    expect(pull.stderr).toContain(`resolved ${plain.host}/busybox:latest -> ${fixture.manifestDigest}`);
    expect(pull.stderr).toMatch(/layer [0-9a-f]{12}: done/);
    expect(pull.stdout.trim()).toBe(`${plain.host}/busybox:latest ${fixture.manifestDigest}`);
    expect(pull.code).toBe(0);

    const imp = await orch(['images', 'import', ...common, fixture.dockerArchive]);
    expect(imp.stdout).toMatch(/^docker\.io\/library\/busybox:latest sha256:[0-9a-f]{64}$/m);

    const ls = await orch(['images', 'ls', ...common]);
    expect(ls.stdout).toMatch(new RegExp(`^${plain.host}/busybox\\s+latest\\s+${fixture.configDigest.slice(7, 19)}`, 'm'));
    expect(ls.stdout).toMatch(/^busybox\s+latest\s+/m);

    const inspect = JSON.parse((await orch(['images', 'inspect', ...common, `${plain.host}/busybox`])).stdout) as { record: { manifestDigest: string }; layers: Array<{ unpacked: boolean }> };
    expect(inspect.record.manifestDigest).toBe(fixture.manifestDigest);
    expect(inspect.layers.map((l) => l.unpacked)).toEqual([true, true]);

    const missing = await orch(['images', 'pull', ...common, `${plain.host}/busybox:nope`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('MANIFEST_UNKNOWN: manifest unknown');

    const rm = await orch(['images', 'rm', ...common, 'busybox', `${plain.host}/busybox:latest`]);
    expect(rm.stdout).toContain('Deleted: docker.io/library/busybox:latest');
    expect(rm.stdout).toMatch(/Reclaimed .* \(\d+ blobs, 2 snapshots\)/);
    const gone = await orch(['images', 'inspect', ...common, 'busybox']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('image "busybox" not found locally');
  }, 120_000);
});
