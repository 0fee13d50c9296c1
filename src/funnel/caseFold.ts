import { sqlString } from '../engine/duckdb.js';
import type { DuckPool } from './duckPool.js';
import { DIMENSIONS, FILTER_NAMES, type FunnelFilters } from './params.js';

/**
 * The one case fold of the level funnel: DuckDB's lower(). Text filters match ignoring case, and
 * two engines do not fold alike — JavaScript's toLowerCase() turns İ into "i̇" (i + a combining
 * dot) and a final Σ into "ς", DuckDB's lower() into "i" and "σ" — so every side of a comparison
 * is folded by this one SQL function: the asked values (foldFilters), the silver columns (raw
 * path), the index's stored values (fast path) and the index's change bits (its template).
 */
export function foldSql(expr: string): string {
  return `lower(${expr})`;
}

/** The filters with text values folded by DuckDB (duplicates dropped); integer filters unchanged. */
export async function foldFilters(pool: DuckPool, filters: FunnelFilters): Promise<FunnelFilters> {
  const texts = FILTER_NAMES.filter((name) => !DIMENSIONS[name].integer && filters[name]).flatMap((name) => filters[name]!);
  if (texts.length === 0) return filters;
  const row = (await pool.rows<Record<string, string>>(`SELECT ${texts.map((v, i) => `${foldSql(sqlString(v))} AS f${i}`).join(', ')}`))[0]!;
  const out: FunnelFilters = {};
  let i = 0;
  for (const name of FILTER_NAMES) {
    const values = filters[name];
    if (!values) continue;
    out[name] = DIMENSIONS[name].integer ? values : [...new Set(values.map(() => row[`f${i++}`]!))];
  }
  return out;
}
