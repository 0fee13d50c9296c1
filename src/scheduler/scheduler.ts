import { Cron } from 'croner';
import type { Schedule } from '../config/projectConfig.js';
import { formatError } from '../core/errors.js';
import { logger } from '../core/logger.js';

import type { Vars } from '../layout/vars.js';
import type { ScheduleState } from './scheduleState.js';
import { addDays } from '../core/dates.js';

/**
 * Fires pipelines on cron schedules (croner, UTC unless a schedule says otherwise). Each
 * fire time handled is recorded in schedule_state; on start, the fire times missed since the
 * last one recorded (gamepipe was down) are run oldest first instead of being skipped.
 * A schedule never overlaps itself: a fire time that comes while the previous run is still
 * going waits for it.
 */
export type FireReason = 'schedule' | 'catch-up';

export type RunScheduled = (schedule: Schedule, vars: Vars, fireTime: Date, reason: FireReason) => Promise<boolean>;

/** The date of an instant in a timezone, YYYY-MM-DD. */
function dateIn(at: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** The vars of one fire: the schedule's vars plus its date var (fire date + offset). */
export function varsForFire(schedule: Schedule, fireTime: Date): Vars {
  const vars: Vars = { ...schedule.vars };
  if (schedule.dateVar) vars[schedule.dateVar] = addDays(dateIn(fireTime, schedule.timezone), schedule.dateOffsetDays);
  return vars;
}

/** Fire times after `since` and at or before `now`, oldest first (at most `limit`, the latest ones). */
export function missedFireTimes(schedule: Schedule, since: Date, now: Date, limit = schedule.maxCatchUp): Date[] {
  const cron = new Cron(schedule.cron, { timezone: schedule.timezone, paused: true });
  const times: Date[] = [];
  for (let t = cron.nextRun(since); t && t <= now; t = cron.nextRun(t)) times.push(t);
  cron.stop();
  return times.slice(-limit);
}

export class Scheduler {
  private readonly jobs: Cron[] = [];
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly schedules: Schedule[],
    private readonly state: ScheduleState,
    private readonly run: RunScheduled,
  ) {}

  /** Runs one fire time after any earlier one of the same schedule, then records it. */
  private fire(schedule: Schedule, fireTime: Date, reason: FireReason): Promise<boolean> {
    const previous = this.chains.get(schedule.name) ?? Promise.resolve();
    const next = previous.then(async () => {
      const vars = varsForFire(schedule, fireTime);
      logger.info({ schedule: schedule.name, fireTime, vars, reason }, 'schedule fired');
      let ok = false;
      try {
        ok = await this.run(schedule, vars, fireTime, reason);
      } catch (err) {
        logger.error({ schedule: schedule.name, error: formatError(err) }, 'scheduled run failed');
      }
      // Recorded whatever the outcome: a failed run is in the run log and is resumed with
      // --from-failure; the scheduler does not retry the same fire time forever.
      await this.state.recordFire(schedule.name, fireTime);
      return ok;
    });
    this.chains.set(schedule.name, next.catch(() => undefined));
    return next;
  }

  /** Runs the fire times missed since the last recorded one. Returns what was run. */
  async catchUp(now = new Date()): Promise<{ schedule: string; fireTime: Date; ok: boolean }[]> {
    const done: { schedule: string; fireTime: Date; ok: boolean }[] = [];
    for (const schedule of this.schedules) {
      const last = await this.state.lastFire(schedule.name);
      if (!last) {
        // First start: nothing was missed yet; remember the most recent fire time as handled.
        const [previous] = missedFireTimes(schedule, new Date(now.getTime() - 366 * 86_400_000), now, 1);
        if (previous) await this.state.recordFire(schedule.name, previous);
        continue;
      }
      if (!schedule.catchUp) continue;
      for (const fireTime of missedFireTimes(schedule, last, now)) {
        done.push({ schedule: schedule.name, fireTime, ok: await this.fire(schedule, fireTime, 'catch-up') });
      }
    }
    return done;
  }

  /** Catches up, then fires on every future cron tick until stop(). */
  async start(now = new Date()): Promise<void> {
    await this.catchUp(now);
    for (const schedule of this.schedules) {
      this.jobs.push(
        new Cron(schedule.cron, { timezone: schedule.timezone, name: `gamepipe:${schedule.name}` }, (self: Cron) => {
          const fireTime = self.currentRun() ?? new Date();
          void this.fire(schedule, fireTime, 'schedule');
        }),
      );
    }
  }

  nextRuns(): { schedule: string; next: string | null }[] {
    return this.schedules.map((s, i) => ({ schedule: s.name, next: this.jobs[i]?.nextRun()?.toISOString() ?? null }));
  }

  async stop(): Promise<void> {
    for (const job of this.jobs) job.stop();
    this.jobs.length = 0;
    await Promise.all(this.chains.values());
  }
}
