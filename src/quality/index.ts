import { resolvePaths } from '../core/paths.js';
import { ConnectionRegistry } from '../connections/registry.js';
import { computeQualityReport, formatQualityReport, type QualityReport } from './report.js';
import { buildSilverDay, type SilverSummary } from './silver.js';

/** Data quality: the rules, bronze → silver, and the daily report (see docs/quality.md). */
export {
  QUALITY_RULES,
  RULE_NAMES,
  ERROR_RULES,
  WARNING_RULES,
  checkEvent,
  ruleByName,
  type QualityRule,
  type RuleInput,
  type RuleSeverity,
  type EventVerdict,
} from './rules.js';
export { typeEvent, ENVELOPE_COLUMNS, PROPERTY_COLUMNS, type TypedEvent, type RawEvent } from './columns.js';
export { buildSilverDay, SILVER_EVENTS_LAYOUT, QUALITY_DAILY_LAYOUT, type SilverSummary } from './silver.js';
export { computeQualityReport, readQualityReport, formatQualityReport, type QualityReport } from './report.js';

const n = (x: number) => x.toLocaleString('en-US');

/** `gamepipe silver --date D [--json]`: rebuild the silver partition of one day. */
export async function silverCommandAction(opts: { date: string; json?: boolean }): Promise<SilverSummary> {
  const paths = resolvePaths();
  const connections = new ConnectionRegistry(paths);
  try {
    const summary = await buildSilverDay(opts.date, { paths, connections });
    if (opts.json) {
      const { job, ...rest } = summary;
      process.stdout.write(JSON.stringify({ ...rest, durationMs: job.durationMs }, null, 2) + '\n');
    } else {
      process.stdout.write(
        `✔ silver ${summary.ds}: ${n(summary.rows)} events (valid ${n(summary.valid)}, invalid ${n(summary.invalid)}, ` +
          `duplicates ${n(summary.duplicates)}; ${n(summary.flagged)} valid with a warning) → ${summary.target} ` +
          `in ${(summary.job.durationMs / 1000).toFixed(2)} s\n`,
      );
    }
    return summary;
  } finally {
    await connections.closeAll();
  }
}

/** `gamepipe quality --date D [--json]`: compute, store (WAREHOUSE.quality_daily) and print the day's report. */
export async function qualityCommandAction(opts: { date: string; json?: boolean }): Promise<QualityReport> {
  const paths = resolvePaths();
  const connections = new ConnectionRegistry(paths);
  try {
    const { report } = await computeQualityReport(opts.date, { paths, connections });
    process.stdout.write((opts.json ? JSON.stringify(report, null, 2) : formatQualityReport(report)) + '\n');
    return report;
  } finally {
    await connections.closeAll();
  }
}
