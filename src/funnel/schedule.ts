import { scheduleSchema, type Schedule } from '../config/projectConfig.js';
import { logger } from '../core/logger.js';
import type { RunContext } from '../engine/runJob.js';
import type { Vars } from '../layout/vars.js';
import type { RunScheduled } from '../scheduler/scheduler.js';
import { aggregateLevelFunnel, FUNNEL_PIPELINE_NAME } from './aggregate.js';
import { addDays, checkDate, formatDay } from '../core/dates.js';

/**
 * The daily level-funnel schedule. `gamepipe serve` fires schedules from gamepipe.config.json
 * (with catch-up of missed days); a schedule whose pipeline is `funnel` aggregates the fire's
 * day for every game with level events that day (or the games in its `vars.gameId`), then
 * rebuilds their indexes. Other schedules go to the regular pipeline runner.
 */
export const LEVEL_FUNNEL_SCHEDULE = {
  name: 'level-funnel',
  pipeline: FUNNEL_PIPELINE_NAME,
  cron: '0 2 * * *',
  timezone: 'UTC',
  dateVar: 'logDate',
  dateOffsetDays: -1,
} as const;

/** The day a fire aggregates: its date var, else the day before the fire (UTC). */
export function funnelDayOf(schedule: Schedule, vars: Vars, fireTime: Date): string {
  const given = vars[schedule.dateVar ?? 'logDate'] ?? vars.logDate;
  return checkDate(given ?? addDays(formatDay(fireTime), -1), `schedule ${schedule.name}: ${schedule.dateVar ?? 'logDate'}`);
}

/** Wraps the pipeline runner: `funnel` schedules run the level-funnel aggregation for all games. */
export function levelFunnelRunner(ctx: RunContext, fallback: RunScheduled): RunScheduled {
  return async (schedule, vars, fireTime, reason) => {
    if (schedule.pipeline !== FUNNEL_PIPELINE_NAME) return fallback(schedule, vars, fireTime, reason);
    const day = funnelDayOf(schedule, vars, fireTime);
    const games = vars.gameId ? vars.gameId.split(/[\s,]+/).filter(Boolean) : undefined;
    const result = await aggregateLevelFunnel(ctx, { dates: [day], ...(games ? { games } : {}) });
    logger.info(
      { schedule: schedule.name, day, reason, games: result.games, ok: result.ok, pipelineRunId: result.pipeline?.pipelineRunId },
      'level funnel aggregated',
    );
    return result.ok;
  };
}

/**
 * The schedules `gamepipe serve` fires: the configured ones, plus the daily level-funnel schedule
 * unless the configuration already schedules the `funnel` pipeline (to change its time or games).
 */
export function withLevelFunnelSchedule(schedules: Schedule[]): Schedule[] {
  if (schedules.some((s) => s.pipeline === FUNNEL_PIPELINE_NAME)) return schedules;
  return [...schedules, scheduleSchema.parse(LEVEL_FUNNEL_SCHEDULE)];
}
