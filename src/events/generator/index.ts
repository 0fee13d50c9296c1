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
