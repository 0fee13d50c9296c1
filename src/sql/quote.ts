/**
 * SQL quoting, for DuckDB and PostgreSQL alike (both follow the standard: a quote inside a
 * literal or an identifier is doubled). Every SQL text gamepipe builds quotes through these.
 */

/** `'it''s'`: a string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `('a', 'b', …)`: string literals for an IN list. */
export function sqlStringList(values: readonly string[]): string {
  return `(${values.map(sqlString).join(', ')})`;
}

/** `"name"`: one identifier, always quoted (a dot is part of the name). */
export function sqlIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"name"`, or `"schema"."table"` for a dotted name. */
export function sqlQualifiedIdent(name: string): string {
  return name.split('.').map(sqlIdent).join('.');
}
