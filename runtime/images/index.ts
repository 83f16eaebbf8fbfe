// orch's image service (CRI-like, Kubernetes-free): pull from OCI distribution registries, import
// docker/OCI archives, a content-addressed store, image records, garbage collection, and the
// overlay lower dirs of an image's root filesystem. See ImageService for the contract.
export {
  ImageService, DEFAULT_REGISTRIES_CONFIG,
  type ImageServiceOptions, type PullOptions, type PullProgress, type PullResult, type PreparedRootfs,
  type ImageInspect, type GarbageCollectResult, type AirgapImportResult,
} from './service';
export type { ImageRecord } from './metadata';
export { ContentStore, digestOf, type IngestProgress } from './content-store';
export { parseReference, normalizeReference, familiarName, isDigest, type ImageReference } from './reference';
export { loadRegistriesConfig, parseRegistriesConfig, endpointsFor, type RegistriesConfig, type Endpoint } from './registries';
export { hostPlatform, formatPlatform, parsePlatform, platformMatches } from './platform';
export { MediaType, MANIFEST_ACCEPT, type Descriptor, type Manifest, type ImageIndex, type ImageConfig, type ImageConfigFile, type Platform } from './types';
export {
  ImageError, ImageNotFoundError, InvalidReferenceError, RegistryError, RegistryUnreachableError,
  DigestMismatchError, UnsupportedMediaTypeError, NoMatchingPlatformError, InvalidArchiveError, RegistriesConfigError,
} from './errors';
