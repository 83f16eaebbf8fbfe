// The controller manager: builds every enabled controller on one shared informer factory,
// starts the informers, waits for their caches, runs each controller's workers, and stops
// everything cleanly (queues shut down, in-flight syncs finish, watches closed).
import { CacheSyncTimeoutError, type ClusterClient } from './client';
import { makeContext, type Controller, type ControllerContext, type ControllerOptions } from './controller';
import { type Clock } from './types';
import { controllerRegistry } from './registry';

export interface ControllerManagerOptions {
  client: ClusterClient;
  /** Names from controllerRegistry to run; default: all. */
  controllers?: string[];
  clock?: Clock;
  logger?: (msg: string) => void;
  resyncMs?: number;
  options?: ControllerOptions;
  cacheSyncTimeoutMs?: number;
}

export class ControllerManager {
  readonly ctx: ControllerContext;
  readonly controllers: Controller[] = [];
  private running: Array<Promise<void>> = [];
  private started = false;
  private stopped = false;

  constructor(private readonly opts: ControllerManagerOptions) {
    this.ctx = makeContext(opts.client, { clock: opts.clock, logger: opts.logger, options: opts.options, resyncMs: opts.resyncMs ?? 5 * 60_000 });
    const names = opts.controllers ?? Object.keys(controllerRegistry);
    for (const name of names) {
      const entry = controllerRegistry[name];
      if (!entry) throw new UnknownControllerError(name);
      this.controllers.push(entry.factory(this.ctx));
    }
  }

  /** Starts informers, waits for cache sync, then runs workers. Resolves once workers run. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.ctx.informers.start();
    // Controllers must never act on a partial cache: wait as long as it takes, saying what is late.
    for (;;) {
      try {
        await this.ctx.informers.waitForCacheSync(this.opts.cacheSyncTimeoutMs ?? 30_000);
        break;
      } catch (e) {
        if (!(e instanceof CacheSyncTimeoutError) || this.stopped) throw e;
        this.opts.logger?.(`controller manager: still waiting for informer caches: ${this.ctx.informers.unsynced().join(', ')}`);
      }
    }
    if (this.stopped) return;
    const workers = this.ctx.options.workers ?? {};
    for (const c of this.controllers) {
      const n = workers[c.name] ?? controllerRegistry[c.name]?.workers ?? 2;
      this.running.push(c.run(n));
    }
  }

  /** Stops every controller and informer; resolves when in-flight syncs have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const c of this.controllers) c.shutDown();
    this.ctx.informers.shutdown();
    await Promise.allSettled(this.running);
    this.running = [];
  }
}

export class UnknownControllerError extends Error {
  readonly code = 'UnknownController';
  constructor(name: string) {
    super(`unknown controller "${name}"; known: ${Object.keys(controllerRegistry).join(', ')}`);
    this.name = 'UnknownControllerError';
  }
}
