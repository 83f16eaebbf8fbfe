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
  manifest.addons[name] = { asset: a.asset, relativePath: a.relativePath, size: bytes.length };
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

// 3. V8 code caches of both bundles, made by a fresh process of this same Node binary through
// sea-main.cjs's own compileBundle(), so they fit what the executable compiles. NODE_OPTIONS is
// dropped: V8 rejects a cache made under other flags (the executable then compiles from source).
const seaMain = path.join(root, 'build', 'sea-main.cjs');
const { BUNDLES } = require(seaMain);
const cacheJobs = Object.entries(bundles).map(([name, b]) => {
  b.codeCacheFile = path.join(outDir, `${BUNDLES[name].codeCache}.${tmpTag}`);
  return { name, source: b.file, out: b.codeCacheFile };
});
const { NODE_OPTIONS: _ignored, ...cacheEnv } = process.env;
const cacheRun = spawnSync(process.execPath, ['-e', `
const fs = require('node:fs');
const { compileBundle } = require(${JSON.stringify(seaMain)});
for (const j of ${JSON.stringify(cacheJobs)}) {
  fs.writeFileSync(j.out, compileBundle(j.name, fs.readFileSync(j.source, 'utf8')).createCachedData());
}`], { encoding: 'utf8', env: cacheEnv });
if (cacheRun.status !== 0) throw new BuildError(`making the code caches failed:\n${cacheRun.stdout}${cacheRun.stderr}`);

// The SEA blob: the bootstrap as main, the bundles, their code caches, the addons and their manifest as assets.
const blobFile = path.join(outDir, `orch.${tmpTag}.blob`);
const seaConfigFile = path.join(outDir, `sea-config.${tmpTag}.json`);
fs.writeFileSync(seaConfigFile, JSON.stringify({
  main: seaMain,
  output: blobFile,
  disableExperimentalSEAWarning: true,
  useSnapshot: false,
  // The bootstrap is a few lines; the bundles carry their own caches (above).
  useCodeCache: false,
  assets: {
    'orch-native.json': manifestFile,
    ...Object.fromEntries(Object.values(addons).map((a) => [a.asset, a.source])),
    ...Object.fromEntries(Object.entries(bundles).flatMap(([name, b]) => [
      [BUNDLES[name].source, b.file], [BUNDLES[name].codeCache, b.codeCacheFile]])),
  },
}, null, 2));
const blob = spawnSync(process.execPath, ['--experimental-sea-config', seaConfigFile], { cwd: outDir, encoding: 'utf8' });
if (blob.status !== 0) throw new BuildError(`node --experimental-sea-config failed:\n${blob.stdout}${blob.stderr}`);

// 5. A copy of this very Node binary with the blob injected. Written beside the target and
// renamed, so a failed build never leaves a half-made dist/orch.
const nodeBinary = fs.readFileSync(process.execPath);
if (!nodeBinary.includes(`${SENTINEL_FUSE}:0`)) {
  throw new BuildError(`${process.execPath} has no unflipped SEA fuse: it is not an official Node build or is already a SEA`);
}
// ORCH_BUILD_OUTPUT writes the executable elsewhere (to compare builds side by side).
const target = process.env.ORCH_BUILD_OUTPUT ? path.resolve(process.env.ORCH_BUILD_OUTPUT) : path.join(distDir, 'orch');
const tmpTarget = `${target}.tmp-${process.pid}`;
fs.writeFileSync(tmpTarget, nodeBinary, { mode: 0o755 });
const { inject } = require('postject');
// postject warns about ELF note sections it does not know; they are harmless, so keep them quiet.
const warn = console.warn;
console.warn = () => {};
try {
  await inject(tmpTarget, 'NODE_SEA_BLOB', fs.readFileSync(blobFile), { sentinelFuse: SENTINEL_FUSE });
} catch (err) {
  fs.rmSync(tmpTarget, { force: true });
  throw new BuildError(`postject failed: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  console.warn = warn;
}
fs.chmodSync(tmpTarget, 0o755);

// Keep the bundles and manifest for reading (build/out/orch.cjs, orch-shim.cjs); drop the rest.
for (const b of Object.values(bundles)) {
  fs.renameSync(b.file, path.join(outDir, b.keep));
  b.codeCacheBytes = fs.statSync(b.codeCacheFile).size;
  fs.rmSync(b.codeCacheFile, { force: true });
}
fs.renameSync(manifestFile, path.join(outDir, 'orch-native.json'));
fs.rmSync(blobFile, { force: true });
fs.rmSync(seaConfigFile, { force: true });

// 6. Smoke: the result must run on its own before it replaces dist/orch.
const smoke = spawnSync(tmpTarget, ['--version'], { encoding: 'utf8', timeout: 30_000 });
if (smoke.status !== 0) {
  fs.rmSync(tmpTarget, { force: true });
  throw new BuildError(`the new executable failed \`--version\` (exit ${smoke.status ?? smoke.signal}); dist/orch is unchanged:\n${smoke.stdout}${smoke.stderr}`);
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
