// Typed errors with a stable `code`; the HTTP layer and the CLI turn them into answers.

export type ErrorCode =
  | 'bad_input'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'too_many'
  | 'invalid_pipeline'
  | 'lease_lost'
  | 'internal';

export class KilnError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KilnError';
    this.code = code;
  }
}

export const badInput = (message: string, cause?: unknown) => new KilnError('bad_input', message, { cause });
export const notFound = (message: string) => new KilnError('not_found', message);
export const conflict = (message: string) => new KilnError('conflict', message);
