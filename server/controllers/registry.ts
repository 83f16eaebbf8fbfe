// Name -> factory for every controller the manager can run, with its default worker count
// (upstream's --concurrent-*-syncs defaults, scaled to a small single process).
import type { Controller, ControllerContext } from './controller';
import { CronJobController } from './cronjob/cronjob';
import { DaemonSetController } from './daemonset/daemonset';
import { DeploymentController } from './deployment/deployment';
import { DisruptionController } from './disruption/disruption';
import { EndpointSliceController, EndpointsController } from './endpoints/endpoints';
import { JobController } from './job/job';
import { GarbageCollector } from './garbagecollector/garbagecollector';
import { LocalPathProvisioner } from './localpath/localpath';
import { NodeLifecycleController } from './nodelifecycle/nodelifecycle';
import { ReplicaSetController } from './replicaset/replicaset';
import { StatefulSetController } from './statefulset/statefulset';
import { ServiceAccountsController } from './serviceaccount/serviceaccount';

export interface ControllerEntry {
  factory: (ctx: ControllerContext) => Controller;
  workers: number;
}

export const controllerRegistry: Record<string, ControllerEntry> = {
  cronjob: { factory: (c) => new CronJobController(c), workers: 2 },
  daemonset: { factory: (c) => new DaemonSetController(c), workers: 2 },
  deployment: { factory: (c) => new DeploymentController(c), workers: 5 },
  disruption: { factory: (c) => new DisruptionController(c), workers: 1 },
  endpoints: { factory: (c) => new EndpointsController(c), workers: 5 },
  endpointslice: { factory: (c) => new EndpointSliceController(c), workers: 5 },
  garbagecollector: { factory: (c) => new GarbageCollector(c), workers: 4 },
  serviceaccount: { factory: (c) => new ServiceAccountsController(c), workers: 2 },
  job: { factory: (c) => new JobController(c), workers: 5 },
  statefulset: { factory: (c) => new StatefulSetController(c), workers: 2 },
  localpath: { factory: (c) => new LocalPathProvisioner(c), workers: 2 },
  nodelifecycle: { factory: (c) => new NodeLifecycleController(c), workers: 1 },
  replicaset: { factory: (c) => new ReplicaSetController(c), workers: 5 },
};
