import { DIMENSIONS, FILTER_NAMES, type FunnelFilters, type FunnelPair } from './params.js';
import type { DuckPool } from '../engine/duckdb.js';
import { sqlString } from '../sql/quote.js';

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

/** Texts folded by DuckDB, in order. */
export async function foldTexts(pool: DuckPool, texts: readonly string[]): Promise<string[]> {
  if (texts.length === 0) return [];
  const row = (await pool.rows<Record<string, string>>(`SELECT ${texts.map((v, i) => `${foldSql(sqlString(v))} AS f${i}`).join(', ')}`))[0]!;
  return texts.map((_, i) => row[`f${i}`]!);
}

/** The filters with text values folded by DuckDB (duplicates dropped); integer filters unchanged. */
export async function foldFilters(pool: DuckPool, filters: FunnelFilters): Promise<FunnelFilters> {
  const texts = FILTER_NAMES.filter((name) => !DIMENSIONS[name].integer && filters[name]).flatMap((name) => filters[name]!);
  if (texts.length === 0) return filters;
  const folded = await foldTexts(pool, texts);
  const out: FunnelFilters = {};
  let i = 0;
  for (const name of FILTER_NAMES) {
    const values = filters[name];
    if (!values) continue;
    out[name] = DIMENSIONS[name].integer ? values : [...new Set(values.map(() => folded[i++]!))];
  }
  return out;
}

/** Funnel pairs with their names folded (duplicates dropped). */
export async function foldPairs(pool: DuckPool, pairs: readonly FunnelPair[]): Promise<FunnelPair[]> {
  const names = await foldTexts(pool, pairs.map((p) => p.levelFunnel));
  const out = new Map<string, FunnelPair>();
  pairs.forEach((p, i) => out.set(`${names[i]}\0${p.levelFunnelVersion}`, { levelFunnel: names[i]!, levelFunnelVersion: p.levelFunnelVersion }));
  return [...out.values()];
}
