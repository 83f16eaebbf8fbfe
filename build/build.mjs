// `npm run build`: bundles the CLI with esbuild, then makes dist/orch, a Node single executable
// application (SEA), from the local Node binary with no download: node --experimental-sea-config
// writes the blob, postject injects it into a copy of process.execPath. The native addons
// (better-sqlite3, koffi) travel as SEA assets; cmd/native-addons.ts extracts them at run time.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'build', 'out');
const distDir = path.join(root, 'dist');
const require = createRequire(path.join(root, 'package.json'));
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const nativeAddonsModule = path.join(root, 'cmd', 'native-addons.ts');

class BuildError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BuildError';
    this.code = 'BuildFailed';
  }
}

process.on('uncaughtException', (err) => {
  console.error(`npm run build: ${err instanceof BuildError ? err.message : (err?.stack ?? String(err))}`);
  process.exit(1);
});
const started = performance.now();
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
fs.mkdirSync(outDir, { recursive: true });
fs.mkdirSync(distDir, { recursive: true });

// 1. The native addons the executable carries, from this machine's node_modules.
const koffiPlatformPkg = `@koromix/koffi-${process.platform}-${process.arch}`;
const addons = {
  'better-sqlite3': {
    asset: 'better_sqlite3.node',
    // koffi-style layout is irrelevant for better-sqlite3: it is loaded by path, then passed around.
    relativePath: 'better_sqlite3.node',
    source: path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node'),
  },
  koffi: {
    asset: 'koffi.node',
    // The layout koffi itself looks for under a resources directory (<dir>/koffi/<triplet>/koffi.node).
    relativePath: path.join('koffi', `${process.platform}_${process.arch}`, 'koffi.node'),
    source: path.join(
      path.dirname(createRequire(require.resolve('koffi')).resolve(`${koffiPlatformPkg}/package.json`)),
      `${process.platform}_${process.arch}`, 'koffi.node'),
  },
};
const contentHash = createHash('sha256');
const manifest = { version: pkg.version, contentHash: '', addons: {} };
for (const [name, a] of Object.entries(addons)) {
  if (!fs.existsSync(a.source)) throw new BuildError(`the ${name} addon is missing at ${a.source}; run npm ci`);
  const bytes = fs.readFileSync(a.source);
  contentHash.update(name).update(bytes);
  manifest.addons[name] = { asset: a.asset, relativePath: a.relativePath, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}
manifest.contentHash = contentHash.digest('hex');
// Intermediate files carry the build's pid, so two builds at once (two test runs) never mix them.
const tmpTag = `tmp-${process.pid}`;
process.on('exit', () => {
  for (const f of fs.readdirSync(outDir)) if (f.includes(tmpTag)) fs.rmSync(path.join(outDir, f), { force: true });
});
const manifestFile = path.join(outDir, `orch-native.${tmpTag}.json`);
fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));

// 2. The bundles, CommonJS. A SEA's require loads only built-ins, so every package is bundled and
// the packages that would dlopen a file are redirected to the embedded copies.
const nativeRedirects = {
  name: 'orch-native-redirects',
  setup(b) {
    // better-sqlite3 finds its addon with `require('bindings')('better_sqlite3.node')`.
    b.onResolve({ filter: /^bindings$/ }, (args) => ({ path: args.importer, namespace: 'orch-bindings' }));
    b.onLoad({ filter: /.*/, namespace: 'orch-bindings' }, () => ({
      resolveDir: root,
      loader: 'js',
      contents: `const { loadEmbeddedAddon } = require(${JSON.stringify(nativeAddonsModule)});
module.exports = function bindings(name) {
  if (!/^better_sqlite3(\\.node)?$/.test(String(name))) {
    throw Object.assign(new Error('orch executable: no embedded addon ' + name), { code: 'MODULE_NOT_FOUND' });
  }
  return loadEmbeddedAddon('better-sqlite3');
};`,
    }));
    // koffi first tries require('@koromix/koffi-<platform>-<arch>') (its "static" load).
    b.onResolve({ filter: /^@koromix\/koffi-/ }, (args) => ({ path: args.path, namespace: 'orch-koffi' }));
    b.onLoad({ filter: /.*/, namespace: 'orch-koffi' }, (args) => ({
      resolveDir: root,
      loader: 'js',
      contents: args.path === koffiPlatformPkg
        // koffi swallows this error and reports "Cannot find the native Koffi module": say why first.
        ? `try { module.exports = require(${JSON.stringify(nativeAddonsModule)}).loadEmbeddedAddon('koffi'); }
catch (err) { process.stderr.write('orch: ' + err.message + '\\n'); throw err; }`
        : `module.exports = undefined;`,
    }));
    // ws's optional accelerators: absent, as ws expects them to be (it catches the failure).
    b.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (args) => ({ path: args.path, namespace: 'orch-absent' }));
    b.onLoad({ filter: /.*/, namespace: 'orch-absent' }, (args) => ({
      loader: 'js',
      contents: `throw Object.assign(new Error(${JSON.stringify(`${args.path} is not part of the orch executable`)}), { code: 'MODULE_NOT_FOUND' });`,
    }));
  },
};
// The bundle is CommonJS, so take every package's CommonJS build when it has one (TypeScript's
// `import` would pick the ESM build, whose createRequire(import.meta.url) is empty in CommonJS,
// as koffi's is). Both kinds of import then share one instance of each package.
const preferRequire = {
  name: 'orch-prefer-require',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData?.orchPreferRequire || (args.kind !== 'import-statement' && args.kind !== 'dynamic-import')) return undefined;
      if (args.path.startsWith('node:')) return undefined;
      const r = await b.resolve(args.path, {
        kind: 'require-call', importer: args.importer, resolveDir: args.resolveDir, pluginData: { orchPreferRequire: true },
      });
      return r.errors.length ? undefined : r;
    });
  },
};
// Two bundles: the CLI (cmd/orch.ts, every command) and the shim (runtime/shim/entry.ts), the
// one program a container's shim runs. build/sea-main.cjs, the executable's main script, picks
// one by argv, so a shim never holds the CLI's modules (~24 MiB of private memory each).
const bundleOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  plugins: [nativeRedirects, preferRequire],
  // For ESM-only packages: import.meta.url is the executable's own file URL.
  define: { 'import.meta.url': '__orchImportMetaUrl' },
  banner: { js: 'const __orchImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
};
const bundles = {
  cli: { entry: path.join(root, 'cmd', 'orch.ts'), keep: 'orch.cjs' },
  // Minified: one shim per container, and it measured ~0.5 MiB less private memory each.
  shim: { entry: path.join(root, 'runtime', 'shim', 'entry.ts'), keep: 'orch-shim.cjs', options: { minify: true } },
};
const bundleStarted = performance.now();
await Promise.all(Object.entries(bundles).map(async ([name, b]) => {
  b.file = path.join(outDir, `orch-${name}.${tmpTag}.js`);
  const result = await esbuild.build({ ...bundleOptions, ...b.options, entryPoints: [b.entry], outfile: b.file });
  if (result.errors.length) throw new BuildError(`esbuild failed for the ${name} bundle`);
  // esbuild escapes non-ASCII in strings but leaves it in comments and regular expressions
  // (luxon's, cron-parser's). Escaped there too, the bundle is ASCII: V8 then holds it as a
  // one-byte string (half the heap of a two-byte one) and sea-main.cjs decodes it as latin1, a copy.
  const text = fs.readFileSync(b.file, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) fs.writeFileSync(b.file, ascii);
}));
const bundleMs = performance.now() - bundleStarted;

// 3. The executable, made twice. Stage 1 carries the bundles without code caches; it runs
// `--version` and `shim` (usage, exit 2) once with ORCH_SEA_WRITE_CODE_CACHE, and sea-main.cjs
// writes V8's cache of the bundle it ran as the process exits. So the caches come from this very
// binary and its flags (NODE_OPTIONS dropped: V8 rejects a cache made under other flags), and the
// CLI's holds every function its start-up compiled: `--version` measured ~25 % faster than with a
// cache of the top level alone. Stage 2 carries the bundles with those caches.
const seaMain = path.join(root, 'build', 'sea-main.cjs');
// Asset names come from the bootstrap itself (outside an executable it only exports them).
const { BUNDLES: BUNDLE_ASSETS } = require(seaMain);
const training = { cli: { args: ['--version'], exit: 0 }, shim: { args: ['shim'], exit: 2 } };
const nodeBinary = fs.readFileSync(process.execPath);
if (!nodeBinary.includes(`${SENTINEL_FUSE}:0`)) {
  throw new BuildError(`${process.execPath} has no unflipped SEA fuse: it is not an official Node build or is already a SEA`);
}
const { inject } = require('postject');
const blobFile = path.join(outDir, `orch.${tmpTag}.blob`);
const seaConfigFile = path.join(outDir, `sea-config.${tmpTag}.json`);

/** Writes a copy of this Node binary with a SEA blob of the bootstrap, the bundles (with their code caches when given) and the addons. */
async function makeExecutable(file, withCodeCaches) {
  fs.writeFileSync(seaConfigFile, JSON.stringify({
    main: seaMain,
    output: blobFile,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    // The bootstrap is a few lines; the bundles carry their own caches.
    useCodeCache: false,
    assets: {
      'orch-native.json': manifestFile,
      ...Object.fromEntries(Object.values(addons).map((a) => [a.asset, a.source])),
      ...Object.fromEntries(Object.entries(bundles).flatMap(([name, b]) => [
        [BUNDLE_ASSETS[name].source, b.file],
        ...(withCodeCaches ? [[BUNDLE_ASSETS[name].codeCache, b.codeCacheFile]] : [])])),
    },
  }, null, 2));
  const blob = spawnSync(process.execPath, ['--experimental-sea-config', seaConfigFile], { cwd: outDir, encoding: 'utf8' });
  if (blob.status !== 0) throw new BuildError(`node --experimental-sea-config failed:\n${blob.stdout}${blob.stderr}`);
  fs.writeFileSync(file, nodeBinary, { mode: 0o755 });
  // postject warns about ELF note sections it does not know; they are harmless, so keep them quiet.
  const warn = console.warn;
  console.warn = () => {};
  try {
    await inject(file, 'NODE_SEA_BLOB', fs.readFileSync(blobFile), { sentinelFuse: SENTINEL_FUSE });
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw new BuildError(`postject failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    console.warn = warn;
  }
  fs.chmodSync(file, 0o755);
}

// Written beside the target and renamed, so a failed build never leaves a half-made dist/orch.
// ORCH_BUILD_OUTPUT writes the executable elsewhere (to compare builds side by side).
const target = process.env.ORCH_BUILD_OUTPUT ? path.resolve(process.env.ORCH_BUILD_OUTPUT) : path.join(distDir, 'orch');
const tmpTarget = `${target}.tmp-${process.pid}`;
process.on('exit', () => fs.rmSync(tmpTarget, { force: true }));
const { NODE_OPTIONS: _ignored, ...runEnv } = process.env;
await makeExecutable(tmpTarget, false);
for (const [name, b] of Object.entries(bundles)) {
  const t = training[name];
  b.codeCacheFile = path.join(outDir, `${BUNDLE_ASSETS[name].codeCache}.${tmpTag}`);
  const r = spawnSync(tmpTarget, t.args, {
    encoding: 'utf8', timeout: 60_000, env: { ...runEnv, ORCH_SEA_WRITE_CODE_CACHE: b.codeCacheFile },
  });
  if (r.status !== t.exit || !fs.existsSync(b.codeCacheFile)) {
    throw new BuildError(`making the ${name} code cache: \`${t.args.join(' ')}\` exited ${r.status ?? r.signal}, expected ${t.exit}:\n${r.stdout}${r.stderr}`);
  }
}
await makeExecutable(tmpTarget, true);

// Keep the bundles and manifest for reading (build/out/orch.cjs, orch-shim.cjs); drop the rest.
for (const b of Object.values(bundles)) {
  fs.renameSync(b.file, path.join(outDir, b.keep));
  b.codeCacheBytes = fs.statSync(b.codeCacheFile).size;
  fs.rmSync(b.codeCacheFile, { force: true });
}
fs.renameSync(manifestFile, path.join(outDir, 'orch-native.json'));
fs.rmSync(blobFile, { force: true });
fs.rmSync(seaConfigFile, { force: true });

// 4. Smoke: the result must run on its own, each bundle with its cache accepted, before it replaces dist/orch.
const smoke = spawnSync(tmpTarget, ['--version'], { encoding: 'utf8', timeout: 30_000, env: { ...runEnv, ORCH_SEA_TRACE: '1' } });
const smokeShim = spawnSync(tmpTarget, ['shim'], { encoding: 'utf8', timeout: 30_000, env: { ...runEnv, ORCH_SEA_TRACE: '1' } });
const accepted = (r, name) => new RegExp(`^orch sea: ${name} bundle \\d+ bytes, code cache \\d+ bytes accepted$`, 'm').test(r.stderr ?? '');
if (smoke.status !== 0 || !accepted(smoke, 'cli') || smokeShim.status !== 2 || !accepted(smokeShim, 'shim')) {
  throw new BuildError('the new executable failed its smoke test (`--version` exits 0, `shim` exits 2, each with its code cache ' +
    `accepted); dist/orch is unchanged:\n--version: exit ${smoke.status ?? smoke.signal}\n${smoke.stdout}${smoke.stderr}` +
    `shim: exit ${smokeShim.status ?? smokeShim.signal}\n${smokeShim.stdout}${smokeShim.stderr}`);
}
// Flushed before the rename: a crash never leaves a torn dist/orch, and processes started from it
// right away do not count the page cache's dirty pages of the new file as their Private_Dirty.
const targetFd = fs.openSync(tmpTarget, 'r');
try {
  fs.fsyncSync(targetFd);
} finally {
  fs.closeSync(targetFd);
}
fs.renameSync(tmpTarget, target);

const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
const sizes = (b) => `${kib(fs.statSync(path.join(outDir, b.keep)).size)} + code cache ${kib(b.codeCacheBytes)}`;
const assetBytes = Object.values(manifest.addons).reduce((n, a) => n + a.size, 0);
console.log(`built ${path.relative(root, target)}: ${smoke.stdout.trim()}`);
console.log(`  node ${process.version} SEA (local binary, postject), bundles in ${bundleMs.toFixed(0)} ms: ` +
  `cli ${sizes(bundles.cli)}, shim ${sizes(bundles.shim)}; ` +
  `native addons ${mib(assetBytes)} (hash ${manifest.contentHash.slice(0, 16)})`);
console.log(`  ${path.relative(root, target)} ${mib(fs.statSync(target).size)}, total build ${((performance.now() - started) / 1000).toFixed(1)} s`);
