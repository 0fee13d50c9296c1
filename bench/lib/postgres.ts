import pg from 'pg';

export { hidePassword, withSearchPath } from '../../src/connections/url.js';

/** Progress goes to stderr; stdout carries the results. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** One statement on its own connection (CREATE / DROP SCHEMA around a benchmark). */
export async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
