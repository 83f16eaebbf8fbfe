// The in-process client copies what controllers hand it; the copy must equal a JSON round trip
// (same values, same key order, undefined dropped, Dates and toJSON honoured) and share nothing.
import { describe, expect, it } from 'vitest';
import { copyJSON } from '../../server/apiserver/local-client';

const roundTrip = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('in-process client copy', { timeout: 10_000 }, () => {
  const cases: Array<[string, unknown]> = [
    ['pod-like object', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: '1' }, ownerReferences: [{ uid: 'u', controller: true }] }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }], nodeName: undefined }, status: { conditions: [], podIP: null } }],
    ['undefined, function and symbol values dropped', { a: undefined, b: () => 1, c: Symbol('x'), d: 1 }],
    ['integer-like keys ordered as JSON orders them', { b: 1, 2: 'two', a: 2, 1: 'one' }],
    ['Date inside', { t: new Date(0), n: [1, 2] }],
    ['toJSON inside', { q: { toJSON: () => '500m' } }],
    ['non-finite numbers and -0', { a: NaN, b: Infinity, c: -0, d: 1.5 }],
    ['undefined in an array', { a: [1, undefined, 3] }],
    ['class instance', { m: new Map([['a', 1]]) }],
    ['__proto__ key from JSON', JSON.parse('{"__proto__": {"x": 1}, "y": 2}')],
    ['null-prototype object', Object.assign(Object.create(null), { a: { b: [true, false, null] } })],
    ['top-level array', [{ a: 1 }, 'x', 3]],
    ['string', 'plain'],
  ];
  for (const [name, value] of cases) {
    it(name, () => {
      const copy = copyJSON(value);
      expect(JSON.stringify(copy)).toBe(JSON.stringify(roundTrip(value)));
      expect(copy).toStrictEqual(roundTrip(value));
      if (value && typeof value === 'object') expect(copy).not.toBe(value);
    });
  }

  it('shares no nested object with the original', () => {
    const src = { metadata: { labels: { a: '1' } }, list: [{ x: 1 }] };
    const copy = copyJSON(src);
    copy.metadata.labels.a = '2';
    copy.list[0]!.x = 2;
    expect(src).toEqual({ metadata: { labels: { a: '1' } }, list: [{ x: 1 }] });
  });

  it('copies frozen objects (informer cache) into changeable ones', () => {
    const src = Object.freeze({ metadata: Object.freeze({ name: 'a', labels: Object.freeze({ k: 'v' }) }) });
    const copy = copyJSON(src) as any;
    copy.metadata.labels.k = 'w';
    expect(copy.metadata.labels.k).toBe('w');
  });
});
