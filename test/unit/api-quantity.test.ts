// Quantities are parsed once per distinct string (remembered values). Parsing must give what the
// uncached parser gave, valid or not, on first and later calls, for a generated corpus.
import { describe, expect, it } from 'vitest';
import { isQuantity, parseQuantity, QuantityError } from '../../api/quantity';
import { rng } from './helpers/rng';

const SUFFIX: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
/** The former parser, as api/quantity.ts had it (undefined: it threw). */
function oracle(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const m = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/.exec(value.trim() === value ? value : '');
  if (!m) return undefined;
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  if (/^[eE]/.test(suffix)) return n * 10 ** Number(suffix.slice(1));
  return n * SUFFIX[suffix]!;
}

describe('parseQuantity / isQuantity', () => {
  it('agree with the uncached parser on 20,000 generated values, twice each', () => {
    const r = rng(7);
    const parts = ['', '-', '+', '1', '0', '12', '.', '.5', '1.', '250', 'm', 'Mi', 'Gi', 'k', 'K', 'e3', 'E-2', 'i', ' ', 'x', 'Ei', 'e400', 'n'];
    let valid = 0;
    for (let i = 0; i < 20_000; i++) {
      let v: string | number = '';
      for (let n = 1 + Math.floor(r() * 4); n > 0; n--) v += parts[Math.floor(r() * parts.length)];
      if (r() < 0.05) v = [1.5, -2, NaN, Infinity, 0][Math.floor(r() * 5)]!;
      const want = oracle(v);
      for (let round = 0; round < 2; round++) {
        expect(isQuantity(v), `${String(v)}`).toBe(want !== undefined);
        if (want === undefined) expect(() => parseQuantity(v)).toThrow(QuantityError);
        else expect(parseQuantity(v)).toBe(want);
      }
      if (want !== undefined) valid++;
    }
    expect(valid).toBeGreaterThan(2000);
    expect(isQuantity(null)).toBe(false);
    expect(isQuantity({})).toBe(false);
  });
});
