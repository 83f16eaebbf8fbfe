// The runtime facade the agent uses: pod sandboxes and containers (this file's exports) on top of
// the image side (runtime/images, runtime/snapshots), which hands over overlay lower dirs through
// the RootfsProvider interface. CRI-like and Kubernetes-free.
export { ContainerRuntime, DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS, mergeCommand } from './containers/runtime';
export type { ContainerRuntimeOptions } from './containers/runtime';
export type {
  ContainerConfig, ContainerState, ContainerStats, ContainerStatus, ExecOptions, ExecResult, ImageConfig,
  PodSandboxConfig, PodSandboxStatus, PreparedRootfs, RootfsProvider, VolumeMount,
} from './containers/types';
export { ContainerStateError, InvalidConfigError, NotFoundError, RuntimeError } from './containers/errors';
export type { CgroupResources, CgroupStats } from './cgroups/types';
export { CgroupError } from './cgroups/types';
export { ShimStream, ShimRequestError, ShimUnavailableError } from './shim/client';
export { SyscallError } from './linux/errors';
