// Helper process for runtime-restart.test.ts: opens a runtime, starts a sandbox and a container,
// prints their ids as one JSON line, then waits to be killed (it never closes the runtime).
import { ContainerRuntime } from '../../runtime/index';
import { busyboxRootfs, shimCommand } from './runtime-helpers';

async function main(): Promise<void> {
  const [stateDir, cgroupParent] = process.argv.slice(2);
  const rt = await ContainerRuntime.open({ stateDir, cgroupParent, shimCommand: shimCommand(), warmShims: 1 });
  const image = { lowerDirs: [busyboxRootfs()], config: { Env: ['PATH=/bin'] }, imageDigest: 'sha256:test' };
  const sandboxId = rt.runPodSandbox({ name: 'survivor', hostname: 'survivor' }).id;
  const containerId = await rt.createContainer(sandboxId, {
    name: 'c', image, command: ['sh', '-c', 'trap "echo terminated; exit 42" TERM; echo started; while :; do sleep 0.1; done'],
  });
  const st = await rt.startContainer(containerId);
  process.stdout.write(JSON.stringify({ sandboxId, containerId, pid: st.pid, shimPid: st.shimPid }) + '\n');
  setInterval(() => undefined, 60_000);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
