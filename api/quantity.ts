// Kubernetes resource quantities ('100m', '1Gi', '2.5', '1e3'): parsing and comparison. The
// validation of requests and limits uses it; so can the scheduler and the node agent.

export class QuantityError extends Error {
  readonly code = 'InvalidQuantity';
  constructor(readonly value: string) {
    super(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
    this.name = 'QuantityError';
  }
}

const SUFFIX: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

/** The value of a quantity as a number (cores for CPU, bytes for memory). Throws QuantityError. */
export function parseQuantity(value: string | number): number {
  const n = quantityValue(value);
  if (n === undefined) throw new QuantityError(String(value));
  return n;
}

// Every pod's requests and limits are checked and compared on each write, mostly the same few
// strings ('100m', '128Mi'): their values are remembered (null: not a quantity).
const parsed = new Map<string, number | null>();

/** The value of a quantity, or undefined when it is not one. */
function quantityValue(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  let n = parsed.get(value);
  if (n === undefined) {
    n = parseText(value);
    if (parsed.size >= 4096) parsed.clear();
    parsed.set(value, n);
  }
  return n ?? undefined;
}

function parseText(value: string): number | null {
  const m = QUANTITY.exec(value.trim() === value ? value : '');
  if (!m) return null;
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  if (/^[eE]/.test(suffix)) return n * 10 ** Number(suffix.slice(1));
  return n * SUFFIX[suffix];
}

/** Whether a string is a valid quantity. */
export function isQuantity(value: unknown): boolean {
  if (typeof value !== 'string' && typeof value !== 'number') return false;
  return quantityValue(value) !== undefined;
}
