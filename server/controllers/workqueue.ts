// A rate-limited work queue keyed by object (client-go's workqueue): a key is never processed by
// two workers at once, repeated adds collapse into one pending entry, a key added while being
// processed is re-queued when done() is called, and failures back off per item.

/** Per-item exponential back-off combined with an overall token bucket (client-go's default). */
export class RateLimiter {
  private readonly failures = new Map<string, number>();
  private tokens: number;
  private last: number;

  constructor(
    private readonly baseDelayMs = 5,
    private readonly maxDelayMs = 1000_000,
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Delay before `key` may run again; counts this as one more failure of that key. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const exp = Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
    return Math.max(exp, this.bucketDelay());
  }

  private bucketDelay(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(key: string): void { this.failures.delete(key); }
  numRequeues(key: string): number { return this.failures.get(key) ?? 0; }
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiters: Array<(k: string | undefined) => void> = [];
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private shuttingDown = false;
  readonly limiter: RateLimiter;

  constructor(readonly name: string, limiter?: RateLimiter) {
    this.limiter = limiter ?? new RateLimiter();
  }

  /** Marks key as needing processing; no-op when it is already pending. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // re-queued by done()
    this.push(key);
  }

  private push(key: string): void {
    const w = this.waiters.shift();
    if (w) { w(key); this.processing.add(key); this.dirty.delete(key); return; }
    this.queue.push(key);
  }

  /** Adds key after ms; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) { this.add(key); return; }
    const at = Date.now() + ms;
    const cur = this.delayed.get(key);
    if (cur && cur.at <= at) return;
    if (cur) clearTimeout(cur.timer);
    const timer = setTimeout(() => { this.delayed.delete(key); this.add(key); }, ms);
    timer.unref?.();
    this.delayed.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.limiter.when(key));
  }

  forget(key: string): void { this.limiter.forget(key); }
  numRequeues(key: string): number { return this.limiter.numRequeues(key); }

  /** Next key to process, or undefined once shut down. Call done(key) when finished. */
  get(): Promise<string | undefined> {
    if (this.head < this.queue.length) {
      const key = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) { this.queue.splice(0, this.head); this.head = 0; }
      this.processing.add(key);
      this.dirty.delete(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((res) => this.waiters.push(res));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
  }

  len(): number { return this.queue.length - this.head; }
  isProcessing(key: string): boolean { return this.processing.has(key); }

  /** Stops handing out keys; waiting workers get undefined. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) clearTimeout(d.timer);
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  get isShuttingDown(): boolean { return this.shuttingDown; }
}

/**
 * Runs `workers` loops that pop keys and call sync; an error requeues the key with back-off
 * (and is reported to onError), success forgets its back-off. Resolves when the queue shuts
 * down and every loop has finished its current key.
 */
export async function runWorkers(queue: WorkQueue, workers: number, sync: (key: string) => Promise<void>,
  onError: (key: string, err: unknown) => void): Promise<void> {
  const loop = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await sync(key);
        queue.forget(key);
      } catch (e) {
        onError(key, e);
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
}
