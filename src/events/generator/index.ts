import { writeGenerated, type GenerateStats, type OutputFormat } from './write.js';

/**
 * Synthetic game telemetry: a realistic, deterministic event generator with optional
 * defect injection and a ground-truth manifest. See docs/events.md.
 */
export { generateEvents } from './generate.js';
export { writeGenerated, MANIFEST_FILE, type GenerateStats, type OutputFormat, type WriteGeneratedOptions } from './write.js';
export { normalizeOptions, DEFAULT_BATCH_SIZE, type GenerateOptions, type NormalizedOptions } from './options.js';
export { eventIdAt, propertiesAt, readRow, rowToEvent, EV, UNKNOWN_COUNTRIES, UNKNOWN_EVENT_NAMES, PLATFORM_VARIANTS } from './batch.js';
export { NdjsonEncoder } from './encode.js';
export type { Dictionaries, EventBatch, EventRow } from './batch.js';
export { DEFECT, DEFECT_KINDS, DEFECT_NAMES, MISSING_FIELD_CHOICES, type DefectKind, type DefectCategory } from './dirty.js';
export type { DayReport, DayTruth, GenerationSummary, Manifest } from './manifest.js';
export { readParquetEvents } from './parquet/read.js';
export type { ParquetCompression } from './parquet/nativeWriter.js';

/** Options as the `gamepipe generate` command parses them (strings are accepted and checked). */
export interface GenerateCommandOptions {
  games: number | string;
  users: number | string;
  days: number | string;
  start: string;
  seed: number | string;
  out: string;
  format: OutputFormat | string;
  /** Dirty rate: fraction of events with an injected defect (0 … 0.5). */
  dirty?: number | string;
}

const numberOf = (v: number | string): number => (typeof v === 'number' ? v : v.trim() === '' ? Number.NaN : Number(v));

/**
 * Action for `gamepipe generate`: write the data set and print one human summary line.
 * Errors are GamepipeErrors naming the bad option (the CLI prints them and exits ≠ 0).
 */
export async function generateCommandAction(
  opts: GenerateCommandOptions,
  print: (line: string) => void = (line) => process.stdout.write(line + '\n'),
): Promise<GenerateStats> {
  const stats = await writeGenerated({
    games: numberOf(opts.games),
    users: numberOf(opts.users),
    days: numberOf(opts.days),
    start: opts.start,
    seed: numberOf(opts.seed),
    dirtyRate: opts.dirty === undefined ? 0 : numberOf(opts.dirty),
    out: opts.out,
    format: opts.format as OutputFormat,
  });
  print(summaryLine(stats));
  return stats;
}

export function summaryLine(stats: GenerateStats): string {
  const o = stats.manifest.options;
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const t = stats.manifest.totals;
  const dirty = o.dirtyRate > 0 ? `, ${n(t.defectLines)} with defects (dirty ${(o.dirtyRate * 100).toFixed(1)}%)` : '';
  return (
    `generated ${n(stats.events)} events${dirty}: ${o.games} game(s), ${n(o.users)} users, ${o.days} day(s) from ${o.start}, seed ${o.seed}` +
    ` → ${stats.files.length} ${stats.format} file(s) + manifest.json in ${stats.out}` +
    ` in ${stats.seconds.toFixed(2)} s (${n(stats.eventsPerSecond)} events/s)`
  );
}
