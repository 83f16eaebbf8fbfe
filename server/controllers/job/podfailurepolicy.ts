// Job spec.podFailurePolicy (batch/v1, GA in 1.31): the first rule matching a failed pod decides
// what its failure does to the Job, as upstream's pod_failure_policy.go evaluates it.
import type { KubeObject } from '../types';

export type PodFailurePolicyAction = 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';

/** What the policy decided for one failed pod; `message` is set for FailJob (the Job's condition message). */
export interface PodFailurePolicyMatch {
  action: PodFailurePolicyAction;
  message?: string;
}

export interface PodFailurePolicyOptions {
  /** Whether FailIndex rules apply (an Indexed Job with backoffLimitPerIndex); otherwise they are skipped. */
  failIndexSupported?: boolean;
}

/** A terminated, non-zero container status the onExitCodes requirement matches (app containers first, then init). */
function matchingContainer(pod: KubeObject, req: any): any | undefined {
  const values: number[] = req?.values ?? [];
  const matches = (code: number) => (req?.operator === 'NotIn' ? !values.includes(code) : values.includes(code));
  for (const list of [pod.status?.containerStatuses, pod.status?.initContainerStatuses]) {
    for (const cs of list ?? []) {
      const code = cs?.state?.terminated?.exitCode;
      if (typeof code !== 'number' || code === 0) continue; // a container that succeeded never matches
      if (req?.containerName && req.containerName !== cs.name) continue;
      if (matches(code)) return cs;
    }
  }
  return undefined;
}

/** The pod condition some onPodConditions pattern matches (status defaults to True). */
function matchingCondition(pod: KubeObject, patterns: any[]): any | undefined {
  for (const pat of patterns) {
    const c = (pod.status?.conditions ?? []).find((x: any) => x.type === pat?.type && x.status === (pat?.status ?? 'True'));
    if (c) return c;
  }
  return undefined;
}

/**
 * Evaluates `policy.rules` in order against a failed pod. Returns the first matching rule's
 * action (with upstream's FailJob message naming the container and exit code, or the pod
 * condition), or undefined when no rule matches (the failure is counted as without a policy).
 */
export function matchPodFailurePolicy(policy: any, pod: KubeObject, opts: PodFailurePolicyOptions = {}): PodFailurePolicyMatch | undefined {
  const rules: any[] = policy?.rules ?? [];
  const podRef = `${pod.metadata.namespace}/${pod.metadata.name}`;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    const action = rule?.action as PodFailurePolicyAction;
    // Without backoffLimitPerIndex a FailIndex rule is passed over, as upstream does with the feature off.
    if (action === 'FailIndex' && !opts.failIndexSupported) continue;
    if (rule?.onExitCodes) {
      const cs = matchingContainer(pod, rule.onExitCodes);
      if (!cs) continue;
      if (action === 'FailJob') {
        return { action, message: `Container ${cs.name} for pod ${podRef} failed with exit code ${cs.state.terminated.exitCode} matching ${action} rule at index ${i}` };
      }
      return { action };
    }
    if (rule?.onPodConditions) {
      const c = matchingCondition(pod, rule.onPodConditions);
      if (!c) continue;
      if (action === 'FailJob') return { action, message: `Pod ${podRef} has condition ${c.type} matching ${action} rule at index ${i}` };
      return { action };
    }
  }
  return undefined;
}
