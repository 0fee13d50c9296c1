import type { Command } from 'commander';
import { ingestCommandAction } from './ingest.js';
import { qualityCommandAction, silverCommandAction } from './quality.js';

/** The event commands: ingest raw files to bronze, build silver, report quality. */
export function registerEvents(program: Command): void {
  program
    .command('ingest')
    .description('append raw event files (NDJSON) to bronze; malformed lines are quarantined, re-ingesting a file is a no-op')
    .argument('<files...>', 'NDJSON files')
    .option('--source <name>', 'where the events came from (recorded with each row)')
    .option('--file-day <date>', 'delivery day of the files (default: the date in the file name, else today)')
    .option('--json', 'machine-readable output')
    .action(async (files: string[], opts: { source?: string; fileDay?: string; json?: boolean }) => {
      await ingestCommandAction(files, opts);
    });

  program
    .command('silver')
    .description('rebuild the silver events of one day from bronze: typed, normalized, deduplicated, flagged')
    .requiredOption('--date <date>', 'the event day (YYYY-MM-DD)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { date: string; json?: boolean }) => {
      await silverCommandAction(opts);
    });

  program
    .command('quality')
    .description("the day's data-quality report (stored in WAREHOUSE.quality_daily): raw = valid + invalid + duplicates")
    .requiredOption('--date <date>', 'the event day (YYYY-MM-DD)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { date: string; json?: boolean }) => {
      await qualityCommandAction(opts);
    });
}
