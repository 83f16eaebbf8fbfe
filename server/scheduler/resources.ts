// Resource quantities and a pod's effective requests, the arithmetic NodeResourcesFit and the
// scoring plugins share. CPU is counted in millicores, memory and storage in bytes.

export class QuantityError extends Error {
  readonly code = 'InvalidQuantity';
  constructor(q: string) {
    super(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': ${JSON.stringify(q)}`);
    this.name = 'QuantityError';
  }
}

const SUFFIX: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Parses a resource.Quantity (`100m`, `1.5`, `128Mi`, `1e3`) to a plain number of units. */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined || q === null) return 0;
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|([numkMGTPE]|[KMGTPE]i)?)$/.exec(q.trim());
  if (!m) throw new QuantityError(q);
  const base = Number(m[1]);
  if (Number.isNaN(base)) throw new QuantityError(q);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  return base * SUFFIX[m[3] ?? ''];
}

/** Millicores for cpu, plain units (bytes, counts) for everything else; rounded up like Value(). */
export function toUnits(resource: string, q: string | number | undefined): number {
  const v = parseQuantity(q);
  return resource === 'cpu' ? Math.ceil(v * 1000 - 1e-9) : Math.ceil(v - 1e-9);
}

/** Requested resources by name (cpu in millicores). */
export type ResourceList = Record<string, number>;

function addInto(into: ResourceList, list: Record<string, string | number> | undefined): void {
  for (const [k, v] of Object.entries(list ?? {})) into[k] = (into[k] ?? 0) + toUnits(k, v);
}

function maxInto(into: ResourceList, other: ResourceList): void {
  for (const [k, v] of Object.entries(other)) if ((into[k] ?? 0) < v) into[k] = v;
}

// Defaults the scheduler assumes for scoring when a container requests nothing (upstream's
// DefaultMilliCPURequest and DefaultMemoryRequest), so empty pods still spread.
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

function containerRequests(c: any, nonZero: boolean): ResourceList {
  const r: ResourceList = {};
  addInto(r, c.resources?.requests);
  if (nonZero) {
    if (!r.cpu) r.cpu = DEFAULT_MILLI_CPU_REQUEST;
    if (!r.memory) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * The pod's effective request (resourcehelper.PodRequests): the sum over regular containers and
 * restartable (sidecar) init containers, at least the peak of any single init container plus the
 * sidecars started before it, plus spec.overhead. With nonZero, empty cpu/memory requests count
 * as the scheduler's defaults (used for scoring only).
 */
export function podRequests(pod: any, nonZero = false): ResourceList {
  const reqs: ResourceList = {};
  for (const c of pod.spec?.containers ?? []) addInto(reqs, stringify(containerRequests(c, nonZero)));
  const sidecars: ResourceList = {};
  const initPeak: ResourceList = {};
  for (const c of pod.spec?.initContainers ?? []) {
    const cr = containerRequests(c, nonZero);
    if (c.restartPolicy === 'Always') {
      addInto(reqs, stringify(cr));
      addInto(sidecars, stringify(cr));
      maxInto(initPeak, sidecars);
    } else {
      const withSidecars: ResourceList = { ...sidecars };
      addInto(withSidecars, stringify(cr));
      maxInto(initPeak, withSidecars);
    }
  }
  maxInto(reqs, initPeak);
  addInto(reqs, pod.spec?.overhead);
  return reqs;
}

// Re-enter already-converted units through addInto without converting cpu twice.
function stringify(r: ResourceList): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r)) out[k] = k === 'cpu' ? v / 1000 : v;
  return out;
}

/** A node's allocatable (falls back to capacity), in scheduler units. */
export function nodeAllocatable(node: any): ResourceList {
  const src = node.status?.allocatable ?? node.status?.capacity ?? {};
  const out: ResourceList = {};
  for (const [k, v] of Object.entries(src)) out[k] = toUnits(k, v as string);
  return out;
}
