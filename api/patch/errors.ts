// Patch failures carry a stable code and the HTTP status the apiserver answers with, following
// k8s.io/apiserver's patch handler: a malformed patch document is 400 BadRequest; a well-formed
// patch that cannot be applied to this object (failed test, missing path, list of lists) is 422.

export type PatchErrorCode =
  | 'InvalidPatch'          // not JSON of the right shape, or a malformed directive (400)
  | 'InvalidJSONPatchOp'    // a malformed RFC 6902 operation (unknown op, no path, no value); upstream
                            // only finds these while applying, so 422 like other apply failures
  | 'TooManyOperations'     // more JSON patch operations than the apiserver accepts (413)
  | 'PathNotFound'          // an RFC 6902 path or from that does not exist in the object (422)
  | 'PatchTestFailed'       // an RFC 6902 test operation did not match (422)
  | 'MissingMergeKey'       // a list item of a merging list lacks its merge key (422)
  | 'ListOfLists'           // strategic merge of lists of lists is undefined (422)
  | 'PatchNotApplicable';   // any other well-formed patch that cannot be applied to this object (422)

const statusOf: Record<PatchErrorCode, 400 | 413 | 422> = {
  InvalidPatch: 400,
  InvalidJSONPatchOp: 422,
  TooManyOperations: 413,
  PathNotFound: 422,
  PatchTestFailed: 422,
  MissingMergeKey: 422,
  ListOfLists: 422,
  PatchNotApplicable: 422,
};

export class PatchError extends Error {
  override readonly name = 'PatchError';
  /** The HTTP status the apiserver answers with (Status reason BadRequest, RequestEntityTooLarge or Invalid). */
  readonly status: 400 | 413 | 422;
  constructor(readonly code: PatchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = statusOf[code];
  }
}
