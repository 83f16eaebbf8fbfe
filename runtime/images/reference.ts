// Image references, normalised the way containerd/k3s (docker's reference library) do:
// "busybox" -> "docker.io/library/busybox:latest"; "foo/bar" -> "docker.io/foo/bar:latest";
// a first component with a "." or ":" or equal to "localhost" is a registry host.
import { InvalidReferenceError } from './errors';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';

/** A parsed, normalised image reference. */
export interface ImageReference {
  /** Registry host (and port), e.g. "docker.io", "127.0.0.1:5000". */
  registry: string;
  /** Repository path inside the registry, e.g. "library/busybox". */
  repository: string;
  /** Tag, if any ("latest" when neither a tag nor a digest was given). */
  tag?: string;
  /** Digest ("sha256:<hex>"), if the reference pins one. */
  digest?: string;
  /** The full normalised name: registry/repository[:tag][@digest]. */
  name: string;
  /** registry/repository without tag or digest. */
  locator: string;
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

/** Parses and normalises an image reference; throws InvalidReferenceError. */
export function parseReference(input: string): ImageReference {
  const ref = input.trim();
  if (ref === '') throw new InvalidReferenceError(input, 'empty');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new InvalidReferenceError(input, `bad digest "${digest}"`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG_RE.test(tag)) throw new InvalidReferenceError(input, `bad tag "${tag}"`);
  }
  const parts = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    registry = parts.shift()!;
    if (!HOST_RE.test(registry)) throw new InvalidReferenceError(input, `bad registry host "${registry}"`);
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && parts.length === 1) parts.unshift('library');
  for (const c of parts) {
    if (!COMPONENT_RE.test(c)) throw new InvalidReferenceError(input, `bad repository component "${c}" (lower case letters, digits and separators only)`);
  }
  const repository = parts.join('/');
  if (!tag && !digest) tag = DEFAULT_TAG;
  const locator = `${registry}/${repository}`;
  const name = `${locator}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  return { registry, repository, tag, digest, name, locator };
}

/** Normalised name of a reference, e.g. "busybox" -> "docker.io/library/busybox:latest". */
export function normalizeReference(input: string): string {
  return parseReference(input).name;
}

/** The short form people type, e.g. "docker.io/library/busybox:latest" -> "busybox:latest". */
export function familiarName(name: string): string {
  if (name.startsWith('docker.io/library/')) return name.slice('docker.io/library/'.length);
  if (name.startsWith('docker.io/')) return name.slice('docker.io/'.length);
  return name;
}
