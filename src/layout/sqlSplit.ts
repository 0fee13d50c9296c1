/**
 * Splits a SQL script into statements on top-level semicolons, skipping those inside
 * quotes, dollar-quoted bodies and comments. Used to run a transform's leading statements
 * and to capture its last SELECT as the job's output.
 */
export function splitSqlStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === "'" || c === '"') {
      i++;
      while (i < n) {
        if (sql[i] === c) {
          if (sql[i + 1] === c) i += 2; // doubled quote escapes itself
          else break;
        } else i++;
      }
      i++;
    } else if (c === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? n : end + tag[0].length;
      } else i++;
    } else if (c === ';') {
      statements.push(sql.slice(start, i));
      start = ++i;
    } else i++;
  }
  statements.push(sql.slice(start));
  return statements.map((s) => s.trim()).filter((s) => stripComments(s).trim() !== '');
}

function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
}

/** True when a statement produces rows (SELECT, WITH … SELECT, VALUES, FROM-first, TABLE, a parenthesised query). */
export function isQuery(statement: string): boolean {
  const head = stripComments(statement).trimStart().toLowerCase();
  return /^(select|with|values|from|table|\()/.test(head);
}
