import { z } from 'zod';

/**
 * Data checks declared in a layout (`"checks": [...]`). They run on the job's result inside
 * DuckDB after the transform and before the output is written: a failing `error` check means
 * nothing is written; a failing `warn` check is only reported. Objects are strict, like the
 * rest of the layout format, so a misspelled key is an error that names it.
 */
const relationName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a source name of the layout (letters, digits and _)');
const column = z.string().min(1);
const sql = z.string().trim().min(1);

/** Keys every check has. */
const common = {
  /** Shown in logs and errors; derived when absent (`not_null(user_id)`, `reconcile[2]`). */
  name: z.string().min(1).optional(),
  /** `error` (default): a failure stops the job before the write. `warn`: reported only. */
  level: z.enum(['error', 'warn']).default('error'),
  description: z.string().optional(),
};

const rowCount = z
  .strictObject({
    ...common,
    type: z.literal('rowCount'),
    min: z.number().int().nonnegative().default(1),
    max: z.number().int().nonnegative().optional(),
  })
  .refine((c) => c.max === undefined || c.max >= c.min, { message: 'max at least min', path: ['max'] });

const notNull = z.strictObject({
  ...common,
  type: z.literal('notNull'),
  columns: z.array(column).min(1),
});

const unique = z.strictObject({
  ...common,
  type: z.literal('unique'),
  /** The combination of these columns is unique (NULLs compare equal). */
  columns: z.array(column).min(1),
});

const acceptedValues = z.strictObject({
  ...common,
  type: z.literal('acceptedValues'),
  column,
  /** Values are cast to the column's type; NULL is accepted (add a notNull check to refuse it). */
  values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
});

const relationships = z.strictObject({
  ...common,
  type: z.literal('relationships'),
  column,
  /** A source of the layout (or a table the transform created). */
  to: relationName,
  field: column,
});

const reconcile = z.strictObject({
  ...common,
  type: z.literal('reconcile'),
  /** Scalar queries (one row, one column); `$output` is the job's result. */
  left: sql,
  right: sql,
  /** Largest accepted absolute difference; 0 (default) means IS NOT DISTINCT FROM, any type. */
  tolerance: z.number().nonnegative().default(0),
});

const expression = z.strictObject({
  ...common,
  type: z.literal('expression'),
  /** A query returning the offending rows; the check fails when it returns any. */
  sql,
});

export const checkSchema = z.discriminatedUnion('type', [rowCount, notNull, unique, acceptedValues, relationships, reconcile, expression]);

/** A check as parsed (defaults filled in). */
export type Check = z.infer<typeof checkSchema>;
/** A check as written in the layout. */
export type CheckInput = z.input<typeof checkSchema>;
export type CheckType = Check['type'];
export type CheckLevel = Check['level'];

/** The check's `name`, or one derived from its type and columns; `index` is its place in `checks`. */
export function checkName(check: Check, index: number): string {
  if (check.name !== undefined) return check.name;
  switch (check.type) {
    case 'rowCount':
      return check.max === undefined ? `row_count(>=${check.min})` : `row_count(${check.min}..${check.max})`;
    case 'notNull':
      return `not_null(${check.columns.join(', ')})`;
    case 'unique':
      return `unique(${check.columns.join(', ')})`;
    case 'acceptedValues':
      return `accepted_values(${check.column})`;
    case 'relationships':
      return `relationships(${check.column} -> ${check.to}.${check.field})`;
    case 'reconcile':
      return `reconcile[${index}]`;
    case 'expression':
      return `expression[${index}]`;
  }
}
