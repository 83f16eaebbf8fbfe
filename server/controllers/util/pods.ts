// Pod predicates and helpers shared by the workload controllers (upstream controller_utils.go).
import { randomBytes } from 'node:crypto';
import type { KubeObject, OwnerReference, Condition } from '../types';

export function isPodActive(p: KubeObject): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata.deletionTimestamp;
}

export function isPodTerminal(p: KubeObject): boolean {
  const phase = p.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export function podReadyCondition(p: KubeObject): Condition | undefined {
  return (p.status?.conditions ?? []).find((c: Condition) => c.type === 'Ready');
}

export function isPodReady(p: KubeObject): boolean {
  return podReadyCondition(p)?.status === 'True';
}

/** Ready for at least minReadySeconds at `now` (ms). */
export function isPodAvailable(p: KubeObject, minReadySeconds: number, now: number): boolean {
  const c = podReadyCondition(p);
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0;
  return since + minReadySeconds * 1000 <= now;
}

export function ownerRefFor(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** A pod from a template owned by `owner` (controller_utils GetPodFromTemplate). */
export function podFromTemplate(template: any, owner: KubeObject, ref: OwnerReference, generateName?: string): KubeObject {
  const meta = template?.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: generateName ?? `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      annotations: meta.annotations ? { ...meta.annotations } : undefined,
      finalizers: meta.finalizers ? [...meta.finalizers] : undefined,
      ownerReferences: [ref],
    },
    spec: structuredClone(template?.spec ?? {}),
  };
}

/** Deterministic JSON (sorted keys; null-valued keys dropped, as Go's zero values) for hashing and equality. */
export function stableJSON(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJSON).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined && o[k] !== null).sort().map((k) => `${JSON.stringify(k)}:${stableJSON(o[k])}`).join(',')}}`;
}

/** FNV-1a 32-bit over UTF-8 bytes. */
export function fnv32a(data: Uint8Array, h = 0x811c9dc5): number {
  for (const b of data) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** apimachinery rand.SafeEncodeString: maps each byte onto vowel-free alphanumerics. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE[s.charCodeAt(i) % SAFE.length];
  return out;
}

/**
 * controller.ComputeHash: fnv32a of the pod template plus the collision count (little-endian
 * uint32), printed in decimal and safe-encoded. The template is serialised as sorted JSON, not
 * Go's spew output, so values differ from a real cluster's but have the same shape.
 */
export function computeHash(template: unknown, collisionCount?: number): string {
  let h = fnv32a(Buffer.from(stableJSON(template)));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(collisionCount >>> 0);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

export function randomSuffix(n = 5): string {
  const bytes = randomBytes(n);
  let s = '';
  for (const b of bytes) s += SAFE[b % SAFE.length];
  return s;
}

/** Sets or replaces a condition; keeps lastTransitionTime when the status is unchanged. */
export function setCondition(conds: Condition[] | undefined, c: Condition): Condition[] {
  const list = [...(conds ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  if (i >= 0) {
    const old = list[i];
    if (old.status === c.status && old.reason === c.reason && old.message === c.message) return list;
    list[i] = { ...c, lastTransitionTime: old.status === c.status ? old.lastTransitionTime ?? c.lastTransitionTime : c.lastTransitionTime };
  } else {
    list.push(c);
  }
  return list;
}

export function getCondition(conds: Condition[] | undefined, type: string): Condition | undefined {
  return (conds ?? []).find((c) => c.type === type);
}

export function removeCondition(conds: Condition[] | undefined, type: string): Condition[] {
  return (conds ?? []).filter((c) => c.type !== type);
}

export function intOrPercent(v: number | string | undefined, total: number, roundUp: boolean, dflt: number | string): number {
  const x = v === undefined || v === null ? dflt : v;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) {
    if (/^\d+$/.test(x)) return Number(x);
    throw new InvalidIntOrStringError(x);
  }
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

export class InvalidIntOrStringError extends Error {
  readonly code = 'InvalidIntOrString';
  constructor(v: string) { super(`invalid value for IntOrString: invalid value ${JSON.stringify(v)}`); this.name = 'InvalidIntOrStringError'; }
}
