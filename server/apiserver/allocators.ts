// Service clusterIP (10.43.0.0/16) and NodePort (30000-32767) allocation. Each allocated value is
// one store key created with create-if-absent, so restarts and concurrent creates can never hand
// out a value twice; the key's value names the owning Service, which makes retries idempotent.
import { randomInt } from 'node:crypto';
import type { Store } from '../../embedded-store/types';
import { ApiError, invalid } from './errors';

export const SERVICE_CIDR_BASE = (10 << 24) | (43 << 16); // 10.43.0.0
export const SERVICE_CIDR_SIZE = 1 << 16;
export const KUBERNETES_SERVICE_IP = '10.43.0.1';
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

const IP_PREFIX = '/registry/orch/serviceips/';
const PORT_PREFIX = '/registry/orch/servicenodeports/';

export interface Allocation { release(): Promise<void> }

function ipToString(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function ipToNumber(s: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function owner(svc: any): string { return `${svc.metadata.namespace}/${svc.metadata.name}`; }

/** Claims a key for `who`; true when it is ours (new, or already ours from an earlier attempt). */
async function claim(store: Store, key: string, who: string): Promise<boolean> {
  try {
    await store.create(key, Buffer.from(who));
    return true;
  } catch (err) {
    if ((err as { code?: string }).code !== 'STORE_ALREADY_EXISTS') throw err;
    const kv = await store.get(key);
    return kv?.value.toString() === who;
  }
}

async function unclaim(store: Store, key: string, who: string): Promise<void> {
  const kv = await store.get(key);
  if (kv && kv.value.toString() === who) await store.delete(key, kv.modRevision).catch(() => undefined);
}

function needsClusterIP(spec: any): boolean {
  return spec.type !== 'ExternalName' && spec.clusterIP !== 'None';
}

function needsNodePorts(spec: any): boolean {
  return spec.type === 'NodePort' || spec.type === 'LoadBalancer';
}

/** Allocates the clusterIP and node ports a Service needs (and releases those an update drops). */
export async function allocateService(store: Store, svc: any, old: any | undefined): Promise<Allocation | undefined> {
  const spec = svc.spec ?? (svc.spec = {});
  const who = owner(svc);
  const claimed: string[] = [];
  const fail = async (e: ApiError): Promise<never> => {
    for (const k of claimed) await unclaim(store, k, who);
    throw e;
  };
  if (needsClusterIP(spec)) {
    const requested = spec.clusterIP || spec.clusterIPs?.[0];
    if (requested) {
      const n = ipToNumber(requested);
      if (n === undefined || n < SERVICE_CIDR_BASE || n >= SERVICE_CIDR_BASE + SERVICE_CIDR_SIZE) {
        await fail(invalid('', 'Service', svc.metadata.name, [{ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is 10.43.0.0/16` }]));
      }
      const key = IP_PREFIX + requested;
      if (!(await claim(store, key, who))) {
        await fail(invalid('', 'Service', svc.metadata.name, [{ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: provided IP is already allocated` }]));
      }
      if (old?.spec?.clusterIP !== requested) claimed.push(key);
      spec.clusterIP = requested;
    } else {
      let got: string | undefined;
      for (let i = 0; i < 64 && !got; i++) {
        const ip = ipToString(SERVICE_CIDR_BASE + 2 + randomInt(SERVICE_CIDR_SIZE - 3));
        if (ip === '10.43.0.10') continue; // cluster DNS's address
        if (await claim(store, IP_PREFIX + ip, who)) got = ip;
      }
      if (!got) await fail(new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a serviceIP: range is full'));
      claimed.push(IP_PREFIX + got!);
      spec.clusterIP = got;
    }
    spec.clusterIPs = [spec.clusterIP];
    spec.ipFamilies = spec.ipFamilies ?? ['IPv4'];
    spec.ipFamilyPolicy = spec.ipFamilyPolicy ?? 'SingleStack';
  }
  if (needsNodePorts(spec)) {
    for (const p of spec.ports ?? []) {
      if (p.nodePort) {
        if (p.nodePort < NODE_PORT_MIN || p.nodePort > NODE_PORT_MAX) {
          await fail(invalid('', 'Service', svc.metadata.name, [{ type: 'FieldValueInvalid', field: 'spec.ports[0].nodePort', message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}` }]));
        }
        const key = PORT_PREFIX + p.nodePort;
        if (!(await claim(store, key, who))) {
          await fail(invalid('', 'Service', svc.metadata.name, [{ type: 'FieldValueInvalid', field: 'spec.ports[0].nodePort', message: `Invalid value: ${p.nodePort}: provided port is already allocated` }]));
        }
        if (!(old?.spec?.ports ?? []).some((o: any) => o.nodePort === p.nodePort)) claimed.push(key);
        continue;
      }
      let got: number | undefined;
      for (let i = 0; i < 64 && got === undefined; i++) {
        const port = NODE_PORT_MIN + randomInt(NODE_PORT_MAX - NODE_PORT_MIN + 1);
        if (await claim(store, PORT_PREFIX + port, who)) got = port;
      }
      if (got === undefined) await fail(new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full'));
      claimed.push(PORT_PREFIX + got!);
      p.nodePort = got;
    }
  } else {
    for (const p of spec.ports ?? []) delete p.nodePort;
  }
  // What the old object held and the new one does not is released.
  if (old) {
    const keep = new Set(heldKeys(svc));
    for (const k of heldKeys(old)) if (!keep.has(k)) await unclaim(store, k, who);
  }
  return { release: async () => { for (const k of claimed) await unclaim(store, k, who); } };
}

function heldKeys(svc: any): string[] {
  const spec = svc.spec ?? {};
  const keys: string[] = [];
  if (spec.clusterIP && spec.clusterIP !== 'None') keys.push(IP_PREFIX + spec.clusterIP);
  for (const p of spec.ports ?? []) if (p.nodePort) keys.push(PORT_PREFIX + p.nodePort);
  return keys;
}

export async function releaseService(store: Store, svc: any): Promise<void> {
  for (const k of heldKeys(svc)) await unclaim(store, k, owner(svc));
}
