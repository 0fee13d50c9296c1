import { describe, expect, it } from 'vitest';
import { isQuery, splitSqlStatements } from '../../src/layout/sqlSplit.js';

describe('splitSqlStatements', () => {
  it('splits on top-level semicolons only', () => {
    const sql = `CREATE TEMP TABLE a AS SELECT 'x;y' AS s; -- a comment; with semicolon
      /* block; comment */ SELECT "we;ird" FROM a;
      SELECT $$dollar;quoted$$ AS d;`;
    const statements = splitSqlStatements(sql);
    expect(statements).toHaveLength(3);
    expect(statements[0]).toBe("CREATE TEMP TABLE a AS SELECT 'x;y' AS s");
    expect(statements[2]).toBe('SELECT $$dollar;quoted$$ AS d');
  });

  it('handles doubled quotes and drops empty statements', () => {
    expect(splitSqlStatements("SELECT 'it''s; fine';;  ; -- only a comment")).toEqual(["SELECT 'it''s; fine'"]);
  });

  it('recognises queries', () => {
    expect(isQuery('-- c\nWITH x AS (SELECT 1) SELECT * FROM x')).toBe(true);
    expect(isQuery('FROM t SELECT a')).toBe(true);
    expect(isQuery('CREATE TABLE t AS SELECT 1')).toBe(false);
  });
});
