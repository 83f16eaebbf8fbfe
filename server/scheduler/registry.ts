// Plugin name -> factory, and the default profile (upstream's default plugin set and score
// weights for the plugins orch implements).
import type { ClusterClient } from '../controllers/client';
import type { Handle, Plugin, ProfileConfig } from './framework';
import { NodeAffinity, NodeName, NodePorts, NodeUnschedulable, TaintToleration } from './plugins/basic';
import { DefaultBinder } from './plugins/binding';
import { DefaultPreemption } from './plugins/defaultpreemption';
import { InterPodAffinity } from './plugins/interpodaffinity';
import { NodeResourcesBalancedAllocation, NodeResourcesFit } from './plugins/noderesources';
import { PodTopologySpread } from './plugins/podtopologyspread';

export type PluginFactory = (handle: Handle, client: ClusterClient) => Plugin;

export const pluginRegistry: Record<string, PluginFactory> = {
  NodeUnschedulable: () => new NodeUnschedulable(),
  NodeName: () => new NodeName(),
  TaintToleration: () => new TaintToleration(),
  NodeAffinity: () => new NodeAffinity(),
  NodePorts: () => new NodePorts(),
  NodeResourcesFit: () => new NodeResourcesFit(),
  PodTopologySpread: (h) => new PodTopologySpread(h),
  InterPodAffinity: (h) => new InterPodAffinity(h),
  NodeResourcesBalancedAllocation: () => new NodeResourcesBalancedAllocation(),
  DefaultPreemption: (h, c) => new DefaultPreemption(h, c, { recorder: h.recorder, logger: h.logger }),
  DefaultBinder: (_h, c) => new DefaultBinder(c),
};

export class UnknownPluginError extends Error {
  readonly code = 'UnknownPlugin';
  constructor(name: string) { super(`scheduler plugin "${name}" is not registered`); this.name = 'UnknownPluginError'; }
}

export function defaultProfile(): ProfileConfig {
  return {
    schedulerName: 'default-scheduler',
    // Filter order as upstream: cheap node-only checks first.
    plugins: ['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit',
      'PodTopologySpread', 'InterPodAffinity', 'NodeResourcesBalancedAllocation', 'DefaultPreemption', 'DefaultBinder'],
    scoreWeights: { TaintToleration: 3, NodeAffinity: 2, PodTopologySpread: 2, InterPodAffinity: 2, NodeResourcesFit: 1, NodeResourcesBalancedAllocation: 1 },
    percentageOfNodesToScore: 0,
  };
}

export function buildPlugins(profile: ProfileConfig, handle: Handle, client: ClusterClient): Plugin[] {
  return profile.plugins.map((n) => {
    const f = pluginRegistry[n];
    if (!f) throw new UnknownPluginError(n);
    return f(handle, client);
  });
}
