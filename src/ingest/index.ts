/** NDJSON files → bronze (see ingest.ts, docs/quality.md). */
export {
  ingestFiles,
  fileDayOf,
  checkSourceName,
  QUARANTINE_REASONS,
  type FileIngestResult,
  type IngestOptions,
  type PartitionCount,
  type QuarantineReason,
} from './ingest.js';
export { IngestionLedger, type IngestionRecord } from './ledger.js';
export { scanFile, type FileScan } from './scan.js';
