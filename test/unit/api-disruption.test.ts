// api/disruption.ts: the PodDisruptionBudget arithmetic the disruption controller and pods/eviction share.
import { describe, expect, it } from 'vitest';
import {
  DisruptionBudgetError, activeDisruptions, conditionsAreUpToDate, disruptionAllowedConditions, disruptionsAllowed,
  expectedPodCount, expectedScale, scaledValue, setStatusCondition, unexpiredDisruptions, usesControllerScale,
} from '../../api/disruption';

const owned = (name: string, uid: string, kind = 'ReplicaSet') => ({ metadata: { name, namespace: 'ns', ownerReferences: [{ apiVersion: 'apps/v1', kind, name: uid, uid, controller: true }] } });

describe('budget arithmetic', () => {
  it('scales integers and percentages as intstr.GetScaledValueFromIntOrPercent', () => {
    expect(scaledValue(3, 10, true)).toBe(3);
    expect(scaledValue('25%', 10, true)).toBe(3);
    expect(scaledValue('25%', 10, false)).toBe(2);
    expect(scaledValue('0%', 10, true)).toBe(0);
    expect(() => scaledValue('3', 10, true)).toThrow(DisruptionBudgetError);
    expect(() => scaledValue('x%', 10, true)).toThrow('invalid value for IntOrString: invalid type: string is not a percentage');
  });

  it('expected and desired counts per spec form', () => {
    expect(usesControllerScale({ minAvailable: 2 })).toBe(false);
    expect(usesControllerScale({ minAvailable: '50%' })).toBe(true);
    expect(usesControllerScale({ maxUnavailable: 0 })).toBe(true);
    expect(expectedPodCount({ minAvailable: 2 }, 5, 9)).toEqual({ expectedPods: 5, desiredHealthy: 2 });
    expect(expectedPodCount({ minAvailable: '34%' }, 5, 3)).toEqual({ expectedPods: 3, desiredHealthy: 2 });
    expect(expectedPodCount({ maxUnavailable: '34%' }, 5, 3)).toEqual({ expectedPods: 3, desiredHealthy: 1 });
    expect(expectedPodCount({ maxUnavailable: 5 }, 5, 3)).toEqual({ expectedPods: 3, desiredHealthy: 0 });
    expect(expectedPodCount({}, 5, undefined)).toEqual({ expectedPods: 0, desiredHealthy: 0 });
    expect(disruptionsAllowed(3, 1, 0)).toBe(0);
    expect(disruptionsAllowed(1, 3, 4)).toBe(0);
    expect(disruptionsAllowed(4, 3, 4)).toBe(1);
  });

  it('sums each controller once, skips unmanaged pods, fails on an unknown controller', async () => {
    const finder = (ref: any) => (ref.uid === 'rs-a' ? { uid: 'dep-a', scale: 4 } : ref.uid === 'rs-b' ? { uid: 'rs-b', scale: 2 } : undefined);
    const pods = [owned('a1', 'rs-a'), owned('a2', 'rs-a'), owned('b1', 'rs-b'), { metadata: { name: 'bare', namespace: 'ns' } }];
    expect(await expectedScale(pods, [finder])).toEqual({ expectedCount: 6, unmanagedPods: ['bare'] });
    await expect(expectedScale([owned('x', 'rs-x')], [finder])).rejects.toThrow('found no controllers for pod "x"');
  });

  it('keeps disruptions of existing, non-terminating pods for 2 minutes and reports the earliest expiry', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    const pods = [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }, { metadata: { name: 'c', deletionTimestamp: '2026-01-01T00:09:00Z' } }];
    const r = activeDisruptions({ a: '2026-01-01T00:09:00Z', b: '2026-01-01T00:07:00Z', c: '2026-01-01T00:09:30Z', gone: '2026-01-01T00:09:30Z' }, pods, now);
    expect(r).toEqual({ disruptedPods: { a: '2026-01-01T00:09:00Z' }, notDeleted: ['b'], recheckAt: Date.parse('2026-01-01T00:11:00Z') });
    expect(unexpiredDisruptions({ a: '2026-01-01T00:09:00Z', b: '2026-01-01T00:07:00Z' }, now)).toEqual({ a: '2026-01-01T00:09:00Z' });
  });

  it('DisruptionAllowed follows disruptionsAllowed; lastTransitionTime moves only when the status does', () => {
    const t1 = '2026-01-01T00:00:00Z';
    const t2 = '2026-01-01T00:05:00Z';
    const c1 = disruptionAllowedConditions({ disruptionsAllowed: 1, observedGeneration: 2 }, t1);
    expect(c1).toEqual([{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 2, lastTransitionTime: t1 }]);
    expect(disruptionAllowedConditions({ disruptionsAllowed: 2, observedGeneration: 3, conditions: c1 }, t2)[0].lastTransitionTime).toBe(t1);
    expect(disruptionAllowedConditions({ disruptionsAllowed: 0, observedGeneration: 3, conditions: c1 }, t2)).toEqual([{ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: 3, lastTransitionTime: t2 }]);
    expect(setStatusCondition([{ type: 'Other', status: 'True', reason: 'R', message: '' }], { type: 'X', status: 'False', reason: 'Y', message: 'm' }, t1)).toHaveLength(2);
    expect(conditionsAreUpToDate({ metadata: { generation: 3 }, status: { disruptionsAllowed: 0, observedGeneration: 3, conditions: disruptionAllowedConditions({ disruptionsAllowed: 0, observedGeneration: 3 }, t1) } })).toBe(true);
    expect(conditionsAreUpToDate({ metadata: { generation: 4 }, status: { disruptionsAllowed: 0, observedGeneration: 3, conditions: disruptionAllowedConditions({ disruptionsAllowed: 0, observedGeneration: 3 }, t1) } })).toBe(false);
  });
});
