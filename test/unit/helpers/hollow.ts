// A hollow kubelet for unit tests over the fake cluster: pods bound to a node (or any pod, when
// no scheduler runs) are marked Running and Ready through the status subresource, the way the
// agent would report them. Used to drive controllers without containers.
import { R, isConflict, isNotFound } from '../../../server/controllers/client';
import { rfc3339, type KubeObject } from '../../../server/controllers/types';
import type { FakeCluster } from './fake-cluster';

export interface HollowOptions {
  /** Assign pods without spec.nodeName to this node first (no scheduler in the test). */
  assignTo?: string;
  /** Only pods matching this predicate become ready (others stay Pending/not ready). */
  filter?: (p: KubeObject) => boolean;
}

/** One pass: marks every eligible pod Running+Ready; returns how many it changed. */
export async function markPodsReady(f: FakeCluster, opts: HollowOptions = {}): Promise<number> {
  let n = 0;
  for (const p of f.all(R.pods)) {
    if (p.metadata.deletionTimestamp || (opts.filter && !opts.filter(p))) continue;
    if (p.status?.phase === 'Running' && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')) continue;
    if (!p.spec.nodeName) {
      if (!opts.assignTo) continue;
      p.spec.nodeName = opts.assignTo;
      try { await f.update(R.pods, p); } catch (e) { if (isConflict(e) || isNotFound(e)) continue; throw e; }
    }
    const cur = f.peek(R.pods, p.metadata.namespace!, p.metadata.name!);
    if (!cur) continue;
    const ts = rfc3339(f.now);
    cur.status = {
      ...(cur.status ?? {}), phase: 'Running', podIP: `10.42.0.${(n % 250) + 2}`, hostIP: '10.0.0.1', startTime: ts,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: ts },
        { type: 'Initialized', status: 'True', lastTransitionTime: ts },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: ts },
        { type: 'Ready', status: 'True', lastTransitionTime: ts },
      ],
    };
    try { await f.updateStatus(R.pods, cur); n++; } catch (e) { if (!isConflict(e) && !isNotFound(e)) throw e; }
  }
  return n;
}

/** Runs markPodsReady every few milliseconds until stopped. */
export function startHollowKubelet(f: FakeCluster, opts: HollowOptions = {}, everyMs = 10): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => (stopped ? 0 : markPodsReady(f, opts))).catch(() => 0);
  }, everyMs);
  return { async stop() { stopped = true; clearInterval(timer); await running; } };
}
