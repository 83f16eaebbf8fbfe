// dist/orch for tests that run the single executable: rebuilt when any source is newer, so a
// test never judges an old build, and flushed to disk, so that the page cache's dirty pages of a
// fresh build are not counted as a process's Private_Dirty memory by tests that measure it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const builtExecutable = path.join(repoRoot, 'dist', 'orch');

/** The newest source file the executable is built from: a dist/orch older than it is stale. */
export function newestSource(): { file: string; mtimeMs: number } {
  const lock = path.join(repoRoot, 'package-lock.json');
  let newest = { file: lock, mtimeMs: fs.statSync(lock).mtimeMs };
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (p !== path.join(repoRoot, 'build', 'out')) walk(p);
      } else if (/\.(ts|mjs|cjs|js|json)$/.test(e.name)) {
        const mtimeMs = fs.statSync(p).mtimeMs;
        if (mtimeMs > newest.mtimeMs) newest = { file: p, mtimeMs };
      }
    }
  };
  for (const d of ['cmd', 'server', 'agent', 'embedded-store', 'runtime', 'netproxy', 'api', 'build']) {
    if (fs.existsSync(path.join(repoRoot, d))) walk(path.join(repoRoot, d));
  }
  return newest;
}

/**
 * Returns dist/orch, built from the current sources (`npm run build` when it is missing or older
 * than a source file) and fsync'ed. Throws with the build's output when the build fails.
 */
export function ensureBuiltExecutable(): string {
  const newest = newestSource();
  if (!fs.existsSync(builtExecutable) || fs.statSync(builtExecutable).mtimeMs < newest.mtimeMs) {
    console.log(`dist/orch is missing or older than ${path.relative(repoRoot, newest.file)}: rebuilding`);
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'build', 'build.mjs')], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
  }
  const fd = fs.openSync(builtExecutable, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return builtExecutable;
}
