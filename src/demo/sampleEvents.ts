import fs from 'node:fs';
import path from 'node:path';
import { DuckEngine, sqlString } from '../engine/duckdb.js';

/**
 * A small deterministic day of events (logins, level starts, purchases in several
 * currencies) for the demo, written as NDJSON in the raw zone of the lake.
 */
export async function writeSampleEvents(lake: string, tmp: string, day: string, users = 500): Promise<string> {
  const dir = path.join(lake, 'demo/raw/events', `ds=${day}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'events.ndjson');
  const engine = await DuckEngine.open(tmp, { threads: 1 });
  try {
    const seed = Number(day.replace(/-/g, '')) % 1000;
    await engine.run(`COPY (
      WITH u AS (
        SELECT i AS n, 'user_' || i AS user_id, 'game_' || (1 + i % 2) AS game_id
        FROM range(${users}) t(i)
        WHERE hash(i, ${seed}) % 10 < 7                     -- about 70% of users play that day
      ), e AS (
        SELECT u.*, j, hash(n, j, ${seed}) AS h FROM u, range(1 + (n % 5)) s(j)
      )
      SELECT ${sqlString(day)} || '-' || user_id || '-' || j AS eventId,
             CASE WHEN j = 0 THEN 'login' WHEN h % 25 = 0 THEN 'purchase' ELSE 'level_start' END AS eventName,
             strftime(TIMESTAMP '${day}' + INTERVAL (h % 86400) SECOND, '%Y-%m-%dT%H:%M:%SZ') AS timestamp,
             game_id AS gameId, user_id AS userId,
             CASE WHEN j = 0 THEN {'level': 1 + n % 30, 'ip': '10.0.' || (n % 250) || '.1'}::JSON
                  WHEN h % 25 = 0 THEN {'amount': [0.99, 4.99, 19.99, 99.0][1 + (h % 4)::INTEGER],
                                        'currency': ['USD', 'THB', 'VND', 'SGD'][1 + (n % 4)::INTEGER]}::JSON
                  ELSE {'levelId': 1 + n % 30}::JSON END AS properties
      FROM e ORDER BY eventId
    ) TO ${sqlString(file)} (FORMAT json)`);
  } finally {
    engine.close();
  }
  return file;
}
