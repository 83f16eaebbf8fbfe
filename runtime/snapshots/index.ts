// Snapshots: layers unpacked once into overlayfs lower dirs named by chain ID.
// The image service (runtime/images) drives this; containers only read the dirs it returns.
export { Snapshotter, type LayerSource, type SnapshotInfo } from './snapshotter';
export { chainIDs } from './chain';
export { unpackLayer, sniffCompression, OPAQUE_MARKER, OVERLAY_OPAQUE_XATTR, WHITEOUT_PREFIX, type LayerCompression, type UnpackStats } from './unpack';
export { UnpackError, DiffIDMismatchError } from './errors';
export { lgetxattr } from '../linux/libc';
