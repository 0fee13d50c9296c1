import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/events/generator/rng.js';
import { GAME_SERVICE, initSources, USER_SERVICE } from '../../src/warehouse/sourceSchema.js';
import { syncWarehouse } from '../../src/warehouse/sync.js';
import { serverUrl, createWorkspace, type Workspace } from '../helpers/workspace.js';

/**
 * Property: random service-database changes (inserts; updates of tracked and untracked
 * columns; bans; soft and hard deletions; transactions committing after a sync has read past
 * their timestamps) interleaved with incremental syncs. After every sync each fact table
 * equals the source, every looked-up key is the dim_users version valid at the event, and
 * dim_users holds one version per distinct tracked state observed, with contiguous,
 * non-overlapping validity. A full load at the end changes nothing but deliberate drift (and
 * closes the users deleted outright). Needs a PostgreSQL server (concurrent sessions).
 */
const STEPS = 24;
const SEED = Number(process.env.WAREHOUSE_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));

const TS = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
const DK = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYYMMDD')::int`;

/** Each fact, expected from the source tables (PostgreSQL SQL, independent of the pipeline) and as loaded. */
const FACTS: Record<string, { expected: string; actual: string }> = {
  fact_transactions: {
    expected: `SELECT id, user_id, ${DK('created_at')}, amount, currency, kind, ${TS('created_at')} FROM transactions`,
    actual: `SELECT transaction_id, user_id, date_key, amount, currency, kind, ${TS('created_at')} FROM fact_transactions`,
  },
  fact_access_events: {
    expected: `SELECT id, user_id, ${DK('occurred_at')}, event_type, ip, ${TS('occurred_at')} FROM access_events`,
    actual: `SELECT access_event_id, user_id, date_key, event_type, ip, ${TS('occurred_at')} FROM fact_access_events`,
  },
  fact_games: {
    expected: `SELECT g.id, g.lobby_id, ${DK('g.started_at')}, ${TS('g.started_at')}, ${TS('g.ended_at')},
                      floor(extract(epoch FROM g.ended_at - g.started_at))::bigint, (SELECT count(*) FROM game_players p WHERE p.game_id = g.id)::int, g.winner_team
                 FROM games g WHERE g.status = 'finished'`,
    actual: `SELECT game_id, lobby_id, date_key, ${TS('started_at')}, ${TS('ended_at')}, duration_seconds, players, winner_team FROM fact_games`,
  },
  fact_player_sessions: {
    expected: `SELECT p.game_id, p.user_id, p.role_id, g.lobby_id, ${DK('p.joined_at')}, ${TS('p.joined_at')}, ${TS('p.left_at')}, p.survived
                 FROM game_players p JOIN games g ON g.id = p.game_id`,
    actual: `SELECT game_id, user_id, role_id, lobby_id, date_key, ${TS('joined_at')}, ${TS('left_at')}, survived FROM fact_player_sessions`,
  },
  fact_game_actions: {
    expected: `SELECT id, game_id, actor_user_id, target_user_id, action, day_number, ${DK('occurred_at')}, ${TS('occurred_at')} FROM game_actions`,
    actual: `SELECT action_id, game_id, actor_user_id, target_user_id, action, day_number, date_key, ${TS('occurred_at')} FROM fact_game_actions`,
  },
};

/** (fact, user id column, key column, event time column) of every point-in-time lookup. */
const LOOKUPS: [string, string, string, string][] = [
  ['fact_transactions', 'user_id', 'user_key', 'created_at'],
  ['fact_access_events', 'user_id', 'user_key', 'occurred_at'],
  ['fact_player_sessions', 'user_id', 'user_key', 'joined_at'],
  ['fact_game_actions', 'actor_user_id', 'actor_user_key', 'occurred_at'],
  ['fact_game_actions', 'target_user_id', 'target_user_key', 'occurred_at'],
];

const TRACKED = ['username', 'email', 'country_code', 'status', 'vip_level'] as const;

interface Version { state: string; validFrom: string; validTo: string | null; current: boolean }

describe.skipIf(!serverUrl)('warehouse sync property (postgres server)', () => {
  let ws: Workspace;
  let db: pg.Client;
  let late: pg.Client;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE', 'USER_SERVICE', 'GAME_SERVICE']);
    await initSources(ws.connections.get(USER_SERVICE), ws.connections.get(GAME_SERVICE));
    const url = ws.env.GAMEPIPE_CONN_USER_SERVICE!;
    db = new pg.Client({ connectionString: url });
    late = new pg.Client({ connectionString: url });
    await db.connect();
    await late.connect();
  });
  afterAll(async () => {
    await db?.end();
    await late?.end();
    await ws?.close();
  });

  const rows = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows as T[];
  const ctx = () => ({ paths: ws.paths, connections: ws.connections });

  it(`keeps facts equal to the sources and dim_users versioned by observed state (seed ${SEED})`, async () => {
    console.log(`warehouse property seed: ${SEED} (WAREHOUSE_PROPERTY_SEED=${SEED} to replay)`);
    const rng = new Rng(SEED);
    let nextUser = 1, nextTx = 1, nextAccess = 1, nextGame = 1, nextAction = 1;
    const lobbies: number[] = [];
    const locked = new Set<number>();
    /** Model: the versions each user's observed states imply. */
    const model = new Map<number, Version[]>();
    let held: { commitAfterSync: boolean } | null = null;

    const liveUsers = async () => (await rows<{ id: string }>(`SELECT id::text FROM users WHERE status <> 'deleted'`)).map((r) => Number(r.id)).filter((id) => !locked.has(id));
    const anyUser = async () => (await rows<{ id: string }>(`SELECT id::text FROM users`)).map((r) => Number(r.id)).filter((id) => !locked.has(id));
    const runningGames = async () => (await rows<{ id: string }>(`SELECT id::text FROM games WHERE status = 'running'`)).map((r) => Number(r.id));

    const ops: Record<string, () => Promise<void>> = {
      signup: async () => {
        const id = nextUser++;
        await db.query(`INSERT INTO users VALUES ($1, $2, $3, $4, 'active', 0, now(), now())`, [id, `user${id}`, rng.chance(0.5) ? `u${id}@x.io` : null, rng.pick(['US', 'DE', 'FR'])]);
      },
      trackedUpdate: async () => {
        const ids = await anyUser();
        if (!ids.length) return;
        const col = rng.pick(['username', 'email', 'country_code', 'vip_level'] as const);
        const value = col === 'vip_level' ? rng.int(3) : col === 'country_code' ? rng.pick(['US', 'DE', 'FR']) : `${col}${rng.int(4)}`;
        await db.query(`UPDATE users SET ${col} = $2, updated_at = now() WHERE id = $1`, [rng.pick(ids), value]);
      },
      untrackedUpdate: async () => {
        const ids = await anyUser();
        if (!ids.length) return;
        await db.query(rng.chance(0.5)
          ? `UPDATE users SET updated_at = now() WHERE id = $1`
          : `UPDATE users SET created_at = created_at - interval '1 hour', updated_at = now() WHERE id = $1`, [rng.pick(ids)]);
      },
      ban: async () => {
        const ids = await anyUser();
        if (ids.length) await db.query(`UPDATE users SET status = CASE status WHEN 'banned' THEN 'active' ELSE 'banned' END, updated_at = now() WHERE id = $1`, [rng.pick(ids)]);
      },
      softDelete: async () => {
        const ids = await liveUsers();
        if (ids.length) await db.query(`UPDATE users SET status = 'deleted', updated_at = now() WHERE id = $1`, [rng.pick(ids)]);
      },
      hardDelete: async () => {
        const ids = await anyUser();
        if (ids.length > 3 && rng.chance(0.5)) await db.query(`DELETE FROM users WHERE id = $1`, [rng.pick(ids)]);
      },
      transaction: async () => {
        const ids = await anyUser();
        if (ids.length) await db.query(`INSERT INTO transactions VALUES ($1, $2, $3, 'USD', 'purchase', now())`, [nextTx++, rng.pick(ids), (rng.int(10000) / 100).toFixed(2)]);
      },
      access: async () => {
        const ids = await anyUser();
        if (ids.length) await db.query(`INSERT INTO access_events VALUES ($1, $2, $3, '10.0.0.1', now())`, [nextAccess++, rng.pick(ids), rng.pick(['login', 'logout'])]);
      },
      lobby: async () => {
        if (!lobbies.length || rng.chance(0.5)) {
          const id = lobbies.length + 1;
          lobbies.push(id);
          await db.query(`INSERT INTO lobbies VALUES ($1, $2, 8, false, now(), now())`, [id, `lobby${id}`]);
        } else {
          await db.query(`UPDATE lobbies SET name = $2, updated_at = now() WHERE id = $1`, [rng.pick(lobbies), `lobby-${rng.int(100)}`]);
        }
      },
      startGame: async () => {
        const ids = await liveUsers();
        if (!lobbies.length || ids.length < 2) return;
        const id = nextGame++;
        await db.query(`INSERT INTO games VALUES ($1, $2, 'running', NULL, now(), NULL, now())`, [id, rng.pick(lobbies)]);
        const seated = [...new Set([rng.pick(ids), rng.pick(ids), rng.pick(ids)])];
        for (const [i, u] of seated.entries()) await db.query(`INSERT INTO game_players VALUES ($1, $2, $3, now(), NULL, NULL)`, [id, u, i === 0 ? 2 : 1]);
      },
      joinGame: async () => {
        const games = await runningGames();
        const ids = await liveUsers();
        if (!games.length || !ids.length) return;
        const game = rng.pick(games);
        const res = await db.query(`INSERT INTO game_players VALUES ($1, $2, 3, now(), NULL, NULL) ON CONFLICT DO NOTHING`, [game, rng.pick(ids)]);
        if (res.rowCount) await db.query(`UPDATE games SET updated_at = now() WHERE id = $1`, [game]);
      },
      action: async () => {
        const games = await runningGames();
        const ids = await anyUser();
        if (games.length && ids.length) {
          await db.query(`INSERT INTO game_actions VALUES ($1, $2, $3, $4, 'vote', 1, now())`, [nextAction++, rng.pick(games), rng.pick(ids), rng.chance(0.2) ? null : rng.pick(ids)]);
        }
      },
      finishGame: async () => {
        const games = await runningGames();
        if (!games.length) return;
        const game = rng.pick(games);
        const finished = rng.chance(0.8);
        await db.query(`UPDATE games SET status = $2, winner_team = $3, ended_at = now() + interval '93.5 seconds', updated_at = now() WHERE id = $1`,
          [game, finished ? 'finished' : 'aborted', finished ? rng.pick(['mafia', 'town']) : null]);
        await db.query(`UPDATE game_players SET left_at = now(), survived = random() < 0.5 WHERE game_id = $1`, [game]);
      },
    };
    const weights = Object.keys(ops);

    /** A change whose transaction stays open across the next sync (now() is its start). */
    const holdLate = async () => {
      await late.query('BEGIN');
      const ids = await anyUser();
      const kind = rng.int(3);
      if (kind === 0 && ids.length) {
        const user = rng.pick(ids);
        locked.add(user);
        await late.query(`UPDATE users SET username = $2, updated_at = now() WHERE id = $1`, [user, `late${rng.int(1000)}`]);
        // the late change is seen by facts written meanwhile: their keys must move to the back-dated version
        await db.query(`INSERT INTO transactions VALUES ($1, $2, 1.00, 'USD', 'spend', now())`, [nextTx++, user]);
      } else if (kind === 1 && ids.length) {
        await late.query(`INSERT INTO transactions VALUES ($1, $2, 5.00, 'EUR', 'reward', now())`, [nextTx++, rng.pick(ids)]);
      } else {
        await late.query(`INSERT INTO access_events VALUES ($1, $2, 'login', '10.9.9.9', now())`, [nextAccess++, ids.length ? rng.pick(ids) : 0]);
      }
      // the sync must start after the late transaction's now() and the rows committed after it
      await new Promise((r) => setTimeout(r, 20));
      await ops.transaction!();
      held = { commitAfterSync: true };
    };

    /** The model observes the users visible now (what the sync will read). */
    const observe = async () => {
      const users = await rows<{ id: string; state: string; created: string; updated: string }>(
        `SELECT id::text, concat_ws('|', ${TRACKED.map((c) => `coalesce(${c}::text, '∅')`).join(', ')}) AS state, status,
                ${TS('created_at')} AS created, ${TS('updated_at')} AS updated FROM users`);
      for (const u of users) {
        const id = Number(u.id);
        const versions = model.get(id) ?? [];
        model.set(id, versions);
        const cur = versions.find((v) => v.current);
        const deleted = u.state.split('|')[3] === 'deleted';
        const max = (a: string, b: string) => (a > b ? a : b);
        if (cur && (deleted || cur.state !== u.state)) {
          cur.validTo = max(u.updated, cur.validFrom);
          cur.current = false;
        }
        if (!deleted && (!cur || cur.state !== u.state)) {
          const ends = versions.map((v) => v.validTo!).filter(Boolean).sort();
          const validFrom = versions.length ? max(u.updated, ends[ends.length - 1]!) : u.created;
          versions.push({ state: u.state, validFrom, validTo: null, current: true });
        }
      }
    };

    const checkFacts = async () => {
      for (const [fact, q] of Object.entries(FACTS)) {
        const missing = await rows(`(${q.expected}) EXCEPT ALL (${q.actual})`);
        const extra = await rows(`(${q.actual}) EXCEPT ALL (${q.expected})`);
        expect({ fact, missing, extra }).toEqual({ fact, missing: [], extra: [] });
      }
      for (const [fact, idCol, keyCol, at] of LOOKUPS) {
        // Independent of the engine's lookup: validity ranges from LEAD over the versions.
        const wrong = await rows(`
          WITH v AS (
            SELECT user_key, user_id, valid_from, lead(valid_from) OVER (PARTITION BY user_id ORDER BY valid_from, user_key) AS next_from,
                   row_number() OVER (PARTITION BY user_id ORDER BY valid_from, user_key) AS n
              FROM dim_users)
          SELECT f.${idCol} AS user_id, f.${keyCol} AS key, ${TS(`f.${at}`)} AS at, v.user_key AS expected
            FROM ${fact} f
            LEFT JOIN v ON v.user_id = f.${idCol}
                       AND ((v.valid_from <= f.${at} AND (v.next_from IS NULL OR f.${at} < v.next_from))
                            OR (v.n = 1 AND f.${at} < v.valid_from))
           WHERE f.${idCol} IS NOT NULL AND f.${keyCol} IS DISTINCT FROM v.user_key`);
        expect({ fact, keyCol, wrong }).toEqual({ fact, keyCol, wrong: [] });
      }
    };

    const dimVersions = async () => {
      const dim = await rows<{ user_id: string; state: string; vf: string; vt: string | null; cur: boolean }>(
        `SELECT user_id::text, concat_ws('|', ${TRACKED.map((c) => `coalesce(${c}::text, '∅')`).join(', ')}) AS state,
                ${TS('valid_from')} AS vf, ${TS('valid_to')} AS vt, is_current AS cur
           FROM dim_users ORDER BY user_id, valid_from, user_key`);
      const byUser = new Map<number, Version[]>();
      for (const d of dim) {
        const list = byUser.get(Number(d.user_id)) ?? [];
        list.push({ state: d.state, validFrom: d.vf, validTo: d.vt, current: d.cur });
        byUser.set(Number(d.user_id), list);
      }
      return byUser;
    };

    const checkDim = async (closedOutright: Set<number> = new Set()) => {
      const actual = await dimVersions();
      for (const [id, versions] of model) {
        const got = actual.get(id) ?? [];
        if (closedOutright.has(id) && versions.some((v) => v.current)) {
          // closed by the full load at load time
          const last = got[got.length - 1]!;
          expect(last.current).toBe(false);
          expect(last.validTo! >= last.validFrom).toBe(true);
          expect(got.slice(0, -1)).toEqual(versions.slice(0, -1));
          continue;
        }
        expect({ id, versions: got }).toEqual({ id, versions });
      }
      expect([...actual.keys()].filter((id) => !model.has(id))).toEqual([]);
      // contiguous, non-overlapping validity; one current version at most
      const bad = await rows(`
        SELECT user_id, valid_from, valid_to, lead(valid_from) OVER w AS next_from FROM dim_users
        WINDOW w AS (PARTITION BY user_id ORDER BY valid_from, user_key)
        EXCEPT ALL
        SELECT user_id, valid_from, valid_to, next_from FROM (
          SELECT user_id, valid_from, valid_to, is_current, lead(valid_from) OVER (PARTITION BY user_id ORDER BY valid_from, user_key) AS next_from FROM dim_users) x
         WHERE (next_from IS NULL OR valid_to <= next_from) AND (is_current = (valid_to IS NULL)) AND (valid_to IS NULL OR valid_to >= valid_from)`);
      expect(bad).toEqual([]);
    };

    for (let step = 1; step <= STEPS; step++) {
      const n = rng.range(1, 6);
      for (let i = 0; i < n; i++) await ops[rng.pick(weights)]!();
      if (!held && step < STEPS - 1 && rng.chance(0.3)) await holdLate();
      await observe();
      const result = await syncWarehouse(ctx());
      expect(result.tasks.filter((t) => t.status !== 'succeeded').map((t) => `${t.job}: ${t.error}`)).toEqual([]);
      await checkFacts();
      await checkDim();
      if (held) {
        await late.query('COMMIT');
        locked.clear();
        held = null;
      }
    }
    // one more sync after the last commit
    await observe();
    expect((await syncWarehouse(ctx())).ok).toBe(true);
    await checkFacts();
    await checkDim();

    // A full load changes nothing but drift (and closes users deleted outright).
    const tables = ['dim_users', 'dim_lobbies', 'dim_roles', 'dim_time', ...Object.keys(FACTS)];
    const snapshot = async () => {
      const all: Record<string, string[]> = {};
      for (const t of tables) all[t] = (await rows<{ r: string }>(`SELECT to_jsonb(x)::text AS r FROM ${t} x ORDER BY 1`)).map((r) => r.r);
      return all;
    };
    const before = await snapshot();
    await db.query(`UPDATE fact_transactions SET amount = amount + 1, user_key = user_key + 1000 WHERE transaction_id = (SELECT min(transaction_id) FROM fact_transactions)`);
    await db.query(`DELETE FROM fact_access_events WHERE access_event_id = (SELECT max(access_event_id) FROM fact_access_events)`);
    await db.query(`INSERT INTO fact_games (game_id, lobby_id, date_key, players) VALUES (999999, 1, 20240101, 0)`);
    await db.query(`UPDATE dim_lobbies SET lobby_name = 'drifted'`);
    await db.query(`UPDATE dim_users SET created_at = created_at + interval '1 day' WHERE is_current AND user_id IN (SELECT id FROM users)`);
    const hardDeleted = new Set((await rows<{ id: string }>(`SELECT DISTINCT user_id::text AS id FROM dim_users d WHERE is_current AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = d.user_id)`)).map((r) => Number(r.id)));
    expect((await syncWarehouse(ctx(), { full: true })).ok).toBe(true);
    await checkFacts();
    await checkDim(hardDeleted);
    const after = await snapshot();
    const closed = (await rows<{ r: string }>(`SELECT to_jsonb(x)::text AS r FROM dim_users x WHERE user_id = ANY($1::bigint[]) AND NOT is_current AND valid_to >= loaded_at AND valid_to > now() - interval '1 hour' ORDER BY 1`, [[...hardDeleted]])).map((r) => r.r);
    for (const t of tables) {
      if (t !== 'dim_users') expect({ t, rows: after[t] }).toEqual({ t, rows: before[t] });
    }
    // dim_users: the same rows, but the hard-deleted users' current versions are now closed
    const strip = (list: string[] = []) => list.map((r) => { const o = JSON.parse(r) as Record<string, unknown>; return hardDeleted.has(Number(o.user_id)) && (o.is_current || o.valid_to) ? JSON.stringify({ ...o, valid_to: null, is_current: null }) : r; }).sort();
    expect(strip(after.dim_users)).toEqual(strip(before.dim_users));
    expect(closed.length).toBeGreaterThanOrEqual(hardDeleted.size);
  }, 600_000);
});
