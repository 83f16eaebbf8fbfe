// Request-scoped types shared by the registry, the strategies and the HTTP layer.

export interface UserInfo { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> }

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Who is writing and how: the request's user and the write's query options. */
export interface WriteContext {
  user: UserInfo;
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: FieldValidation;
  /** Warnings for the `Warning: 299` headers, appended by the registry. */
  warnings: string[];
  /** Top-level duplicate fields found by the body parser (strict decoding). */
  duplicateFields?: string[];
  /** Whether the body's fields were already checked (protobuf bodies cannot carry unknown fields). */
  skipUnknownFieldCheck?: boolean;
  /** Set for server-side apply: managedFields are computed by the apply itself. */
  applying?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' | string;
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

export interface ListResult { items: any[]; resourceVersion: string; continue?: string; remainingItemCount?: number }

