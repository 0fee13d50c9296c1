import type { PgAdapter } from '../connections/adapter.js';

/** `schedule_state` in WAREHOUSE: the last fire time handled per schedule, so downtime is caught up. */
export class ScheduleState {
  private ready: Promise<void> | undefined;

  constructor(private readonly adapter: PgAdapter) {}

  private ensureTable(): Promise<void> {
    this.ready ??= this.adapter.withSession(async (s) => {
      await s.query(`CREATE TABLE IF NOT EXISTS schedule_state (
        schedule text PRIMARY KEY,
        last_fire_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    });
    return this.ready;
  }

  async lastFire(schedule: string): Promise<Date | null> {
    await this.ensureTable();
    const res = await this.adapter.withSession((s) =>
      s.query<{ at: string }>(`SELECT to_char(last_fire_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at FROM schedule_state WHERE schedule = $1`, [schedule]),
    );
    return res.rows[0] ? new Date(res.rows[0].at) : null;
  }

  async recordFire(schedule: string, at: Date): Promise<void> {
    await this.ensureTable();
    await this.adapter.withSession((s) =>
      s.query(
        `INSERT INTO schedule_state (schedule, last_fire_at) VALUES ($1, $2)
         ON CONFLICT (schedule) DO UPDATE SET last_fire_at = GREATEST(schedule_state.last_fire_at, EXCLUDED.last_fire_at), updated_at = now()`,
        [schedule, at.toISOString()],
      ),
    );
  }
}
