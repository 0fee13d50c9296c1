import { GamepipeError, type ErrorContext } from '../core/errors.js';

/**
 * Turns an engine error into one that names the job and shows the rendered SQL around the
 * failing line (DuckDB and PostgreSQL messages carry `LINE n:`; otherwise the whole statement).
 */
export function sqlError(err: unknown, sql: string, what: string, context: ErrorContext): GamepipeError {
  if (err instanceof GamepipeError) return err.withContext(context);
  const message = (err instanceof Error ? err.message : String(err))
    .split('\n\nLINE ')[0]!
    .replace(/^Failed to extract statements: /, '')
    .trim();
  const lineMatch = /LINE (\d+):/.exec(err instanceof Error ? err.message : '');
  const lines = sql.split('\n');
  const failing = lineMatch ? Number(lineMatch[1]) : undefined;
  const from = failing ? Math.max(1, failing - 3) : 1;
  const to = failing ? Math.min(lines.length, failing + 3) : Math.min(lines.length, 40);
  const width = String(to).length;
  const excerpt = [];
  for (let n = from; n <= to; n++) {
    excerpt.push(`${n === failing ? '>' : ' '} ${String(n).padStart(width)} | ${lines[n - 1]}`);
  }
  if (to < lines.length) excerpt.push(`  ${' '.repeat(width)} | … (${lines.length - to} more lines)`);
  return new GamepipeError(`${what} failed: ${message}`, {
    ...context,
    detail: `rendered SQL${failing ? ` (line ${failing} marked)` : ''}:\n${excerpt.join('\n')}`,
  }, { cause: err });
}
