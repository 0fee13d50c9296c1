import fs from 'node:fs';
import path from 'node:path';
import { addDays } from '../../src/core/dates.js';

/**
 * A miniature of the studios' daily pipeline (7 ETL jobs → 1 STD job → 4 CONS jobs), with raw
 * events for a range of days. Nothing in it says which job runs first: the graph is inferred
 * from paths and tables. `cumulative_revenue` reads its own table (yesterday's state).
 */
const ETL: Record<string, string> = {
  etl_login: 'login',
  etl_logout: 'logout',
  etl_recharge: 'purchase',
  etl_item_gain: 'item_gain',
  etl_item_spend: 'item_spend',
  etl_money_gain: 'currency_gain',
  etl_money_spend: 'currency_spend',
};

export const STUDIO_JOBS = [...Object.keys(ETL), 'std_active', 'cons_active_users', 'cons_revenue', 'cons_cumulative_revenue', 'cons_server_performance'];

function write(file: string, body: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(body, null, 2));
}

export function writeStudioPipeline(dir: string, rawDir: string): string {
  const p = path.join(dir, 'pipelines', 'studio');
  for (const [name, event] of Object.entries(ETL)) {
    write(path.join(p, 'etl', `${name}.json`), {
      name,
      layer: 'etl',
      inputSources: [{ name: 'raw', type: 'file', path: `${rawDir}/ds={logDate}`, format: 'ndjson' }],
      transformSql: `SELECT CAST(ds AS DATE) AS ds, user_id, server_id, level, amount FROM raw WHERE event = '${event}'`,
      output: { type: 'file', path: `{lake}/etl/${name.slice(4)}`, mode: 'overwritePartitions', partitionBy: ['ds'] },
    });
  }
  write(path.join(p, 'std', 'std_active.json'), {
    name: 'std_active',
    layer: 'std',
    inputSources: Object.keys(ETL).map((name) => ({
      name: name.slice(4), type: 'file', path: `{lake}/etl/${name.slice(4)}/ds={logDate}`, format: 'parquet',
    })),
    transformSql: `SELECT ds, user_id, any_value(server_id) AS server_id, max(level) AS max_level FROM (
      ${Object.keys(ETL).map((n) => `SELECT ds, user_id, server_id, level FROM ${n.slice(4)}`).join(' UNION ALL ')}
    ) GROUP BY ds, user_id`,
    output: { type: 'file', path: '{lake}/std/active', mode: 'overwritePartitions', partitionBy: ['ds'] },
  });
  write(path.join(p, 'cons', 'cons_active_users.json'), {
    name: 'cons_active_users',
    layer: 'cons',
    inputSources: [{ name: 'active', type: 'file', path: '{lake}/std/active/ds={logDate}', format: 'parquet' }],
    transformSql: 'SELECT ds, user_id, server_id, max_level FROM active',
    output: { type: 'jdbc', connection: 'WAREHOUSE', table: 'active_users', mode: 'deleteInsert', partition: { ds: '{logDate}' } },
  });
  write(path.join(p, 'cons', 'cons_revenue.json'), {
    name: 'cons_revenue',
    layer: 'cons',
    inputSources: [{ name: 'recharge', type: 'file', path: '{lake}/etl/recharge/ds={logDate}', format: 'parquet' }],
    transformSql: 'SELECT ds, user_id, server_id, CAST(sum(amount) AS DECIMAL(14,2)) AS revenue FROM recharge GROUP BY ALL',
    output: { type: 'jdbc', connection: 'WAREHOUSE', table: 'revenue', mode: 'deleteInsert', partition: { ds: '{logDate}' } },
  });
  write(path.join(p, 'cons', 'cons_cumulative_revenue.json'), {
    name: 'cons_cumulative_revenue',
    layer: 'cons',
    inputSources: [
      { name: 'recharge', type: 'file', path: '{lake}/etl/recharge/ds={logDate}', format: 'parquet' },
      {
        name: 'previous', type: 'jdbc', connection: 'WAREHOUSE', required: false,
        columns: { user_id: 'VARCHAR', total_revenue: 'DECIMAL(14,2)' },
        query: "SELECT DISTINCT ON (user_id) user_id, total_revenue FROM cumulative_revenue WHERE ds < '{logDate}' ORDER BY user_id, ds DESC",
      },
    ],
    transformSql: `SELECT DATE '{logDate}' AS ds, user_id,
      CAST(coalesce(p.total_revenue, 0) + coalesce(t.revenue, 0) AS DECIMAL(14,2)) AS total_revenue
      FROM previous p FULL JOIN (SELECT user_id, sum(amount) AS revenue FROM recharge GROUP BY user_id) t USING (user_id)`,
    output: { type: 'jdbc', connection: 'WAREHOUSE', table: 'cumulative_revenue', mode: 'deleteInsert', partition: { ds: '{logDate}' } },
  });
  write(path.join(p, 'cons', 'cons_server_performance.json'), {
    name: 'cons_server_performance',
    layer: 'cons',
    inputSources: [
      { name: 'active', type: 'jdbc', connection: 'WAREHOUSE', query: "SELECT server_id, user_id FROM active_users WHERE ds = '{logDate}'" },
      { name: 'rev', type: 'jdbc', connection: 'WAREHOUSE', query: "SELECT server_id, revenue FROM revenue WHERE ds = '{logDate}'" },
    ],
    transformSql: `SELECT DATE '{logDate}' AS ds, a.server_id, count(DISTINCT a.user_id) AS dau,
      CAST(coalesce((SELECT sum(revenue) FROM rev WHERE rev.server_id = a.server_id), 0) AS DECIMAL(14,2)) AS revenue
      FROM active a GROUP BY a.server_id`,
    output: { type: 'jdbc', connection: 'WAREHOUSE', table: 'server_performance', mode: 'deleteInsert', partition: { ds: '{logDate}' } },
  });
  return p;
}

/** Deterministic raw events for `days` days from `start`: logins, purchases, item and money flows. */
export function writeStudioEvents(rawDir: string, start: string, days: number, users = 40): void {
  const events = Object.values(ETL);
  for (let d = 0; d < days; d++) {
    const day = addDays(start, d);
    const lines: string[] = [];
    for (let u = 0; u < users; u++) {
      if ((u * 7 + d * 3) % 5 === 0) continue; // not everyone plays every day
      for (let k = 0; k < 1 + ((u + d) % 4); k++) {
        const event = events[(u + k + d) % events.length]!;
        lines.push(JSON.stringify({
          event, user_id: `u${u}`, server_id: `s${u % 3}`, level: 1 + ((u + d) % 20),
          amount: event === 'purchase' ? ((u % 5) + 1) * 0.99 : (u % 7) + k,
        }));
      }
    }
    const file = path.join(rawDir, `ds=${day}`, 'events.ndjson');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, lines.join('\n') + '\n');
  }
}
