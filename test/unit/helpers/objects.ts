// Builders for test objects (complete enough that no defaulting is needed).
import type { KubeObject } from '../../../server/controllers/types';

export function node(name: string, opts: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: any[]; unschedulable?: boolean; ready?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...(opts.labels ?? {}) } },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: {
      capacity: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' },
      allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' },
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', reason: 'KubeletReady' }],
    },
  };
}

export function pod(name: string, opts: { ns?: string; cpu?: string; memory?: string; labels?: Record<string, string>; nodeName?: string; spec?: any; ownerReferences?: any[]; phase?: string } = {}): KubeObject {
  const requests: Record<string, string> = {};
  if (opts.cpu) requests.cpu = opts.cpu;
  if (opts.memory) requests.memory = opts.memory;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: opts.ns ?? 'default', labels: opts.labels ?? {}, ownerReferences: opts.ownerReferences },
    spec: {
      containers: [{ name: 'c', image: 'busybox', resources: Object.keys(requests).length ? { requests } : {} }],
      schedulerName: 'default-scheduler', restartPolicy: 'Always', nodeName: opts.nodeName, ...(opts.spec ?? {}),
    },
    status: { phase: opts.phase ?? 'Pending' },
  };
}
