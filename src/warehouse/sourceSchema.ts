import type { PgAdapter } from '../connections/adapter.js';

/**
 * The operational databases the shipped warehouse pipeline reads (docs/warehouse.md, "Source
 * contract"). `gamepipe warehouse init-sources` creates them for demos and tests; a studio
 * points USER_SERVICE and GAME_SERVICE at its real databases instead.
 *
 * What the incremental sync relies on: `users.updated_at`, `lobbies.updated_at` and
 * `games.updated_at` are set to now() by every write of the row (and a change to a game's
 * players moves its game's updated_at); the append-only tables' `created_at` / `occurred_at`
 * are the insert's now().
 */
export const USER_SERVICE = 'USER_SERVICE';
export const GAME_SERVICE = 'GAME_SERVICE';

export const USER_SERVICE_DDL = [
  `CREATE TABLE IF NOT EXISTS users (
    id bigint PRIMARY KEY,
    username text NOT NULL,
    email text,
    country_code text,
    status text NOT NULL CHECK (status IN ('active', 'banned', 'deleted')),
    vip_level int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS users_updated_at_idx ON users (updated_at)`,
  `CREATE TABLE IF NOT EXISTS access_events (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL,
    event_type text NOT NULL CHECK (event_type IN ('login', 'logout')),
    ip text,
    occurred_at timestamptz NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS access_events_occurred_at_idx ON access_events (occurred_at)`,
  `CREATE TABLE IF NOT EXISTS transactions (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL,
    amount numeric(14,2) NOT NULL,
    currency text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('purchase', 'reward', 'spend')),
    created_at timestamptz NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS transactions_created_at_idx ON transactions (created_at)`,
];

export const GAME_SERVICE_DDL = [
  `CREATE TABLE IF NOT EXISTS lobbies (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    max_players int NOT NULL,
    is_ranked bool NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS lobbies_updated_at_idx ON lobbies (updated_at)`,
  `CREATE TABLE IF NOT EXISTS roles (
    id int PRIMARY KEY,
    name text NOT NULL,
    team text NOT NULL CHECK (team IN ('mafia', 'town'))
  )`,
  `CREATE TABLE IF NOT EXISTS games (
    id bigint PRIMARY KEY,
    lobby_id bigint NOT NULL,
    status text NOT NULL CHECK (status IN ('running', 'finished', 'aborted')),
    winner_team text,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    updated_at timestamptz NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS games_updated_at_idx ON games (updated_at)`,
  `CREATE TABLE IF NOT EXISTS game_players (
    game_id bigint,
    user_id bigint,
    role_id int NOT NULL,
    joined_at timestamptz NOT NULL,
    left_at timestamptz,
    survived bool,
    PRIMARY KEY (game_id, user_id)
  )`,
  `CREATE TABLE IF NOT EXISTS game_actions (
    id bigint PRIMARY KEY,
    game_id bigint NOT NULL,
    actor_user_id bigint NOT NULL,
    target_user_id bigint,
    action text NOT NULL CHECK (action IN ('vote', 'kill', 'heal', 'investigate')),
    day_number int NOT NULL,
    occurred_at timestamptz NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS game_actions_occurred_at_idx ON game_actions (occurred_at)`,
];

/** The roles of the game (Mafia rules): id, name, team. */
export const ROLES: readonly [number, string, 'mafia' | 'town'][] = [
  [1, 'Citizen', 'town'],
  [2, 'Mafia', 'mafia'],
  [3, 'Doctor', 'town'],
  [4, 'Detective', 'town'],
  [5, 'Godfather', 'mafia'],
];

/** Creates the source tables (idempotent) and the role catalog. */
export async function initSources(userService: PgAdapter, gameService: PgAdapter): Promise<void> {
  await userService.transaction(async (s) => {
    for (const sql of USER_SERVICE_DDL) await s.query(sql);
  });
  await gameService.transaction(async (s) => {
    for (const sql of GAME_SERVICE_DDL) await s.query(sql);
    const values = ROLES.map((_, i) => `($${i * 3 + 1}::int, $${i * 3 + 2}, $${i * 3 + 3})`).join(', ');
    await s.query(`INSERT INTO roles (id, name, team) VALUES ${values} ON CONFLICT (id) DO NOTHING`, ROLES.flat());
  });
}
