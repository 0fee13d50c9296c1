/**
 * Every error gamepipe shows a user says where (layout file, JSON path, job) and what was
 * expected. Code throws GamepipeError with that context; the CLI prints `format()` and exits ≠ 0.
 */
export interface ErrorContext {
  /** Layout file (or other input file) the problem is in. */
  file?: string;
  /** JSON path inside that file, e.g. `$.output.mode`. */
  jsonPath?: string;
  /** Job (layout name) that was running. */
  job?: string;
  /** What was expected, in words. */
  expected?: string;
  /** Extra lines shown under the message (rendered SQL excerpt, sample rows…). */
  detail?: string;
}

export class GamepipeError extends Error {
  readonly context: ErrorContext;

  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GamepipeError';
    this.context = context;
  }

  /** A copy with more context filled in (inner context wins: it is more precise). */
  withContext(outer: ErrorContext): GamepipeError {
    const merged = new GamepipeError(this.message, { ...outer, ...this.context }, { cause: this.cause });
    merged.stack = this.stack;
    return merged;
  }

  format(): string {
    const where = [
      this.context.file,
      this.context.jsonPath,
      this.context.job ? `job ${this.context.job}` : undefined,
    ]
      .filter(Boolean)
      .join(': ');
    const head = where ? `${where}: ${this.message}` : this.message;
    const expected = this.context.expected ? `\n  expected: ${this.context.expected}` : '';
    const detail = this.context.detail ? `\n${this.context.detail}` : '';
    return head + expected + detail;
  }
}

/** Adds context to a GamepipeError, or wraps any other error with it. */
export function withErrorContext(err: unknown, context: ErrorContext): GamepipeError {
  if (err instanceof GamepipeError) return err.withContext(context);
  const message = err instanceof Error ? err.message : String(err);
  return new GamepipeError(message, context, { cause: err });
}

export function formatError(err: unknown): string {
  if (err instanceof GamepipeError) return err.format();
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}
