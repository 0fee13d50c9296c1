/**
 * `gamepipe funnel …` as its own program, the way src/cli/main.ts runs commands (errors on
 * stderr, exit code 1), so the command is tested end to end before and after it is wired into
 * main.ts.
 */
import { Command } from 'commander';
import { formatError } from '../../../src/core/errors.js';
import { registerFunnel } from '../../../src/cli/commands/funnel.js';

const program = new Command().name('gamepipe').showHelpAfterError();
registerFunnel(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`gamepipe: ${formatError(err)}\n`);
  process.exitCode = 1;
}
