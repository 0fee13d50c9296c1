import type { PgAdapter } from '../connections/adapter.js';
import { msToTimestampSql, timestampToMsSql } from './tables.js';

/**
 * Users' install times for the quality rule `before_install` (an event earlier than the user's
 * register event is invalid). Silver takes the earliest register in bronze; the stream knows the
 * registers it has seen, kept in `rt_installs` (WAREHOUSE) so a restarted or rebalanced service
 * still knows them. Events are keyed by userId, so one user's events (and register) stay on one
 * partition, in order, and a member only needs the users of its partitions: a cache in front of
 * the table holds those, and is dropped when partitions move.
 */

export interface InstallStore {
  /** Install times (epoch ms) of the given (gameId, userId) pairs that have one. */
  lookup(keys: ReadonlyArray<readonly [string, string]>): Promise<Map<string, number>>;
  /** Records registers (keeps the earliest time per user). */
  record(installs: ReadonlyArray<{ gameId: string; userId: string; ts: number }>): Promise<void>;
}

export function installKey(gameId: string, userId: string): string {
  return `${gameId}\u0000${userId}`;
}

/** `rt_installs` in PostgreSQL. */
export class PgInstallStore implements InstallStore {
  constructor(private readonly db: PgAdapter) {}

  async lookup(keys: ReadonlyArray<readonly [string, string]>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (keys.length === 0) return out;
    const rows = await this.db.withSession(
      async (s) =>
        (
          await s.query<{ game_id: string; user_id: string; ms: string | number }>(
            `SELECT i.game_id, i.user_id, ${timestampToMsSql('i.install_ts')} AS ms
             FROM rt_installs i
             JOIN unnest($1::text[], $2::text[]) AS k(game_id, user_id) USING (game_id, user_id)`,
            [keys.map((k) => k[0]), keys.map((k) => k[1])],
          )
        ).rows,
    );
    for (const r of rows) out.set(installKey(r.game_id, r.user_id), Number(r.ms));
    return out;
  }

  async record(installs: ReadonlyArray<{ gameId: string; userId: string; ts: number }>): Promise<void> {
    if (installs.length === 0) return;
    // One row per user (the earliest), in key order so concurrent writers lock rows in one order.
    const earliest = new Map<string, { gameId: string; userId: string; ts: number }>();
    for (const i of installs) {
      const key = installKey(i.gameId, i.userId);
      const seen = earliest.get(key);
      if (!seen || i.ts < seen.ts) earliest.set(key, i);
    }
    const rows = [...earliest.values()].sort((a, b) => (a.gameId < b.gameId ? -1 : a.gameId > b.gameId ? 1 : a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    await this.db.withSession((s) =>
      s.query(
        `INSERT INTO rt_installs (game_id, user_id, install_ts)
         SELECT game_id, user_id, ${msToTimestampSql('ms')}
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(game_id, user_id, ms)
         ON CONFLICT (game_id, user_id) DO UPDATE SET install_ts = LEAST(rt_installs.install_ts, excluded.install_ts)`,
        [rows.map((r) => r.gameId), rows.map((r) => r.userId), rows.map((r) => String(r.ts))],
      ),
    );
  }
}

/**
 * A cache in front of a store: known install times and known absences. An absence stays true
 * while this member owns the user's partition (its register would come through here);
 * `clear()` on every rebalance.
 */
export class CachedInstallStore implements InstallStore {
  private readonly known = new Map<string, number | null>();

  constructor(
    private readonly store: InstallStore,
    private readonly maxEntries = 1_000_000,
  ) {}

  clear(): void {
    this.known.clear();
  }

  async lookup(keys: ReadonlyArray<readonly [string, string]>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing: Array<readonly [string, string]> = [];
    for (const k of keys) {
      const key = installKey(k[0], k[1]);
      const v = this.known.get(key);
      if (v === undefined) missing.push(k);
      else if (v !== null) out.set(key, v);
    }
    if (missing.length) {
      const found = await this.store.lookup(missing);
      if (this.known.size + missing.length > this.maxEntries) this.known.clear();
      for (const k of missing) {
        const key = installKey(k[0], k[1]);
        const v = found.get(key);
        this.known.set(key, v ?? null);
        if (v !== undefined) out.set(key, v);
      }
    }
    return out;
  }

  async record(installs: ReadonlyArray<{ gameId: string; userId: string; ts: number }>): Promise<void> {
    await this.store.record(installs);
    for (const i of installs) {
      const key = installKey(i.gameId, i.userId);
      const v = this.known.get(key);
      if (v === undefined || v === null || i.ts < v) this.known.set(key, i.ts);
    }
  }
}
