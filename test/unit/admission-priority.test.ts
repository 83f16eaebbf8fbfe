// The Priority admission plugin and PriorityClass rules: pure resolution (class, default, none,
// refusals of a differing priority/preemptionPolicy), upstream's PriorityClass validation, the
// ephemeral containers update rules, and the plugin over a real store and watch cache
// (store read before the cache syncs, synchronous answers after, a class created a moment ago).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type LogStore } from '../../embedded-store';
import { Registry } from '../../server/apiserver/registry';
import { ApiError } from '../../api/errors';
import { applyPriority, priorityFromClass, PriorityAdmission } from '../../server/admission/priority';
import {
  globalDefaultClass, PRIORITY_CLASS_PREFIX, PriorityClassCache, SYSTEM_PRIORITY_CLASSES, systemPriorityClassObject, validatePriorityClass,
} from '../../server/apiserver/priorityclass';
import { validateEphemeralContainersUpdate } from '../../server/apiserver/ephemeral-containers';
import { waitForValue } from './helpers/wait';

const pod = (spec: Record<string, unknown> = {}): any => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
});
const pc = (name: string, value: number, extra: Record<string, unknown> = {}): any => ({
  apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, preemptionPolicy: 'PreemptLowerPriority', ...extra,
});

function forbiddenMessage(fn: () => void): string {
  try { fn(); } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).httpStatus).toBe(403);
    return (err as ApiError).message;
  }
  throw new Error('expected a 403');
}

describe('applyPriority', () => {
  it('takes value and preemption policy from the class', () => {
    const p = pod({ priorityClassName: 'high' });
    applyPriority(p, priorityFromClass(pc('high', 1000, { preemptionPolicy: 'Never' })), false);
    expect(p.spec).toMatchObject({ priorityClassName: 'high', priority: 1000, preemptionPolicy: 'Never' });
  }, 5_000);

  it('gives priority 0 and PreemptLowerPriority without a class or default, and the default class name otherwise', () => {
    const none = pod();
    applyPriority(none, priorityFromClass(null), true);
    expect(none.spec.priority).toBe(0);
    expect(none.spec.preemptionPolicy).toBe('PreemptLowerPriority');
    expect(none.spec.priorityClassName).toBeUndefined();
    const d = pod();
    applyPriority(d, priorityFromClass(pc('everyone', 50)), true);
    expect(d.spec).toMatchObject({ priorityClassName: 'everyone', priority: 50 });
  }, 5_000);

  it('refuses a priority or preemption policy different from the class, and accepts equal ones', () => {
    const high = priorityFromClass(pc('high', 1000));
    expect(forbiddenMessage(() => applyPriority(pod({ priorityClassName: 'high', priority: 5 }), high, false)))
      .toBe('pods "p" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name');
    expect(forbiddenMessage(() => applyPriority(pod({ priorityClassName: 'high', preemptionPolicy: 'Never' }), high, false)))
      .toBe('pods "p" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name');
    const same = pod({ priorityClassName: 'high', priority: 1000, preemptionPolicy: 'PreemptLowerPriority' });
    applyPriority(same, high, false);
    expect(same.spec.priority).toBe(1000);
  }, 5_000);

  it('picks the lowest-valued default when a race left two', () => {
    expect(globalDefaultClass([pc('a', 10, { globalDefault: true }), pc('b', 5, { globalDefault: true }), pc('c', 1)])?.metadata.name).toBe('b');
    expect(globalDefaultClass([pc('c', 1)])).toBeUndefined();
  }, 5_000);
});

describe('validatePriorityClass', () => {
  it('accepts the system classes as they are and refuses other system- names', () => {
    for (const c of SYSTEM_PRIORITY_CLASSES) expect(validatePriorityClass(systemPriorityClassObject(c))).toEqual([]);
    expect(validatePriorityClass(pc('system-mine', 5))).toEqual([{
      type: 'FieldValueForbidden', field: 'metadata.name',
      message: "Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
    }]);
    expect(validatePriorityClass(pc('system-node-critical', 5))[0]!.message).toContain('value of system-node-critical PriorityClass must be 2000001000');
    expect(validatePriorityClass(pc('system-node-critical', 2000001000, { globalDefault: true }))[0]!.message).toContain('globalDefault of system-node-critical PriorityClass must be false');
  }, 5_000);

  it('limits user values to one billion and checks the preemption policy', () => {
    expect(validatePriorityClass(pc('ok', 1_000_000_000))).toEqual([]);
    expect(validatePriorityClass(pc('ok', -5))).toEqual([]);
    expect(validatePriorityClass(pc('big', 1_000_000_001))).toEqual([{ type: 'FieldValueForbidden', field: 'value', message: 'Forbidden: maximum allowed value of a user defined priority is 1000000000' }]);
    expect(validatePriorityClass(pc('bad', 1, { preemptionPolicy: 'Sometimes' }))).toEqual([{ type: 'FieldValueNotSupported', field: 'preemptionPolicy', message: 'Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"' }]);
    expect(validatePriorityClass(pc('frac', 1.5))[0]!.field).toBe('value');
  }, 5_000);

  it('keeps value and preemptionPolicy immutable', () => {
    const old = pc('x', 10);
    expect(validatePriorityClass(pc('x', 10, { description: 'new words' }), old)).toEqual([]);
    expect(validatePriorityClass(pc('x', 11), old)).toEqual([{ type: 'FieldValueForbidden', field: 'value', message: 'Forbidden: may not be changed in an update.' }]);
    expect(validatePriorityClass(pc('x', 10, { preemptionPolicy: 'Never' }), old)).toEqual([{ type: 'FieldValueInvalid', field: 'preemptionPolicy', message: 'Invalid value: "Never": field is immutable' }]);
  }, 5_000);
});

describe('validateEphemeralContainersUpdate', () => {
  const base = pod({ initContainers: [{ name: 'init', image: 'busybox' }] });
  it('accepts new uniquely named containers and refuses duplicates, forbidden fields and unknown targets', () => {
    expect(validateEphemeralContainersUpdate(pod({ ephemeralContainers: [{ name: 'dbg', image: 'busybox', targetContainerName: 'c' }] }), base)).toEqual([]);
    const errs = validateEphemeralContainersUpdate(pod({
      initContainers: [{ name: 'init', image: 'busybox' }],
      ephemeralContainers: [
        { name: 'c', image: 'busybox' },
        { name: 'init', image: 'busybox' },
        { name: 'dbg', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1' } }, targetContainerName: 'nope', volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 'x' }] },
        { name: 'dbg', image: 'busybox' },
      ],
    }), base);
    expect(errs.map((e) => `${e.field}: ${e.message}`)).toEqual([
      'spec.ephemeralContainers[0].name: Duplicate value: "c"',
      'spec.ephemeralContainers[1].name: Duplicate value: "init"',
      'spec.ephemeralContainers[2].image: Required value',
      'spec.ephemeralContainers[2].ports: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[2].resources: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[2].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[2].targetContainerName: Not found: "nope"',
      'spec.ephemeralContainers[3].name: Duplicate value: "dbg"',
    ]);
  }, 5_000);

  it('refuses changing or removing existing ephemeral containers, whatever the key order', () => {
    const old = pod({ ephemeralContainers: [{ name: 'dbg', image: 'busybox', stdin: true }] });
    expect(validateEphemeralContainersUpdate(pod({ ephemeralContainers: [{ stdin: true, image: 'busybox', name: 'dbg' }, { name: 'two', image: 'busybox' }] }), old)).toEqual([]);
    expect(validateEphemeralContainersUpdate(pod({ ephemeralContainers: [{ name: 'dbg', image: 'other' }] }), old).map((e) => `${e.field}: ${e.message}`))
      .toEqual(['spec.ephemeralContainers[dbg]: Forbidden: existing ephemeral containers "dbg" may not be changed']);
    expect(validateEphemeralContainersUpdate(pod({ ephemeralContainers: [] }), old).map((e) => `${e.field}: ${e.message}`))
      .toEqual(['spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed']);
  }, 5_000);
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

async function setup(): Promise<{ store: LogStore; cache: PriorityClassCache; plugin: PriorityAdmission }> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-test-priority-'));
  const store = await openSqliteStore({ path: join(dir, 'state.db'), compactIntervalMs: 0 });
  const registry = new Registry(store, () => undefined);
  const cache = new PriorityClassCache(store, registry.watchCache);
  const plugin = new PriorityAdmission(cache);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close(), () => registry.watchCache.stop(), () => plugin.stop(), () => registry.namespaces.stop());
  return { store, cache, plugin };
}

const bytes = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));

describe('PriorityAdmission over a real store', () => {
  it('reads the store until the cache syncs, then answers synchronously and follows writes', async () => {
    const { store, cache, plugin } = await setup();
    await store.create(`${PRIORITY_CLASS_PREFIX}high`, bytes(pc('high', 1000)));
    // Not synced yet: the store answers (a Promise), and the cache starts.
    const first = pod({ priorityClassName: 'high' });
    const pending = plugin.admit(first);
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    expect(first.spec.priority).toBe(1000);
    await waitForValue(() => cache.synced, 5000, 'the cache synced');
    const second = pod({ priorityClassName: 'high' });
    expect(plugin.admit(second)).toBeUndefined();
    expect(second.spec.priority).toBe(1000);

    // A default class arrives through the watch.
    const none = pod();
    expect(plugin.admit(none)).toBeUndefined();
    expect(none.spec.priority).toBe(0);
    await store.create(`${PRIORITY_CLASS_PREFIX}everyone`, bytes(pc('everyone', 50, { globalDefault: true, preemptionPolicy: 'Never' })));
    await waitForValue(() => cache.defaultClass()?.metadata?.name === 'everyone', 5000, 'the default class in the cache');
    const defaulted = pod();
    expect(plugin.admit(defaulted)).toBeUndefined();
    expect(defaulted.spec).toMatchObject({ priorityClassName: 'everyone', priority: 50, preemptionPolicy: 'Never' });
    // Deleting the default takes it away from the next pod.
    await store.delete(`${PRIORITY_CLASS_PREFIX}everyone`);
    await waitForValue(() => cache.defaultClass() === null, 5000, 'the default class gone from the cache');
    const after = pod();
    expect(plugin.admit(after)).toBeUndefined();
    expect(after.spec.priority).toBe(0);
    expect(after.spec.priorityClassName).toBeUndefined();
  }, 15_000);

  it('reads a class the cache does not hold yet, and refuses one that does not exist', async () => {
    const { store, cache, plugin } = await setup();
    cache.start();
    await waitForValue(() => cache.synced, 5000, 'the cache synced');
    const missing = pod({ priorityClassName: 'nope' });
    await expect(plugin.admit(missing) as Promise<void>).rejects.toThrow('pods "p" is forbidden: no PriorityClass with name nope was found');
    // Written straight to the store: whether or not the watch delivered it yet, the pod resolves.
    await store.create(`${PRIORITY_CLASS_PREFIX}fresh`, bytes(pc('fresh', 3)));
    const p = pod({ priorityClassName: 'fresh' });
    await plugin.admit(p);
    expect(p.spec.priority).toBe(3);
  }, 15_000);
});
