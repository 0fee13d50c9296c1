/**
 * The small adapter gamepipe needs from PostgreSQL, whichever one it is (a server through
 * `pg`, or the embedded PGlite): queries, bulk CSV in and out, and transactions. The bulk
 * paths differ inside each adapter (COPY FROM STDIN vs PGlite's /dev/blob), callers don't.
 */
export interface PgField {
  name: string;
  /** PostgreSQL type OID. */
  dataTypeID: number;
}

export interface PgResult<Row = Record<string, unknown>> {
  rows: Row[];
  fields: PgField[];
  rowCount: number;
}

export interface PgSession {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<PgResult<Row>>;
  /** COPY `table (columns)` FROM a CSV file (no header, PostgreSQL CSV NULL conventions). Returns rows copied. */
  copyInCsv(table: string, columns: string[], csvFile: string): Promise<number>;
  /** Writes the rows of `sql` to a CSV file (no header). Returns rows written. */
  copyOutCsv(sql: string, csvFile: string): Promise<number>;
}

export interface PgAdapter {
  readonly connectionName: string;
  readonly kind: 'server' | 'embedded';
  /** Runs `fn` on one session (one connection) outside a transaction. */
  withSession<T>(fn: (session: PgSession) => Promise<T>): Promise<T>;
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (session: PgSession) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` while holding an exclusive lock named `key`, waiting for it if another holder
   * (in this or another process) has it: a PostgreSQL session advisory lock on a server.
   */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

