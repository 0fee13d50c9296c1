import type { Command } from 'commander';
import { GamepipeError } from '../../core/errors.js';
import { writeGenerated, type GenerateStats, type OutputFormat } from '../../events/generator/write.js';
import { generateOptionsOf, type GenerateArgs } from '../options.js';
import { formatCount as n, printLine } from '../output.js';

/** Options as the `gamepipe generate` command parses them (strings are accepted and checked). */
export interface GenerateCommandOptions extends GenerateArgs {
  out: string;
  format: OutputFormat | string;
}


/**
 * Action for `gamepipe generate`: write the data set and print one human summary line.
 * Errors are GamepipeErrors naming the bad option (the CLI prints them and exits ≠ 0).
 */
export async function generateCommandAction(opts: GenerateCommandOptions, print: (line: string) => void = printLine): Promise<GenerateStats> {
  const stats = await writeGenerated({ ...generateOptionsOf(opts), out: opts.out, format: opts.format as OutputFormat });
  print(summaryLine(stats));
  return stats;
}

export function summaryLine(stats: GenerateStats): string {
  const o = stats.manifest.options;
  const t = stats.manifest.totals;
  const dirty = o.dirtyRate > 0 ? `, ${n(t.defectLines)} with defects (dirty ${(o.dirtyRate * 100).toFixed(1)}%)` : '';
  return (
    `generated ${n(stats.events)} events${dirty}: ${o.games} game(s), ${n(o.users)} users, ${o.days} day(s) from ${o.start}, seed ${o.seed}` +
    ` → ${stats.files.length} ${stats.format} file(s) + manifest.json in ${stats.out}` +
    ` in ${stats.seconds.toFixed(2)} s (${n(stats.eventsPerSecond)} events/s)`
  );
}

/** `gamepipe generate`: realistic, deterministic events with optional known defects. */
export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('write realistic, deterministic game events (with --dirty, known defects and a ground-truth manifest)')
    .option('--games <n>', 'games', '1')
    .option('--users <n>', 'players per game', '1000')
    .option('--days <n>', 'days', '7')
    .requiredOption('--start <date>', 'first day (YYYY-MM-DD)')
    .option('--seed <n>', 'random seed: the same seed gives the same events', '1')
    .option('--out <dir>', 'output folder')
    .option('--format <format>', 'ndjson or parquet', 'ndjson')
    .option('--dirty <rate>', 'fraction of events with an injected defect (0 … 0.5)')
    .option('--to <url>', 'kafka://HOST:PORT/TOPIC: produce the events to Kafka (keyed by userId) instead of writing files')
    .option('--rate <n/s>', 'with --to: events per second')
    .action(async (opts: { games: string; users: string; days: string; start: string; seed: string; out?: string; format: string; dirty?: string; to?: string; rate?: string }) => {
      if (opts.to) {
        // Loaded only when needed: the Kafka client takes a moment to import.
        const { generateToKafkaCommandAction } = await import('./streamActions.js');
        await generateToKafkaCommandAction({ ...opts, to: opts.to });
        return;
      }
      if (!opts.out) throw new GamepipeError('generate needs --out <dir> (or --to kafka://…)', { expected: 'an output folder' });
      await generateCommandAction({ ...opts, out: opts.out });
    });
}
