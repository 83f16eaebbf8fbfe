// The runtime facade the agent uses: images (runtime/images: pull, import, store, overlay lower
// dirs) and pod sandboxes and containers (runtime/containers: shims, namespaces, cgroups).
// CRI-like and Kubernetes-free. `openNodeRuntime` wires both under one data dir.
import { join } from 'node:path';
import { ImageService } from './images';
import { ContainerRuntime, type ContainerRuntimeOptions } from './containers/runtime';

export * from './images';
export { ContainerRuntime, DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS, mergeCommand } from './containers/runtime';
export type { ContainerRuntimeOptions } from './containers/runtime';
/** A rootfs handed straight to createContainer (the image side's PreparedRootfs fits it too). */
export type { PreparedRootfs as ContainerRootfs, ImageConfig as ContainerImageConfig } from './containers/types';
export type {
  ContainerConfig, ContainerState, ContainerStats, ContainerStatus, ExecOptions, ExecResult,
  PodSandboxConfig, PodSandboxStatus, RootfsProvider, VolumeMount,
} from './containers/types';
export { ContainerStateError, InvalidConfigError, NotFoundError, RuntimeError } from './containers/errors';
export type { CgroupResources, CgroupStats } from './cgroups/types';
export { CgroupError } from './cgroups/types';
export { ShimStream, ShimRequestError, ShimUnavailableError } from './shim/client';
export { SyscallError } from './linux/errors';

export interface NodeRuntimeOptions extends Omit<ContainerRuntimeOptions, 'images' | 'dataDir'> {
  /** orch's data dir: images under <dataDir>/agent/images, containers under <dataDir>/agent/containers. */
  dataDir: string;
  /** registries.yaml (k3s format); default none. */
  registriesConfigPath?: string;
}

/** Images and containers of one node. */
export interface NodeRuntime {
  images: ImageService;
  containers: ContainerRuntime;
  /** Closes both; running containers keep running (their shims are detached). */
  close(): Promise<void>;
}

/** Opens the node's image store and container runtime (re-adopting running containers). */
export async function openNodeRuntime(opts: NodeRuntimeOptions): Promise<NodeRuntime> {
  const images = new ImageService({ root: join(opts.dataDir, 'agent', 'images'), registriesConfigPath: opts.registriesConfigPath });
  const containers = await ContainerRuntime.open({ ...opts, dataDir: opts.dataDir, images });
  return {
    images,
    containers,
    async close() {
      await containers.close();
      await images.close();
    },
  };
}
