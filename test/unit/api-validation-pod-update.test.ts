// The pod update rule (only images, activeDeadlineSeconds, added tolerations may change) compares
// specs without copying them (podSpecSameButMutable). It must answer exactly what the former form
// answered, structuredClone + delete of the mutable fields + JSON.stringify with sorted keys, over
// a generated corpus of spec pairs.
import { describe, expect, it } from 'vitest';
import { podSpecSameButMutable, validateObject } from '../../api/validation';
import { rng } from './helpers/rng';

/** The former comparison, as api/validation.ts had it. */
function oracle(spec: any, old: any): boolean {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as any)[k])]));
    return v;
  };
  const strip = (s: any): any => {
    const c = structuredClone(s);
    for (const list of ['containers', 'initContainers']) for (const ct of Array.isArray(c[list]) ? c[list] : []) if (ct && typeof ct === 'object' && !Array.isArray(ct)) delete ct.image;
    delete c.activeDeadlineSeconds;
    delete c.tolerations;
    delete c.ephemeralContainers;
    if (!old.nodeName) delete c.nodeName;
    return c;
  };
  return JSON.stringify(canonical(strip(spec))) === JSON.stringify(canonical(strip(old)));
}

function spec(r: () => number): any {
  return {
    containers: [{ name: 'a', image: 'nginx', ports: [{ containerPort: 80 }], env: [{ name: 'X', value: '1' }] }, ...(r() < 0.5 ? [{ name: 'b', image: 'busybox', command: ['sleep'] }] : [])],
    ...(r() < 0.3 ? { initContainers: [{ name: 'i', image: 'x' }] } : {}),
    ...(r() < 0.5 ? { nodeName: 'n1' } : {}),
    ...(r() < 0.3 ? { activeDeadlineSeconds: 30 } : {}),
    ...(r() < 0.3 ? { tolerations: [{ key: 'k', operator: 'Exists' }] } : {}),
    restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler',
    securityContext: {}, terminationGracePeriodSeconds: 30,
  };
}

const edits: Array<(s: any, r: () => number) => void> = [
  (s) => { s.containers[0].image = 'nginx:2'; },
  (s) => { s.containers[0].name = 'z'; },
  (s) => { s.activeDeadlineSeconds = 10; },
  (s) => { s.tolerations = []; },
  (s) => { s.ephemeralContainers = [{ name: 'e' }]; },
  (s) => { s.nodeName = 'n2'; },
  (s) => { delete s.nodeName; },
  (s) => { s.restartPolicy = 'Never'; },
  (s) => { s.containers.reverse(); },
  (s) => { s.containers[0] = { image: 'y', ...s.containers[0] }; },
  (s) => { const c = s.containers[0]; delete c.ports; c.ports = [{ containerPort: 80 }]; },
  (s) => { s.extra = undefined; },
  (s) => { s.containers.push(undefined); },
  (s) => { s.containers.push(null); },
  (s) => { s.containers = {}; },
  (s) => { s.containers = 'x'; },
  (s) => { s.initContainers = [{ name: 'i', image: 'other' }]; },
  (s) => { s.initContainers = undefined; },
  (s) => { s.containers[0].image = undefined; },
  (s) => { s.terminationGracePeriodSeconds = NaN; },
  (s) => { s.terminationGracePeriodSeconds = null; },
  (s) => { s.containers[0].env[0].value = undefined; },
  (s) => { s.securityContext = { runAsUser: 1 }; },
  (s) => { s.containers.push('str'); },
];

describe('podSpecSameButMutable', () => {
  it('agrees with the clone-strip-stringify comparison on 5,000 generated spec pairs', () => {
    let same = 0;
    for (let seed = 1; seed <= 5000; seed++) {
      const r = rng(seed);
      const old = spec(r);
      const next = structuredClone(old);
      for (let n = Math.floor(r() * 3); n > 0; n--) {
        // An edit that no longer applies (its list was replaced by an earlier one) is skipped.
        try { edits[Math.floor(r() * edits.length)]!(r() < 0.2 ? old : next, r); } catch { /* skipped */ }
      }
      const before = [JSON.stringify(next), JSON.stringify(old)];
      const want = oracle(next, old);
      const got = podSpecSameButMutable(next, old);
      if (got !== want) throw new Error(`seed ${seed}: got ${got}, want ${want}\nnew ${before[0]}\nold ${before[1]}`);
      expect([JSON.stringify(next), JSON.stringify(old)]).toEqual(before);
      if (want) same++;
    }
    expect(same).toBeGreaterThan(1000);
    expect(same).toBeLessThan(4000);
  });

  it('forbids a pod update that changes more than the mutable fields', () => {
    const pod = (s: any): any => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: s });
    const base = { containers: [{ name: 'a', image: 'nginx', imagePullPolicy: 'Always', terminationMessagePolicy: 'File', terminationMessagePath: '/dev/termination-log' }], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' };
    const image = structuredClone(base);
    image.containers[0].image = 'nginx:2';
    expect(validateObject({ group: '', version: 'v1', kind: 'Pod' }, pod(image), pod(base)).filter((e) => e.field === 'spec')).toEqual([]);
    const policy = { ...structuredClone(base), restartPolicy: 'Never' };
    expect(validateObject({ group: '', version: 'v1', kind: 'Pod' }, pod(policy), pod(base)).map((e) => e.field)).toContain('spec');
  });

  it('leaves a spec shared with the stored pod (a status write) to the validation it had when stored', () => {
    const gvk = { group: '', version: 'v1', kind: 'Pod' };
    // An invalid restartPolicy stands for a spec stored under older rules.
    const stored = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [{ name: 'a', image: 'i' }], restartPolicy: 'Sometimes' } };
    const statusWrite = { ...stored, metadata: { ...stored.metadata }, status: { phase: 'Pending' } };
    expect(validateObject(gvk, statusWrite, stored)).toEqual([]);
    const specWrite = { ...stored, spec: structuredClone(stored.spec) };
    expect(validateObject(gvk, specWrite, stored).map((e) => e.field)).toContain('spec.restartPolicy');
  });
});
