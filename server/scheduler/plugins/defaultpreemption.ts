// DefaultPreemption (upstream's defaultpreemption PostFilter and framework/preemption evaluator):
// when a pod fits nowhere, find nodes where evicting lower-priority pods makes it fit, keep as
// few victims as possible (the reprieve loop, PDB-violating victims reprieved first), pick one
// node by upstream's criteria, nominate the pod there and evict the victims.
import { R, isConflict, isNotFound, type ClusterClient } from '../../controllers/client';
import type { EventRecorder } from '../../controllers/events';
import { fromLabelSelector, type Selector } from '../../controllers/selectors';
import { rfc3339 } from '../../controllers/types';
import { podKey, type NodeInfo, type PodInfo } from '../cache';
import { type CycleState, type Handle, type PostFilterPlugin, type PostFilterResult, Code, Status, fitErrorMessage } from '../framework';
import { podPriority } from '../nominator';

export const ErrNoVictims = 'No preemption victims found for incoming pod';
export const ErrNotHelpful = 'Preemption is not helpful for scheduling';
export const MsgPolicyNever = 'not eligible due to preemptionPolicy=Never.';
export const MsgTerminatingOnNominated = 'not eligible due to a terminating pod on the nominated node.';

/** Upstream's defaults: dry-run at least 10% of the potential nodes, and at least 100 of them. */
const MIN_CANDIDATE_NODES_PERCENTAGE = 10;
const MIN_CANDIDATE_NODES_ABSOLUTE = 100;

export interface Victims { pods: PodInfo[]; numPDBViolations: number }

/** The plugin was built without what it needs from the framework. */
export class PreemptionConfigError extends Error {
  readonly code = 'PreemptionConfig';
  constructor(message: string) { super(`DefaultPreemption: ${message}`); this.name = 'PreemptionConfigError'; }
}

/** Some victims could not be evicted: the preemptor should be retried rather than wait for events. */
export class PreemptionError extends Error {
  readonly code = 'PreemptionFailed';
  constructor(preemptor: string, failures: string[]) {
    super(`preempting for ${preemptor}: ${failures.join('; ')}`);
    this.name = 'PreemptionError';
  }
}
export interface Candidate { nodeName: string; victims: Victims }

/** A PodDisruptionBudget reduced to what preemption needs. */
export interface BudgetView {
  namespace: string;
  /** undefined: matches nothing (a nil or empty selector, as upstream's preemption reads it). */
  selector: Selector | undefined;
  disruptionsAllowed: number;
  /** Pods the apiserver already counted (status.disruptedPods): not a violation again. */
  disrupted: Set<string>;
}

function startTime(pod: any, now: number): number {
  const t = pod.status?.startTime ? Date.parse(pod.status.startTime) : NaN;
  return Number.isNaN(t) ? now : t;
}

/** upstream util.MoreImportantPod: higher priority first, then the one that started earlier. */
export function moreImportantPod(a: any, b: any, now = Date.now()): boolean {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  return startTime(a, now) < startTime(b, now);
}

function byImportance(list: PodInfo[]): PodInfo[] {
  const now = Date.now();
  return list.sort((x, y) => (moreImportantPod(x.pod, y.pod, now) ? -1 : moreImportantPod(y.pod, x.pod, now) ? 1 : 0));
}

/**
 * The budget as preemption sees it: the disruption controller's status.disruptionsAllowed (0 while
 * it has written none, as upstream reads the zero value), and the pods already being disrupted.
 */
export function budgetView(pdb: any): BudgetView {
  const sel = pdb.spec?.selector;
  const empty = !sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length);
  let selector: Selector | undefined;
  try { selector = empty ? undefined : fromLabelSelector(sel); } catch { selector = undefined; }
  const disrupted = new Set<string>(Object.keys(pdb.status?.disruptedPods ?? {}));
  return { namespace: pdb.metadata?.namespace ?? '', selector, disruptionsAllowed: pdb.status?.disruptionsAllowed ?? 0, disrupted };
}

/**
 * Splits pods (kept in their order) into those whose eviction would push a matching budget below
 * zero allowed disruptions and the rest; each matching pod uses up one allowed disruption.
 */
export function filterPodsWithPDBViolation(pods: PodInfo[], budgets: BudgetView[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = budgets.map((b) => b.disruptionsAllowed);
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pi of pods) {
    const labels = pi.pod.metadata.labels;
    let violated = false;
    if (labels && Object.keys(labels).length) {
      for (let i = 0; i < budgets.length; i++) {
        const b = budgets[i];
        if (b.namespace !== pi.pod.metadata.namespace || !b.selector || !b.selector.matches(labels)) continue;
        if (b.disrupted.has(pi.pod.metadata.name)) continue;
        allowed[i]--;
        if (allowed[i] < 0) violated = true;
      }
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return { violating, nonViolating };
}

/**
 * upstream pickOneNodeForPreemption: fewest PDB violations, then the lowest highest-priority
 * victim, the smallest priority sum, the fewest victims, the latest start among each node's
 * highest-priority victims; otherwise the first. Victims must be sorted most important first.
 */
export function pickOneNodeForPreemption(candidates: Candidate[], now = Date.now()): Candidate | undefined {
  if (candidates.length <= 1) return candidates[0];
  const scoreFns: Array<(c: Candidate) => number> = [
    (c) => -c.victims.numPDBViolations,
    (c) => -podPriority(c.victims.pods[0]?.pod),
    // Offset by 2^31 so negative priorities still add up to more for more pods (as upstream).
    (c) => -c.victims.pods.reduce((s, v) => s + podPriority(v.pod) + 2 ** 31, 0),
    (c) => -c.victims.pods.length,
    (c) => {
      const top = podPriority(c.victims.pods[0]?.pod);
      let earliest = Infinity;
      for (const v of c.victims.pods) if (podPriority(v.pod) === top) earliest = Math.min(earliest, startTime(v.pod, now));
      return earliest === Infinity ? -Infinity : earliest;
    },
  ];
  let pool = candidates;
  for (const f of scoreFns) {
    let best = -Infinity;
    let next: Candidate[] = [];
    for (const c of pool) {
      const s = f(c);
      if (s > best) { best = s; next = [c]; } else if (s === best) next.push(c);
    }
    if (next.length === 1) return next[0];
    pool = next;
  }
  return pool[0];
}

export interface PreemptionOptions {
  recorder?: EventRecorder;
  logger?: (m: string) => void;
  now?: () => number;
  /** Dry-run order; upstream starts at a random offset. Tests pin it. */
  random?: () => number;
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = 'DefaultPreemption';
  /** Victims whose eviction this scheduler started and has not yet seen land: count as terminating. */
  readonly preempting = new Set<string>();
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly handle: Handle, private readonly client?: ClusterClient, private readonly opts: PreemptionOptions = {}) {
    if (!handle.runFilterWithNominatedPods) throw new PreemptionConfigError('the handle must run Filter (runFilterWithNominatedPods)');
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  private isTerminating(pi: PodInfo): boolean {
    return !!pi.pod.metadata.deletionTimestamp || this.preempting.has(pi.key);
  }

  /** The eviction of key landed (the pod is terminating or gone): stop tracking it. */
  victimObserved(key: string): void { this.preempting.delete(key); }

  /** upstream PodEligibleToPreemptOthers. */
  eligible(pod: any, statuses: Map<string, Status>): { ok: boolean; message: string } {
    if (pod.spec?.preemptionPolicy === 'Never') return { ok: false, message: MsgPolicyNever };
    const nominated = pod.status?.nominatedNodeName || this.handle.nominator?.nominatedNodeOf(podKey(pod));
    if (nominated) {
      // Preemption cannot help on the nominated node any more: let the pod preempt elsewhere.
      if (statuses.get(nominated)?.code === Code.UnschedulableAndUnresolvable) return { ok: true, message: '' };
      const node = this.handle.snapshot().get(nominated);
      const prio = podPriority(pod);
      if (node) {
        for (const pi of node.pods.values()) {
          if (this.isTerminating(pi) && podPriority(pi.pod) < prio) return { ok: false, message: MsgTerminatingOnNominated };
        }
      }
    }
    return { ok: true, message: '' };
  }

  private fits(state: CycleState, pod: any, node: NodeInfo): Status {
    return this.handle.runFilterWithNominatedPods!(state, pod, node);
  }

  /**
   * upstream SelectVictimsOnNode on a copy of the node: remove every lower-priority pod; if the
   * pod then fits, add them back most important first (PDB-violating ones before the rest) while
   * it still fits. The ones that cannot come back are the victims.
   */
  selectVictimsOnNode(cycleState: CycleState, pod: any, nodeInfo: NodeInfo, budgets: BudgetView[]): { victims?: Victims; status: Status } {
    // What-if on copies: the node's pods and the PreFilter state (affinity and spread counts).
    const node = nodeInfo.clone();
    const state = cycleState.clone();
    const remove = (pi: PodInfo): Status => {
      node.removePod(pi.key);
      return this.handle.runPreFilterRemovePod?.(state, pod, pi, node) ?? Status.success();
    };
    const add = (pi: PodInfo): Status => {
      node.addPod(pi);
      return this.handle.runPreFilterAddPod?.(state, pod, pi, node) ?? Status.success();
    };
    const prio = podPriority(pod);
    const potential: PodInfo[] = [];
    for (const pi of [...node.pods.values()]) {
      if (podPriority(pi.pod) >= prio) continue;
      potential.push(pi);
      const st = remove(pi);
      if (!st.isSuccess()) return { status: st };
    }
    if (!potential.length) return { status: Status.unresolvable(ErrNoVictims) };
    const fits = this.fits(state, pod, node);
    if (!fits.isSuccess()) return { status: fits };
    byImportance(potential);
    const { violating, nonViolating } = filterPodsWithPDBViolation(potential, budgets);
    const victims: PodInfo[] = [];
    let numPDBViolations = 0;
    const reprieve = (pi: PodInfo): boolean => {
      add(pi);
      if (this.fits(state, pod, node).isSuccess()) return true;
      remove(pi);
      victims.push(pi);
      return false;
    };
    for (const pi of violating) if (!reprieve(pi)) numPDBViolations++;
    for (const pi of nonViolating) reprieve(pi);
    byImportance(victims);
    return { victims: { pods: victims, numPDBViolations }, status: Status.success() };
  }

  budgets(): BudgetView[] {
    return (this.handle.podDisruptionBudgets?.() ?? []).map(budgetView);
  }

  /** upstream DryRunPreemption: candidates (non-violating first) and each failed node's status. */
  findCandidates(state: CycleState, pod: any, statuses: Map<string, Status>): { candidates: Candidate[]; nodeStatuses: Map<string, Status>; potential: number } {
    const all = this.handle.snapshot().list();
    const nodeStatuses = new Map<string, Status>();
    const potential: NodeInfo[] = [];
    for (const n of all) {
      if (statuses.get(n.name)?.code === Code.Unschedulable) potential.push(n);
      else nodeStatuses.set(n.name, Status.unresolvable(ErrNotHelpful));
    }
    if (!potential.length) return { candidates: [], nodeStatuses, potential: 0 };
    const budgets = this.budgets();
    const numCandidates = Math.min(potential.length,
      Math.max(Math.floor((potential.length * MIN_CANDIDATE_NODES_PERCENTAGE) / 100), MIN_CANDIDATE_NODES_ABSOLUTE));
    const offset = Math.floor(this.random() * potential.length) % potential.length;
    const nonViolating: Candidate[] = [];
    const violating: Candidate[] = [];
    for (let i = 0; i < potential.length; i++) {
      const n = potential[(offset + i) % potential.length];
      const r = this.selectVictimsOnNode(state, pod, n, budgets);
      if (r.status.isSuccess() && r.victims!.pods.length) {
        (r.victims!.numPDBViolations === 0 ? nonViolating : violating).push({ nodeName: n.name, victims: r.victims! });
        if (nonViolating.length > 0 && nonViolating.length + violating.length >= numCandidates) break;
        continue;
      }
      nodeStatuses.set(n.name, r.status.isSuccess() ? new Status(Code.Error, [`expected at least one victim pod on node "${n.name}"`]) : r.status);
    }
    return { candidates: [...nonViolating, ...violating], nodeStatuses, potential: potential.length };
  }

  postFilter(state: CycleState, pod: any, statuses: Map<string, Status>, numNodes: number): PostFilterResult {
    const el = this.eligible(pod, statuses);
    if (!el.ok) return { status: Status.unschedulable(el.message), message: `preemption: ${el.message}` };
    const { candidates, nodeStatuses } = this.findCandidates(state, pod, statuses);
    if (!candidates.length) {
      // No node helps: the pod's nomination, if any, is cleared (as upstream).
      return { status: Status.unschedulable(), nominatedNodeName: '', message: `preemption: ${fitErrorMessage(numNodes, nodeStatuses, '', '')}` };
    }
    const best = pickOneNodeForPreemption(candidates, this.now())!;
    for (const v of best.victims.pods) this.preempting.add(v.key);
    // Lower-priority pods nominated to this node may no longer fit there: their nomination goes.
    const prio = podPriority(pod);
    const displaced = (this.handle.nominator?.podsForNode(best.nodeName) ?? []).filter((pi) => podPriority(pi.pod) < prio);
    for (const pi of displaced) this.handle.nominator!.delete(pi.key);
    return {
      status: Status.success(), message: '', nominatedNodeName: best.nodeName,
      prepare: () => this.prepareCandidate(best, pod, displaced.map((pi) => pi.pod)),
    };
  }

  /**
   * Evicts the victims (DisruptionTarget condition first, then delete; Preempted event) and clears
   * displaced nominations. Throws PreemptionError when a victim could not be evicted (gone is fine).
   */
  async prepareCandidate(c: Candidate, preemptor: any, displaced: any[] = []): Promise<void> {
    if (!this.client) return;
    const client = this.client;
    const schedulerName = preemptor.spec?.schedulerName || 'default-scheduler';
    const failures: string[] = [];
    await Promise.all(c.victims.pods.map(async (v) => {
      const { namespace, name, uid } = v.pod.metadata;
      try {
        const cond = {
          type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler',
          message: `${schedulerName}: preempting to accommodate a higher priority pod`,
          lastProbeTime: null, lastTransitionTime: rfc3339(this.now()),
        };
        const conds = (v.pod.status?.conditions ?? []).filter((x: any) => x.type !== 'DisruptionTarget');
        await client.patch(R.pods, namespace, name, 'strategic', { status: { conditions: [...conds, cond] } }, 'status');
        await client.delete(R.pods, namespace, name, { preconditions: { uid } });
      } catch (e) {
        this.preempting.delete(v.key);
        if (isNotFound(e) || isConflict(e)) return;
        failures.push(`${v.key}: ${(e as Error).message}`);
        return;
      }
      this.opts.recorder?.event(v.pod, 'Normal', 'Preempted', `Preempted by pod ${preemptor.metadata.uid} on node ${c.nodeName}`);
    }));
    await Promise.all(displaced.map(async (p) => {
      try {
        await client.patch(R.pods, p.metadata.namespace, p.metadata.name, 'merge', { status: { nominatedNodeName: null } }, 'status');
      } catch (e) {
        if (!isNotFound(e)) this.opts.logger?.(`scheduler: clearing nominatedNodeName of ${podKey(p)}: ${(e as Error).message}`);
      }
    }));
    if (failures.length) throw new PreemptionError(podKey(preemptor), failures);
  }
}
