// ControllerExpectations: after issuing N creates/deletes, a controller waits until its informer
// has observed them before acting again, so a stale cache never makes it create twice.
// Expectations expire after a while (upstream 5 minutes) in case an event is lost.

interface Expectation { add: number; del: Set<string>; delCount: number; at: number }

export class Expectations {
  private readonly m = new Map<string, Expectation>();
  constructor(private readonly now: () => number = Date.now, private readonly ttlMs = 5 * 60_000) {}

  satisfied(key: string): boolean {
    const e = this.m.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.delCount <= 0) return true;
    return this.now() - e.at > this.ttlMs;
  }

  expectCreations(key: string, n: number): void {
    this.m.set(key, { add: n, del: new Set(), delCount: 0, at: this.now() });
  }

  expectDeletions(key: string, podKeys: string[]): void {
    this.m.set(key, { add: 0, del: new Set(podKeys), delCount: podKeys.length, at: this.now() });
  }

  creationObserved(key: string): void {
    const e = this.m.get(key);
    if (e && e.add > 0) e.add--;
  }

  /** Also used when a create failed: one fewer to wait for. */
  lowerCreations(key: string, n = 1): void {
    const e = this.m.get(key);
    if (e) e.add = Math.max(0, e.add - n);
  }

  deletionObserved(key: string, podKey: string): void {
    const e = this.m.get(key);
    if (e && e.del.delete(podKey)) e.delCount--;
  }

  delete(key: string): void { this.m.delete(key); }
}
