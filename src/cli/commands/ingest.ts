import type { FileIngestResult, IngestOptions } from '../../ingest/ingest.js';
import { ingestFiles } from '../../ingest/ingest.js';
import { resolvePaths } from '../../core/paths.js';
import { formatCount as n, plural, printJson, printLine } from '../output.js';

export interface IngestCommandOptions {
  source?: string;
  /** Delivery day of the files (default: the date in each file name, else today). */
  fileDay?: string;
  json?: boolean;
}

/** One human line (plus indented details) per file. */
export function formatIngestResult(r: FileIngestResult): string {
  if (r.status === 'skipped') {
    return `↷ ${r.file}: already ingested (same content) as ${r.previous!.ingestionId} from ${r.previous!.file} at ${r.previous!.ingestedAt}; skipped`;
  }
  const seconds = (r.durationMs / 1000).toFixed(2);
  const head =
    `✔ ${r.file}: ${plural(r.lines, 'line')} → ${plural(r.events, 'event')} in bronze` +
    `, ${n(r.quarantined)} quarantined` +
    (r.blankLines ? `, ${plural(r.blankLines, 'blank line')} skipped` : '') +
    ` (ingestion ${r.ingestionId}, file day ${r.fileDay}) in ${seconds} s`;
  const lines = [head];
  if (r.partitions.length) {
    const shown = r.partitions.map((p) => `${p.ds}: ${n(p.events)}`);
    lines.push(`    partitions: ${shown.length > 8 ? [...shown.slice(0, 8), `… ${shown.length - 8} more`].join(', ') : shown.join(', ')}`);
  }
  if (r.quarantined) {
    lines.push(`    quarantined: ${Object.entries(r.quarantinedByReason).map(([k, v]) => `${k} ${n(v)}`).join(', ')}`);
  }
  if (r.framing === 'js') lines.push('    (lines framed in JS first: the file has carriage returns, control bytes or invalid UTF-8)');
  return lines.join('\n');
}

/**
 * `gamepipe ingest FILES… [--source NAME] [--json]`. Prints one summary per file (or the results
 * as JSON) and returns them. Bad input throws a GamepipeError naming the file.
 */
export async function ingestCommandAction(files: string[], opts: IngestCommandOptions = {}): Promise<FileIngestResult[]> {
  const options: IngestOptions = {};
  if (opts.source !== undefined) options.source = opts.source;
  if (opts.fileDay !== undefined) options.fileDay = opts.fileDay;
  const results = await ingestFiles(files, resolvePaths(), options);
  if (opts.json) printJson(results);
  else for (const r of results) printLine(formatIngestResult(r));
  return results;
}
