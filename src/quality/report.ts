import { GamepipeError } from '../core/errors.js';
import type { GamepipePaths } from '../core/paths.js';
import { WAREHOUSE, type ConnectionRegistry } from '../connections/registry.js';
import type { JobResult } from '../engine/runJob.js';
import { loadPipeline } from '../pipeline/definition.js';
import { runPipelineJob } from '../pipeline/runPipeline.js';
import { DAILY_PIPELINE_DIR, QUALITY_DAILY_JOB } from './silver.js';
import { checkDate } from '../core/dates.js';
import { eventsDayDir, hasParquet } from '../lake/zones.js';

/**
 * The daily quality report: the layout `pipelines/daily/silver/quality_daily.json` computes it in DuckDB
 * from bronze, silver and quarantine of one day and publishes it to WAREHOUSE.quality_daily
 * (deleteInsert on ds: a re-run replaces the day's row); this module runs that job of the daily
 * pipeline through the pipeline runner (lock, run log, retries) and reads the row back.
 */
export interface QualityReport {
  ds: string;
  /** Bronze rows filed under the day (committed ingestions). */
  raw: number;
  /** Not duplicates, no error rule broken (warnings allowed). */
  valid: number;
  /** Not duplicates, at least one error rule broken. */
  invalid: number;
  /** Later arrivals of an eventId already seen (first arrival wins). */
  duplicates: number;
  /** Valid events with a warning (e.g. unknown event name). */
  flagged: number;
  /** Lines of the day's files (file day) that could not be filed under an event day. */
  quarantined: number;
  /** Valid events of this day that came in a later day's file. */
  lateArrivals: number;
  normalized: { platform: number; countryCode: number; currency: number };
  invalidByRule: Record<string, number>;
  flaggedByRule: Record<string, number>;
  quarantinedByReason: Record<string, number>;
  /** Required fields / properties (`properties.x`) absent, counted over non-duplicate events. */
  missingFields: Record<string, number>;
  reconciliation: { holds: boolean; raw: number; valid: number; invalid: number; duplicates: number };
  computedAt: string;
}

interface QualityRow {
  ds: string;
  raw: string | number;
  valid: string | number;
  invalid: string | number;
  duplicates: string | number;
  flagged: string | number;
  quarantined: string | number;
  late_arrivals: string | number;
  normalized_platform: string | number;
  normalized_country: string | number;
  normalized_currency: string | number;
  invalid_by_rule: unknown;
  flagged_by_rule: unknown;
  quarantined_by_reason: unknown;
  missing_fields: unknown;
  reconciled: boolean;
  computed_at: string;
}

function counts(value: unknown): Record<string, number> {
  const obj = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (typeof obj !== 'object' || obj === null) return {};
  return Object.fromEntries(
    Object.entries(obj as Record<string, unknown>)
      .map(([k, v]) => [k, Number(v)] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

export function reportFromRow(row: QualityRow): QualityReport {
  const raw = Number(row.raw);
  const valid = Number(row.valid);
  const invalid = Number(row.invalid);
  const duplicates = Number(row.duplicates);
  return {
    ds: row.ds,
    raw,
    valid,
    invalid,
    duplicates,
    flagged: Number(row.flagged),
    quarantined: Number(row.quarantined),
    lateArrivals: Number(row.late_arrivals),
    normalized: {
      platform: Number(row.normalized_platform),
      countryCode: Number(row.normalized_country),
      currency: Number(row.normalized_currency),
    },
    invalidByRule: counts(row.invalid_by_rule),
    flaggedByRule: counts(row.flagged_by_rule),
    quarantinedByReason: counts(row.quarantined_by_reason),
    missingFields: counts(row.missing_fields),
    reconciliation: { holds: row.reconciled === true, raw, valid, invalid, duplicates },
    computedAt: row.computed_at,
  };
}

/** The stored report of a day, or undefined when none was computed. */
export async function readQualityReport(connections: ConnectionRegistry, date: string): Promise<QualityReport | undefined> {
  const rows = await connections.get(WAREHOUSE).withSession(async (s) => {
    const exists = await s.query<{ oid: string | null }>(`SELECT to_regclass('quality_daily')::text AS oid`);
    if (!exists.rows[0]?.oid) return [];
    const res = await s.query<QualityRow>(
      `SELECT to_char(ds, 'YYYY-MM-DD') AS ds, raw, valid, invalid, duplicates, flagged, quarantined, late_arrivals,
              normalized_platform, normalized_country, normalized_currency,
              invalid_by_rule, flagged_by_rule, quarantined_by_reason, missing_fields, reconciled,
              to_char(computed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS computed_at
         FROM quality_daily WHERE ds = $1::date`,
      [date],
    );
    return res.rows;
  });
  return rows[0] ? reportFromRow(rows[0]) : undefined;
}

/** Computes the day's report, stores it in WAREHOUSE.quality_daily, and returns it. */
export async function computeQualityReport(
  date: string,
  ctx: { paths: GamepipePaths; connections: ConnectionRegistry; threads?: number },
): Promise<{ report: QualityReport; job: JobResult }> {
  checkDate(date);
  const lake = ctx.paths.lake;
  const silver = eventsDayDir(lake, 'silver', date);
  const bronze = eventsDayDir(lake, 'bronze', date);
  const quarantine = eventsDayDir(lake, 'quarantine', date);
  if (!hasParquet(silver) && hasParquet(bronze)) {
    throw new GamepipeError(`silver events for ${date} are not built`, {
      file: silver,
      expected: `gamepipe silver --date ${date} first`,
    });
  }
  if (!hasParquet(silver) && !hasParquet(quarantine)) {
    throw new GamepipeError(`nothing was ingested for ${date}`, {
      file: bronze,
      expected: 'events of that day ingested (gamepipe ingest FILE…) and silver built (gamepipe silver --date D)',
    });
  }
  const result = await runPipelineJob(loadPipeline(DAILY_PIPELINE_DIR), ctx, QUALITY_DAILY_JOB, { logDate: date });
  const report = await readQualityReport(ctx.connections, date);
  if (!report) throw new GamepipeError(`quality_daily has no row for ${date} after the run`, { job: QUALITY_DAILY_JOB });
  return { report, job: result };
}

const n = (x: number) => x.toLocaleString('en-US');

function table(entries: Record<string, number>): string {
  const shown = Object.entries(entries).filter(([, v]) => v > 0);
  return shown.length ? shown.map(([k, v]) => `${k} ${n(v)}`).join(', ') : 'none';
}

/** The human form of a report. */
export function formatQualityReport(r: QualityReport): string {
  const rec = r.reconciliation;
  return [
    `quality ${r.ds}`,
    `  raw ${n(r.raw)} = valid ${n(r.valid)} + invalid ${n(r.invalid)} + duplicates ${n(r.duplicates)}  ` +
      (rec.holds ? '✔ reconciled' : `✘ NOT reconciled (silver accounts for ${n(rec.valid + rec.invalid + rec.duplicates)}; rebuild silver)`),
    `  invalid by rule: ${table(r.invalidByRule)}`,
    `  flagged (valid, with a warning): ${n(r.flagged)}${r.flagged ? ` — ${table(r.flaggedByRule)}` : ''}`,
    `  quarantined lines (files of this day): ${n(r.quarantined)}${r.quarantined ? ` — ${table(r.quarantinedByReason)}` : ''}`,
    `  late arrivals: ${n(r.lateArrivals)}`,
    `  normalized: platform ${n(r.normalized.platform)}, countryCode ${n(r.normalized.countryCode)}, currency ${n(r.normalized.currency)}`,
    `  missing fields: ${table(r.missingFields)}`,
  ].join('\n');
}
