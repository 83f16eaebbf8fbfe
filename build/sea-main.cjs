// The main script of dist/orch (a Node SEA), kept tiny on purpose: `orch shim ...`, started once per
// container, evaluates only the shim's own bundle (~43 KiB), every other command evaluates the
// CLI's bundle (~4 MiB). Both ride in the executable as SEA assets with V8 code caches that
// build/build.mjs makes by running a first build of the executable with ORCH_SEA_WRITE_CODE_CACHE.
// Evaluating the whole CLI in a shim cost ~24 MiB more private memory per container (docs/benchmarks.md).
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script: require is how it loads built-ins */
const vm = require('node:vm');

/** The CommonJS wrapper, as Node's own loader writes it: the bundles are CommonJS files. */
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const WRAP_TAIL = '\n})';

/** The two programs in the executable: asset names of their source and code cache. */
const BUNDLES = {
  cli: { source: 'orch-cli.js', codeCache: 'orch-cli.jsc' },
  shim: { source: 'orch-shim.js', codeCache: 'orch-shim.jsc' },
};

/** Which bundle serves this command line: the runtime starts shims as `<exe> shim ...`. */
function bundleFor(argv) {
  return argv[2] === 'shim' ? 'shim' : 'cli';
}

/** Compiles a bundle's source; with cachedData V8 skips compiling what the cache holds. */
function compileBundle(name, source, cachedData) {
  // A hashbang is valid only at a script's very start: inside the wrapper it becomes a comment.
  const body = source.startsWith('#!') ? `//${source.slice(2)}` : source;
  return new vm.Script(WRAP_HEAD + body + WRAP_TAIL, { filename: BUNDLES[name].source, cachedData });
}

class SeaBootstrapError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'SeaBootstrapError';
    this.code = 'SeaAssetMissing';
  }
}

function run() {
  const sea = require('node:sea');
  const name = bundleFor(process.argv);
  const b = BUNDLES[name];
  let source;
  try {
    // getRawAsset is a view of the executable's own mapping; the build made the bundles ASCII, so
    // latin1 is exact and makes one copy into a one-byte string.
    source = Buffer.from(sea.getRawAsset(b.source)).toString('latin1');
  } catch (err) {
    throw new SeaBootstrapError(`this executable carries no ${b.source} asset; rebuild it with npm run build`, { cause: err });
  }
  let cachedData;
  try {
    cachedData = Buffer.from(sea.getRawAsset(b.codeCache));
  } catch {
    cachedData = undefined; // a build without code caches still runs, only slower
  }
  const script = compileBundle(name, source, cachedData);
  if (process.env.ORCH_SEA_TRACE === '1') {
    const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
    process.stderr.write(`orch sea: ${name} bundle ${source.length} bytes, code cache ${cachedData?.length ?? 0} bytes ${cache}\n`);
  }
  const cacheOut = process.env.ORCH_SEA_WRITE_CODE_CACHE;
  if (cacheOut) {
    // For the build only: V8's cache of this bundle with every function compiled by then.
    process.on('exit', () => require('node:fs').writeFileSync(cacheOut, script.createCachedData()));
  }
  // The bundle sees this script's own require (built-ins only), module and file names, so
  // `require.main === module` holds in cmd/orch.ts as it did when the CLI was the main script.
  script.runInThisContext().call(module.exports, module.exports, require, module, __filename, __dirname);
}

let isSea = false;
try {
  isSea = require('node:sea').isSea();
} catch {
  isSea = false; // node:sea is missing before Node 20.12: not an executable then
}
if (isSea) {
  try {
    run();
  } catch (err) {
    if (!(err instanceof SeaBootstrapError)) throw err;
    process.stderr.write(`orch: ${err.message}\n`);
    process.exit(1);
  }
} else module.exports = { BUNDLES, bundleFor };
