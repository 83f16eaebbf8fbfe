// Records core/v1 Events about objects (what `kubectl describe` shows under "Events:").
// Repeats of the same event (same object, type, reason, message, source) within the window are
// folded into the first Event's count and lastTimestamp, as upstream's EventCorrelator does.
import { randomBytes } from 'node:crypto';
import { R, isNotFound, type ClusterClient } from './client';
import { rfc3339, type Clock, realClock, type KubeObject } from './types';

export type EventType = 'Normal' | 'Warning';

/** Who an event is about: a full object or just its reference fields. */
export interface InvolvedObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export interface EventRecorder {
  /** Fire-and-forget: never throws; failures go to the logger. */
  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void;
}

interface Aggregate { name: string; namespace: string; count: number; firstTimestamp: string; lastSeen: number }

const MAX_MESSAGE = 1024;

// Every unschedulable pod gets an Event: its name's random suffix comes from a pool (one
// getrandom call per 512 events) and its timestamps are formatted once per second.
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomPoolOffset = 0;
function randomHex8(): string {
  if (randomPoolOffset + 8 > randomPool.length) { randomPool = randomBytes(RANDOM_POOL_BYTES); randomPoolOffset = 0; }
  const hex = randomPool.toString('hex', randomPoolOffset, randomPoolOffset + 8);
  randomPoolOffset += 8;
  return hex;
}
let lastSecond = NaN;
let lastTimestamp = '';
function timestamp(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) { lastSecond = second; lastTimestamp = rfc3339(ms); }
  return lastTimestamp;
}

export class ApiEventRecorder implements EventRecorder {
  private readonly recent = new Map<string, Aggregate>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly client: ClusterClient,
    private readonly component: string,
    private readonly clock: Clock = realClock,
    private readonly logger: (m: string) => void = () => {},
    /** Repeats older than this start a new Event (upstream: 10 minutes). */
    private readonly windowMs = 10 * 60_000,
  ) {}

  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void {
    const p = this.write(obj, type, reason, message.slice(0, MAX_MESSAGE)).catch((e) => {
      this.logger(`event ${reason} for ${obj.kind}/${obj.metadata.name}: ${(e as Error).message}`);
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves once every event recorded so far has been written (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private async write(obj: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = obj.metadata.namespace || 'default';
    const now = this.clock.now();
    const ts = timestamp(now);
    const aggKey = [obj.metadata.uid ?? obj.metadata.name, obj.kind, type, reason, message, this.component].join('\u0000');
    const agg = this.recent.get(aggKey);
    if (agg && now - agg.lastSeen < this.windowMs) {
      agg.count++;
      agg.lastSeen = now;
      try {
        await this.client.patch(R.events, agg.namespace, agg.name, 'merge', { count: agg.count, lastTimestamp: ts });
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e; // expired by TTL: write a fresh one
      }
    }
    if (this.recent.size > 4096) this.recent.clear();
    // Upstream names events `<object>.<unix-nanos in hex>`; random hex keeps names unique.
    const name = `${obj.metadata.name}.${randomHex8()}`;
    const ev: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name,
        namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      source: { component: this.component },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      eventTime: null,
      reportingComponent: this.component,
      reportingInstance: '',
    };
    await this.client.create(R.events, namespace, ev);
    this.recent.set(aggKey, { name, namespace, count: 1, firstTimestamp: ts, lastSeen: now });
  }
}
