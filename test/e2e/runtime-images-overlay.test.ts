// Root: mounts a real overlayfs over the lower dirs prepareRootfs returns (as the container side
// does) and checks what a container would see: whiteouts hide files, opaque dirs hide lower
// contents, writes land in the upper dir and never in a snapshot. Also runs the image's busybox
// in a chroot of the merged tree.
import { execFile, execFileSync } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageService, type PreparedRootfs } from '../../runtime/images';
import { buildBusyboxImage, type BusyboxImageFixture } from '../fixtures/images/busybox';

const run = promisify(execFile);
const mounted: string[] = [];
let dir: string;
let fixture: BusyboxImageFixture;
let svc: ImageService;

function unmountAll(): void {
  for (const m of mounted.splice(0).reverse()) {
    try { execFileSync('umount', ['-l', m]); } catch { /* already gone */ }
  }
}

async function mountOverlay(rootfs: PreparedRootfs, name: string): Promise<{ merged: string; upper: string }> {
  const base = join(dir, name);
  const upper = join(base, 'upper');
  const work = join(base, 'work');
  const merged = join(base, 'merged');
  for (const d of [upper, work, merged]) await fsp.mkdir(d, { recursive: true });
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${rootfs.lowerDirs.join(':')},upperdir=${upper},workdir=${work}`, merged], { timeout: 10_000 });
  mounted.push(merged);
  return { merged, upper };
}

/** Every path and its content hash under a dir, to prove a snapshot is untouched. */
async function treeDigest(root: string): Promise<string> {
  const { stdout } = await run('sh', ['-c', `cd '${root}' && find . -printf '%p %y %m %U:%G %s\\n' | sort && find . -type f -exec sha256sum {} + | sort`], { maxBuffer: 16 << 20, timeout: 30_000 });
  return stdout;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('this e2e test needs root (overlay mounts, whiteout devices)');
  dir = await fsp.mkdtemp(join(tmpdir(), 'orch-test-overlay-'));
  process.on('exit', unmountAll);
  fixture = await buildBusyboxImage();
  svc = new ImageService({ root: join(dir, 'images'), registriesConfig: { mirrors: {}, configs: {} } });
  await svc.importArchive(fixture.ociArchive);
}, 120_000);

afterAll(async () => {
  unmountAll();
  process.off('exit', unmountAll);
  await svc?.close();
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
}, 60_000);

describe('overlay of prepared snapshots', () => {
  it('shows the image as the layers say, keeps writes in the upper dir, and runs busybox', async () => {
    const rootfs = await svc.prepareRootfs('busybox');
    const before = await Promise.all(rootfs.lowerDirs.map(treeDigest));
    const { merged, upper } = await mountOverlay(rootfs, 'c1');

    for (const [path, content] of Object.entries(fixture.expect.present)) {
      const st = await fsp.lstat(join(merged, path));
      expect(st, path).toBeDefined();
      if (content !== null) expect(readFileSync(join(merged, path), 'utf8'), path).toBe(content);
    }
    for (const path of fixture.expect.absent) {
      await expect(fsp.lstat(join(merged, path)), path).rejects.toThrow(/ENOENT/);
    }
    // The opaque dir shows only the upper layer's entries.
    expect((await fsp.readdir(join(merged, 'opaque-dir'))).sort()).toEqual(['shared', 'upper-only']);
    // Same listing as the fixture's flattened rootfs.
    expect((await fsp.readdir(merged)).sort()).toEqual((await fsp.readdir(fixture.rootfs)).sort());
    expect((await fsp.readdir(join(merged, 'etc'))).sort()).toEqual((await fsp.readdir(join(fixture.rootfs, 'etc'))).sort());

    // The image's own busybox runs in the merged tree and sees the same view.
    const { stdout } = await run('chroot', [merged, '/bin/sh', '-c', 'cat /etc/layer2; ls /opaque-dir; test -e /etc/removed-by-whiteout || echo whiteout-hidden; id -un'], { timeout: 10_000 });
    expect(stdout.split('\n')).toEqual(['second layer', 'shared', 'upper-only', 'whiteout-hidden', 'root', '']);

    // Writes, deletes and re-creation go to the upper dir only.
    await fsp.writeFile(join(merged, 'etc/passwd'), 'changed\n');
    await fsp.writeFile(join(merged, 'tmp/new-file'), 'new\n');
    await fsp.rm(join(merged, 'var/www/index.html'));
    await fsp.writeFile(join(merged, 'etc/removed-by-whiteout'), 'recreated\n');
    expect(readFileSync(join(upper, 'etc/passwd'), 'utf8')).toBe('changed\n');
    expect(readFileSync(join(upper, 'tmp/new-file'), 'utf8')).toBe('new\n');
    expect((await fsp.lstat(join(upper, 'var/www/index.html'))).isCharacterDevice()).toBe(true);
    expect(await Promise.all(rootfs.lowerDirs.map(treeDigest))).toEqual(before);

    // A second container on the same snapshots sees the pristine image.
    const second = await mountOverlay(await svc.prepareRootfs(fixture.manifestDigest), 'c2');
    expect(readFileSync(join(second.merged, 'etc/passwd'), 'utf8')).toBe(fixture.expect.present['etc/passwd']);
    await expect(fsp.lstat(join(second.merged, 'tmp/new-file'))).rejects.toThrow(/ENOENT/);

    // GC keeps snapshots that are mounted even when no image names them any more.
    await svc.remove('busybox');
    const gc = await svc.garbageCollect();
    expect(gc.keptInUse.sort()).toEqual([...rootfs.chainIDs].sort());
    expect(gc.removedSnapshots).toEqual([]);
    unmountAll();
    const after = await svc.garbageCollect();
    expect(after.removedSnapshots.sort()).toEqual([...rootfs.chainIDs].sort());
    const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
    expect(mountinfo).not.toContain(dir);
  }, 120_000);
});
