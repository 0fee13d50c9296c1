import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Silver-shaped level events written straight into `{lake}/silver/events/ds=…` (the columns the
 * funnel reads, typed as silver types them), so funnel tests do not depend on the ingest and
 * silver jobs. Timestamps are ISO strings with a zone; the partition is their UTC day.
 */
export interface SilverRow {
  event_name: string;
  event_ts: string;
  game_id: string | null;
  user_id: string | null;
  platform?: string | null;
  country_code?: string | null;
  app_version?: string | null;
  level_funnel?: string | null;
  level_funnel_version?: number | null;
  level_id: number | null;
  boosters?: Record<string, number> | null;
  egp?: number | null;
  is_valid?: boolean;
  is_duplicate?: boolean;
}

const COLUMNS = {
  event_id: 'VARCHAR',
  event_name: 'VARCHAR',
  event_ts: 'TIMESTAMPTZ',
  game_id: 'VARCHAR',
  user_id: 'VARCHAR',
  platform: 'VARCHAR',
  country_code: 'VARCHAR',
  app_version: 'VARCHAR',
  level_funnel: 'VARCHAR',
  level_funnel_version: 'INTEGER',
  level_id: 'INTEGER',
  boosters: 'JSON',
  egp: 'INTEGER',
  is_valid: 'BOOLEAN',
  is_duplicate: 'BOOLEAN',
};

/** Writes the rows as silver Parquet partitions (replacing the days they cover). */
export async function writeSilverRows(lake: string, rows: SilverRow[]): Promise<string[]> {
  const root = path.join(lake, 'silver', 'events');
  const tmp = path.join(lake, `.fixture-${randomUUID()}.ndjson`);
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(
    tmp,
    rows
      .map((r, i) =>
        JSON.stringify({
          event_id: `e${i}`,
          platform: null,
          country_code: null,
          app_version: null,
          level_funnel: null,
          level_funnel_version: null,
          boosters: null,
          egp: null,
          is_valid: true,
          is_duplicate: false,
          ...r,
        }),
      )
      .join('\n') + '\n',
  );
  const days = [...new Set(rows.map((r) => new Date(r.event_ts).toISOString().slice(0, 10)))].sort();
  for (const d of days) fs.rmSync(path.join(root, `ds=${d}`), { recursive: true, force: true });
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    const cols = Object.entries(COLUMNS).map(([c, t]) => `'${c}': '${t}'`).join(', ');
    await conn.run(`COPY (SELECT *, CAST(event_ts AS DATE) AS ds FROM read_json('${tmp}', format = 'newline_delimited', columns = {${cols}}))
      TO '${root}' (FORMAT parquet, PARTITION_BY (ds), OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'fixture-{uuid}')`);
  } finally {
    conn.closeSync();
    instance.closeSync();
    fs.rmSync(tmp, { force: true });
  }
  return days;
}

/** mulberry32: a small seeded PRNG, so a failing property run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

export const PLATFORMS = ['iOS', 'Android', 'WebGL', null] as const;
export const COUNTRIES = ['US', 'TR', 'MX', null] as const;
export const APP_VERSIONS = ['1.0.0', '1.1.0', '1.1.0-RC', null] as const;
export const FUNNELS = ['live_v1', 'LIVE_V1', 'test_hard', null] as const;
export const FUNNEL_VERSIONS = [1, 2, null] as const;

/**
 * Random silver level events built to hit the edge cases: few players, levels and days so
 * players repeat levels across days and combinations; NULL and mixed-case dimensions; equal
 * timestamps; starts without an end and ends without a start; events crossing midnight;
 * invalid and duplicate rows; another game; NULL user or level; every boosters / egp shape.
 */
export function randomLevelEvents(
  seed: number,
  options: {
    events?: number; days: string[]; users?: number; levels?: number; appVersions?: readonly (string | null)[]; funnels?: readonly (string | null)[];
  },
): SilverRow[] {
  const rand = prng(seed);
  const appVersions = options.appVersions ?? APP_VERSIONS;
  const funnels = options.funnels ?? FUNNELS;
  const users = Array.from({ length: options.users ?? 10 }, (_, i) => `u${i}`);
  const levels = options.levels ?? 5;
  const home = new Map(users.map((u) => [u, {
    platform: pick(rand, PLATFORMS), country_code: pick(rand, COUNTRIES), app_version: pick(rand, appVersions),
    level_funnel: pick(rand, funnels), level_funnel_version: pick(rand, FUNNEL_VERSIONS),
  }]));
  const rows: SilverRow[] = [];
  const n = options.events ?? 400;
  for (let i = 0; i < n; i++) {
    const user = pick(rand, users);
    const day = pick(rand, options.days);
    // a few fixed seconds make equal timestamps (a start and its end at the same instant)
    const second = rand() < 0.15 ? pick(rand, [0, 3600, 86399]) : Math.floor(rand() * 86400);
    const ts = new Date(Date.parse(`${day}T00:00:00Z`) + second * 1000 + (rand() < 0.3 ? Math.floor(rand() * 1000) : 0)).toISOString();
    const dims = rand() < 0.65 ? home.get(user)! : {
      platform: pick(rand, PLATFORMS), country_code: pick(rand, COUNTRIES), app_version: pick(rand, appVersions),
      level_funnel: pick(rand, funnels), level_funnel_version: pick(rand, FUNNEL_VERSIONS),
    };
    const x = rand();
    const event_name = x < 0.45 ? 'level_start' : x < 0.75 ? 'level_complete' : x < 0.97 ? 'level_failed' : 'login';
    rows.push({
      event_name,
      event_ts: ts,
      game_id: rand() < 0.08 ? 'other_game' : 'g1',
      user_id: rand() < 0.01 ? null : user,
      ...dims,
      level_id: rand() < 0.01 ? null : 1 + Math.floor(rand() * rand() * levels),
      boosters: pick<Record<string, number> | null>(rand, [null, {}, {}, { hammer: 1 }, { bomb: 0 }, { hammer: 2, bomb: 1 }]),
      egp: pick(rand, [null, 0, 0, 0, 1, 2]),
      is_valid: rand() > 0.08,
      is_duplicate: rand() < 0.05,
    });
    // sometimes the same player ends the level a little later (a real start → end duration)
    if (event_name === 'level_start' && rand() < 0.5) {
      const later = new Date(Date.parse(ts) + Math.floor(rand() * 600_000)).toISOString();
      rows.push({ ...rows[rows.length - 1]!, event_name: rand() < 0.6 ? 'level_complete' : 'level_failed', event_ts: later });
    }
  }
  return rows;
}

/** One row of the install index `{lake}/bronze/installs` (src/ingest/installs.ts): an ingestion's earliest register of a user. */
export interface InstallRow {
  game_id: string;
  user_id: string;
  install_ts: string;
  ingestion_id: string;
}

/**
 * Writes install-index files (one per ingestion) and a ledger record for each ingestion in
 * `committed`; rows of other ingestions are as if that ingestion never committed.
 */
export async function writeInstallIndex(lake: string, rows: InstallRow[], committed: string[]): Promise<void> {
  const dir = path.join(lake, 'bronze', 'installs');
  const ledger = path.join(lake, '_ingestions');
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(ledger, { recursive: true });
  for (const id of committed) fs.writeFileSync(path.join(ledger, `${id}.json`), JSON.stringify({ ingestion_id: id }) + '\n');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    for (const id of [...new Set(rows.map((r) => r.ingestion_id))]) {
      const values = rows.filter((r) => r.ingestion_id === id)
        .map((r) => `(${[r.game_id, r.user_id].map((v) => `'${v.replaceAll("'", "''")}'`).join(', ')}, TIMESTAMPTZ '${r.install_ts}', '${id}')`);
      await conn.run(`COPY (SELECT * FROM (VALUES ${values.join(', ')}) t(game_id, user_id, install_ts, ingestion_id))
        TO '${path.join(dir, `part-${id}-0.parquet`)}' (FORMAT parquet)`);
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Ingestions of randomInstalls: the last one never committed. */
export const INSTALL_INGESTIONS = { committed: ['ing-a', 'ing-b'], uncommitted: 'ing-lost' } as const;

/**
 * Install-index rows for the players of randomLevelEvents (u0…): 90% of them registered in
 * ingestion ing-a, some again in ing-b (earlier or later: the minimum counts), some earlier in an
 * ingestion that never committed (not counted), some in another game; 10% never registered.
 */
export function randomInstalls(seed: number, options: { days: string[]; users?: number }): InstallRow[] {
  const rand = prng(seed ^ 0x5eed);
  const rows: InstallRow[] = [];
  const at = () => new Date(Date.parse(`${pick(rand, options.days)}T00:00:00Z`) + Math.floor(rand() * 86_400_000)).toISOString();
  for (let i = 0; i < (options.users ?? 10); i++) {
    const user = `u${i}`;
    if (rand() < 0.1) continue;
    rows.push({ game_id: 'g1', user_id: user, install_ts: at(), ingestion_id: 'ing-a' });
    if (rand() < 0.3) rows.push({ game_id: 'g1', user_id: user, install_ts: at(), ingestion_id: 'ing-b' });
    if (rand() < 0.15) rows.push({ game_id: 'g1', user_id: user, install_ts: at(), ingestion_id: INSTALL_INGESTIONS.uncommitted });
    if (rand() < 0.2) rows.push({ game_id: 'other_game', user_id: user, install_ts: at(), ingestion_id: 'ing-a' });
  }
  return rows;
}
