// The one place that says which Kubernetes version orch speaks and what orch itself is.
// kubectl on these machines is a dispatcher that picks its real binary by the server's minor
// version, so minor must be exactly "32" and gitVersion valid semver (see kube-api-compat.md §0.1).
import pkg from '../package.json';

export const KUBERNETES_MAJOR = '1';
export const KUBERNETES_MINOR = '32';
export const KUBERNETES_PATCH = '4';
export const ORCH_VERSION: string = pkg.version;
/** Like k3s's `v1.32.4+k3s1`: the Kubernetes version with orch's build as semver metadata. */
export const GIT_VERSION = `v${KUBERNETES_MAJOR}.${KUBERNETES_MINOR}.${KUBERNETES_PATCH}+orch.${ORCH_VERSION}`;
