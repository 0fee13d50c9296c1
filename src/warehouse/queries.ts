import type { PgAdapter } from '../connections/adapter.js';

/**
 * The studio's two example queries (docs/warehouse.md). The first runs as the studio wrote it.
 * The second is rewritten: on a star schema with an SCD2 user dimension, the original's
 * `dim_users ⋈ sessions ⋈ transactions` multiplies each transaction by the user's sessions
 * and versions; aggregating each fact per user first, on the current version, gives the
 * intended numbers.
 */
export const EXAMPLE_QUERIES = [
  {
    title: 'Total games by lobby',
    sql: `SELECT l.lobby_name, COUNT(g.game_id) AS total_games
FROM fact_games g
JOIN dim_lobbies l ON g.lobby_id = l.lobby_id
GROUP BY l.lobby_name
ORDER BY total_games DESC, l.lobby_name`,
  },
  {
    title: 'User activity summary (top 10 by transactions)',
    sql: `SELECT u.username,
       coalesce(s.lobbies_joined, 0) AS lobbies_joined,
       coalesce(t.total_transactions, 0) AS total_transactions
FROM dim_users u
LEFT JOIN (SELECT user_id, COUNT(DISTINCT lobby_id) AS lobbies_joined FROM fact_player_sessions GROUP BY user_id) s ON s.user_id = u.user_id
LEFT JOIN (SELECT user_id, SUM(amount) AS total_transactions FROM fact_transactions GROUP BY user_id) t ON t.user_id = u.user_id
WHERE u.is_current
ORDER BY total_transactions DESC, u.username
LIMIT 10`,
  },
] as const;

/** Runs the example queries and renders each as an aligned text table. */
export async function exampleQueryReport(warehouse: PgAdapter): Promise<string> {
  const parts: string[] = [];
  for (const q of EXAMPLE_QUERIES) {
    const res = await warehouse.withSession((s) => s.query<Record<string, unknown>>(q.sql));
    parts.push(`-- ${q.title}\n${textTable(res.fields.map((f) => f.name), res.rows)}`);
  }
  return parts.join('\n\n');
}

export function textTable(columns: string[], rows: Record<string, unknown>[]): string {
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (/^-?[\d.]+$/.test(v) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join(' | ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n');
}
