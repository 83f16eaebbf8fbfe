// The small slice of the Kubernetes object model that controllers and the scheduler read and write.
// Objects travel as plain JSON; these interfaces name the fields we touch and leave the rest open,
// so a field we do not model survives a read-modify-write untouched.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [k: string]: unknown;
}

/** Any Kubernetes object: apiVersion/kind/metadata plus whatever its kind carries. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: any;
  status?: any;
  [k: string]: any;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string | null;
  lastHeartbeatTime?: string;
  observedGeneration?: number;
}

/** A clock controllers read time from, so tests can move time without sleeping. */
export interface Clock {
  now(): number;
}

export const realClock: Clock = { now: () => Date.now() };

/** RFC3339 in whole seconds, as Kubernetes serialises metav1.Time. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `namespace/name` for namespaced objects, `name` for cluster-scoped ones (client-go's MetaNamespaceKeyFunc). */
export function keyOf(obj: { metadata: ObjectMeta }): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : `${obj.metadata.name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The controlling owner reference, if any (at most one has controller: true). */
export function controllerRef(obj: { metadata: ObjectMeta }): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** A deep, mutable copy of an object read from a cache (cache objects are frozen). */
export function clone<T>(obj: T): T {
  return structuredClone(obj);
}

export function deepFreeze<T>(obj: T): T {
  if (obj && typeof obj === 'object' && !Object.isFrozen(obj)) {
    Object.freeze(obj);
    for (const v of Object.values(obj as object)) deepFreeze(v);
  }
  return obj;
}

/**
 * Freezes the object and its metadata (labels, annotations, owner references): cheap enough for
 * every watch event, and it catches the usual mistake of editing a cached object's metadata.
 * Deeper fields are protected by convention: callers clone() before any write.
 */
export function freezeCached<T extends { metadata?: any }>(obj: T): T {
  const m = obj.metadata;
  if (m && typeof m === 'object') {
    if (m.labels) Object.freeze(m.labels);
    if (m.annotations) Object.freeze(m.annotations);
    if (m.ownerReferences) { for (const r of m.ownerReferences) Object.freeze(r); Object.freeze(m.ownerReferences); }
    if (m.finalizers) Object.freeze(m.finalizers);
    Object.freeze(m);
  }
  return Object.freeze(obj);
}
