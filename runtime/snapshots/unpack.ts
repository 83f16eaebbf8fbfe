// Unpacks one layer tar into its own empty directory, in the form overlayfs reads as a lower dir:
// a whiteout `.wh.<name>` becomes a 0/0 character device <name>, and an opaque marker
// `.wh..wh..opq` becomes the trusted.overlay.opaque=y xattr on its directory (the layer's own
// entries in that directory stay; only lower layers are hidden). Ownership, modes (with setuid
// bits), mtimes, symlinks, hard links, devices, FIFOs and SCHILY.xattr.* pax records are kept.
// Paths are normalised ("./a", "/a" -> "a"), and an entry that would land outside the directory
// (".." components, or a parent that is a symlink) is refused.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp, chmodSync, linkSync, lchownSync, lstatSync, lutimesSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { posix, join } from 'node:path';
import { PassThrough, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { DiffIDMismatchError, UnpackError } from './errors';
import { lsetxattr, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../linux/libc';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
const SMALL_FILE = 4 << 20;

export type LayerCompression = 'none' | 'gzip' | 'zstd';

export interface UnpackStats {
  /** sha256 of the uncompressed tar ("sha256:<hex>"). */
  diffID: string;
  entries: number;
  whiteouts: number;
  opaqueDirs: number;
}

/** Detects compression from a blob's first bytes (gzip 1f 8b, zstd 28 b5 2f fd). */
export async function sniffCompression(file: string): Promise<LayerCompression> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    if (bytesRead >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
    if (bytesRead === 4 && buf.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  } finally {
    await fh.close();
  }
}

/** A stream that decompresses zstd through the zstd CLI (Node 20's zlib has no zstd). */
function zstdDecompressor(layer: string): Transform {
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  child.stdout.pipe(out);
  child.on('error', (err) => out.destroy(new UnpackError(layer, `zstd layers need the zstd command: ${err.message}`, { cause: err })));
  child.on('exit', (code) => { if (code !== 0) out.destroy(new UnpackError(layer, `zstd exited ${code}: ${stderr.trim()}`)); });
  return new Transform({
    transform(chunk, _enc, cb) { if (!child.stdin.write(chunk)) child.stdin.once('drain', () => cb()); else cb(); },
    flush(cb) {
      child.stdin.end();
      out.on('data', (c: Buffer) => this.push(c));
      out.on('end', () => cb());
      out.on('error', (err) => cb(err));
    },
  });
}

function normalizeName(raw: string, layer: string): string {
  let name = raw.replace(/^(\.\/|\/)+/, '');
  if (name === '.' || name === '') return '';
  name = posix.normalize(name).replace(/\/+$/, '');
  if (name === '.' || name === '') return '';
  if (name === '..' || name.startsWith('../')) throw new UnpackError(layer, `entry "${raw}" points outside the layer`);
  return name;
}

interface Pending { path: string; mtime: Date }

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

/**
 * Unpacks the layer blob at `blobPath` into `dir` (which must exist and be empty) and returns the
 * diffID it computed. If `expectedDiffID` is given and differs, throws DiffIDMismatchError (the
 * caller discards `dir`). `layer` names the layer in errors.
 */
export async function unpackLayer(blobPath: string, dir: string, opts: { layer: string; expectedDiffID?: string; compression?: LayerCompression }): Promise<UnpackStats> {
  const layer = opts.layer;
  const compression = opts.compression ?? await sniffCompression(blobPath);
  const hash = createHash('sha256');
  const hasher = new Transform({ transform(chunk: Buffer, _e, cb) { hash.update(chunk); cb(null, chunk); } });
  const asRoot = process.getuid?.() === 0;
  const knownDirs = new Set<string>(['']);
  const dirTimes: Pending[] = [];
  const stats = { entries: 0, whiteouts: 0, opaqueDirs: 0 };

  // Creates every missing parent of `rel`, refusing symlinks and non-directories on the way.
  const ensureParent = async (rel: string): Promise<void> => {
    const parts = rel.split('/');
    parts.pop();
    let cur = '';
    for (const p of parts) {
      cur = cur ? `${cur}/${p}` : p;
      if (knownDirs.has(cur)) continue;
      const abs = join(dir, cur);
      const st = lstatOrUndefined(abs);
      if (!st) mkdirSync(abs, { mode: 0o755 });
      else if (!st.isDirectory()) throw new UnpackError(layer, `parent "${cur}" of "${rel}" is not a directory`);
      knownDirs.add(cur);
    }
  };
  const clear = (abs: string, keepDir: boolean): void => {
    const st = lstatOrUndefined(abs);
    if (!st) return;
    if (st.isDirectory() && keepDir) return;
    rmSync(abs, { recursive: true, force: true });
  };

  const extract = tar.extract();
  const apply = async (header: tar.Header, body: Readable): Promise<void> => {
    stats.entries++;
    const rel = normalizeName(header.name, layer);
    if (rel === '') { body.resume(); return; }
    await ensureParent(rel);
    const abs = join(dir, rel);
    const base = posix.basename(rel);
    const parentAbs = join(dir, posix.dirname(rel));

    if (base === OPAQUE_MARKER) {
      body.resume();
      lsetxattr(parentAbs, OVERLAY_OPAQUE_XATTR, 'y');
      stats.opaqueDirs++;
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      body.resume();
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      // Other ".wh..wh.*" names are aufs bookkeeping (hard link dirs), not deletions.
      if (hidden.startsWith(WHITEOUT_PREFIX)) return;
      const target = join(parentAbs, hidden);
      clear(target, false);
      mknod(target, S_IFCHR, makedev(0, 0));
      stats.whiteouts++;
      return;
    }

    const mode = (header.mode ?? 0o644) & 0o7777;
    switch (header.type) {
      case 'directory': {
        clear(abs, true);
        if (!knownDirs.has(rel) && !lstatOrUndefined(abs)) mkdirSync(abs, { mode: 0o700 });
        knownDirs.add(rel);
        body.resume();
        break;
      }
      case 'file': case 'contiguous-file': {
        // Small files in one write (most of a rootfs); large ones streamed.
        if ((header.size ?? 0) <= SMALL_FILE) {
          const chunks: Buffer[] = [];
          for await (const c of body) chunks.push(c as Buffer);
          const data = Buffer.concat(chunks);
          clear(abs, false);
          writeFileSync(abs, data, { flag: 'wx', mode: 0o600 });
        } else {
          clear(abs, false);
          await pipeline(body, createWriteStream(abs, { flags: 'wx', mode: 0o600 }));
        }
        break;
      }
      case 'symlink': {
        body.resume();
        clear(abs, false);
        symlinkSync(header.linkname ?? '', abs);
        break;
      }
      case 'link': {
        body.resume();
        const targetRel = normalizeName(header.linkname ?? '', layer);
        const target = join(dir, targetRel);
        const st = lstatOrUndefined(target);
        if (!st || st.isDirectory()) throw new UnpackError(layer, `hard link "${rel}" -> "${header.linkname}": target not earlier in this layer`);
        clear(abs, false);
        linkSync(target, abs);
        // A hard link shares the target's inode: owner, mode and times are the target's.
        return;
      }
      case 'character-device': case 'block-device': case 'fifo': {
        body.resume();
        clear(abs, false);
        const kind = header.type === 'fifo' ? S_IFIFO : header.type === 'block-device' ? S_IFBLK : S_IFCHR;
        mknod(abs, kind | mode, header.type === 'fifo' ? 0n : makedev(header.devmajor ?? 0, header.devminor ?? 0));
        break;
      }
      default:
        // pax/GNU long-name records are consumed by the parser; anything else has no place in a rootfs.
        body.resume();
        return;
    }
    // Root creates files as 0:0 already: chown only for other owners.
    if (asRoot && ((header.uid ?? 0) !== 0 || (header.gid ?? 0) !== 0)) lchownSync(abs, header.uid ?? 0, header.gid ?? 0);
    // chmod after chown: chown clears setuid/setgid bits.
    if (header.type !== 'symlink') chmodSync(abs, mode);
    for (const [key, value] of Object.entries((header.pax ?? {}) as Record<string, string>)) {
      if (key.startsWith('SCHILY.xattr.')) lsetxattr(abs, key.slice('SCHILY.xattr.'.length), Buffer.from(value, 'latin1'));
    }
    const mtime = header.mtime ?? new Date(0);
    if (header.type === 'directory') dirTimes.push({ path: abs, mtime });
    else lutimesSync(abs, mtime, mtime);
  };

  const sink = new Writable({
    write(chunk, _e, cb) { if (!extract.write(chunk)) extract.once('drain', () => cb()); else cb(); },
    final(cb) { (extract as unknown as NodeJS.WritableStream).end(); cb(); },
  });
  const done = (async () => {
    for await (const entry of extract) {
      try {
        await apply(entry.header, entry as unknown as Readable);
        // Metadata calls are synchronous (a thread-pool round trip each is far slower for small
        // entries); yield to the event loop now and then so a big layer does not starve it.
        if (stats.entries % 64 === 0) await new Promise((r) => setImmediate(r));
      } catch (err) {
        entry.resume();
        throw err instanceof UnpackError ? err : new UnpackError(layer, `entry "${entry.header.name}": ${(err as Error).message}`, { cause: err });
      }
    }
  })();
  // If the tar parser stops early (an error), stop feeding it as well.
  done.catch(() => sink.destroy());
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream> = [createReadStream(blobPath)];
  if (compression === 'gzip') stages.push(createGunzip());
  else if (compression === 'zstd') stages.push(zstdDecompressor(layer));
  stages.push(hasher, sink);
  const piped = (pipeline as (...s: unknown[]) => Promise<void>)(...stages);
  await Promise.all([piped.catch(async (err) => { await done.catch(() => undefined); throw err; }), done]);

  // Directory mtimes last: creating entries inside a directory would change them.
  for (const d of dirTimes.reverse()) utimesSync(d.path, d.mtime, d.mtime);
  const diffID = `sha256:${hash.digest('hex')}`;
  if (opts.expectedDiffID && opts.expectedDiffID !== diffID) throw new DiffIDMismatchError(layer, opts.expectedDiffID, diffID);
  return { diffID, ...stats };
}
