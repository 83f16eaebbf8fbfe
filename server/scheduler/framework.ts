// The scheduling framework: plugin interfaces per extension point, typed statuses, cycle
// state, and the runner that calls enabled plugins in order (upstream's framework/interface.go).
import type { EventRecorder } from '../controllers/events';
import { podKey, type NodeInfo, type PodInfo, type Snapshot } from './cache';
import { podPriority, type PodNominator } from './nominator';

/** Outcome of a plugin call. Never a bare boolean. */
export enum Code {
  Success = 'Success',
  /** The pod does not fit now; may fit after cluster changes (preemption could help upstream). */
  Unschedulable = 'Unschedulable',
  /** Will not fit on this node whatever happens to other pods (preemption cannot help). */
  UnschedulableAndUnresolvable = 'UnschedulableAndUnresolvable',
  /** An internal error: the pod is retried with back-off. */
  Error = 'Error',
  /** From PreFilter/PreScore: this plugin has nothing to do for this pod; skip its Filter/Score. */
  Skip = 'Skip',
}

export class Status {
  private static readonly ok = new Status(Code.Success, []);
  constructor(readonly code: Code, readonly reasons: string[], public plugin = '') {}
  static success(): Status { return Status.ok; }
  static unschedulable(...reasons: string[]): Status { return new Status(Code.Unschedulable, reasons); }
  static unresolvable(...reasons: string[]): Status { return new Status(Code.UnschedulableAndUnresolvable, reasons); }
  static error(err: unknown): Status { return new Status(Code.Error, [(err as Error)?.message ?? String(err)]); }
  static skip(): Status { return new Status(Code.Skip, []); }
  isSuccess(): boolean { return this.code === Code.Success; }
  isRejected(): boolean { return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable; }
  message(): string { return this.reasons.join(', '); }
  withPlugin(name: string): Status { if (this === Status.ok) return this; this.plugin = name; return this; }
}

/** Per-pod scratch space shared by one pod's plugins during a scheduling cycle. */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Plugins whose PreFilter returned Skip: their Filter is not run. */
  readonly skipFilter = new Set<string>();
  readonly skipScore = new Set<string>();
  /** Filter plugins left to run after PreFilter (computed once per cycle). */
  activeFilters?: FilterPlugin[];
  write(key: string, v: unknown): void { this.data.set(key, v); }
  read<T>(key: string): T | undefined { return this.data.get(key) as T | undefined; }
  /** A copy for a what-if (preemption's dry run, nominated pods): values with clone() are copied, others shared as immutable. */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, typeof (v as Cloneable)?.clone === 'function' ? (v as Cloneable).clone() : v);
    for (const n of this.skipFilter) c.skipFilter.add(n);
    for (const n of this.skipScore) c.skipScore.add(n);
    c.activeFilters = this.activeFilters;
    return c;
  }
}

/** Cycle-state values that PreFilter extensions mutate implement this. */
export interface Cloneable { clone(): unknown }

/** What plugins may use beyond their arguments: the snapshot of nodes and their pods. */
export interface Handle {
  snapshot(): Snapshot;
  /** Preemptors nominated to nodes by an earlier preemption (absent: no preemption in this scheduler). */
  nominator?: PodNominator;
  /** Where plugins record events on other objects (preemption's Preempted event on victims). */
  recorder?: EventRecorder;
  logger?: (m: string) => void;
  /** Filter with the node's nominated pods of equal or higher priority counted (upstream's RunFilterPluginsWithNominatedPods). */
  runFilterWithNominatedPods?(state: CycleState, pod: any, node: NodeInfo): Status;
  /** PreFilter extensions (upstream's RunPreFilterExtensionAddPod/RemovePod) on a cloned state. */
  runPreFilterAddPod?(state: CycleState, pod: any, added: PodInfo, node: NodeInfo): Status;
  runPreFilterRemovePod?(state: CycleState, pod: any, removed: PodInfo, node: NodeInfo): Status;
  /** Every PodDisruptionBudget the scheduler knows (policy/v1 objects). */
  podDisruptionBudgets?(): any[];
}

export interface Plugin { readonly name: string }

/**
 * Runs once per pod before filtering; computes state, may reject the pod outright or Skip.
 * addPod/removePod (upstream's PreFilterExtensions) update that state when a what-if adds or
 * removes a pod on a node (preemption's victims, nominated pods); the state must then be Cloneable.
 */
export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: any, nodes: NodeInfo[]): Status;
  addPod?(state: CycleState, pod: any, added: PodInfo, node: NodeInfo): Status;
  removePod?(state: CycleState, pod: any, removed: PodInfo, node: NodeInfo): Status;
}

/** Whether the pod may run on this node. Must be pure with respect to the snapshot. */
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: any, node: NodeInfo): Status;
}

/**
 * What a PostFilter plugin decided. Success with nominatedNodeName: the pod should wait for that
 * node (preemption chose it), and `prepare` performs the API writes that make room. A rejection
 * carries the message appended to the FitError; nominatedNodeName '' there clears a nomination,
 * undefined keeps it.
 */
export interface PostFilterResult {
  status: Status;
  message: string;
  nominatedNodeName?: string;
  prepare?: () => Promise<void>;
}

/** Runs after no node passed Filter. Must not block: API writes go in the result's `prepare`. */
export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: any, statuses: Map<string, Status>, numNodes: number): PostFilterResult;
}

/** Prepares scoring state for the feasible nodes; may Skip. */
export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: any, nodes: NodeInfo[]): Status;
}

/** A raw score per feasible node; normalizeScore maps them to 0..MAX_NODE_SCORE in place. */
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: any, node: NodeInfo): number;
  normalizeScore?(state: CycleState, pod: any, scores: NodeScore[]): void;
}

/** Reserve claims resources in the scheduler's cache before binding; Unreserve rolls back. */
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: any, nodeName: string): Status;
  unreserve(state: CycleState, pod: any, nodeName: string): void;
}

/** Binds the pod; returns Skip to let the next bind plugin act. */
export interface BindPlugin extends Plugin {
  bind(state: CycleState, pod: any, nodeName: string): Promise<Status>;
}

export interface NodeScore { name: string; score: number }

export const MAX_NODE_SCORE = 100;

/** Maps raw scores to 0..MAX_NODE_SCORE proportionally to the maximum; reverse flips it. */
export function defaultNormalizeScore(scores: NodeScore[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s.score > max) max = s.score;
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = MAX_NODE_SCORE;
    return;
  }
  for (const s of scores) {
    const v = Math.floor((MAX_NODE_SCORE * s.score) / max);
    s.score = reverse ? MAX_NODE_SCORE - v : v;
  }
}

/** Why a pod fits nowhere; Error() text follows upstream's FitError exactly. */
export class FitError extends Error {
  readonly code = 'FitError';
  /** The PostFilter outcome (nomination and preparation) when PostFilter ran. */
  postFilter?: PostFilterOutcome;
  constructor(readonly pod: any, readonly numAllNodes: number, readonly statuses: Map<string, Status>,
    readonly preFilterMsg: string, readonly postFilterMsg: string) {
    super(withoutStackTrace(fitErrorMessage(numAllNodes, statuses, preFilterMsg, postFilterMsg)));
    Error.stackTraceLimit = savedStackTraceLimit;
    this.name = 'FitError';
  }
}

// A FitError is the answer of every unschedulable pod's cycle, not a fault: capturing its stack
// trace (most of its cost) serves nobody. The limit is lowered while super() runs, then restored.
let savedStackTraceLimit = Error.stackTraceLimit;
function withoutStackTrace(message: string): string {
  savedStackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return message;
}

export function fitErrorMessage(numAllNodes: number, statuses: Map<string, Status>, preFilterMsg: string, postFilterMsg: string): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (preFilterMsg) {
    msg += ` ${preFilterMsg}.`;
  } else {
    const hist = new Map<string, number>();
    for (const st of statuses.values()) for (const r of st.reasons) hist.set(r, (hist.get(r) ?? 0) + 1);
    // Go's sort.Strings: byte-wise order of "<count> <reason>".
    const parts = [...hist].map(([r, n]) => `${n} ${r}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (parts.length) msg += ` ${parts.join(', ')}.`;
  }
  if (postFilterMsg) msg += ` ${postFilterMsg}.`;
  return msg;
}

/** The PostFilter plugins' combined answer. */
export interface PostFilterOutcome {
  /** Appended to the FitError text ('' when a plugin succeeded, as upstream). */
  message: string;
  nominatedNodeName?: string;
  prepare?: () => Promise<void>;
}

export interface PluginWeights { [plugin: string]: number }

export interface ProfileConfig {
  schedulerName: string;
  plugins: string[];
  /** Score weights by plugin name (plugins not listed score with weight 1). */
  scoreWeights: PluginWeights;
  /** Percentage of nodes to find feasible before stopping (0 = adaptive, as upstream). */
  percentageOfNodesToScore: number;
}

export class Framework {
  readonly preFilter: PreFilterPlugin[] = [];
  readonly filter: FilterPlugin[] = [];
  readonly postFilter: PostFilterPlugin[] = [];
  readonly preScore: PreScorePlugin[] = [];
  readonly score: ScorePlugin[] = [];
  readonly reserve: ReservePlugin[] = [];
  readonly bind: BindPlugin[] = [];
  /** The scheduler's nominator: nominated pods count in runFilterWithNominatedPods. */
  nominator?: PodNominator;

  constructor(readonly profile: ProfileConfig, plugins: Plugin[]) {
    for (const p of plugins) {
      const a = p as any;
      if (typeof a.preFilter === 'function') this.preFilter.push(a);
      if (typeof a.filter === 'function') this.filter.push(a);
      if (typeof a.postFilter === 'function') this.postFilter.push(a);
      if (typeof a.preScore === 'function') this.preScore.push(a);
      if (typeof a.score === 'function') this.score.push(a);
      if (typeof a.reserve === 'function') this.reserve.push(a);
      if (typeof a.bind === 'function') this.bind.push(a);
    }
  }

  runPreFilter(state: CycleState, pod: any, nodes: NodeInfo[]): Status {
    for (const p of this.preFilter) {
      let st: Status;
      try { st = p.preFilter(state, pod, nodes); } catch (e) { st = Status.error(e); }
      if (st.code === Code.Skip) { state.skipFilter.add(p.name); continue; }
      if (!st.isSuccess()) return st.withPlugin(p.name);
    }
    state.activeFilters = this.filter.filter((p) => !state.skipFilter.has(p.name));
    return Status.success();
  }

  /** Runs every filter on a node, stopping at the first rejection (as upstream does). */
  runFilter(state: CycleState, pod: any, node: NodeInfo): Status {
    const filters = state.activeFilters ?? this.filter.filter((p) => !state.skipFilter.has(p.name));
    for (let i = 0; i < filters.length; i++) {
      const p = filters[i];
      let st: Status;
      try { st = p.filter(state, pod, node); } catch (e) { st = Status.error(e); }
      if (!st.isSuccess()) return st.withPlugin(p.name);
    }
    return Status.success();
  }

  /**
   * upstream RunFilterPluginsWithNominatedPods: first with the node's nominated pods of equal or
   * higher priority added (so lower-priority pods leave their room), then without them (so a
   * nominated pod that never arrives cannot make the node pass, e.g. for affinity).
   */
  runFilterWithNominatedPods(state: CycleState, pod: any, node: NodeInfo): Status {
    const nominated = this.nominator?.podsForNode(node.name);
    if (nominated?.length) {
      const prio = podPriority(pod);
      const key = podKey(pod);
      let withNominated: NodeInfo | undefined;
      let stateWith: CycleState | undefined;
      for (const pi of nominated) {
        if (pi.key === key || podPriority(pi.pod) < prio || node.pods.has(pi.key)) continue;
        if (!withNominated) { withNominated = node.clone(); stateWith = state.clone(); }
        withNominated.addPod(pi);
        const st = this.runPreFilterAddPod(stateWith!, pod, pi, withNominated);
        if (!st.isSuccess()) return st;
      }
      if (withNominated) {
        const st = this.runFilter(stateWith!, pod, withNominated);
        if (!st.isSuccess()) return st;
      }
    }
    return this.runFilter(state, pod, node);
  }

  /** PreFilter extensions: pod `added` now counts on `node` in this (cloned) state. */
  runPreFilterAddPod(state: CycleState, pod: any, added: PodInfo, node: NodeInfo): Status {
    for (const p of this.preFilter) {
      if (!p.addPod || state.skipFilter.has(p.name)) continue;
      const st = p.addPod(state, pod, added, node);
      if (!st.isSuccess()) return st.withPlugin(p.name);
    }
    return Status.success();
  }

  /** PreFilter extensions: pod `removed` no longer counts on `node` in this (cloned) state. */
  runPreFilterRemovePod(state: CycleState, pod: any, removed: PodInfo, node: NodeInfo): Status {
    for (const p of this.preFilter) {
      if (!p.removePod || state.skipFilter.has(p.name)) continue;
      const st = p.removePod(state, pod, removed, node);
      if (!st.isSuccess()) return st.withPlugin(p.name);
    }
    return Status.success();
  }

  /** Runs PostFilter plugins until one succeeds (as upstream); the rejections' messages are joined. */
  runPostFilter(state: CycleState, pod: any, statuses: Map<string, Status>, numNodes: number): PostFilterOutcome {
    const msgs: string[] = [];
    let nominatedNodeName: string | undefined;
    for (const p of this.postFilter) {
      let r: PostFilterResult;
      try { r = p.postFilter(state, pod, statuses, numNodes); } catch (e) { r = { status: Status.error(e), message: (e as Error).message }; }
      if (r.status.isSuccess()) return { message: '', nominatedNodeName: r.nominatedNodeName, prepare: r.prepare };
      if (r.nominatedNodeName !== undefined) nominatedNodeName = r.nominatedNodeName;
      if (r.message) msgs.push(r.message);
    }
    return { message: msgs.join(' '), nominatedNodeName };
  }

  /** Weighted sum of normalized scores per node. */
  runScore(state: CycleState, pod: any, nodes: NodeInfo[]): NodeScore[] {
    for (const p of this.preScore) {
      const st = p.preScore(state, pod, nodes);
      if (st.code === Code.Skip) state.skipScore.add(p.name);
      else if (!st.isSuccess()) throw new SchedulingError(`PreScore ${p.name}: ${st.message()}`);
    }
    const total: NodeScore[] = nodes.map((n) => ({ name: n.name, score: 0 }));
    const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: 0 }));
    for (const p of this.score) {
      if (state.skipScore.has(p.name)) continue;
      const weight = this.profile.scoreWeights[p.name] ?? 1;
      for (let i = 0; i < nodes.length; i++) scores[i].score = p.score(state, pod, nodes[i]);
      p.normalizeScore?.(state, pod, scores);
      for (let i = 0; i < scores.length; i++) total[i].score += scores[i].score * weight;
    }
    return total;
  }

  runReserve(state: CycleState, pod: any, nodeName: string): Status {
    for (let i = 0; i < this.reserve.length; i++) {
      const st = this.reserve[i].reserve(state, pod, nodeName);
      if (!st.isSuccess()) {
        for (let j = i; j >= 0; j--) this.reserve[j].unreserve(state, pod, nodeName);
        return st.withPlugin(this.reserve[i].name);
      }
    }
    return Status.success();
  }

  runUnreserve(state: CycleState, pod: any, nodeName: string): void {
    for (let j = this.reserve.length - 1; j >= 0; j--) this.reserve[j].unreserve(state, pod, nodeName);
  }

  async runBind(state: CycleState, pod: any, nodeName: string): Promise<Status> {
    for (const p of this.bind) {
      const st = await p.bind(state, pod, nodeName);
      if (st.code === Code.Skip) continue;
      return st.withPlugin(p.name);
    }
    return new Status(Code.Error, ['no bind plugin bound the pod']);
  }
}

export class SchedulingError extends Error {
  readonly code = 'SchedulingError';
  constructor(message: string) { super(message); this.name = 'SchedulingError'; }
}
