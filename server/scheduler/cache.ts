// The scheduler's in-memory view of nodes and the pods on them, including "assumed" pods (chosen
// a node, binding in flight) so the next cycle already counts their resources. JavaScript runs a
// scheduling cycle without interruption, so the cache itself serves as the cycle's snapshot.
import { fromLabelSelector, type Selector } from '../controllers/selectors';
import { nodeAllocatable, podRequests, type ResourceList } from './resources';

export interface AffinityTerm {
  selector: Selector;
  /** Namespaces the term looks in; undefined = all namespaces (an empty namespaceSelector). */
  namespaces: Set<string> | undefined;
  topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm { weight: number }

export function podKey(pod: any): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

function parseTerms(pod: any, terms: any[] | undefined): AffinityTerm[] {
  return (terms ?? []).map((t) => ({
    selector: fromLabelSelector(t.labelSelector),
    namespaces: t.namespaces?.length ? new Set<string>(t.namespaces)
      : t.namespaceSelector && Object.keys(t.namespaceSelector).length === 0 ? undefined
        : new Set<string>([pod.metadata.namespace]),
    topologyKey: t.topologyKey,
  }));
}

function parseWeighted(pod: any, terms: any[] | undefined): WeightedAffinityTerm[] {
  return (terms ?? []).map((w) => ({ ...parseTerms(pod, [w.podAffinityTerm])[0], weight: w.weight }));
}

/** A pod with its parsed requests and affinity terms, computed once. */
export class PodInfo {
  readonly key: string;
  readonly requests: ResourceList;
  readonly nonZero: ResourceList;
  readonly requiredAffinity: AffinityTerm[];
  readonly requiredAntiAffinity: AffinityTerm[];
  readonly preferredAffinity: WeightedAffinityTerm[];
  readonly preferredAntiAffinity: WeightedAffinityTerm[];

  constructor(readonly pod: any) {
    this.key = podKey(pod);
    this.requests = podRequests(pod);
    this.nonZero = podRequests(pod, true);
    const aff = pod.spec?.affinity ?? {};
    this.requiredAffinity = parseTerms(pod, aff.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.requiredAntiAffinity = parseTerms(pod, aff.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.preferredAffinity = parseWeighted(pod, aff.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.preferredAntiAffinity = parseWeighted(pod, aff.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
  }

  get hasAffinity(): boolean {
    return this.requiredAffinity.length + this.requiredAntiAffinity.length + this.preferredAffinity.length + this.preferredAntiAffinity.length > 0;
  }
}

/** Does term (from a pod in termNs) select `pod`? */
export function termMatches(term: AffinityTerm, pod: any): boolean {
  if (term.namespaces && !term.namespaces.has(pod.metadata.namespace)) return false;
  return term.selector.matches(pod.metadata.labels);
}

export class NodeInfo {
  node: any;
  readonly pods = new Map<string, PodInfo>();
  requested: ResourceList = {};
  nonZeroRequested: ResourceList = {};
  allocatable: ResourceList = {};
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;
  /** Host ports in use, as `protocol/hostIP/port`. */
  readonly usedPorts = new Set<string>();

  constructor(readonly name: string) {}

  setNode(node: any): void {
    this.node = node;
    this.allocatable = nodeAllocatable(node);
  }

  get labels(): Record<string, string> { return this.node?.metadata?.labels ?? {}; }

  /** A copy whose pods can be added and removed without touching this one (preemption's dry run). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.allocatable = this.allocatable;
    for (const pi of this.pods.values()) c.addPod(pi);
    return c;
  }

  addPod(pi: PodInfo): void {
    if (this.pods.has(pi.key)) this.removePod(pi.key);
    this.pods.set(pi.key, pi);
    for (const [k, v] of Object.entries(pi.requests)) this.requested[k] = (this.requested[k] ?? 0) + v;
    for (const k of ['cpu', 'memory']) this.nonZeroRequested[k] = (this.nonZeroRequested[k] ?? 0) + (pi.nonZero[k] ?? 0);
    if (pi.hasAffinity) this.podsWithAffinity++;
    if (pi.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity++;
    for (const port of hostPorts(pi.pod)) this.usedPorts.add(port);
  }

  removePod(key: string): boolean {
    const pi = this.pods.get(key);
    if (!pi) return false;
    this.pods.delete(key);
    for (const [k, v] of Object.entries(pi.requests)) this.requested[k] = (this.requested[k] ?? 0) - v;
    for (const k of ['cpu', 'memory']) this.nonZeroRequested[k] = (this.nonZeroRequested[k] ?? 0) - (pi.nonZero[k] ?? 0);
    if (pi.hasAffinity) this.podsWithAffinity--;
    if (pi.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity--;
    for (const port of hostPorts(pi.pod)) this.usedPorts.delete(port);
    return true;
  }
}

export function hostPorts(pod: any): string[] {
  const out: string[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${p.protocol ?? 'TCP'}/${p.hostIP || '0.0.0.0'}/${p.hostPort}`);
  }
  return out;
}

export interface Snapshot {
  /** Nodes that exist (have a Node object), in a stable order. */
  list(): NodeInfo[];
  get(name: string): NodeInfo | undefined;
  /** Nodes with at least one pod carrying (anti-)affinity terms. */
  havePodsWithAffinity(): NodeInfo[];
  numNodes(): number;
}

export class SchedulerCache implements Snapshot {
  private readonly nodes = new Map<string, NodeInfo>();
  private ordered: NodeInfo[] | undefined;
  /** pod key -> node name, for every pod the cache holds (assumed or confirmed). */
  private readonly podNode = new Map<string, string>();
  private readonly assumed = new Set<string>();

  list(): NodeInfo[] {
    if (!this.ordered) this.ordered = [...this.nodes.values()].filter((n) => n.node);
    return this.ordered;
  }
  get(name: string): NodeInfo | undefined { const n = this.nodes.get(name); return n?.node ? n : undefined; }
  numNodes(): number { return this.list().length; }
  havePodsWithAffinity(): NodeInfo[] { return this.list().filter((n) => n.podsWithAffinity > 0); }

  private info(name: string): NodeInfo {
    let n = this.nodes.get(name);
    if (!n) { n = new NodeInfo(name); this.nodes.set(name, n); this.ordered = undefined; }
    return n;
  }

  addOrUpdateNode(node: any): void {
    const existed = !!this.nodes.get(node.metadata.name)?.node;
    this.info(node.metadata.name).setNode(node);
    if (!existed) this.ordered = undefined;
  }

  removeNode(name: string): void {
    const n = this.nodes.get(name);
    if (!n) return;
    n.node = undefined;
    // Keep the NodeInfo while pods still reference it (upstream's "ghost" node).
    if (n.pods.size === 0) this.nodes.delete(name);
    this.ordered = undefined;
  }

  isAssumed(key: string): boolean { return this.assumed.has(key); }

  /** Places pod on nodeName before binding, so later cycles count it. */
  assumePod(pod: any, nodeName: string): void {
    const pi = new PodInfo(pod);
    this.removePodByKey(pi.key);
    this.info(nodeName).addPod(pi);
    this.podNode.set(pi.key, nodeName);
    this.assumed.add(pi.key);
  }

  /** Rolls back an assume after a failed bind. */
  forgetPod(key: string): void {
    if (!this.assumed.has(key)) return;
    this.assumed.delete(key);
    this.removePodByKey(key);
  }

  /** An assigned pod seen by the informer (confirms an assumed one). Terminal pods free their node. */
  addOrUpdatePod(pod: any): void {
    const key = podKey(pod);
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') { this.removePod(key); return; }
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    this.assumed.delete(key);
    this.removePodByKey(key);
    this.info(nodeName).addPod(new PodInfo(pod));
    this.podNode.set(key, nodeName);
  }

  removePod(key: string): void {
    this.assumed.delete(key);
    this.removePodByKey(key);
  }

  private removePodByKey(key: string): void {
    const nodeName = this.podNode.get(key);
    if (nodeName === undefined) return;
    this.podNode.delete(key);
    const n = this.nodes.get(nodeName);
    if (!n) return;
    n.removePod(key);
    if (!n.node && n.pods.size === 0) this.nodes.delete(nodeName);
  }

  nodeOf(key: string): string | undefined { return this.podNode.get(key); }
  get podCount(): number { return this.podNode.size; }
}
