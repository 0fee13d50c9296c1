#!/usr/bin/env node
import { Command } from 'commander';
import { formatError, GamepipeError } from '../core/errors.js';
import { registerCollect } from './commands/collect.js';
import { registerEvents } from './commands/events.js';
import { registerFunnel } from './commands/funnel.js';
import { registerKey } from './commands/key.js';
import { registerGenerate } from './commands/generate.js';
import { registerPipeline } from './commands/pipeline.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerServe } from './commands/serve.js';
import { registerStream } from './commands/stream.js';
import { registerToken } from './commands/token.js';
import { registerValidate } from './commands/validate.js';
import { registerWarehouse } from './commands/warehouse.js';

// `gamepipe … | head` closes stdout early: stop writing quietly instead of crashing mid-run.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

const program = new Command()
  .name('gamepipe')
  .description('Game telemetry → trusted KPIs: declarative layouts on DuckDB, serving tables in PostgreSQL')
  .version('0.1.0')
  .showHelpAfterError();

registerRun(program);
registerValidate(program);
registerPipeline(program);
registerGenerate(program);
registerEvents(program);
registerFunnel(program);
registerRuns(program);
registerServe(program);
registerStream(program);
registerToken(program);
registerKey(program);
registerCollect(program);
registerWarehouse(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // `validate` already printed each file's problem; the summary error only sets the exit code.
  const reported = err instanceof GamepipeError && err.cause === 'reported';
  process.stderr.write(`gamepipe: ${reported ? (err as Error).message : formatError(err)}\n`);
  process.exitCode = 1;
}
