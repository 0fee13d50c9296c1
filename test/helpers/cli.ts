import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '../..');
/** tsx's ESM loader, by path: the CLI runs with the test's temp folder as its working directory. */
const tsxLoader = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the gamepipe CLI from source (as `npx gamepipe` would run the built one). */
export function gamepipe(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): CliResult {
  const result = spawnSync(process.execPath, ['--import', tsxLoader, path.join(root, 'src/cli/main.ts'), ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, GAMEPIPE_LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
