// The single executable (build/build.mjs): dist/orch copied ALONE into an empty directory runs,
// extracts its native addons once to a versioned cache, opens a real store through the embedded
// better-sqlite3 and calls libc through the embedded koffi, and says the same as the source does.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GIT_VERSION, ORCH_VERSION } from '../../api/version';
import { buildProgram } from '../../cmd/orch';
import { cacheBaseCandidates } from '../../cmd/native-addons';
import type { HostReport } from '../../cmd/host-checks';
import { datastorePath } from '../../server/datastore';
import { builtExecutable, ensureBuiltExecutable } from './helpers/executable';

const root = path.resolve(__dirname, '..', '..');
const built = builtExecutable;
const RUN_TIMEOUT_MS = 30_000;
const addonSources = {
  'better_sqlite3.node': path.join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'),
  [path.join('koffi', `${process.platform}_${process.arch}`, 'koffi.node')]:
    path.join(root, 'node_modules', '@koromix', `koffi-${process.platform}-${process.arch}`, `${process.platform}_${process.arch}`, 'koffi.node'),
};

let tmp: string;
let exe: string;
let cacheHome: string;

interface RunResult { code: number | null; stdout: string; stderr: string }

function run(args: string[], opts: { cache?: string; cwd?: string; input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(exe, args, {
      cwd: opts.cwd ?? path.dirname(exe),
      timeout: RUN_TIMEOUT_MS,
      maxBuffer: 16 << 20,
      // HOME stays: defaults shown in --help (kubeconfig paths) must match the source's.
      env: { ...process.env, XDG_CACHE_HOME: opts.cache ?? cacheHome, NO_COLOR: '1', FORCE_COLOR: '0', ...opts.env },
    }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? (err.code as unknown as number) : 0, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

async function ok(args: string[], opts?: Parameters<typeof run>[1]): Promise<string> {
  const r = await run(args, opts);
  if (r.code !== 0) throw new Error(`orch ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

function versionedCacheDir(base: string): string {
  const dirs = fs.readdirSync(path.join(base, 'orch'));
  expect(dirs).toHaveLength(1);
  expect(dirs[0]).toMatch(new RegExp(`^${ORCH_VERSION.replace(/\./g, '\\.')}-[0-9a-f]{16}$`));
  return path.join(base, 'orch', dirs[0]!);
}

function expectAddonsExtracted(dir: string): void {
  for (const [rel, source] of Object.entries(addonSources)) {
    expect(fs.readFileSync(path.join(dir, rel)).equals(fs.readFileSync(source)), `${rel} matches ${source}`).toBe(true);
  }
  const leftovers = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.includes('.tmp-'));
  expect(leftovers).toEqual([]);
}

const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '');

/** Every command a user can see (hidden ones such as `shim` have no help). */
function allCommands(cmd: Command, trail: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.createHelp().visibleCommands(cmd).flatMap((c) => [{ path: [...trail, c.name()], cmd: c }, ...allCommands(c, [...trail, c.name()])]);
}

beforeAll(() => {
  // Rebuilt when sources changed since the last build: test what they make, not an old executable.
  ensureBuiltExecutable();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-test-exe-'));
  fs.mkdirSync(path.join(tmp, 'bin'));
  exe = path.join(tmp, 'bin', 'orch');
  fs.copyFileSync(built, exe);
  fs.chmodSync(exe, 0o755);
  cacheHome = path.join(tmp, 'cache');
}, 320_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('dist/orch, the single executable', () => {
  it('prints its version from a directory holding nothing but itself', async () => {
    expect(fs.readdirSync(path.dirname(exe))).toEqual(['orch']);
    expect(await ok(['--version'])).toBe(`orch version ${GIT_VERSION} (${ORCH_VERSION})\n`);
  }, 60_000);

  it('evaluates the shim bundle for `orch shim` and the CLI bundle otherwise, each with an accepted code cache', async () => {
    const trace = /^orch sea: (cli|shim) bundle (\d+) bytes, code cache (\d+) bytes (\w+)$/m;
    const cli = await run(['--version'], { env: { ORCH_SEA_TRACE: '1' } });
    expect(cli.code).toBe(0);
    const [, cliName, cliBytes, cliCache, cliVerdict] = trace.exec(cli.stderr) ?? [];
    expect({ name: cliName, verdict: cliVerdict }).toEqual({ name: 'cli', verdict: 'accepted' });
    expect(Number(cliCache)).toBeGreaterThan(0);
    // Hidden mode: with no --pool-socket the shim prints its usage and exits 2, as from source.
    const shim = await run(['shim'], { env: { ORCH_SEA_TRACE: '1' } });
    expect(shim.code).toBe(2);
    expect(shim.stderr).toContain('usage: orch shim --pool-socket PATH');
    const [, shimName, shimBytes, shimCache, shimVerdict] = trace.exec(shim.stderr) ?? [];
    expect({ name: shimName, verdict: shimVerdict }).toEqual({ name: 'shim', verdict: 'accepted' });
    expect(Number(shimCache)).toBeGreaterThan(0);
    // The point of the split: a shim (one per container) compiles a small fraction of the CLI.
    expect(Number(shimBytes)).toBeLessThan(Number(cliBytes) / 20);
    // Without the trace variable nothing extra is printed.
    expect((await run(['--version'])).stderr).toBe('');
  }, 60_000);

  it('prints the same help as the source for every command', async () => {
    const program = buildProgram();
    const commands = [{ path: [] as string[], cmd: program }, ...allCommands(program)].filter((c) => c.cmd.name() !== 'help');
    expect(commands.map((c) => c.path.join(' '))).toEqual(expect.arrayContaining(['check-config', 'store', 'store get', 'store put']));
    for (const { path: p, cmd } of commands) {
      cmd.configureHelp({ helpWidth: 80 });
      const fromExe = stripAnsi(await ok([...p, '--help']));
      expect(fromExe, `orch ${p.join(' ')} --help`).toBe(stripAnsi(cmd.helpInformation()));
    }
  }, 180_000);

  it('opens a store through the embedded better-sqlite3: put, get, list, revision round-trip', async () => {
    const dataDir = path.join(tmp, 'data');
    const value = JSON.stringify({ kind: 'ConfigMap', metadata: { name: 'café-☕' }, data: { k: 'v' } });
    const put = await run(['store', 'put', '/registry/configmaps/default/cafe', value, '--data-dir', dataDir]);
    expect(put.code).toBe(0);
    expect(put.stdout).toMatch(/^OK created \/registry\/configmaps\/default\/cafe at revision 1\n$/);
    expect(put.stderr).toMatch(/bypasses the apiserver/);
    expect(fs.existsSync(datastorePath(dataDir))).toBe(true);

    expect(await ok(['store', 'get', '/registry/configmaps/default/cafe', '--data-dir', dataDir])).toBe(`${value}\n`);
    expect(await ok(['store', 'put', '/other', '-', '--data-dir', dataDir], { input: 'from stdin' })).toMatch(/at revision 2/);
    expect(await ok(['store', 'put', '/other', 'second', '--data-dir', dataDir])).toMatch(/OK updated \/other at revision 3/);
    expect(await ok(['store', 'list', '/', '--keys-only', '--data-dir', dataDir])).toBe('/other\n/registry/configmaps/default/cafe\n');
    expect(await ok(['store', 'get', '/other', '--revision', '2', '--data-dir', dataDir])).toBe('from stdin\n');
    const json = JSON.parse(await ok(['store', 'get', '/other', '-o', 'json', '--data-dir', dataDir]));
    expect(json).toMatchObject({ key: '/other', createRevision: 2, modRevision: 3, value: 'second' });
    expect(await ok(['store', 'revision', '--data-dir', dataDir])).toBe('revision 3\ncompacted 0\n');

    const missing = await run(['store', 'get', '/nope', '--data-dir', dataDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/key "\/nope" not found/);
    const noStore = await run(['store', 'get', '/x', '--data-dir', path.join(tmp, 'no-such-dir')]);
    expect(noStore.code).toBe(1);
    expect(noStore.stderr).toMatch(/no datastore at/);
    expect(fs.existsSync(path.join(tmp, 'no-such-dir'))).toBe(false);
  }, 120_000);

  it('calls libc through the embedded koffi (check-config)', async () => {
    const r = await run(['check-config', '--json']);
    const report = JSON.parse(r.stdout) as HostReport;
    expect(r.code, r.stderr).toBe(report.pass ? 0 : 1);
    const byName = new Map(report.checks.map((c) => [`${c.group}/${c.name}`, c]));
    expect(byName.get('native/ffi (koffi -> libc)')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^getpid\(\) = \d+$/) });
    expect(byName.get('native/sqlite (better-sqlite3)')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^SQLite 3\.\d+/) });
    if (process.getuid?.() === 0) {
      // As root (CI), unshare(2) through koffi must really work for every namespace a pod uses.
      for (const ns of ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup']) expect(byName.get(`namespaces/${ns}`)?.status, ns).toBe('ok');
    }
    expect(report.cgroupVersion).not.toBe('none');
  }, 60_000);

  it('extracts the addons once to a versioned cache and reuses them on the next run', async () => {
    await ok(['store', 'revision', '--data-dir', path.join(tmp, 'data')]);
    const dir = versionedCacheDir(cacheHome);
    expectAddonsExtracted(dir);
    const before = Object.keys(addonSources).map((rel) => fs.statSync(path.join(dir, rel)));
    await ok(['check-config', '--json']).catch(() => undefined);
    await ok(['store', 'revision', '--data-dir', path.join(tmp, 'data')]);
    const after = Object.keys(addonSources).map((rel) => fs.statSync(path.join(dir, rel)));
    expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));
  }, 60_000);

  it('replaces a partial or corrupt cached addon', async () => {
    const dir = versionedCacheDir(cacheHome);
    const sqliteAddon = path.join(dir, 'better_sqlite3.node');
    const koffiAddon = path.join(dir, 'koffi', `${process.platform}_${process.arch}`, 'koffi.node');
    fs.chmodSync(sqliteAddon, 0o600);
    fs.truncateSync(sqliteAddon, 4096); // a write cut short
    fs.chmodSync(koffiAddon, 0o600);
    fs.writeFileSync(koffiAddon, Buffer.alloc(fs.statSync(koffiAddon).size, 0x5a)); // same size, wrong bytes
    expect(await ok(['store', 'get', '/other', '--data-dir', path.join(tmp, 'data')])).toBe('second\n');
    const report = JSON.parse((await run(['check-config', '--json'])).stdout) as HostReport;
    expect(report.checks.find((c) => c.name === 'ffi (koffi -> libc)')?.status).toBe('ok');
    expectAddonsExtracted(dir);
  }, 60_000);

  it('starts four copies at once on an empty cache, all fine', async () => {
    const fresh = path.join(tmp, 'cache-concurrent');
    const dataDir = path.join(tmp, 'data');
    const outs = await Promise.all([0, 1, 2, 3].map(() => ok(['store', 'get', '/other', '--data-dir', dataDir], { cache: fresh })));
    expect(outs).toEqual(Array(4).fill('second\n'));
    expectAddonsExtracted(versionedCacheDir(fresh));
  }, 60_000);

  it.runIf(process.getuid?.() === 0)('falls back to the next cache directory when the first is mounted noexec', () => {
    // A private mount namespace (unshare -m): a noexec tmpfs as $XDG_CACHE_HOME, and a tmpfs over
    // /var/lib so that root's fallback, /var/lib/orch/cache, lands in it and not on the machine.
    const xdg = path.join(tmp, 'cache-noexec');
    fs.mkdirSync(xdg);
    const script = [
      'set -e',
      `mount -t tmpfs -o noexec tmpfs "${xdg}"`,
      'mount -t tmpfs tmpfs /var/lib',
      `"${exe}" store get /other --data-dir "${path.join(tmp, 'data')}"`,
      `ls "${xdg}/orch/"*/better_sqlite3.node /var/lib/orch/cache/*/better_sqlite3.node`,
    ].join('\n');
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
      encoding: 'utf8', timeout: RUN_TIMEOUT_MS, env: { ...process.env, XDG_CACHE_HOME: xdg },
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('second');
    // Written to the noexec directory, refused by dlopen there, then loaded from the fallback.
    expect(lines.slice(1)).toHaveLength(2);
    expect(lines.slice(1)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^\/var\/lib\/orch\/cache\/[^/]+\/better_sqlite3\.node$/),
      expect.stringMatching(new RegExp(`^${xdg}/orch/[^/]+/better_sqlite3\\.node$`)),
    ]));
    expect(fs.readdirSync(xdg)).toEqual([]); // the tmpfs went with the namespace
  }, 60_000);

  it('chooses $XDG_CACHE_HOME/orch first, then /var/lib/orch/cache for root, then ~/.cache/orch', () => {
    const c = cacheBaseCandidates({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' });
    expect(c[0]).toBe('/x/cache/orch');
    expect(c).toContain('/home/u/.cache/orch');
    if (process.getuid?.() === 0) expect(c[1]).toBe('/var/lib/orch/cache');
    // A relative XDG_CACHE_HOME is invalid per the XDG spec and is ignored.
    expect(cacheBaseCandidates({ XDG_CACHE_HOME: 'rel', HOME: '/home/u' })[0]).not.toMatch(/^rel/);
  });
});
