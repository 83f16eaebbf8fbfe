// The registry's "unchanged update" check (sameButTimes) must answer exactly what its former
// form answered, JSON.stringify of both objects with resourceVersion and managedFields times
// stripped, over a generated corpus of pairs; and it must not modify either object.
import { describe, expect, it } from 'vitest';
import { sameButTimes } from '../../server/apiserver/registry';
import { rng } from './helpers/rng';

/** The former check, as registry.ts had it: clone, strip, stringify both. */
function oracle(current: any, obj: any): boolean {
  const strip = (o: any): any => {
    if (o?.metadata?.managedFields) o.metadata.managedFields = o.metadata.managedFields.map((m: any) => ({ ...m, time: undefined }));
    return o;
  };
  const cmp = JSON.parse(JSON.stringify(current));
  delete cmp.metadata.resourceVersion;
  const o = JSON.parse(JSON.stringify(obj));
  delete o.metadata.resourceVersion;
  return JSON.stringify(strip(cmp)) === JSON.stringify(strip(o));
}

function base(r: () => number): any {
  const mf: any[] = [{ manager: 'a', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:x': {} } } }];
  if (r() < 0.5) mf.push({ manager: 'b', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:01Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': {} } });
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: 'u', resourceVersion: '7', labels: { a: '1', b: '2' }, ...(r() < 0.7 ? { managedFields: mf } : {}) },
    spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }], n: 1.5, flag: true, nothing: null },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] },
  };
}

// One random edit; many keep the JSON the same (time, resourceVersion, an undefined property).
const edits: Array<(o: any, r: () => number) => void> = [
  (o) => { if (o.metadata.managedFields?.length) o.metadata.managedFields[0].time = '2030-01-01T00:00:00Z'; },
  (o) => { o.metadata.resourceVersion = '99'; },
  (o) => { delete o.metadata.resourceVersion; },
  (o) => { o.spec.extra = undefined; },
  (o) => { o.spec.containers[0].image = 'j'; },
  (o) => { o.metadata.labels = { b: '2', a: '1' }; },
  (o) => { o.status.phase = 'Running'; },
  (o) => { o.spec.n = 1.5000001; },
  (o) => { o.spec.nothing = undefined; },
  (o) => { o.spec.list = [undefined]; },
  (o, r) => { o.spec.list = [r() < 0.5 ? null : undefined]; },
  (o) => { o.spec.flag = 'true'; },
  (o) => { o.spec.containers.push({ name: 'd' }); },
  (o) => { if (o.metadata.managedFields?.length) o.metadata.managedFields[0].fieldsV1 = {}; },
  (o) => { if (o.metadata.managedFields?.length) delete o.metadata.managedFields[0].time; },
  (o) => { o.metadata.managedFields = []; },
  (o) => { const { status, ...rest } = o; for (const k of Object.keys(o)) delete o[k]; Object.assign(o, { status, ...rest }); },
  (o) => { o.spec.when = new Date(0); },
  (o) => { o.spec.num = NaN; },
  (o) => { o.spec.num = null; },
  (o) => { o.metadata.generation = 2; },
  (o) => { o.status = {}; },
];

describe('sameButTimes', () => {
  it('agrees with the stringify-and-strip check on 5,000 generated pairs', () => {
    let same = 0;
    for (let seed = 1; seed <= 5000; seed++) {
      const r = rng(seed);
      const current = base(r);
      const obj = JSON.parse(JSON.stringify(current));
      const editCurrent = r() < 0.2;
      for (let n = Math.floor(r() * 3); n > 0; n--) edits[Math.floor(r() * edits.length)]!(editCurrent && r() < 0.5 ? current : obj, r);
      const before = [JSON.stringify(current), JSON.stringify(obj)];
      const want = oracle(current, obj);
      const got = sameButTimes(current, obj);
      if (got !== want) throw new Error(`seed ${seed}: got ${got}, want ${want}\n${before[0]}\n${before[1]}`);
      expect([JSON.stringify(current), JSON.stringify(obj)]).toEqual(before);
      if (want) same++;
    }
    // Both answers occur often enough for the agreement to mean something.
    expect(same).toBeGreaterThan(500);
    expect(same).toBeLessThan(4500);
  });
});
