import type { PgAdapter, PgSession } from '../connections/adapter.js';
import { Rng } from '../events/generator/rng.js';
import { ROLES } from './sourceSchema.js';

/**
 * `gamepipe warehouse simulate`: realistic activity written into the operational databases,
 * as the user and game services would write it. Simulated time runs `minutes` forward from
 * the database's clock (or from where the previous simulation ended, if later), so every row
 * is stamped at or after any sync's watermark, as real writes are. Within one simulation the
 * rows reach their final state of the period (a user changed twice is written once, with
 * updated_at = the last change), which is all a sync between two simulations could see.
 */
export interface SimulateOptions {
  minutes: number;
  /** Target population: users are signed up until there are this many. */
  users: number;
  seed: number;
}

export interface SimulateResult {
  from: string;
  to: string;
  signups: number;
  profileChanges: number;
  accessEvents: number;
  transactions: number;
  gamesStarted: number;
  gamesEnded: number;
  actions: number;
}

type Row = Record<string, unknown>;

const COUNTRIES = ['US', 'DE', 'FR', 'BR', 'JP', 'GB', 'IN', 'KR', 'PL', 'VN'];
const NAMES = ['wolf', 'fox', 'owl', 'raven', 'cat', 'bear', 'lynx', 'hawk', 'moth', 'crow'];
const LOBBY_NAMES = ['Moscow Nights', 'Palermo', 'Speakeasy', 'Night Market', 'Harbor', 'Casino', 'Old Town', 'Docks', 'Rooftop', 'Cellar'];
const CURRENCIES = ['USD', 'EUR', 'gems'];
const MINUTE = 60_000;

/** Inserts or replaces rows through json_populate_recordset (one statement per table). */
async function upsert(s: PgSession, table: string, keys: string[], rows: Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = rows.slice(i, i + 5000);
    const cols = Object.keys(chunk[0]!);
    const updates = cols.filter((c) => !keys.includes(c)).map((c) => `${c} = excluded.${c}`).join(', ');
    await s.query(
      `INSERT INTO ${table} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM json_populate_recordset(NULL::${table}, $1)
       ON CONFLICT (${keys.join(', ')}) DO ${updates ? `UPDATE SET ${updates}` : 'NOTHING'}`,
      [JSON.stringify(chunk)],
    );
  }
}

async function nextId(s: PgSession, table: string): Promise<number> {
  const res = await s.query<{ id: string }>(`SELECT coalesce(max(id), 0)::text AS id FROM ${table}`);
  return Number(res.rows[0]!.id) + 1;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function simulateActivity(userService: PgAdapter, gameService: PgAdapter, options: SimulateOptions): Promise<SimulateResult> {
  const rng = new Rng(options.seed, 0x5157);
  // Where simulated time starts: now, or the end of the previous simulation if that is later.
  const clock = async (a: PgAdapter, sql: string) => a.withSession(async (s) => Number((await s.query<{ t: string }>(sql)).rows[0]!.t));
  const startMs = Math.max(
    await clock(userService, `SELECT (extract(epoch FROM greatest(now(), (SELECT max(updated_at) FROM users), (SELECT max(created_at) FROM transactions), (SELECT max(occurred_at) FROM access_events))) * 1000)::text AS t`),
    await clock(gameService, `SELECT (extract(epoch FROM greatest(now(), (SELECT max(updated_at) FROM games), (SELECT max(updated_at) FROM lobbies), (SELECT max(occurred_at) FROM game_actions))) * 1000)::text AS t`),
  ) + 1000;
  const endMs = startMs + options.minutes * MINUTE;
  const at = (minute: number) => startMs + minute * MINUTE + rng.int(MINUTE);

  // ---- user service: sign-ups, profile changes, bans, deletions, logins, transactions
  const userState = await userService.withSession(async (s) =>
    (await s.query<Row>(`SELECT id::float8 AS id, username, email, country_code, status, vip_level, created_at, updated_at FROM users`)).rows);
  const users = new Map<number, Row>(userState.map((u) => [Number(u.id), u]));
  const changed = new Map<number, Row>();
  let nextUser = await userService.withSession((s) => nextId(s, 'users'));
  let signups = 0;
  let profileChanges = 0;
  const missing = Math.max(0, options.users - users.size);
  for (let i = 0; i < missing; i++) {
    const id = nextUser++;
    const t = iso(startMs + Math.floor((i / Math.max(1, missing)) * options.minutes * MINUTE * 0.5));
    const name = `${rng.pick(NAMES)}_${id}`;
    const row: Row = { id, username: name, email: rng.chance(0.9) ? `${name}@example.com` : null, country_code: rng.pick(COUNTRIES), status: 'active', vip_level: 0, created_at: t, updated_at: t };
    users.set(id, row);
    changed.set(id, row);
    signups++;
  }
  const ids = [...users.keys()];
  const live = () => ids.filter((id) => users.get(id)!.status === 'active');
  const accessEvents: Row[] = [];
  const transactions: Row[] = [];
  let nextAccess = await userService.withSession((s) => nextId(s, 'access_events'));
  let nextTx = await userService.withSession((s) => nextId(s, 'transactions'));
  const perMinute = (rate: number) => Math.max(0, Math.round(ids.length * rate * (0.5 + rng.next())));

  for (let minute = 0; minute < options.minutes; minute++) {
    const active = live();
    if (active.length === 0) break;
    for (let i = perMinute(0.002); i > 0; i--) {
      const id = rng.pick(ids);
      const u = { ...users.get(id)! };
      const t = Math.max(at(minute), Date.parse(String(u.updated_at)) + 1000);
      const what = rng.next();
      if (u.status === 'deleted') continue;
      if (what < 0.35) u.username = `${rng.pick(NAMES)}_${id}_${rng.int(1000)}`;
      else if (what < 0.6) u.country_code = rng.pick(COUNTRIES);
      else if (what < 0.85) u.vip_level = Math.min(10, Number(u.vip_level) + 1);
      else if (what < 0.92) u.email = `${String(u.username)}@mail.example`;
      else if (what < 0.97) u.status = u.status === 'banned' ? 'active' : 'banned';
      else u.status = 'deleted';
      u.updated_at = iso(t);
      users.set(id, u);
      changed.set(id, u);
      profileChanges++;
    }
    for (let i = perMinute(0.01); i > 0; i--) {
      const user_id = rng.pick(active);
      const t = at(minute);
      const ip = `10.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`;
      accessEvents.push({ id: nextAccess++, user_id, event_type: 'login', ip, occurred_at: iso(t) });
      if (rng.chance(0.8)) accessEvents.push({ id: nextAccess++, user_id, event_type: 'logout', ip, occurred_at: iso(Math.min(endMs, t + rng.range(1, 40) * MINUTE)) });
    }
    for (let i = perMinute(0.004); i > 0; i--) {
      const kind = rng.pick(['purchase', 'reward', 'reward', 'spend', 'spend'] as const);
      const amount = kind === 'purchase' ? rng.pick([0.99, 4.99, 9.99, 19.99]) : rng.range(1, 500);
      transactions.push({ id: nextTx++, user_id: rng.pick(active), amount, currency: kind === 'purchase' ? rng.pick(CURRENCIES.slice(0, 2)) : 'gems', kind, created_at: iso(at(minute)) });
    }
  }
  await userService.transaction(async (s) => {
    if (changed.size) await upsert(s, 'users', ['id'], [...changed.values()]);
    if (accessEvents.length) await upsert(s, 'access_events', ['id'], accessEvents);
    if (transactions.length) await upsert(s, 'transactions', ['id'], transactions);
  });

  // ---- game service: lobbies, games with players and roles, night/day actions, endings
  const lobbies = await gameService.withSession(async (s) => (await s.query<{ id: number }>('SELECT id::float8 AS id FROM lobbies')).rows.map((r) => Number(r.id)));
  const lobbyRows: Row[] = [];
  const wantLobbies = Math.max(3, Math.min(LOBBY_NAMES.length * 5, Math.round(options.users / 50)));
  for (let id = lobbies.length + 1; id <= wantLobbies; id++) {
    const t = iso(startMs);
    lobbyRows.push({ id, name: `${LOBBY_NAMES[(id - 1) % LOBBY_NAMES.length]}${id > LOBBY_NAMES.length ? ` ${Math.ceil(id / LOBBY_NAMES.length)}` : ''}`, max_players: rng.pick([6, 8, 10, 12]), is_ranked: rng.chance(0.4), created_at: t, updated_at: t });
    lobbies.push(id);
  }
  const running = await gameService.withSession(async (s) =>
    (await s.query<Row>(`SELECT g.id::float8 AS id, g.started_at, array_agg(p.user_id::float8) AS players, array_agg(p.role_id) AS roles
                           FROM games g JOIN game_players p ON p.game_id = g.id WHERE g.status = 'running' GROUP BY g.id, g.started_at`)).rows);
  let nextGame = await gameService.withSession((s) => nextId(s, 'games'));
  let nextAction = await gameService.withSession((s) => nextId(s, 'game_actions'));
  const games: Row[] = [];
  const players: Row[] = [];
  const actions: Row[] = [];
  let gamesStarted = 0;
  let gamesEnded = 0;
  interface Live { id: number; lobby_id: number; started: number; ends: number; seats: { user: number; role: number; joined: number }[] }
  const inPlay: Live[] = running.map((g) => ({
    id: Number(g.id), lobby_id: 0, started: Date.parse(String(g.started_at)), ends: startMs + rng.range(1, 20) * MINUTE,
    seats: (g.players as number[]).map((user, i) => ({ user: Number(user), role: (g.roles as number[])[i]!, joined: Date.parse(String(g.started_at)) })),
  }));
  const finish = (g: Live) => {
    const aborted = rng.chance(0.08);
    const winner = aborted ? null : rng.chance(0.45) ? 'mafia' : 'town';
    const ended = Math.min(g.ends, endMs);
    // Night kills and heals, day votes and investigations, one round per 4 minutes.
    for (let day = 1, t = g.started + MINUTE; t < ended; day++, t += 4 * MINUTE) {
      if (t < startMs) continue; // rounds written by an earlier simulation
      const alive = g.seats.map((s) => s.user);
      const actor = (role: number) => g.seats.find((s) => s.role === role)?.user;
      const kill = actor(2) ?? actor(5);
      if (kill) actions.push({ id: nextAction++, game_id: g.id, actor_user_id: kill, target_user_id: rng.pick(alive), action: 'kill', day_number: day, occurred_at: iso(t) });
      const doc = actor(3);
      if (doc) actions.push({ id: nextAction++, game_id: g.id, actor_user_id: doc, target_user_id: rng.pick(alive), action: 'heal', day_number: day, occurred_at: iso(t + 1000) });
      const det = actor(4);
      if (det) actions.push({ id: nextAction++, game_id: g.id, actor_user_id: det, target_user_id: rng.pick(alive), action: 'investigate', day_number: day, occurred_at: iso(t + 2000) });
      for (const voter of alive) {
        if (rng.chance(0.7)) actions.push({ id: nextAction++, game_id: g.id, actor_user_id: voter, target_user_id: rng.chance(0.1) ? null : rng.pick(alive), action: 'vote', day_number: day, occurred_at: iso(t + 2 * MINUTE + rng.int(MINUTE)) });
      }
    }
    if (g.ends > endMs) return false;
    games.push({ id: g.id, lobby_id: g.lobby_id || rng.pick(lobbies), status: aborted ? 'aborted' : 'finished', winner_team: winner, started_at: iso(g.started), ended_at: iso(ended), updated_at: iso(ended) });
    for (const seat of g.seats) {
      const mafia = seat.role === 2 || seat.role === 5;
      players.push({ game_id: g.id, user_id: seat.user, role_id: seat.role, joined_at: iso(seat.joined), left_at: iso(ended), survived: aborted ? null : (winner === 'mafia') === mafia && rng.chance(0.8) });
    }
    gamesEnded++;
    return true;
  };
  for (const g of inPlay) {
    g.lobby_id = 0;
    if (g.ends <= endMs) finish(g);
  }
  // running games from earlier keep their lobby: read it back for the update
  if (games.length) {
    const lobbyOf = await gameService.withSession(async (s) =>
      new Map((await s.query<{ id: number; lobby_id: number }>('SELECT id::float8 AS id, lobby_id::float8 AS lobby_id FROM games WHERE id = ANY($1::bigint[])', [games.map((g) => g.id)])).rows
        .map((r) => [Number(r.id), Number(r.lobby_id)])));
    for (const g of games) g.lobby_id = lobbyOf.get(Number(g.id)) ?? g.lobby_id;
  }
  const ROLE_IDS = ROLES.map(([id]) => id);
  for (let minute = 0; minute < options.minutes; minute++) {
    const active = live();
    const starts = Math.max(0, Math.round((active.length / 150) * (0.5 + rng.next())));
    for (let i = 0; i < starts && active.length >= 5; i++) {
      const size = Math.min(active.length, rng.range(5, 10));
      const seated = new Set<number>();
      while (seated.size < size) seated.add(rng.pick(active));
      const started = at(minute);
      const roles = [2, ...(size >= 8 ? [5] : []), 3, 4];
      const seats = [...seated].map((user, k) => ({ user, role: roles[k] ?? ROLE_IDS[0]!, joined: started - rng.int(30_000) }));
      const g: Live = { id: nextGame++, lobby_id: rng.pick(lobbies), started, ends: started + rng.range(8, 30) * MINUTE, seats };
      gamesStarted++;
      if (!finish(g)) {
        // still running at the end of the simulated period
        games.push({ id: g.id, lobby_id: g.lobby_id, status: 'running', winner_team: null, started_at: iso(started), ended_at: null, updated_at: iso(started) });
        for (const seat of seats) players.push({ game_id: g.id, user_id: seat.user, role_id: seat.role, joined_at: iso(seat.joined), left_at: null, survived: null });
      }
    }
  }
  await gameService.transaction(async (s) => {
    if (lobbyRows.length) await upsert(s, 'lobbies', ['id'], lobbyRows);
    if (games.length) await upsert(s, 'games', ['id'], games);
    if (players.length) await upsert(s, 'game_players', ['game_id', 'user_id'], players);
    if (actions.length) await upsert(s, 'game_actions', ['id'], actions);
  });
  return {
    from: iso(startMs), to: iso(endMs), signups, profileChanges, accessEvents: accessEvents.length, transactions: transactions.length,
    gamesStarted, gamesEnded, actions: actions.length,
  };
}
