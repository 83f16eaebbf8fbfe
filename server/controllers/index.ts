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
}

export interface ControlLoops {
  manager: ControllerManager;
  scheduler?: Scheduler;
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
  await manager.start();
  await scheduler?.start();
  o.log?.(`control loops running: ${manager.controllers.map((c) => c.name).join(', ')}${scheduler ? ', scheduler' : ''}`);
  return {
    manager,
    scheduler,
    async stop() {
      await scheduler?.stop();
      await manager.stop();
    },
  };
}

export { ControllerManager } from './manager';
export { InProcessClient } from './inprocess-client';
export type { ClusterClient } from './client';
