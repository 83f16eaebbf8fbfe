// Pure parts of the shared Events storage and of eviction: the core/v1 <-> events.k8s.io/v1
// field mapping (round trips keep every field; the served object is a copy), events.k8s.io
// validation, and the PodDisruptionBudget figures eviction computes when no controller did.
import { describe, expect, it } from 'vitest';
import { coreToEventsV1, eventsV1ToCore, validateEventsV1 } from '../../server/apiserver/events';
import { budgetFigures } from '../../server/apiserver/eviction';

const v1 = {
  apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e', namespace: 'ns', resourceVersion: '5' },
  eventTime: '2026-01-01T00:00:00.000000Z', series: { count: 2, lastObservedTime: '2026-01-01T00:01:00.000000Z' },
  reportingController: 'c', reportingInstance: 'i', action: 'A', reason: 'R', note: 'n', type: 'Warning',
  regarding: { kind: 'Pod', name: 'p', namespace: 'ns' }, related: { kind: 'Node', name: 'n1' },
  deprecatedSource: { component: 'kubelet' }, deprecatedFirstTimestamp: '2026-01-01T00:00:00Z', deprecatedLastTimestamp: '2026-01-01T00:02:00Z', deprecatedCount: 4,
};

describe('event conversion', () => {
  it('maps events.k8s.io/v1 to core/v1 and back without loss', () => {
    const core = eventsV1ToCore(v1);
    expect(core).toMatchObject({
      apiVersion: 'v1', involvedObject: v1.regarding, message: 'n', reportingComponent: 'c', reportingInstance: 'i',
      source: v1.deprecatedSource, firstTimestamp: v1.deprecatedFirstTimestamp, lastTimestamp: v1.deprecatedLastTimestamp, count: 4,
      series: v1.series, related: v1.related, action: 'A', reason: 'R', type: 'Warning', eventTime: v1.eventTime,
    });
    expect(coreToEventsV1(core)).toEqual(v1);
  });

  it('serves a minimal core Event without inventing fields, and never mutates the stored object', () => {
    const stored = Object.freeze({ apiVersion: 'v1', kind: 'Event', metadata: Object.freeze({ name: 'm', namespace: 'ns' }), involvedObject: { kind: 'Pod', name: 'p' }, reason: 'X', message: 'hi', count: 1 });
    const out = coreToEventsV1(stored);
    expect(out).toEqual({ apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'm', namespace: 'ns' }, regarding: { kind: 'Pod', name: 'p' }, reason: 'X', note: 'hi', deprecatedCount: 1, eventTime: null });
    out.metadata.name = 'changed';
    expect(stored.metadata.name).toBe('m');
  });

  it('validates events.k8s.io creates and updates', () => {
    expect(validateEventsV1(v1, undefined)).toEqual([]);
    const { reportingInstance: _r, ...missing } = v1;
    expect(validateEventsV1({ ...missing, type: 'Odd' }, undefined).map((e) => `${e.field}: ${e.message}`)).toEqual(['reportingInstance: Required value', 'type: Unsupported value: "Odd": supported values: "Normal", "Warning"']);
    expect(validateEventsV1({ ...v1, note: 'x'.repeat(1025) }, undefined).map((e) => e.field)).toEqual(['note']);
    expect(validateEventsV1({ ...v1, series: { count: 3, lastObservedTime: 'later' } }, v1)).toEqual([]);
    expect(validateEventsV1({ ...v1, reason: 'Other' }, v1).map((e) => e.field)).toEqual(['reason']);
  });
});

const pod = (name: string, ready: boolean, extra: any = {}) => ({ metadata: { name, ...extra }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });

describe('disruption budget figures', () => {
  it('minAvailable as a number counts the pods; as a percentage, the controllers\' replicas', () => {
    const pods = [pod('a', true), pod('b', true), pod('c', false)];
    expect(budgetFigures({ spec: { minAvailable: 2 } }, pods, undefined)).toEqual({ expectedPods: 3, currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0 });
    expect(budgetFigures({ spec: { minAvailable: '50%' } }, pods, 4)).toEqual({ expectedPods: 4, currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0 });
    expect(budgetFigures({ spec: { minAvailable: '25%' } }, pods, 4)).toMatchObject({ desiredHealthy: 1, disruptionsAllowed: 1 });
  });

  it('maxUnavailable subtracts from the expected count; terminating and recently disrupted pods are not healthy', () => {
    const now = new Date().toISOString();
    const pods = [pod('a', true), pod('b', true), pod('c', true, { deletionTimestamp: now }), pod('d', true)];
    const pdb = { spec: { maxUnavailable: 1 }, status: { disruptedPods: { d: now, old: '2020-01-01T00:00:00Z' } } };
    expect(budgetFigures(pdb, pods, 4)).toEqual({ expectedPods: 4, currentHealthy: 2, desiredHealthy: 3, disruptionsAllowed: 0 });
    expect(budgetFigures({ spec: { maxUnavailable: '50%' } }, pods.slice(0, 2), 2)).toMatchObject({ desiredHealthy: 1, disruptionsAllowed: 1 });
  });
});
