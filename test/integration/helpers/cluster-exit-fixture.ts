// A process that starts a child-mode test cluster, prints the server's PID, and then ends the way
// argv[2] says without calling stop(): `exit` (process.exit when a line arrives on stdin), `wait`
// (until a signal ends it).
// test/integration/cluster-harness.test.ts checks that the server does not outlive it.
import { dirname } from 'node:path';
import { startTestCluster } from './cluster';

async function main(): Promise<void> {
  const how = process.argv[2] ?? 'exit';
  const c = await startTestCluster({ mode: 'child', bin: process.argv[3] || undefined });
  const p = c.serverProcess!;
  process.stdout.write(`${JSON.stringify({ pid: p.pid, startTime: p.startTime, base: dirname(c.kubeconfig) })}\n`);
  // `exit`: the test says when (a line on stdin), once it has seen the server alive.
  if (how === 'exit') process.stdin.once('data', () => process.exit(0));
  setInterval(() => undefined, 60_000);
}

main().catch((err: unknown) => { process.stderr.write(`${(err as Error).stack ?? String(err)}\n`); process.exit(2); });
