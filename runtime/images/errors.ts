// Errors of the image service. Every error has a stable `code` (callers and the agent branch on it,
// e.g. to report ErrImagePull vs. an unknown local image) and a message a person can act on.

/** Base class: `code` is stable; `message` is for people. */
export abstract class ImageError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The image is not in the local store (pull or import it first). */
export class ImageNotFoundError extends ImageError {
  readonly code = 'IMAGE_NOT_FOUND';
  constructor(readonly reference: string) {
    super(`image "${reference}" not found locally`);
  }
}

/** The reference does not parse as an image name (or digest). */
export class InvalidReferenceError extends ImageError {
  readonly code = 'INVALID_IMAGE_NAME';
  constructor(readonly reference: string, reason: string) {
    super(`invalid image reference "${reference}": ${reason}`);
  }
}

/**
 * The registry answered with an error (the image cannot be pulled). `registryCode` and the message
 * are the registry's own (e.g. "MANIFEST_UNKNOWN: manifest unknown"); `status` is the HTTP status.
 */
export class RegistryError extends ImageError {
  readonly code = 'REGISTRY_ERROR';
  constructor(readonly reference: string, readonly endpoint: string, readonly status: number,
    readonly registryCode: string, readonly registryMessage: string) {
    super(`failed to pull "${reference}" from ${endpoint}: ${registryCode}: ${registryMessage}`);
  }
}

/** The registry could not be reached at all (connection refused, DNS, TLS, timeout). */
export class RegistryUnreachableError extends ImageError {
  readonly code = 'REGISTRY_UNREACHABLE';
  constructor(readonly reference: string, readonly address: string, cause: unknown) {
    super(`failed to pull "${reference}": registry ${address} is unreachable: ${describeCause(cause)}`, { cause });
  }
}

/** Content did not hash to the digest that named it (a blob, a manifest, or a layer's diffID). */
export class DigestMismatchError extends ImageError {
  readonly code = 'DIGEST_MISMATCH';
  constructor(readonly what: string, readonly expected: string, readonly actual: string) {
    super(`digest mismatch for ${what}: expected ${expected}, got ${actual}`);
  }
}

/** A manifest, layer or archive uses a media type or compression orch does not handle. */
export class UnsupportedMediaTypeError extends ImageError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  constructor(readonly mediaType: string, what: string) {
    super(`unsupported media type "${mediaType}" for ${what}`);
  }
}

/** An image index / manifest list has no manifest for the wanted platform. */
export class NoMatchingPlatformError extends ImageError {
  readonly code = 'NO_MATCHING_PLATFORM';
  constructor(readonly reference: string, readonly platform: string, available: string[]) {
    super(`image "${reference}" has no manifest for ${platform} (available: ${available.join(', ') || 'none'})`);
  }
}

/** An archive given to import is not a docker-archive or OCI archive, or is inconsistent. */
export class InvalidArchiveError extends ImageError {
  readonly code = 'INVALID_ARCHIVE';
  constructor(readonly file: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot import ${file}: ${reason}`, options);
  }
}

/** The registries config file (registries.yaml) is malformed. */
export class RegistriesConfigError extends ImageError {
  readonly code = 'INVALID_REGISTRIES_CONFIG';
  constructor(readonly file: string, reason: string) {
    super(`invalid registries config ${file}: ${reason}`);
  }
}

export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    const inner = (cause as { cause?: unknown }).cause;
    const base = code && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
    return inner instanceof Error && !base.includes(inner.message) ? `${base} (${describeCause(inner)})` : base;
  }
  return String(cause);
}
