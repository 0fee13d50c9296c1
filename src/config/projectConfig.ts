import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { GamepipeError } from '../core/errors.js';

/**
 * Optional project config, `gamepipe.config.json` in the working directory (or the file
 * GAMEPIPE_CONFIG names). It declares connections (a URL, or none for the embedded
 * PostgreSQL); environment variables GAMEPIPE_CONN_<NAME> override it.
 */
const configSchema = z.strictObject({
  $schema: z.string().optional(),
  connections: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
      z.strictObject({ url: z.string().optional(), description: z.string().optional() }),
    )
    .default({}),
});

export type ProjectConfig = z.infer<typeof configSchema>;

export function loadProjectConfig(env: NodeJS.ProcessEnv = process.env): ProjectConfig {
  const file = path.resolve(env.GAMEPIPE_CONFIG ?? 'gamepipe.config.json');
  if (!fs.existsSync(file)) {
    if (env.GAMEPIPE_CONFIG) throw new GamepipeError('config file not found', { file, expected: 'a gamepipe.config.json file' });
    return { connections: {} };
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new GamepipeError(`not valid JSON: ${(err as Error).message}`, { file });
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new GamepipeError(issue.message, { file, jsonPath: '$.' + issue.path.join('.') });
  }
  return parsed.data;
}
