import type { Command } from 'commander';
import { GamepipeError, formatError } from '../../core/errors.js';
import { resolvePaths } from '../../core/paths.js';
import { validateLayoutFile } from '../../engine/validateLayout.js';
import { parseVarsArg } from '../../layout/vars.js';
import { printJson, printLine } from '../output.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check layout files: format, vars, templates and SQL syntax (touches no data)')
    .argument('<files...>', 'layout JSON files')
    .option('--vars <k=v,...>', 'vars to render with (others get sample values of their type)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--json', 'machine-readable output')
    .action(async (files: string[], opts: { vars?: string[]; json?: boolean }) => {
      const paths = resolvePaths();
      const vars = parseVarsArg(opts.vars);
      const results: { file: string; ok: boolean; job?: string; error?: string }[] = [];
      for (const file of files) {
        try {
          const job = await validateLayoutFile(file, vars, paths);
          results.push({ file, ok: true, job });
        } catch (err) {
          results.push({ file, ok: false, error: formatError(err) });
        }
      }
      if (opts.json) printJson(results);
      else for (const r of results) printLine(r.ok ? `✔ ${r.file} (job ${r.job})` : `✘ ${r.error}`);
      const failed = results.filter((r) => !r.ok).length;
      if (failed) throw new GamepipeError(`${failed} of ${files.length} layout${files.length > 1 ? 's' : ''} invalid`, {}, { cause: 'reported' });
    });
}
