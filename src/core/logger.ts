import { pino } from 'pino';

/**
 * Structured logs go to stderr (stdout is for the command's own output, human or --json).
 * GAMEPIPE_LOG_LEVEL sets the level; the default keeps the CLI quiet.
 */
export const logger = pino(
  { name: 'gamepipe', level: process.env.GAMEPIPE_LOG_LEVEL ?? 'warn' },
  pino.destination(2),
);
