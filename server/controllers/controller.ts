// What every controller shares: a context (client, informers, events, clock), a work queue of
// object keys filled by informer handlers that only enqueue, and worker loops calling sync(key).
import { type ClusterClient, type Informer, type InformerSelector, type ResourceRef, SharedInformerFactory } from './client';
import { ApiEventRecorder, type EventRecorder } from './events';
import { keyOf, realClock, type Clock, type KubeObject } from './types';
import { WorkQueue, runWorkers } from './workqueue';

export interface ControllerContext {
  readonly client: ClusterClient;
  readonly informers: SharedInformerFactory;
  readonly clock: Clock;
  readonly logger: (msg: string) => void;
  /** An EventRecorder whose Events carry `source.component` = component. */
  recorder(component: string): EventRecorder;
  /** Server-level settings some controllers need. */
  readonly options: ControllerOptions;
}

export interface ControllerOptions {
  /** The agent's data dir on nodes: local-path volumes live under `<dataDir>/storage`. */
  dataDir?: string;
  /** PEM of the cluster CA, published as the `kube-root-ca.crt` ConfigMap in each namespace. */
  rootCAPem?: string;
  /** Node monitor grace period (upstream 40 s). */
  nodeMonitorGracePeriodMs?: number;
  /** Worker counts per controller name, overriding defaults. */
  workers?: Record<string, number>;
}

/**
 * A controller. Contract: the constructor only registers informer handlers (which enqueue);
 * `run` starts workers after caches are synced and resolves when `shutDown` has drained them;
 * `sync(key)` is level-triggered: it reads current state from caches, converges, and throws on
 * failure so the key is retried with back-off.
 */
export interface Controller {
  readonly name: string;
  run(workers: number): Promise<void>;
  shutDown(): void;
  sync(key: string): Promise<void>;
}

export function makeContext(client: ClusterClient, opts: {
  clock?: Clock; logger?: (m: string) => void; options?: ControllerOptions; informers?: SharedInformerFactory; resyncMs?: number;
} = {}): ControllerContext {
  const logger = opts.logger ?? (() => {});
  const clock = opts.clock ?? realClock;
  const recorders = new Map<string, ApiEventRecorder>();
  return {
    client,
    informers: opts.informers ?? new SharedInformerFactory(client, { resyncMs: opts.resyncMs, logger }),
    clock,
    logger,
    options: opts.options ?? {},
    recorder(component) {
      let r = recorders.get(component);
      if (!r) { r = new ApiEventRecorder(client, component, clock, logger); recorders.set(component, r); }
      return r;
    },
  };
}

export abstract class QueueController implements Controller {
  readonly queue: WorkQueue;
  protected readonly client: ClusterClient;
  protected readonly recorder: EventRecorder;

  constructor(readonly name: string, protected readonly ctx: ControllerContext, component = name) {
    this.queue = new WorkQueue(name);
    this.client = ctx.client;
    this.recorder = ctx.recorder(component);
  }

  abstract sync(key: string): Promise<void>;

  protected informer(r: ResourceRef, selector?: InformerSelector): Informer {
    return this.ctx.informers.informerFor(r, selector);
  }

  enqueue(obj: KubeObject): void {
    this.queue.add(keyOf(obj));
  }

  run(workers: number): Promise<void> {
    return runWorkers(this.queue, workers, (k) => this.sync(k), (k, e) => {
      this.ctx.logger(`${this.name}: sync ${k} failed: ${(e as Error)?.message ?? String(e)}`);
    });
  }

  shutDown(): void {
    this.queue.shutDown();
  }
}
