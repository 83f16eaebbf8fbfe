// The scheduling queue (upstream's PriorityQueue): activeQ ordered by priority then arrival,
// backoffQ for pods that failed recently (1 s doubling to 10 s per attempt), and unschedulablePods
// parked until a cluster event (node added/changed, pod deleted or bound) may make them fit.
import { deepEqual } from '../../api/patch/json';
import { podKey } from './cache';

export interface QueuedPod {
  pod: any;
  key: string;
  attempts: number;
  /** When the pod first entered the queue (for the creation->bind latency and ordering). */
  initialAttempt: number;
  timestamp: number;
  /** The scheduling cycle in which it last failed. */
  failedCycle: number;
  backoffUntil: number;
}

export interface QueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Unschedulable pods are retried at least this often even without events (upstream 5 min). */
  maxInUnschedulableMs?: number;
  now?: () => number;
}

/** Binary heap ordered by priority desc, then timestamp asc (the PrioritySort plugin). */
class Heap {
  private readonly a: QueuedPod[] = [];
  private readonly index = new Map<string, number>();
  get size(): number { return this.a.length; }
  has(key: string): boolean { return this.index.has(key); }
  get(key: string): QueuedPod | undefined { const i = this.index.get(key); return i === undefined ? undefined : this.a[i]; }
  private less(x: QueuedPod, y: QueuedPod): boolean {
    const px = x.pod.spec?.priority ?? 0;
    const py = y.pod.spec?.priority ?? 0;
    return px !== py ? px > py : x.timestamp < y.timestamp;
  }
  private swap(i: number, j: number): void {
    [this.a[i], this.a[j]] = [this.a[j], this.a[i]];
    this.index.set(this.a[i].key, i);
    this.index.set(this.a[j].key, j);
  }
  private up(i: number): void {
    while (i > 0) { const p = (i - 1) >> 1; if (!this.less(this.a[i], this.a[p])) break; this.swap(i, p); i = p; }
  }
  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1; const r = l + 1; let m = i;
      if (l < this.a.length && this.less(this.a[l], this.a[m])) m = l;
      if (r < this.a.length && this.less(this.a[r], this.a[m])) m = r;
      if (m === i) return;
      this.swap(i, m); i = m;
    }
  }
  push(q: QueuedPod): void {
    const i = this.index.get(q.key);
    if (i !== undefined) { this.a[i] = q; this.up(i); this.down(i); return; }
    this.a.push(q); this.index.set(q.key, this.a.length - 1); this.up(this.a.length - 1);
  }
  pop(): QueuedPod | undefined {
    if (!this.a.length) return undefined;
    const top = this.a[0];
    this.remove(top.key);
    return top;
  }
  remove(key: string): QueuedPod | undefined {
    const i = this.index.get(key);
    if (i === undefined) return undefined;
    const q = this.a[i];
    const last = this.a.pop()!;
    this.index.delete(key);
    if (i < this.a.length) { this.a[i] = last; this.index.set(last.key, i); this.up(i); this.down(i); }
    return q;
  }
  values(): QueuedPod[] { return [...this.a]; }
}

export class SchedulingQueue {
  private readonly active = new Heap();
  private readonly backoff = new Map<string, QueuedPod>();
  private readonly unschedulable = new Map<string, QueuedPod>();
  private readonly inFlight = new Map<string, QueuedPod>();
  private readonly waiters: Array<(q: QueuedPod | undefined) => void> = [];
  private backoffTimer?: NodeJS.Timeout;
  private flushTimer?: NodeJS.Timeout;
  private closed = false;
  /** Incremented per pop: the current scheduling cycle. */
  schedulingCycle = 0;
  /** The cycle of the last move request: failures from earlier cycles go to backoff, not parking. */
  private moveRequestCycle = -1;
  private readonly now: () => number;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxInUnschedulable: number;

  constructor(opts: QueueOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.initialBackoff = opts.initialBackoffMs ?? 1000;
    this.maxBackoff = opts.maxBackoffMs ?? 10_000;
    this.maxInUnschedulable = opts.maxInUnschedulableMs ?? 5 * 60_000;
    this.flushTimer = setInterval(() => this.flushUnschedulableLeftover(), Math.min(30_000, this.maxInUnschedulable));
    this.flushTimer.unref?.();
  }

  /** A new unscheduled pod (or one seen again after a re-list). */
  add(pod: any): void {
    const key = podKey(pod);
    if (this.inFlight.has(key)) { this.inFlight.get(key)!.pod = pod; return; }
    const existing = this.active.get(key) ?? this.backoff.get(key) ?? this.unschedulable.get(key);
    if (existing) { this.update(pod); return; }
    const t = this.now();
    this.pushActive({ pod, key, attempts: 0, initialAttempt: t, timestamp: t, failedCycle: 0, backoffUntil: 0 });
  }

  /** The pod changed: keep the newest object; a parked pod whose spec changed is retried. */
  update(pod: any): void {
    const key = podKey(pod);
    const f = this.inFlight.get(key);
    if (f) { f.pod = pod; return; }
    const a = this.active.get(key);
    if (a) { a.pod = pod; return; }
    const b = this.backoff.get(key);
    if (b) { b.pod = pod; return; }
    const u = this.unschedulable.get(key);
    if (u) {
      // Compared in place (no serialization): the scheduler's own status write lands here for every unschedulable pod.
      const specChanged = !deepEqual(u.pod.spec, pod.spec) || !deepEqual(u.pod.metadata.labels, pod.metadata.labels);
      u.pod = pod;
      if (specChanged) { this.unschedulable.delete(key); this.moveOne(u); }
      return;
    }
    this.add(pod);
  }

  delete(key: string): void {
    this.active.remove(key);
    this.backoff.delete(key);
    this.unschedulable.delete(key);
  }

  has(key: string): boolean {
    return this.active.has(key) || this.backoff.has(key) || this.unschedulable.has(key) || this.inFlight.has(key);
  }

  /** Next pod to schedule; waits when activeQ is empty; undefined after close(). */
  pop(): Promise<QueuedPod | undefined> {
    const q = this.active.pop();
    if (q) return Promise.resolve(this.startCycle(q));
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((res) => this.waiters.push(res));
  }

  private startCycle(q: QueuedPod): QueuedPod {
    this.schedulingCycle++;
    q.attempts++;
    this.inFlight.set(q.key, q);
    return q;
  }

  /** The cycle for q ended (bound, or handed back with requeue*). */
  done(key: string): void { this.inFlight.delete(key); }

  /** Failed as unschedulable: parked, or backoff if a move happened during its cycle. */
  requeueUnschedulable(q: QueuedPod, cycle: number): void {
    this.inFlight.delete(q.key);
    if (this.closed) return;
    q.failedCycle = cycle;
    q.timestamp = this.now();
    q.backoffUntil = this.now() + this.backoffDuration(q);
    if (this.moveRequestCycle >= cycle) this.addBackoff(q);
    else this.unschedulable.set(q.key, q);
  }

  /** Failed with an error: retried after back-off. */
  requeueError(q: QueuedPod): void {
    this.inFlight.delete(q.key);
    if (this.closed) return;
    q.backoffUntil = this.now() + this.backoffDuration(q);
    this.addBackoff(q);
  }

  /** A cluster event that may make parked pods schedulable (node add/update, pod delete, ...). */
  moveAllToActiveOrBackoff(): void {
    this.moveRequestCycle = this.schedulingCycle;
    if (!this.unschedulable.size) return;
    const parked = [...this.unschedulable.values()];
    this.unschedulable.clear();
    for (const q of parked) this.moveOne(q);
  }

  private moveOne(q: QueuedPod): void {
    if (q.backoffUntil > this.now()) this.addBackoff(q); else this.pushActive(q);
  }

  private backoffDuration(q: QueuedPod): number {
    let d = this.initialBackoff;
    for (let i = 1; i < q.attempts; i++) { d *= 2; if (d >= this.maxBackoff) return this.maxBackoff; }
    return d;
  }

  private addBackoff(q: QueuedPod): void {
    this.backoff.set(q.key, q);
    this.scheduleBackoffFlush();
  }

  private scheduleBackoffFlush(): void {
    if (this.backoffTimer || this.closed) return;
    let next = Infinity;
    for (const q of this.backoff.values()) next = Math.min(next, q.backoffUntil);
    if (next === Infinity) return;
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      const t = this.now();
      for (const [k, q] of this.backoff) if (q.backoffUntil <= t) { this.backoff.delete(k); this.pushActive(q); }
      this.scheduleBackoffFlush();
    }, Math.max(1, next - this.now()));
    this.backoffTimer.unref?.();
  }

  private flushUnschedulableLeftover(): void {
    const t = this.now();
    for (const [k, q] of this.unschedulable) {
      if (t - q.timestamp >= this.maxInUnschedulable) { this.unschedulable.delete(k); this.moveOne(q); }
    }
  }

  private pushActive(q: QueuedPod): void {
    if (this.closed) return;
    const w = this.waiters.shift();
    if (w) { w(this.startCycle(q)); return; }
    this.active.push(q);
  }

  close(): void {
    this.closed = true;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  stats(): { active: number; backoff: number; unschedulable: number; inFlight: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size, inFlight: this.inFlight.size };
  }
}
