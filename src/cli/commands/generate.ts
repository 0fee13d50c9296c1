import type { Command } from 'commander';
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
    .requiredOption('--out <dir>', 'output folder')
    .option('--format <format>', 'ndjson or parquet', 'ndjson')
    .option('--dirty <rate>', 'fraction of events with an injected defect (0 … 0.5)')
    .action(async (opts: { games: string; users: string; days: string; start: string; seed: string; out: string; format: string; dirty?: string }) => {
      await generateCommandAction(opts);
    });

}
