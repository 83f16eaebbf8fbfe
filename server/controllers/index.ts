// The control loops `orch server` runs next to the apiserver: the controller manager and the
// scheduler, sharing one informer factory over the in-process client.
//
// Seam for the server core (server/server.ts):
//   const loops = await startControlLoops({ local: api.client, log, options: { dataDir } });
//   ...on shutdown, before stopping the apiserver:  await loops.stop();
import { ControllerManager } from './manager';
import { InProcessClient, type LocalClientLike } from './inprocess-client';
import type { ClusterClient } from './client';
import type { ControllerOptions } from './controller';
import { Scheduler } from '../scheduler/scheduler';

export interface ControlLoopsOptions {
  /** The apiserver's in-process client (api.client), or any ClusterClient. */
  local?: LocalClientLike & { as?(user: { username: string; groups: string[] }, manager: string): LocalClientLike };
  client?: ClusterClient;
  log?: (m: string) => void;
  options?: ControllerOptions;
  /** Controllers to run (default: all registered). */
  controllers?: string[];
  /** Run the scheduler too (default true). */
  scheduler?: boolean;
  /** How long start-up may wait for informer caches before continuing in the background. */
  waitMs?: number;
}

export interface ControlLoops {
  manager: ControllerManager;
  scheduler?: Scheduler;
  /** Resolves once every loop runs (start-up may return earlier; see waitMs). */
  started: Promise<void>;
  stop(): Promise<void>;
}

export async function startControlLoops(o: ControlLoopsOptions): Promise<ControlLoops> {
  const client = o.client ?? new InProcessClient(o.local!);
  const schedClient = o.client ?? (o.local?.as
    ? new InProcessClient(o.local.as({ username: 'system:kube-scheduler', groups: ['system:masters', 'system:authenticated'] }, 'default-scheduler'))
    : client);
  const manager = new ControllerManager({ client, controllers: o.controllers, logger: o.log, options: o.options });
  const scheduler = o.scheduler === false ? undefined
    : new Scheduler({ client: schedClient, informers: manager.ctx.informers, logger: o.log });
  // Start-up waits for the informer caches, but never holds the apiserver hostage: after
  // `waitMs` the loops keep starting in the background.
  let failed: unknown;
  const started = (async () => {
    await manager.start();
    await scheduler?.start();
    o.log?.(`control loops running: ${manager.controllers.map((c) => c.name).join(', ')}${scheduler ? ', scheduler' : ''}`);
  })().catch((e) => { failed = e; o.log?.(`control loops failed to start: ${(e as Error).message}`); });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([started, new Promise<void>((r) => { timer = setTimeout(r, o.waitMs ?? 10_000); })]);
  clearTimeout(timer);
  if (failed) throw failed;
  return {
    manager,
    scheduler,
    started,
    async stop() {
      await scheduler?.stop();
      await manager.stop();
      await started;
    },
  };
}

export { ControllerManager } from './manager';
export { InProcessClient } from './inprocess-client';
export type { ClusterClient } from './client';
