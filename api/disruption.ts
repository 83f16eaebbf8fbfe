// PodDisruptionBudget arithmetic, shared by the disruption controller (which writes a budget's
// status) and the pods/eviction subresource (which evaluates and decrements it), after upstream's
// pkg/controller/disruption and component-helpers/apps/poddisruptionbudget. Pure functions: the
// callers select the pods (the budget's selector in its namespace) and look controllers up.

/** Upstream DeletionTimeout: a disruptedPods entry whose pod is not terminating after this is dropped. */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

export const DISRUPTION_ALLOWED_CONDITION = 'DisruptionAllowed';
export const SUFFICIENT_PODS_REASON = 'SufficientPods';
export const INSUFFICIENT_PODS_REASON = 'InsufficientPods';
export const SYNC_FAILED_REASON = 'SyncFailed';

/** The four numbers of a budget's status. */
export interface BudgetFigures { expectedPods: number; currentHealthy: number; desiredHealthy: number; disruptionsAllowed: number }

/** A pod's controlling owner reference, as `metadata.ownerReferences[]` carries it. */
export interface ControllerReference { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }

/** A controller found for a pod and the replicas it asks for (its scale's spec.replicas). */
export interface ControllerAndScale { uid: string; scale: number }

/**
 * Finds the workload behind a controller reference: undefined when no controller of that kind,
 * name and uid exists (the next finder or "found no controllers" follows); throws when the
 * controller's kind cannot have a scale (upstream's "... does not implement the scale subresource").
 */
export type ControllerFinder = (ref: ControllerReference, namespace: string) => ControllerAndScale | undefined | Promise<ControllerAndScale | undefined>;

export class DisruptionBudgetError extends Error {
  constructor(readonly code: 'NoControllers' | 'InvalidIntOrPercent', message: string) {
    super(message);
    this.name = 'DisruptionBudgetError';
  }
}

export function isPodReady(pod: any): boolean {
  return (pod?.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

function isSet(v: unknown): boolean { return v !== undefined && v !== null; }

/** Whether the expected count comes from the pods' controllers (percentages and maxUnavailable) rather than the pods. */
export function usesControllerScale(spec: any): boolean {
  return isSet(spec?.maxUnavailable) || typeof spec?.minAvailable === 'string';
}

/** intstr.GetScaledValueFromIntOrPercent: a number as is, `N%` of total rounded up or down; anything else is an error. */
export function scaledValue(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) throw new DisruptionBudgetError('InvalidIntOrPercent', `invalid value for IntOrString: invalid type: string is not a percentage`);
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

/**
 * The sum of the scales of the pods' controllers, each controller once (upstream getExpectedScale).
 * Pods without a controller reference are returned as unmanaged and not counted; a pod whose
 * controller no finder knows is an error (`found no controllers for pod "x"`).
 */
export async function expectedScale(pods: any[], finders: ControllerFinder[]): Promise<{ expectedCount: number; unmanagedPods: string[] }> {
  const scales = new Map<string, number>();
  const unmanagedPods: string[] = [];
  for (const pod of pods) {
    const ref: ControllerReference | undefined = (pod.metadata?.ownerReferences ?? []).find((r: any) => r.controller === true);
    if (!ref) { unmanagedPods.push(pod.metadata.name); continue; }
    if (scales.has(ref.uid)) continue;
    let found: ControllerAndScale | undefined;
    for (const find of finders) {
      found = await find(ref, pod.metadata.namespace ?? '');
      if (found) break;
    }
    if (!found) throw new DisruptionBudgetError('NoControllers', `found no controllers for pod ${JSON.stringify(pod.metadata.name)}`);
    scales.set(found.uid, found.scale);
  }
  let expectedCount = 0;
  for (const s of scales.values()) expectedCount += s;
  return { expectedCount, unmanagedPods };
}

/**
 * expectedPods and desiredHealthy from the spec (upstream getExpectedPodCount): an integer
 * minAvailable counts the pods and wants that many; a percentage minAvailable is taken of the
 * controllers' scale, rounded up; maxUnavailable (number or percentage, rounded up) is subtracted
 * from that scale. A spec with neither expects and wants nothing (so nothing may be disrupted).
 */
export function expectedPodCount(spec: any, podCount: number, controllerScale: number | undefined): { expectedPods: number; desiredHealthy: number } {
  const scale = controllerScale ?? podCount;
  if (isSet(spec?.maxUnavailable)) {
    return { expectedPods: scale, desiredHealthy: Math.max(0, scale - scaledValue(spec.maxUnavailable, scale, true)) };
  }
  if (typeof spec?.minAvailable === 'number') return { expectedPods: podCount, desiredHealthy: spec.minAvailable };
  if (typeof spec?.minAvailable === 'string') return { expectedPods: scale, desiredHealthy: scaledValue(spec.minAvailable, scale, true) };
  return { expectedPods: 0, desiredHealthy: 0 };
}

function parseTime(v: string): number { const t = Date.parse(v); return Number.isNaN(t) ? 0 : t; }

/**
 * The disruptedPods entries still in force at `now` (upstream buildDisruptedPodMap): only pods
 * that exist and are not yet terminating keep their entry, and only for DELETION_TIMEOUT_MS.
 * `notDeleted` names the pods whose entry expired; `recheckAt` is the earliest expiry to come.
 */
export function activeDisruptions(disruptedPods: Record<string, string> | undefined, pods: any[], now: number):
  { disruptedPods: Record<string, string>; notDeleted: string[]; recheckAt?: number } {
  const out: Record<string, string> = {};
  const notDeleted: string[] = [];
  let recheckAt: number | undefined;
  if (!disruptedPods) return { disruptedPods: out, notDeleted };
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disruptedPods[pod.metadata.name];
    if (at === undefined) continue;
    const expiry = parseTime(at) + DELETION_TIMEOUT_MS;
    if (expiry < now) { notDeleted.push(pod.metadata.name); continue; }
    if (recheckAt === undefined || expiry < recheckAt) recheckAt = expiry;
    out[pod.metadata.name] = at;
  }
  return { disruptedPods: out, notDeleted, recheckAt };
}

/** Ready pods that are neither terminating nor disrupted within the last DELETION_TIMEOUT_MS (upstream countHealthyPods). */
export function countHealthyPods(pods: any[], disruptedPods: Record<string, string>, now: number): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disruptedPods[pod.metadata.name];
    if (at !== undefined && parseTime(at) + DELETION_TIMEOUT_MS > now) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

/** currentHealthy - desiredHealthy, never negative, and 0 while no pod is expected (a budget whose pods have not appeared stays safe). */
export function disruptionsAllowed(currentHealthy: number, desiredHealthy: number, expectedPods: number): number {
  const d = currentHealthy - desiredHealthy;
  return expectedPods <= 0 || d <= 0 ? 0 : d;
}

/**
 * A budget's figures over `pods` (those its selector matches) at `now`, given the summed scale of
 * the pods' controllers (from expectedScale; used for percentages and maxUnavailable, the pods'
 * count when undefined). Throws DisruptionBudgetError for a malformed percentage.
 */
export function budgetFigures(pdb: any, pods: any[], controllerScale: number | undefined, now = Date.now()): BudgetFigures {
  const { expectedPods, desiredHealthy } = expectedPodCount(pdb.spec, pods.length, controllerScale);
  const { disruptedPods } = activeDisruptions(pdb.status?.disruptedPods, pods, now);
  const currentHealthy = countHealthyPods(pods, disruptedPods, now);
  return { expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed: disruptionsAllowed(currentHealthy, desiredHealthy, expectedPods) };
}

export interface BudgetCondition {
  type: string; status: 'True' | 'False'; reason: string; message: string;
  lastTransitionTime?: string; observedGeneration?: number;
}

/**
 * meta.SetStatusCondition: replaces the condition of the same type, keeping its
 * lastTransitionTime unless the status changed; returns a new list.
 */
export function setStatusCondition(conds: BudgetCondition[] | undefined, c: BudgetCondition, nowRfc3339: string): BudgetCondition[] {
  const list = [...(conds ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  if (i < 0) { list.push({ ...c, lastTransitionTime: c.lastTransitionTime ?? nowRfc3339 }); return list; }
  const old = list[i];
  list[i] = { ...old, ...c, lastTransitionTime: old.status === c.status ? old.lastTransitionTime ?? nowRfc3339 : nowRfc3339 };
  return list;
}

/** The DisruptionAllowed condition for the status' disruptionsAllowed (UpdateDisruptionAllowedCondition); returns the new conditions. */
export function disruptionAllowedConditions(status: any, nowRfc3339: string): BudgetCondition[] {
  const allowed = (status?.disruptionsAllowed ?? 0) > 0;
  return setStatusCondition(status?.conditions, {
    type: DISRUPTION_ALLOWED_CONDITION, status: allowed ? 'True' : 'False',
    reason: allowed ? SUFFICIENT_PODS_REASON : INSUFFICIENT_PODS_REASON, message: '',
    observedGeneration: status?.observedGeneration,
  }, nowRfc3339);
}

/** Whether DisruptionAllowed matches disruptionsAllowed for the budget's current generation (ConditionsAreUpToDate). */
export function conditionsAreUpToDate(pdb: any): boolean {
  const st = pdb.status ?? {};
  const c = (st.conditions ?? []).find((x: any) => x.type === DISRUPTION_ALLOWED_CONDITION);
  if (!c || st.observedGeneration !== pdb.metadata?.generation) return false;
  return (st.disruptionsAllowed ?? 0) > 0
    ? c.status === 'True' && c.reason === SUFFICIENT_PODS_REASON
    : c.status === 'False' && c.reason === INSUFFICIENT_PODS_REASON;
}

/** The entries of a disruptedPods map recorded less than DELETION_TIMEOUT_MS before `now` (what an eviction keeps when it adds one). */
export function unexpiredDisruptions(disruptedPods: Record<string, string> | undefined, now: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(disruptedPods ?? {})) if (parseTime(v) + DELETION_TIMEOUT_MS >= now) out[k] = v;
  return out;
}
