import { computeQualityReport, formatQualityReport, type QualityReport } from '../../quality/report.js';
import { buildSilverDay, type SilverSummary } from '../../quality/silver.js';
import { formatCount as n, printJson, printLine } from '../output.js';
import { withConnections } from '../options.js';

/** `gamepipe silver --date D [--json]`: rebuild the silver partition of one day. */
export async function silverCommandAction(opts: { date: string; json?: boolean }): Promise<SilverSummary> {
  return withConnections(async ({ paths, connections }) => {
    const summary = await buildSilverDay(opts.date, { paths, connections });
    if (opts.json) {
      const { job, ...rest } = summary;
      printJson({ ...rest, durationMs: job.durationMs });
    } else {
      printLine(
        `✔ silver ${summary.ds}: ${n(summary.rows)} events (valid ${n(summary.valid)}, invalid ${n(summary.invalid)}, ` +
          `duplicates ${n(summary.duplicates)}; ${n(summary.flagged)} valid with a warning) → ${summary.target} ` +
          `in ${(summary.job.durationMs / 1000).toFixed(2)} s`,
      );
    }
    return summary;
  });
}

/** `gamepipe quality --date D [--json]`: compute, store (WAREHOUSE.quality_daily) and print the day's report. */
export async function qualityCommandAction(opts: { date: string; json?: boolean }): Promise<QualityReport> {
  return withConnections(async ({ paths, connections }) => {
    const { report } = await computeQualityReport(opts.date, { paths, connections });
    if (opts.json) printJson(report);
    else printLine(formatQualityReport(report));
    return report;
  });
}
