// Native addons inside the single executable. `npm run build` embeds better-sqlite3's and koffi's
// `.node` files as SEA assets (build/build.mjs); a process can only dlopen a real file, so the first
// run writes them to a versioned cache directory and every later run loads them from there.
// From source (tsx, vitest) nothing here runs: the addons load from node_modules as usual.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** The addons the executable carries; the names are the npm packages they belong to. */
export type NativeAddonName = 'better-sqlite3' | 'koffi';

/** Written by build/build.mjs as the SEA asset `orch-native.json`. */
interface NativeManifest {
  /** orch's package version at build time. */
  version: string;
  /** sha256 over every embedded addon; names the cache directory so builds never mix. */
  contentHash: string;
  /** sha256: the addon's own digest, so a cached copy is checked without touching the embedded bytes. */
  addons: Record<NativeAddonName, { asset: string; relativePath: string; size: number; sha256: string }>;
}

export type NativeAddonErrorCode = 'NativeAddonUnavailable' | 'NativeAddonCacheUnusable';

export class NativeAddonError extends Error {
  override name = 'NativeAddonError';
  constructor(readonly code: NativeAddonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface NativeAddons {
  /** The loaded better-sqlite3 addon object, for better-sqlite3's `nativeBinding` option; undefined from source. */
  betterSqlite3Binding?: object;
  /** Where the addons were extracted; undefined from source. */
  cacheDir?: string;
}

/** The SEA asset that describes the embedded addons (build/build.mjs writes it). */
export const NATIVE_MANIFEST_ASSET = 'orch-native.json';

type SeaModule = typeof import('node:sea');

let seaModule: SeaModule | null | undefined;
function sea(): SeaModule | null {
  if (seaModule === undefined) {
    try {
      // node:sea exists from Node 20.12; required lazily because test runners do not know it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require('node:sea') as SeaModule;
      seaModule = mod.isSea() ? mod : null;
    } catch {
      seaModule = null;
    }
  }
  return seaModule;
}

/** True inside the built single executable, false when running from source. */
export function isSingleExecutable(): boolean {
  return sea() !== null;
}

let manifest: NativeManifest | undefined;
function readManifest(s: SeaModule): NativeManifest {
  if (!manifest) {
    let raw: ArrayBuffer;
    try {
      raw = s.getAsset(NATIVE_MANIFEST_ASSET);
    } catch (err) {
      throw new NativeAddonError('NativeAddonUnavailable',
        `this executable carries no ${NATIVE_MANIFEST_ASSET} asset; rebuild it with npm run build`, { cause: err });
    }
    manifest = JSON.parse(Buffer.from(raw).toString('utf8')) as NativeManifest;
  }
  return manifest;
}

/**
 * The base directories tried in order: $XDG_CACHE_HOME/orch, /var/lib/orch/cache for root,
 * ~/.cache/orch, then a per-user directory under the temp dir (a read-only home must not stop orch).
 */
export function cacheBaseCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)) out.push(path.join(env.XDG_CACHE_HOME, 'orch'));
  if (process.getuid?.() === 0) out.push('/var/lib/orch/cache');
  const home = env.HOME || os.homedir();
  if (home) out.push(path.join(home, '.cache', 'orch'));
  out.push(path.join(os.tmpdir(), `orch-cache-${process.getuid?.() ?? 'user'}`));
  return out;
}

/** Cache directories that exist (or could be made) and are writable, in preference order. */
function* usableCacheDirs(m: NativeManifest, tried: string[]): Generator<string> {
  const leaf = `${m.version}-${m.contentHash.slice(0, 16)}`;
  for (const base of cacheBaseCandidates()) {
    const dir = path.join(base, leaf);
    try {
      // 0700: whoever can write here can make orch load their code.
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.accessSync(dir, fs.constants.W_OK);
    } catch (err) {
      tried.push(`${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      continue;
    }
    yield dir;
  }
}

/**
 * Makes `file` hold exactly the expected content (size and sha256): an existing file with that
 * content is kept (so a second run writes nothing, and `bytes` is never called: the embedded pages
 * stay out of memory); a missing, partial or corrupt one is replaced by writing a private temp file
 * and renaming it over, so concurrent starts and crashes never expose a half-written addon.
 */
export function ensureFileContent(file: string, expected: { size: number; sha256: string }, bytes: () => Uint8Array): 'kept' | 'written' {
  try {
    const st = fs.statSync(file);
    if (st.size === expected.size && createHash('sha256').update(fs.readFileSync(file)).digest('hex') === expected.sha256) return 'kept';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    fs.writeFileSync(tmp, bytes(), { mode: 0o500 });
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  return 'written';
}

const loaded = new Map<NativeAddonName, { exports: object; dir: string }>();

/**
 * Extracts one embedded addon (once per process; once per machine and build) and loads it.
 * Only valid inside the executable: the bundle routes better-sqlite3's `bindings` lookup and
 * koffi's platform package here (build/build.mjs), so import order does not matter.
 */
export function loadEmbeddedAddon(name: NativeAddonName): object {
  const hit = loaded.get(name);
  if (hit) return hit.exports;
  const s = sea();
  if (!s) {
    throw new NativeAddonError('NativeAddonUnavailable',
      `the ${name} addon is embedded only in the built executable; this bundle runs only as dist/orch`);
  }
  const m = readManifest(s);
  const entry = m.addons[name];
  if (!entry) throw new NativeAddonError('NativeAddonUnavailable', `this executable does not carry the ${name} addon`);
  // getRawAsset hands out the bytes inside the executable's mapping, without a copy; they are
  // read only when the cache needs writing.
  const bytes = (): Uint8Array => new Uint8Array(s.getRawAsset(entry.asset) as ArrayBuffer);
  const tried: string[] = [];
  for (const dir of usableCacheDirs(m, tried)) {
    const file = path.join(dir, entry.relativePath);
    let exports: object;
    try {
      ensureFileContent(file, entry, bytes);
      // The SEA's own require loads only built-ins; a real require from the file's path dlopens it.
      exports = createRequire(file)(file) as object;
    } catch (err) {
      // A full disk or a noexec mount: try the next directory.
      tried.push(`${file} (${(err as Error).message})`);
      continue;
    }
    loaded.set(name, { exports, dir });
    if (name === 'koffi') {
      // koffi's own fallback looks in <process.resourcesPath>/koffi/<triplet>/koffi.node: the same
      // layout, so koffi entry points the bundle does not redirect find the addon too.
      const proc = process as NodeJS.Process & { resourcesPath?: string };
      proc.resourcesPath ??= dir;
    }
    return exports;
  }
  throw new NativeAddonError('NativeAddonCacheUnusable',
    `cannot extract and load orch's ${name} addon; tried ${tried.join(', ')}; set XDG_CACHE_HOME to a writable, exec-allowed directory`);
}

let prepared: NativeAddons | undefined;

/**
 * Call in a command's action before opening SQLite or using FFI (not at start: `--version` needs
 * no addon). In the executable it extracts and loads every embedded addon and returns
 * better-sqlite3's, to pass as `nativeBinding`; from source it does nothing and returns {}.
 * Idempotent: later calls return the same result. Throws NativeAddonError with the reason.
 */
export function prepareNativeAddons(): NativeAddons {
  if (prepared) return prepared;
  const s = sea();
  if (!s) {
    prepared = {};
    return prepared;
  }
  const betterSqlite3Binding = loadEmbeddedAddon('better-sqlite3');
  loadEmbeddedAddon('koffi');
  prepared = { betterSqlite3Binding, cacheDir: loaded.get('better-sqlite3')?.dir };
  return prepared;
}

/**
 * The command line that runs this same orch again with `args`: the executable itself, or from
 * source node with tsx's loader flags and the entry script (for probes that must run in a child).
 */
export function selfCommand(args: string[]): { file: string; args: string[] } {
  if (isSingleExecutable()) return { file: process.execPath, args };
  return { file: process.execPath, args: [...process.execArgv, process.argv[1] ?? '', ...args] };
}
