// Runs real controllers (through the ControllerManager) against a FakeCluster with a movable clock.
import { ControllerManager } from '../../../server/controllers/manager';
import type { ControllerOptions } from '../../../server/controllers/controller';
import { FakeCluster } from './fake-cluster';

export interface Harness {
  f: FakeCluster;
  mgr: ControllerManager;
  logs: string[];
  stop(): Promise<void>;
}

export async function startControllers(names: string[], f = new FakeCluster(), options: ControllerOptions = {}): Promise<Harness> {
  const logs: string[] = [];
  const mgr = new ControllerManager({ client: f, controllers: names, clock: { now: () => f.now }, logger: (m) => logs.push(m), options, resyncMs: 0 });
  await mgr.start();
  return { f, mgr, logs, stop: () => mgr.stop() };
}
