// Errors of the snapshotter, each with a stable code.

/** A layer could not be unpacked (bad tar, unsafe path, failed syscall). */
export class UnpackError extends Error {
  readonly code = 'UNPACK_FAILED';
  constructor(readonly layer: string, reason: string, options?: { cause?: unknown }) {
    super(`unpacking layer ${layer}: ${reason}`, options);
    this.name = 'UnpackError';
  }
}

/** The uncompressed layer did not hash to the diffID the image config names. */
export class DiffIDMismatchError extends Error {
  readonly code = 'DIGEST_MISMATCH';
  constructor(readonly layer: string, readonly expected: string, readonly actual: string) {
    super(`diffID mismatch for layer ${layer}: expected ${expected}, got ${actual}`);
    this.name = 'DiffIDMismatchError';
  }
}
