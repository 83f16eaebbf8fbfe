// The scheduler: watches unscheduled pods (schedulerName default-scheduler or empty) and nodes,
// runs one pod at a time through the framework against the cache, assumes the chosen node, and
// binds asynchronously through pods/binding so the next cycle need not wait for the write.
import { R, isNotFound, type ClusterClient, type Informer } from '../controllers/client';
import { SharedInformerFactory } from '../controllers/client';
import { ApiEventRecorder, type EventRecorder } from '../controllers/events';
import { realClock, rfc3339, type Clock, type KubeObject } from '../controllers/types';
import { SchedulerCache, podKey, type NodeInfo } from './cache';
import { Code, CycleState, FitError, Framework, type Handle, type PostFilterOutcome, type ProfileConfig, type Status } from './framework';
import { PodNominator } from './nominator';
import { DefaultPreemption } from './plugins/defaultpreemption';
import { SchedulingQueue, type QueuedPod } from './queue';
import { buildPlugins, defaultProfile } from './registry';

/** policy/v1 PodDisruptionBudgets, which preemption honours (not in the controllers' R list). */

export interface SchedulerOptions {
  client: ClusterClient;
  /** Share the controller manager's informers when running in the same process. */
  informers?: SharedInformerFactory;
  profile?: ProfileConfig;
  clock?: Clock;
  logger?: (m: string) => void;
  recorder?: EventRecorder;
  /** Bindings in flight at once. */
  maxInFlightBinds?: number;
  /** Record the `Scheduled` Normal event for every bound pod (upstream does). */
  recordScheduledEvents?: boolean;
  queue?: { initialBackoffMs?: number; maxBackoffMs?: number };
  /** Called after every successful bind with the time since the pod entered the queue. */
  onBound?: (pod: any, nodeName: string, latencyMs: number) => void;
}

export interface ScheduleResult { nodeName: string; evaluated: number; feasible: number }

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  readonly framework: Framework;
  readonly informers: SharedInformerFactory;
  /** Preemptors waiting on the node they were nominated to. */
  readonly nominator = new PodNominator();
  /** The profile's preemption plugin, if enabled. */
  readonly preemption?: DefaultPreemption;
  private pdbInformer?: Informer;
  /** Victim evictions in flight (awaited by stop()). */
  private readonly pendingPreemptions = new Set<Promise<void>>();
  private readonly client: ClusterClient;
  private readonly recorder: EventRecorder;
  private readonly logger: (m: string) => void;
  private readonly clock: Clock;
  private nextStartNodeIndex = 0;
  private running?: Promise<void>;
  private stopped = false;
  private bindsInFlight = 0;
  private readonly bindWaiters: Array<() => void> = [];
  private readonly pendingBinds = new Set<Promise<void>>();
  private readonly ownInformers: boolean;

  constructor(private readonly opts: SchedulerOptions) {
    this.client = opts.client;
    this.clock = opts.clock ?? realClock;
    this.logger = opts.logger ?? (() => {});
    this.recorder = opts.recorder ?? new ApiEventRecorder(opts.client, 'default-scheduler', this.clock, this.logger);
    this.ownInformers = !opts.informers;
    this.informers = opts.informers ?? new SharedInformerFactory(opts.client, { logger: this.logger });
    this.queue = new SchedulingQueue({ ...opts.queue, now: () => this.clock.now() });
    const profile = opts.profile ?? defaultProfile();
    const handle: Handle = {
      snapshot: () => this.cache,
      nominator: this.nominator,
      recorder: this.recorder,
      logger: this.logger,
      runFilterWithNominatedPods: (state, pod, node) => this.framework.runFilterWithNominatedPods(state, pod, node),
      runPreFilterAddPod: (state, pod, added, node) => this.framework.runPreFilterAddPod(state, pod, added, node),
      runPreFilterRemovePod: (state, pod, removed, node) => this.framework.runPreFilterRemovePod(state, pod, removed, node),
      podDisruptionBudgets: () => this.pdbInformer?.store.list() ?? [],
    };
    this.framework = new Framework(profile, buildPlugins(profile, handle, opts.client));
    this.framework.nominator = this.nominator;
    this.preemption = this.framework.postFilter.find((p): p is DefaultPreemption => p instanceof DefaultPreemption);
    if (this.preemption) this.pdbInformer = this.informers.informerFor(R.poddisruptionbudgets);
    this.registerHandlers();
  }

  private responsible(pod: KubeObject): boolean {
    const name = pod.spec?.schedulerName;
    return !name || name === this.framework.profile.schedulerName;
  }

  private registerHandlers(): void {
    const pods = this.informers.informerFor(R.pods);
    const nodes = this.informers.informerFor(R.nodes);
    const onPod = (pod: KubeObject, old?: KubeObject) => {
      const key = podKey(pod);
      if (pod.metadata.deletionTimestamp) this.preemption?.victimObserved(key);
      if (pod.spec?.nodeName) {
        // Assigned: account for it in the cache, and drop it from the queue if a bind by someone
        // else got there first. A nomination has served its purpose.
        this.nominator.delete(key);
        if (this.queue.has(key)) this.queue.delete(key);
        this.cache.addOrUpdatePod(pod);
        const phase = pod.status?.phase;
        const becameTerminal = (phase === 'Succeeded' || phase === 'Failed') && old?.status?.phase !== phase;
        if (!old?.spec?.nodeName || becameTerminal) this.queue.moveAllToActiveOrBackoff();
        return;
      }
      if (pod.metadata.deletionTimestamp || !this.responsible(pod)) { this.nominator.delete(key); return; }
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') { this.nominator.delete(key); return; }
      // The API's nomination wins; an update without one keeps the in-memory nomination unless
      // the field was cleared (upstream's UpdateNominatedPod: the status write may lag the cycle).
      const nnn = pod.status?.nominatedNodeName;
      if (nnn) this.nominator.add(pod, nnn);
      else if (old?.status?.nominatedNodeName) this.nominator.delete(key);
      if (this.cache.isAssumed(key)) return;
      if (old) this.queue.update(pod); else this.queue.add(pod);
    };
    pods.addEventHandler({
      onAdd: (p) => onPod(p),
      onUpdate: (o, n) => { if (o !== n) onPod(n, o); },
      onDelete: (p) => {
        const key = podKey(p);
        this.queue.delete(key);
        this.nominator.delete(key);
        this.preemption?.victimObserved(key);
        if (this.cache.nodeOf(key) !== undefined) { this.cache.removePod(key); this.queue.moveAllToActiveOrBackoff(); }
      },
    });
    nodes.addEventHandler({
      onAdd: (n) => { this.cache.addOrUpdateNode(n); this.queue.moveAllToActiveOrBackoff(); },
      onUpdate: (o, n) => {
        if (o === n) return;
        this.cache.addOrUpdateNode(n);
        if (JSON.stringify(o.spec) !== JSON.stringify(n.spec) || JSON.stringify(o.metadata.labels) !== JSON.stringify(n.metadata.labels)
          || JSON.stringify(o.status?.allocatable) !== JSON.stringify(n.status?.allocatable)) this.queue.moveAllToActiveOrBackoff();
      },
      onDelete: (n) => this.cache.removeNode(n.metadata.name!),
    });
  }

  /** Starts informers (if owned), waits for caches, then runs the scheduling loop. */
  async start(): Promise<void> {
    if (this.ownInformers) this.informers.start();
    await this.informers.waitForCacheSync();
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.close();
    if (this.ownInformers) this.informers.shutdown();
    await this.running;
    await Promise.allSettled([...this.pendingBinds, ...this.pendingPreemptions]);
  }

  private async loop(): Promise<void> {
    let lastYield = Date.now();
    for (;;) {
      const q = await this.queue.pop();
      if (!q || this.stopped) return;
      if (this.bindsInFlight >= (this.opts.maxInFlightBinds ?? 256)) await new Promise<void>((r) => this.bindWaiters.push(r));
      this.scheduleOne(q);
      // A scheduling cycle is synchronous: yield now and then so watch events and bind replies run.
      if (Date.now() - lastYield > 5) { await new Promise((r) => setImmediate(r)); lastYield = Date.now(); }
    }
  }

  /** One scheduling cycle for q; the binding cycle continues asynchronously. */
  scheduleOne(q: QueuedPod): void {
    const pod = q.pod;
    const cycle = this.queue.schedulingCycle;
    if (pod.metadata.deletionTimestamp || pod.spec?.nodeName || this.cache.isAssumed(q.key)) { this.queue.done(q.key); return; }
    const state = new CycleState();
    let result: ScheduleResult;
    try {
      result = this.schedulePod(state, pod);
    } catch (e) {
      if (e instanceof FitError) {
        const nominated = this.applyNomination(pod, e.postFilter);
        this.recordFailure(pod, e.message, 'Unschedulable', nominated);
        this.queue.requeueUnschedulable(q, cycle);
      } else {
        this.logger(`scheduler: error scheduling ${q.key}: ${(e as Error).message}`);
        this.recordFailure(pod, (e as Error).message, 'SchedulerError');
        this.queue.requeueError(q);
      }
      return;
    }
    // Assume: the cache counts the pod on its node before the bind is written; the pod's own
    // nomination no longer holds room anywhere.
    const assumed = { ...pod, spec: { ...pod.spec, nodeName: result.nodeName } };
    this.cache.assumePod(assumed, result.nodeName);
    // The API may carry it even if this pod object does not yet (the status write can lag).
    const nominatedBefore = pod.status?.nominatedNodeName || this.nominator.nominatedNodeOf(q.key);
    this.nominator.delete(q.key);
    const rs = this.framework.runReserve(state, assumed, result.nodeName);
    if (!rs.isSuccess()) {
      this.cache.forgetPod(q.key);
      this.queue.requeueError(q);
      return;
    }
    this.bindsInFlight++;
    const p = this.bindingCycle(state, q, assumed, result.nodeName, nominatedBefore).finally(() => {
      this.pendingBinds.delete(p);
      this.bindsInFlight--;
      this.bindWaiters.shift()?.();
    });
    this.pendingBinds.add(p);
  }

  private async bindingCycle(state: CycleState, q: QueuedPod, pod: any, nodeName: string, nominatedBefore?: string): Promise<void> {
    let st: Status;
    try { st = await this.framework.runBind(state, pod, nodeName); } catch (e) { st = { isSuccess: () => false, message: () => (e as Error).message } as Status; }
    if (st.isSuccess()) {
      this.queue.done(q.key);
      this.opts.onBound?.(pod, nodeName, this.clock.now() - q.initialAttempt);
      // Bound somewhere other than where it was nominated: the stale nomination goes.
      if (nominatedBefore && nominatedBefore !== nodeName) {
        this.client.patch(R.pods, pod.metadata.namespace, pod.metadata.name, 'merge', { status: { nominatedNodeName: null } }, 'status')
          .catch((e) => { if (!isNotFound(e)) this.logger(`scheduler: clearing nominatedNodeName of ${q.key}: ${(e as Error).message}`); });
      }
      if (this.opts.recordScheduledEvents !== false) {
        this.recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`);
      }
      return;
    }
    this.framework.runUnreserve(state, pod, nodeName);
    this.cache.forgetPod(q.key);
    // Gone, or bound by someone else: nothing to retry.
    let current: KubeObject | undefined;
    try { current = await this.client.get(R.pods, pod.metadata.namespace, pod.metadata.name); } catch (e) { if (!isNotFound(e)) current = pod; }
    if (!current || current.spec?.nodeName || current.metadata.uid !== pod.metadata.uid) { this.queue.done(q.key); return; }
    this.logger(`scheduler: binding ${q.key} to ${nodeName} failed: ${st.message()}`);
    this.recordFailure(pod, `Binding rejected: ${st.message()}`, 'SchedulerError');
    q.pod = current;
    this.queue.requeueError(q);
  }

  /** upstream numFeasibleNodesToFind: all below 100 nodes, else an adaptive percentage (min 100). */
  numFeasibleNodesToFind(numAll: number): number {
    if (numAll < 100) return numAll;
    let pct = this.framework.profile.percentageOfNodesToScore;
    if (!pct) pct = Math.max(5, 50 - Math.floor(numAll / 125));
    if (pct >= 100) return numAll;
    return Math.max(100, Math.floor((numAll * pct) / 100));
  }

  /**
   * PostFilter's nomination: recorded in the nominator now (so the next cycles count it), the
   * victims' eviction started in the background. Returns the nominatedNodeName to write to the
   * pod's status ('' to clear it, undefined to leave it).
   */
  private applyNomination(pod: any, post: PostFilterOutcome | undefined): string | undefined {
    if (!post || post.nominatedNodeName === undefined) return undefined;
    const key = podKey(pod);
    if (post.nominatedNodeName) this.nominator.add(pod, post.nominatedNodeName); else this.nominator.delete(key);
    if (post.prepare) {
      const p = post.prepare()
        .catch((e) => {
          // Victims still there: retry the preemptor (after its back-off) instead of waiting for an event.
          this.logger(`scheduler: ${(e as Error).message}`);
          this.queue.moveAllToActiveOrBackoff();
        })
        .finally(() => this.pendingPreemptions.delete(p));
      this.pendingPreemptions.add(p);
    }
    if (!post.nominatedNodeName && !pod.status?.nominatedNodeName) return undefined;
    return post.nominatedNodeName;
  }

  /** Filter then score; throws FitError when no node fits. */
  schedulePod(state: CycleState, pod: any): ScheduleResult {
    const nodes = this.cache.list();
    if (nodes.length === 0) throw new FitError(pod, 0, new Map(), '', '');
    const statuses = new Map<string, Status>();
    const pre = this.framework.runPreFilter(state, pod, nodes);
    if (!pre.isSuccess()) {
      if (pre.code === Code.Error) throw new Error(`running PreFilter plugin "${pre.plugin}": ${pre.message()}`);
      for (const n of nodes) statuses.set(n.name, pre);
      const post = this.framework.runPostFilter(state, pod, statuses, nodes.length);
      const err = new FitError(pod, nodes.length, statuses, pre.message(), post.message);
      err.postFilter = post;
      throw err;
    }
    const withNominated = this.nominator.size > 0;
    // A pod nominated by an earlier preemption goes to that node if it fits there now (upstream's
    // evaluateNominatedNode), before looking at all nodes.
    const nominatedName = pod.status?.nominatedNodeName || this.nominator.nominatedNodeOf(podKey(pod));
    const nominated = nominatedName ? this.cache.get(nominatedName) : undefined;
    if (nominated) {
      const st = withNominated ? this.framework.runFilterWithNominatedPods(state, pod, nominated) : this.framework.runFilter(state, pod, nominated);
      if (st.isSuccess()) return { nodeName: nominated.name, evaluated: 1, feasible: 1 };
      if (st.code === Code.Error) throw new Error(`running "${st.plugin}" filter plugin: ${st.message()}`);
    }
    const want = this.numFeasibleNodesToFind(nodes.length);
    const feasible: NodeInfo[] = [];
    let processed = 0;
    const start = this.nextStartNodeIndex % nodes.length;
    for (let i = 0; i < nodes.length && feasible.length < want; i++) {
      const n = nodes[(start + i) % nodes.length];
      processed++;
      const st = withNominated ? this.framework.runFilterWithNominatedPods(state, pod, n) : this.framework.runFilter(state, pod, n);
      if (st.isSuccess()) feasible.push(n);
      else if (st.code === Code.Error) throw new Error(`running "${st.plugin}" filter plugin: ${st.message()}`);
      else statuses.set(n.name, st);
    }
    this.nextStartNodeIndex = (start + processed) % nodes.length;
    if (feasible.length === 0) {
      const post = this.framework.runPostFilter(state, pod, statuses, nodes.length);
      const err = new FitError(pod, nodes.length, statuses, '', post.message);
      err.postFilter = post;
      throw err;
    }
    if (feasible.length === 1) return { nodeName: feasible[0].name, evaluated: processed, feasible: 1 };
    const scores = this.framework.runScore(state, pod, feasible);
    // Highest total wins; ties broken uniformly at random (reservoir sampling, as upstream).
    let best = scores[0];
    let ties = 1;
    for (let i = 1; i < scores.length; i++) {
      if (scores[i].score > best.score) { best = scores[i]; ties = 1; } else if (scores[i].score === best.score) {
        ties++;
        if (Math.random() * ties < 1) best = scores[i];
      }
    }
    return { nodeName: best.name, evaluated: processed, feasible: feasible.length };
  }

  /** FailedScheduling event and PodScheduled=False; nominatedNodeName: set it, '' clears it, undefined leaves it. */
  private recordFailure(pod: any, message: string, reason = 'Unschedulable', nominatedNodeName?: string): void {
    this.recorder.event(pod, 'Warning', 'FailedScheduling', message);
    const conds: any[] = pod.status?.conditions ?? [];
    const cur = conds.find((c) => c.type === 'PodScheduled');
    const nominationChanges = nominatedNodeName !== undefined && (pod.status?.nominatedNodeName ?? '') !== nominatedNodeName;
    if (cur && cur.status === 'False' && cur.reason === reason && cur.message === message && !nominationChanges) return;
    const cond = { type: 'PodScheduled', status: 'False', reason, message, lastProbeTime: null,
      lastTransitionTime: cur?.status === 'False' ? cur.lastTransitionTime : rfc3339(this.clock.now()) };
    const next = [...conds.filter((c) => c.type !== 'PodScheduled'), cond];
    const status: Record<string, unknown> = { conditions: next };
    if (nominationChanges) status.nominatedNodeName = nominatedNodeName || null;
    this.client.patch(R.pods, pod.metadata.namespace, pod.metadata.name, 'merge', { status }, 'status')
      .catch((e) => { if (!isNotFound(e)) this.logger(`scheduler: updating PodScheduled of ${podKey(pod)}: ${(e as Error).message}`); });
  }
}
