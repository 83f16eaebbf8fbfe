// Job controller: runs pods until `completions` succeed (NonIndexed or Indexed), at most
// `parallelism` at a time; fails the Job on a podFailurePolicy FailJob rule, past backoffLimit
// counted failures (Ignore rules do not count) or activeDeadlineSeconds, FailureTarget first and
// Failed once no pod is left terminating (1.31); succeeds on completions or a successPolicy rule
// (Indexed), SuccessCriteriaMet first and Complete likewise; suspends; deletes finished Jobs after
// ttlSecondsAfterFinished.
import { R, isNotFound, type Informer } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { fromLabelSelector } from '../selectors';
import { clone, controllerRef, keyOf, rfc3339, splitKey, type Condition, type KubeObject } from '../types';
import { claimObjects } from '../util/claim';
import { Expectations } from '../util/expectations';
import { getCondition, isPodReady, isPodTerminal, ownerRefFor, podFromTemplate } from '../util/pods';
import { matchPodFailurePolicy } from './podfailurepolicy';
import { matchSuccessPolicy } from './successpolicy';

export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

export function jobFinished(job: KubeObject): 'Complete' | 'Failed' | undefined {
  if (getCondition(job.status?.conditions, 'Complete')?.status === 'True') return 'Complete';
  if (getCondition(job.status?.conditions, 'Failed')?.status === 'True') return 'Failed';
  return undefined;
}

/** "0-2,4,6-7" from a set of indexes (status.completedIndexes). */
export function formatIndexes(idx: number[]): string {
  const s = [...new Set(idx)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

function byCreation(a: KubeObject, b: KubeObject): number {
  // Plain code-unit order, as Go's string comparison (localeCompare would also page in ICU data).
  const ta = a.metadata.creationTimestamp ?? '', tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = a.metadata.name ?? '', nb = b.metadata.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

export class JobController extends QueueController {
  readonly expectations: Expectations;
  private readonly jobInformer: Informer;
  private readonly podInformer: Informer;

  constructor(ctx: ControllerContext) {
    super('job', ctx, 'job-controller');
    this.expectations = new Expectations(() => ctx.clock.now());
    this.jobInformer = this.informer(R.jobs);
    this.podInformer = this.informer(R.pods);
    this.jobInformer.addEventHandler({ onAdd: (j) => this.enqueue(j), onUpdate: (_o, n) => this.enqueue(n), onDelete: (j) => { this.expectations.delete(keyOf(j)); } });
    const onPod = (p: KubeObject, kind: 'add' | 'update' | 'delete') => {
      const ref = controllerRef(p);
      if (ref?.kind !== 'Job') return;
      const key = `${p.metadata.namespace}/${ref.name}`;
      if (kind === 'add') this.expectations.creationObserved(key);
      if (kind === 'delete') this.expectations.deletionObserved(key, keyOf(p));
      this.queue.add(key);
    };
    this.podInformer.addEventHandler({ onAdd: (p) => onPod(p, 'add'), onUpdate: (o, n) => { if (o !== n) onPod(n, 'update'); }, onDelete: (p) => onPod(p, 'delete') });
  }

  private now(): number { return this.ctx.clock.now(); }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.jobInformer.store.get(namespace, name);
    if (!cached) return;
    const job = clone(cached);
    if (jobFinished(job)) { await this.handleTTL(job); return; }
    const selector = fromLabelSelector(job.spec?.selector ?? { matchLabels: { 'batch.kubernetes.io/controller-uid': job.metadata.uid! } });
    const pods = await claimObjects(this.client, R.pods, job, ownerRefFor(job, 'batch/v1', 'Job'), selector,
      this.podInformer.store.list(namespace), false);
    const active = pods.filter((p) => !['Succeeded', 'Failed'].includes(p.status?.phase) && !p.metadata.deletionTimestamp);
    const terminatingPods = pods.filter((p) => p.metadata.deletionTimestamp && !isPodTerminal(p));
    // podReplacementPolicy Failed (the default with a podFailurePolicy): a terminating pod keeps its slot until it is terminal.
    const onlyReplaceFailed = (job.spec?.podReplacementPolicy ?? (job.spec?.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed')) === 'Failed';
    const succeededPods = pods.filter((p) => p.status?.phase === 'Succeeded');
    const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
    const indexed = job.spec?.completionMode === 'Indexed';
    const completions: number | undefined = job.spec?.completions ?? undefined;
    const parallelism: number = job.spec?.parallelism ?? 1;
    const prev = job.status ?? {};
    const succeededIdx = indexed ? [...new Set(succeededPods.map((p) => Number(p.metadata.annotations?.[COMPLETION_INDEX])).filter((i) => Number.isInteger(i) && i < (completions ?? 0)))] : [];
    const succeeded = indexed ? succeededIdx.length : Math.max(prev.succeeded ?? 0, succeededPods.length);
    // podFailurePolicy: Ignore leaves a failure uncounted; the first FailJob match (oldest pod first) fails the Job.
    const policy = job.spec?.podFailurePolicy;
    let countedFailures = 0;
    let failJob: { reason: string; message: string } | undefined;
    for (const p of [...failedPods].sort(byCreation)) {
      const m = policy ? matchPodFailurePolicy(policy, p) : undefined;
      if (m?.action === 'Ignore') continue;
      if (m?.action === 'FailJob' && !failJob) failJob = { reason: 'PodFailurePolicy', message: m.message! };
      countedFailures++;
    }
    const failed = Math.max(prev.failed ?? 0, countedFailures);
    const now = this.now();
    const status: any = { ...prev, active: active.length, succeeded, failed, ready: active.filter(isPodReady).length, startTime: prev.startTime ?? rfc3339(now), terminating: terminatingPods.length };
    if (indexed) status.completedIndexes = formatIndexes(succeededIdx);
    if (!status.completedIndexes) delete status.completedIndexes;
    let conds: Condition[] = [...(prev.conditions ?? [])];
    const setCond = (type: string, reason: string, message: string) => {
      conds = [...conds.filter((c) => c.type !== type), { type, status: 'True', reason, message, lastProbeTime: rfc3339(now), lastTransitionTime: rfc3339(now) }];
    };

    const backoffLimit = job.spec?.backoffLimit ?? 6;
    const deadline = job.spec?.activeDeadlineSeconds;
    let failure: { reason: string; message: string } | undefined;
    let success: { reason: string; message: string } | undefined;
    const target = getCondition(conds, 'FailureTarget');
    const criteria = getCondition(conds, 'SuccessCriteriaMet');
    if (target?.status === 'True') failure = { reason: target.reason ?? 'BackoffLimitExceeded', message: target.message ?? '' };
    else if (criteria?.status === 'True') success = { reason: criteria.reason ?? 'CompletionsReached', message: criteria.message ?? '' };
    else if (failJob) failure = failJob;
    else if (failed > backoffLimit) failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    else if (deadline !== undefined && deadline !== null && Date.parse(status.startTime) + deadline * 1000 <= now && !job.spec?.suspend) {
      failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    }
    if (!failure && !success) {
      const policyMet = indexed && completions ? matchSuccessPolicy(job.spec?.successPolicy, completions, new Set(succeededIdx)) : undefined;
      const reached = completions === undefined || completions === null ? succeeded > 0 && active.length === 0 : succeeded >= completions;
      if (policyMet) success = { reason: 'SuccessPolicy', message: policyMet };
      else if (reached) success = { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
    }

    if (failure) {
      // FailureTarget at once; Failed (terminal) only when no pod of the Job is still terminating.
      const terminating = terminatingPods.length + await this.deletePods(job, key, active);
      status.active = 0;
      status.ready = 0;
      if (target?.status !== 'True') setCond('FailureTarget', failure.reason, failure.message);
      if (terminating === 0) {
        setCond('Failed', failure.reason, failure.message);
        this.recorder.event(job, 'Warning', failure.reason, failure.message);
      }
    } else if (success) {
      // SuccessCriteriaMet at once (remaining pods are deleted); Complete once none is terminating.
      const terminating = terminatingPods.length + await this.deletePods(job, key, active);
      status.active = 0;
      status.ready = 0;
      if (criteria?.status !== 'True') setCond('SuccessCriteriaMet', success.reason, success.message);
      if (terminating === 0) {
        status.completionTime = rfc3339(now);
        setCond('Complete', success.reason, success.message);
        this.recorder.event(job, 'Normal', 'Completed', 'Job completed');
      }
    } else if (job.spec?.suspend) {
      await this.deletePods(job, key, active);
      status.active = 0;
      if (getCondition(conds, 'Suspended')?.status !== 'True') { setCond('Suspended', 'JobSuspended', 'Job suspended'); this.recorder.event(job, 'Normal', 'Suspended', 'Job suspended'); }
    } else {
      if (getCondition(conds, 'Suspended')?.status === 'True') {
        conds = conds.map((c) => (c.type === 'Suspended' ? { ...c, status: 'False', reason: 'JobResumed', message: 'Job resumed', lastTransitionTime: rfc3339(now) } : c));
        this.recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
      }
      if (this.expectations.satisfied(key)) await this.manage(job, key, active, onlyReplaceFailed ? terminatingPods : [], completions, parallelism, succeeded, indexed ? new Set(succeededIdx) : undefined);
    }
    status.conditions = conds.length ? conds : undefined;
    if (status.conditions === undefined) delete status.conditions;
    if (JSON.stringify(status) !== JSON.stringify(prev)) {
      job.status = status;
      await this.client.updateStatus(R.jobs, job);
    }
    if (!failure && !success && deadline) {
      this.queue.addAfter(key, Math.max(0, Date.parse(status.startTime) + deadline * 1000 - now) + 10);
    }
  }

  /** Creates or deletes pods toward the wanted active count; `held` (terminating pods not yet replaceable) occupy slots and indexes. */
  private async manage(job: KubeObject, key: string, active: KubeObject[], held: KubeObject[], completions: number | undefined,
    parallelism: number, succeeded: number, succeededIdx?: Set<number>): Promise<void> {
    let want = completions === undefined || completions === null
      ? (succeeded > 0 ? 0 : parallelism)
      : Math.min(parallelism, completions - succeeded);
    want = Math.max(0, want);
    if (active.length > want) {
      const extra = [...active].sort((a, b) => (isPodReady(a) ? 1 : 0) - (isPodReady(b) ? 1 : 0)).slice(0, active.length - want);
      await this.deletePods(job, key, extra);
      return;
    }
    const n = want - active.length - held.length;
    if (n <= 0) return;
    const ref = ownerRefFor(job, 'batch/v1', 'Job');
    const toCreate: Array<number | undefined> = [];
    if (succeededIdx) {
      const busy = new Set([...active, ...held].map((p) => Number(p.metadata.annotations?.[COMPLETION_INDEX])));
      for (let i = 0; i < (completions ?? 0) && toCreate.length < n; i++) if (!succeededIdx.has(i) && !busy.has(i)) toCreate.push(i);
    } else {
      for (let i = 0; i < n; i++) toCreate.push(undefined);
    }
    if (!toCreate.length) return;
    this.expectations.expectCreations(key, toCreate.length);
    const results = await Promise.allSettled(toCreate.map((idx) => {
      const pod = podFromTemplate(job.spec.template, job, ref, idx === undefined ? `${job.metadata.name}-` : `${job.metadata.name}-${idx}-`);
      pod.metadata.labels = {
        ...pod.metadata.labels, 'batch.kubernetes.io/controller-uid': job.metadata.uid!, 'batch.kubernetes.io/job-name': job.metadata.name!,
        'controller-uid': job.metadata.uid!, 'job-name': job.metadata.name!,
      };
      if (idx !== undefined) {
        pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [COMPLETION_INDEX]: String(idx) };
        pod.metadata.labels[COMPLETION_INDEX] = String(idx);
        pod.spec.hostname ??= `${job.metadata.name}-${idx}`;
        for (const c of pod.spec.containers ?? []) c.env = [...(c.env ?? []), { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } }];
      }
      return this.client.create(R.pods, job.metadata.namespace!, pod);
    }));
    for (const r of results) {
      if (r.status === 'fulfilled') this.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${r.value.metadata.name}`);
      else {
        this.expectations.lowerCreations(key);
        this.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${(r.reason as Error).message}`);
      }
    }
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  }

  /** Deletes pods; returns how many are still terminating (graceful deletion under way). */
  private async deletePods(job: KubeObject, key: string, pods: KubeObject[]): Promise<number> {
    if (!pods.length) return 0;
    let terminating = 0;
    this.expectations.expectDeletions(key, pods.map(keyOf));
    for (const p of pods) {
      try {
        const left = await this.client.delete(R.pods, p.metadata.namespace!, p.metadata.name!, { preconditions: { uid: p.metadata.uid } });
        if (left?.metadata?.deletionTimestamp && !isPodTerminal(left)) terminating++;
        this.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      } catch (e) {
        this.expectations.deletionObserved(key, keyOf(p));
        if (!isNotFound(e)) throw e;
      }
    }
    return terminating;
  }

  private async handleTTL(job: KubeObject): Promise<void> {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null || job.metadata.deletionTimestamp) return;
    const cond = getCondition(job.status?.conditions, jobFinished(job)!);
    const finished = Date.parse(job.status?.completionTime ?? cond?.lastTransitionTime ?? '') || this.now();
    const due = finished + ttl * 1000;
    if (this.now() < due) { this.queue.addAfter(keyOf(job), due - this.now()); return; }
    try {
      await this.client.delete(R.jobs, job.metadata.namespace!, job.metadata.name!, { propagationPolicy: 'Background', preconditions: { uid: job.metadata.uid } });
    } catch (e) { if (!isNotFound(e)) throw e; }
  }
}
