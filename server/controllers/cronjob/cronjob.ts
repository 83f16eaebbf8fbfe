// CronJob controller: creates a Job (`<cronjob>-<scheduled minutes since epoch>`) at each
// scheduled time of a standard cron expression (and @hourly, @daily, ... ) in spec.timeZone,
// honouring suspend, startingDeadlineSeconds and concurrencyPolicy (Allow, Forbid, Replace);
// tracks status.active/lastScheduleTime/lastSuccessfulTime and trims finished Jobs to the
// successful/failed history limits. Cron parsing: the cron-parser package.
import { CronExpressionParser } from 'cron-parser';
import { R, isAlreadyExists, isNotFound, type Informer } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { clone, controllerRef, keyOf, rfc3339, splitKey, type KubeObject } from '../types';
import { ownerRefFor } from '../util/pods';
import { jobFinished } from '../job/job';

export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const MAX_MISSED = 100;

export class InvalidScheduleError extends Error {
  readonly code = 'InvalidSchedule';
  constructor(schedule: string, cause: string) { super(`unparseable schedule ${JSON.stringify(schedule)}: ${cause}`); this.name = 'InvalidScheduleError'; }
}

/** Scheduled times in (after, now], oldest first, at most limit+1 of them; and the next one after now. */
export function scheduledTimes(schedule: string, timeZone: string | undefined, after: number, now: number, limit = MAX_MISSED): { due: number[]; next: number } {
  let it;
  try {
    it = CronExpressionParser.parse(schedule, { currentDate: new Date(after), tz: timeZone || 'UTC' });
  } catch (e) {
    throw new InvalidScheduleError(schedule, (e as Error).message);
  }
  const due: number[] = [];
  for (;;) {
    const t = it.next().getTime();
    if (t > now) return { due, next: t };
    due.push(t);
    if (due.length > limit) {
      // Too many missed: jump to the latest one before now, as upstream only runs the last.
      const latest = CronExpressionParser.parse(schedule, { currentDate: new Date(now + 1), tz: timeZone || 'UTC' }).prev().getTime();
      due.push(latest);
      const next = CronExpressionParser.parse(schedule, { currentDate: new Date(now), tz: timeZone || 'UTC' }).next().getTime();
      return { due, next };
    }
  }
}

export class CronJobController extends QueueController {
  private readonly cjInformer: Informer;
  private readonly jobInformer: Informer;

  constructor(ctx: ControllerContext) {
    super('cronjob', ctx, 'cronjob-controller');
    this.cjInformer = this.informer(R.cronjobs);
    this.jobInformer = this.informer(R.jobs);
    this.cjInformer.addEventHandler({ onAdd: (o) => this.enqueue(o), onUpdate: (_o, n) => this.enqueue(n) });
    const onJob = (j: KubeObject) => {
      const ref = controllerRef(j);
      if (ref?.kind === 'CronJob') this.queue.add(`${j.metadata.namespace}/${ref.name}`);
    };
    this.jobInformer.addEventHandler({ onAdd: onJob, onUpdate: (o, n) => { if (o !== n) onJob(n); }, onDelete: onJob });
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.cjInformer.store.get(namespace, name);
    if (!cached) return;
    const cj = clone(cached);
    const now = this.ctx.clock.now();
    const jobs = this.jobInformer.store.byOwner(cj.metadata.uid!).filter((j) => controllerRef(j)?.uid === cj.metadata.uid);
    const active = jobs.filter((j) => !jobFinished(j) && !j.metadata.deletionTimestamp);
    const status: any = { ...(cj.status ?? {}) };
    const ref = (j: KubeObject) => ({ apiVersion: 'batch/v1', kind: 'Job', name: j.metadata.name, namespace: j.metadata.namespace, uid: j.metadata.uid, resourceVersion: j.metadata.resourceVersion });
    for (const j of jobs) {
      if (jobFinished(j) === 'Complete') {
        const t = j.status?.completionTime;
        if (t && (!status.lastSuccessfulTime || Date.parse(t) > Date.parse(status.lastSuccessfulTime))) status.lastSuccessfulTime = t;
      }
    }
    let activeRefs = active.map(ref);
    let nextRun: number | undefined;
    if (!cj.metadata.deletionTimestamp && !cj.spec?.suspend) {
      const since = Date.parse(status.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '') || now;
      const { due, next } = scheduledTimes(cj.spec.schedule, cj.spec.timeZone, since, now);
      nextRun = next;
      const t = due[due.length - 1];
      if (due.length > MAX_MISSED) {
        this.recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
      }
      const sds = cj.spec?.startingDeadlineSeconds;
      if (t !== undefined) {
        if (sds !== undefined && sds !== null && t + sds * 1000 < now) {
          this.recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${new Date(t).toISOString().replace('.000Z', 'Z')}`);
          status.lastScheduleTime = rfc3339(t);
        } else if (cj.spec?.concurrencyPolicy === 'Forbid' && active.length > 0) {
          // Leave lastScheduleTime alone: the run is taken as soon as the active Job ends (within the deadline).
          this.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
        } else {
          if (cj.spec?.concurrencyPolicy === 'Replace') {
            for (const j of active) {
              try {
                await this.client.delete(R.jobs, j.metadata.namespace!, j.metadata.name!, { propagationPolicy: 'Background' });
                this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
              } catch (e) { if (!isNotFound(e)) throw e; }
            }
            activeRefs = [];
          }
          const job = await this.createJob(cj, t);
          if (job) activeRefs.push(ref(job));
          status.lastScheduleTime = rfc3339(t);
        }
      }
    }
    status.active = activeRefs.length ? activeRefs : undefined;
    if (!status.active) delete status.active;
    await this.cleanupHistory(cj, jobs);
    if (JSON.stringify(status) !== JSON.stringify(cj.status ?? {})) {
      cj.status = status;
      await this.client.updateStatus(R.cronjobs, cj);
    }
    if (nextRun !== undefined) this.queue.addAfter(keyOf(cj), Math.max(0, nextRun - now) + 100);
  }

  private async createJob(cj: KubeObject, t: number): Promise<KubeObject | undefined> {
    const tmpl = cj.spec.jobTemplate ?? {};
    const name = `${cj.metadata.name}-${Math.floor(t / 60_000)}`;
    const job: KubeObject = {
      apiVersion: 'batch/v1', kind: 'Job',
      metadata: {
        name, namespace: cj.metadata.namespace,
        labels: { ...(tmpl.metadata?.labels ?? {}) },
        annotations: { ...(tmpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP]: rfc3339(t) },
        ownerReferences: [ownerRefFor(cj, 'batch/v1', 'CronJob')],
      },
      spec: structuredClone(tmpl.spec ?? {}),
    };
    try {
      const created = await this.client.create(R.jobs, cj.metadata.namespace!, job);
      this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${name}`);
      return created;
    } catch (e) {
      if (isAlreadyExists(e)) return undefined;
      this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
      throw e;
    }
  }

  private async cleanupHistory(cj: KubeObject, jobs: KubeObject[]): Promise<void> {
    const byStart = (a: KubeObject, b: KubeObject) => (Date.parse(a.status?.startTime ?? a.metadata.creationTimestamp ?? '') || 0) - (Date.parse(b.status?.startTime ?? b.metadata.creationTimestamp ?? '') || 0);
    const trim = async (list: KubeObject[], limit: number | undefined) => {
      const keep = limit ?? 0;
      for (const j of list.sort(byStart).slice(0, Math.max(0, list.length - keep))) {
        try {
          await this.client.delete(R.jobs, j.metadata.namespace!, j.metadata.name!, { propagationPolicy: 'Background' });
          this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
        } catch (e) { if (!isNotFound(e)) throw e; }
      }
    };
    const live = jobs.filter((j) => !j.metadata.deletionTimestamp);
    await trim(live.filter((j) => jobFinished(j) === 'Complete'), cj.spec?.successfulJobsHistoryLimit ?? 3);
    await trim(live.filter((j) => jobFinished(j) === 'Failed'), cj.spec?.failedJobsHistoryLimit ?? 1);
  }
}
