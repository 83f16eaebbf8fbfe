// Events: core/v1 Events and events.k8s.io/v1 Events are one storage, as upstream's (both live
// under /registry/events/, stored in the core/v1 form), so an Event written through either API is
// read through both. The field mapping is upstream's (pkg/apis/events/v1 conversion):
//   events.k8s.io/v1        core/v1
//   regarding            <-> involvedObject
//   note                 <-> message
//   reportingController  <-> reportingComponent
//   deprecatedSource     <-> source
//   deprecatedFirstTimestamp / deprecatedLastTimestamp / deprecatedCount <-> firstTimestamp / lastTimestamp / count
//   reason, action, type, eventTime, series, related, reportingInstance: same names
// Every write of an Event carries the store TTL (kube-apiserver's --event-ttl, 1 hour by default).
import type { FieldCause } from './errors';

export const DEFAULT_EVENT_TTL_SECONDS = 3600;

const SAME = ['reason', 'action', 'type', 'eventTime', 'series', 'related', 'reportingInstance'] as const;
/** [events.k8s.io/v1 field, core/v1 field] */
const RENAMED: Array<[string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

/** An events.k8s.io/v1 Event as the core/v1 Event upstream stores. Shares `metadata` with the input. */
export function eventsV1ToCore(e: any): any {
  const out: any = { apiVersion: 'v1', kind: 'Event', metadata: e.metadata };
  for (const f of SAME) if (present(e[f])) out[f] = e[f];
  for (const [v1, core] of RENAMED) if (present(e[v1])) out[core] = e[v1];
  // The core API's list printers and `kubectl describe` read these two: keep them filled.
  if (!present(out.involvedObject)) out.involvedObject = {};
  if (out.reportingComponent === undefined) out.reportingComponent = '';
  return out;
}

/** A stored core/v1 Event as events.k8s.io/v1 serves it. Never mutates its input (watch-cache objects are shared). */
export function coreToEventsV1(e: any): any {
  const out: any = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { ...(e.metadata ?? {}) } };
  for (const f of SAME) if (present(e[f])) out[f] = e[f];
  for (const [v1, core] of RENAMED) if (present(e[core])) out[v1] = e[core];
  if (present(e.involvedObject) && Object.keys(e.involvedObject).length === 0) delete out.regarding;
  // Events written through core/v1 often carry only firstTimestamp: events.k8s.io always shows an eventTime (upstream leaves it zero).
  if (out.eventTime === undefined) out.eventTime = null;
  return out;
}

/** What upstream's events.k8s.io validation requires of a new Event (ValidateEventCreate for v1). */
export function validateEventsV1(obj: any, old: any | undefined): FieldCause[] {
  const errs: FieldCause[] = [];
  const req = (field: string): void => { if (!present(obj[field])) errs.push({ type: 'FieldValueRequired', field, message: 'Required value' }); };
  if (!old) {
    req('eventTime');
    req('reportingController');
    req('reportingInstance');
    req('action');
    req('reason');
  }
  if (present(obj.type) && obj.type !== 'Normal' && obj.type !== 'Warning') {
    errs.push({ type: 'FieldValueNotSupported', field: 'type', message: `Unsupported value: ${JSON.stringify(obj.type)}: supported values: "Normal", "Warning"` });
  }
  if (present(obj.note) && Buffer.byteLength(String(obj.note)) > 1024) {
    errs.push({ type: 'FieldValueTooLong', field: 'note', message: 'Too long: may not be more than 1024 bytes' });
  }
  for (const f of ['reason', 'action'] as const) {
    if (present(obj[f]) && String(obj[f]).length > 128) errs.push({ type: 'FieldValueTooLong', field: f, message: 'Too long: may not be more than 128 bytes' });
  }
  if (present(obj.regarding?.namespace) && obj.metadata?.namespace && obj.regarding.namespace !== obj.metadata.namespace) {
    errs.push({ type: 'FieldValueInvalid', field: 'regarding.namespace', message: `Invalid value: ${JSON.stringify(obj.regarding.namespace)}: does not match event.namespace` });
  }
  if (old) {
    // An Event is immutable but for its series and deprecated counters (upstream ValidateEventUpdate).
    for (const f of ['action', 'reason', 'reportingController', 'reportingInstance', 'type', 'note', 'eventTime']) {
      if (JSON.stringify(obj[f] ?? null) !== JSON.stringify(old[f] ?? null)) errs.push({ type: 'FieldValueInvalid', field: f, message: 'Invalid value: field is immutable' });
    }
  }
  return errs;
}
