// Errors of the sandbox and container services; `code` is stable, callers switch on it.

export class RuntimeError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

export class NotFoundError extends RuntimeError {
  constructor(kind: 'container' | 'sandbox', id: string) {
    super('NotFound', `${kind} ${JSON.stringify(id)} not found`);
  }
}

export class InvalidConfigError extends RuntimeError {
  constructor(message: string) {
    super('InvalidConfig', message);
  }
}

export class ContainerStateError extends RuntimeError {
  constructor(message: string) {
    super('ContainerState', message);
  }
}
