// The test harness's child-mode server is one process whose PID the harness knows: stop() ends it
// and everything in its process group, and so does the exit of the process that started it —
// by process.exit, by SIGTERM, and even by SIGKILL (the server's life-line pipe closes).
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCluster, waitFor, type TestCluster } from './helpers/cluster';
import { processAlive, REPO_ROOT } from './helpers/server-process';

/** PIDs of live processes whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(d));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

const DIST = join(REPO_ROOT, 'dist', 'orch');
const started: Array<{ pid: number; startTime?: number }> = [];
afterAll(() => {
  // Nothing of ours may survive this file, whatever failed above.
  for (const p of started) if (processAlive(p.pid, p.startTime)) { try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ } }
});

describe('child-mode test cluster', () => {
  for (const variant of ['sources', 'dist/orch'] as const) {
    it.skipIf(variant === 'dist/orch' && !existsSync(DIST))(`stop() leaves no server process behind (${variant})`, async () => {
      let c: TestCluster | undefined;
      try {
        c = await startTestCluster({ mode: 'child', bin: variant === 'dist/orch' ? DIST : undefined });
        const p = c.serverProcess!;
        started.push(p);
        expect(p.pid).toBeGreaterThan(0);
        // The PID is the server itself: its command line runs `server`, and it answers.
        expect(readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0')).toContain('server');
        expect(await c.kubectlOk(['get', 'namespace', 'default', '-o', 'name'])).toContain('namespace/default');
        expect(processAlive(p.pid, p.startTime)).toBe(true);
        expect(groupMembers(p.pid)).toContain(p.pid);
        await c.stop();
        c = undefined;
        expect(processAlive(p.pid, p.startTime)).toBe(false);
        expect(groupMembers(p.pid)).toEqual([]);
      } finally {
        await c?.stop();
      }
    }, 90_000);
  }

  for (const how of ['process.exit', 'SIGTERM', 'SIGKILL'] as const) {
    it(`the server does not outlive the test process ending by ${how}`, async () => {
      const fixture = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'integration', 'helpers', 'cluster-exit-fixture.ts'), how === 'process.exit' ? 'exit' : 'wait'], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      fixture.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      fixture.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const exited = new Promise<void>((r) => fixture.once('exit', () => r()));
      let info: { pid: number; startTime?: number; base: string } | undefined;
      try {
        info = await waitFor(() => { const line = out.split('\n').find((l) => l.startsWith('{')); return line ? JSON.parse(line) : undefined; }, 60_000, `the fixture's server PID (stderr: ${err})`);
        started.push(info!);
        expect(processAlive(info!.pid, info!.startTime)).toBe(true);
        if (how === 'process.exit') fixture.stdin.write('exit\n');
        if (how === 'SIGTERM') fixture.kill('SIGTERM');
        if (how === 'SIGKILL') fixture.kill('SIGKILL');
        await exited;
        // process.exit and SIGTERM: killed at once by the exit hook; SIGKILL: the server sees its
        // life-line close and shuts itself down.
        await waitFor(() => !processAlive(info!.pid, info!.startTime) && groupMembers(info!.pid).length === 0, 20_000, `server ${info!.pid} to end`);
      } finally {
        if (fixture.exitCode === null && fixture.signalCode === null) fixture.kill('SIGKILL');
        if (info) rmSync(info.base, { recursive: true, force: true });
      }
    }, 90_000);
  }
});
