/**
 * Column types across the DuckDB ↔ PostgreSQL boundary. Data crosses as CSV (COPY on both
 * sides), so each side is told the other's column types explicitly instead of sniffing.
 */

/** PostgreSQL type OID → DuckDB type for a column read from a jdbc source. */
export function duckTypeForPgOid(oid: number): string {
  switch (oid) {
    case 16: return 'BOOLEAN';
    case 20: return 'BIGINT';
    case 21: return 'SMALLINT';
    case 23: return 'INTEGER';
    case 26: return 'BIGINT';
    case 700: return 'FLOAT';
    case 701: return 'DOUBLE';
    // numeric without a declared scale: wide decimal keeps money exact
    case 1700: return 'DECIMAL(38,10)';
    case 1082: return 'DATE';
    case 1114: return 'TIMESTAMP';
    case 1184: return 'TIMESTAMPTZ';
    case 1083: return 'TIME';
    case 2950: return 'UUID';
    case 114:
    case 3802: return 'JSON';
    default: return 'VARCHAR'; // text, varchar, char, name, arrays, intervals, …: text is lossless
  }
}

const NESTED = /(\[\]$|^STRUCT|^MAP|^UNION|\[\d+\]$)/;

/** True for DuckDB types that PostgreSQL receives as jsonb (lists, structs, maps). */
export function isNestedDuckType(type: string): boolean {
  return NESTED.test(type);
}

/** DuckDB type → PostgreSQL column type when gamepipe creates a table from a result schema. */
export function pgTypeForDuckType(type: string): string {
  if (isNestedDuckType(type) || type === 'JSON') return 'jsonb';
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) return `numeric(${decimal[1]},${decimal[2]})`;
  switch (type) {
    case 'BOOLEAN': return 'boolean';
    case 'TINYINT':
    case 'SMALLINT':
    case 'UTINYINT': return 'smallint';
    case 'INTEGER':
    case 'USMALLINT': return 'integer';
    case 'BIGINT':
    case 'UINTEGER': return 'bigint';
    case 'HUGEINT':
    case 'UBIGINT':
    case 'UHUGEINT': return 'numeric';
    case 'FLOAT': return 'real';
    case 'DOUBLE': return 'double precision';
    case 'DATE': return 'date';
    case 'TIMESTAMP':
    case 'TIMESTAMP_S':
    case 'TIMESTAMP_MS':
    case 'TIMESTAMP_NS': return 'timestamp';
    case 'TIMESTAMP WITH TIME ZONE': return 'timestamptz';
    case 'TIME': return 'time';
    case 'INTERVAL': return 'interval';
    case 'UUID': return 'uuid';
    case 'BLOB': return 'bytea';
    default: return 'text';
  }
}

/** The expression that exports a DuckDB column to PostgreSQL-readable CSV text. */
export function csvExportExpression(column: string, type: string): string {
  if (isNestedDuckType(type)) return `to_json(${column})`;
  if (type === 'BLOB') return `'\\x' || hex(${column})`;
  return column;
}
