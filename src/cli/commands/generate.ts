import type { Command } from 'commander';
import { GamepipeError } from '../../core/errors.js';
import { generateCommandAction } from '../../events/generator/index.js';

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
        const { generateToKafkaCommandAction } = await import('../../stream/index.js');
        await generateToKafkaCommandAction({ ...opts, to: opts.to });
        return;
      }
      if (!opts.out) throw new GamepipeError('generate needs --out <dir> (or --to kafka://…)', { expected: 'an output folder' });
      await generateCommandAction({ ...opts, out: opts.out });
    });

}
