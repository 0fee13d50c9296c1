import { loadPipeline, type PipelineDefinition } from '../../../src/pipeline/definition.js';
import { runPipeline, type PipelineRunResult } from '../../../src/pipeline/runPipeline.js';
import type { Workspace } from '../../helpers/workspace.js';

/** The shipped daily pipeline (pipelines/daily). */
export function dailyPipeline(): PipelineDefinition {
  return loadPipeline('pipelines/daily');
}

/** Every job but silver_events: fixtures write silver directly, so nothing rebuilds it from bronze. */
export function goldJobs(def: PipelineDefinition): string[] {
  return def.layouts.map((l) => l.layout.name).filter((n) => n !== 'silver_events');
}

/** The serving tables of the daily pipeline in WAREHOUSE. */
export const DAILY_TABLES = [
  'active_users',
  'recharge',
  'cumulative_revenue',
  'user_firsts',
  'kpi_daily',
  'server_performance',
  'daily_users_by_country_platform',
  'item_flow',
  'currency_flow',
  'guild_membership',
  'farmer_detections',
  'farmers_snapshot',
  'farmers_performance',
  'retention_cohorts',
  'shop_daily',
  'offer_performance',
  'shop_funnel',
  'hourly_patterns',
  'currency_rates',
  'vip_tiers',
] as const;

/** Runs the gold jobs of the daily pipeline for the days (one backfill), failing loudly. */
export async function runDaily(ws: Workspace, days: string[], extraVars: Record<string, string> = {}): Promise<PipelineRunResult> {
  const def = dailyPipeline();
  const result = await runPipeline(def, { paths: ws.paths, connections: ws.connections }, {
    varSets: days.map((logDate) => ({ logDate, ...extraVars })),
    only: goldJobs(def),
  });
  if (!result.ok) {
    const failed = result.tasks.filter((t) => t.status === 'failed').map((t) => `${t.vars.logDate} ${t.job}: ${t.error}`);
    throw new Error(`daily pipeline failed:\n${failed.join('\n')}`);
  }
  return result;
}

/** Every row of every daily table as text (row → text in PostgreSQL), sorted: for identity checks. */
export async function snapshotTables(ws: Workspace): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of DAILY_TABLES) {
    const rows = await ws.query<{ r: string }>(`SELECT t::text AS r FROM ${table} t ORDER BY 1`);
    out[table] = rows.map((r) => r.r);
  }
  return out;
}

/** Rows of one partition of each ds-partitioned table, as text, keyed `table@ds`. */
export async function partitions(ws: Workspace, days: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const table of DAILY_TABLES) {
    const hasDs = await ws.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = '${table}' AND column_name = 'ds' AND table_schema = current_schema()`,
    );
    if (hasDs[0]!.n === 0) {
      const rows = await ws.query<{ r: string }>(`SELECT t::text AS r FROM ${table} t ORDER BY 1`);
      out.set(`${table}@snapshot`, rows.map((r) => r.r));
      continue;
    }
    for (const day of days) {
      const rows = await ws.query<{ r: string }>(`SELECT t::text AS r FROM ${table} t WHERE ds = '${day}' ORDER BY 1`);
      out.set(`${table}@${day}`, rows.map((r) => r.r));
    }
  }
  return out;
}

/**
 * Rows of a query with every value as text (NULL stays null), so expectations read the same on
 * PGlite and a PostgreSQL server: numerics keep their scale ('2.900000'), dates are YYYY-MM-DD.
 */
export async function textRows(ws: Workspace, table: string, columns: string[], where = 'true'): Promise<Array<Array<string | null>>> {
  const select = columns.map((c, i) => `${c}::text AS c${i}`).join(', ');
  const order = columns.map((_, i) => `${i + 1}`).join(', ');
  const rows = await ws.query<Record<string, string | null>>(`SELECT ${select} FROM ${table} WHERE ${where} ORDER BY ${order}`);
  return rows.map((r) => columns.map((_, i) => r[`c${i}`] ?? null));
}
