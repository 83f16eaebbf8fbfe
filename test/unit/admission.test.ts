// DefaultTolerationSeconds and the binding's PodScheduled condition as pure functions: which
// tolerations count as "already tolerates", and when lastTransitionTime moves.
import { describe, expect, it } from 'vitest';
import { addDefaultTolerations } from '../../server/admission/default-tolerations';
import { podScheduledTrue } from '../../server/apiserver/binding';

const notReady = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };
const unreachable = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };
const withTolerations = (tolerations?: any[]) => ({ spec: { containers: [{ name: 'c' }], ...(tolerations ? { tolerations } : {}) } });

describe('DefaultTolerationSeconds', () => {
  it('adds both tolerations to a pod without any', () => {
    const p = withTolerations();
    addDefaultTolerations(p);
    expect(p.spec).toMatchObject({ tolerations: [notReady, unreachable] });
  }, 5_000);

  it('treats the same key with NoExecute or no effect, and an empty key, as already tolerated', () => {
    const cases: Array<[any[], any[]]> = [
      [[{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }], [notReady]],
      [[{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }], [unreachable]],
      [[{ operator: 'Exists' }], []],
      [[{ operator: 'Exists', effect: 'NoExecute' }], []],
      // NoSchedule does not cover the NoExecute taint.
      [[{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }], [notReady, unreachable]],
      [[{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoExecute' }], [notReady, unreachable]],
    ];
    for (const [own, added] of cases) {
      const p = withTolerations(own);
      addDefaultTolerations(p);
      expect((p.spec as any).tolerations).toEqual([...own, ...added]);
    }
  }, 5_000);
});

describe('PodScheduled on binding', () => {
  it('adds the condition, replaces a False one, keeps the time of a True one', () => {
    expect(podScheduledTrue(undefined, 'T1')).toEqual([{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: 'T1' }]);
    const unschedulable = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes', lastTransitionTime: 'T0' }, { type: 'Other', status: 'True' }];
    expect(podScheduledTrue(unschedulable, 'T1')).toEqual([{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: 'T1' }, { type: 'Other', status: 'True' }]);
    expect(podScheduledTrue([{ type: 'PodScheduled', status: 'True', lastTransitionTime: 'T0' }], 'T1')[0].lastTransitionTime).toBe('T0');
    expect(unschedulable[0].status).toBe('False');
  }, 5_000);
});
