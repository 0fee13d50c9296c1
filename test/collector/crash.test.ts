import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckEngine } from '../../src/engine/duckdb.js';
import { buildSilverDay } from '../../src/quality/silver.js';
import { gamepipe, spawnGamepipe, waitForLine } from '../helpers/cli.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';
import { sqlString } from '../../src/sql/quote.js';

/**
 * Durable before acknowledged: clients post batches to `gamepipe collect` (a real process) while
 * it is killed with SIGKILL twice and restarted; each client retries a batch until it gets a 200.
 * Afterwards every event is in bronze at least once, and in silver exactly once after dedup —
 * whatever was written but not acknowledged when the process died is counted once, not twice.
 */

const BATCHES = 36;
const EVENTS_PER_BATCH = 40;
const CLIENTS = 4;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function batch(b: number): string {
  const lines: string[] = [];
  for (let i = 0; i < EVENTS_PER_BATCH; i++) {
    lines.push(
      JSON.stringify({
        eventId: `b${b}-e${i}`,
        eventName: 'login',
        timestamp: `2024-05-01T${String(10 + (b % 10)).padStart(2, '0')}:00:${String(i % 60).padStart(2, '0')}Z`,
        userId: `u${(b * EVENTS_PER_BATCH + i) % 97}`,
        properties: { level: 1, ip: '10.0.0.1' },
      }),
    );
  }
  return lines.join('\n');
}

describe(`collector: kill -9 and restart while clients retry (${backend})`, () => {
  let ws: Workspace;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await ws?.close();
  });

  it('every acknowledged event is in bronze, and exactly once in silver', async () => {
    const created = gamepipe(['key', 'create', '--game', 'g1', '--name', 'crash-client'], { cwd: ws.dir, env: ws.env });
    expect(created.stderr).toMatch(/created ingest key/);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^gp_[A-Za-z0-9_-]{43}$/);

    const port = await freePort();
    const start = async () => {
      child = spawnGamepipe(['collect', '--port', String(port)], { cwd: ws.dir, env: ws.env });
      await waitForLine(child, /collecting on (\S+)/);
    };
    const kill9 = async () => {
      const c = child!;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    };
    await start();

    const acked = new Set<number>();
    let retries = 0;
    let next = 0;
    const client = async () => {
      for (let b = next++; b < BATCHES; b = next++) {
        for (;;) {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/v1/events`, {
              method: 'POST',
              headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
              body: batch(b),
            });
            const answer = (await res.json()) as { accepted?: number };
            if (res.status === 200) {
              expect(answer.accepted).toBe(EVENTS_PER_BATCH);
              acked.add(b);
              break;
            }
          } catch {
            // connection refused or reset: the collector is down; retry the same batch
          }
          retries++;
          await sleep(25);
        }
      }
    };
    const clients = Promise.all(Array.from({ length: CLIENTS }, client));

    for (const after of [8, 22]) {
      while (acked.size < after) await sleep(5);
      await kill9();
      await start();
    }
    await clients;
    const stopped = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGTERM');
    await stopped;
    child = undefined;

    expect(acked.size).toBe(BATCHES);
    expect(retries).toBeGreaterThan(0);

    // Bronze: only committed ingestions' files remain (a publish cut by the kill was cleaned up on restart).
    const engine = await DuckEngine.open(ws.paths.tmp, { threads: 1 });
    try {
      const bronzeGlob = sqlString(path.join(ws.paths.lake, 'bronze/events/*/*.parquet'));
      const ledgerGlob = sqlString(path.join(ws.paths.lake, '_ingestions/*.json'));
      const [orphans] = await engine.rows<{ n: number }>(
        `SELECT count(*) AS n FROM read_parquet(${bronzeGlob}) WHERE ingestion_id NOT IN (SELECT ingestion_id FROM read_json(${ledgerGlob}))`,
      );
      expect(Number(orphans!.n)).toBe(0);
      const [copies] = await engine.rows<{ ids: number; rows: number }>(
        `SELECT count(DISTINCT event_id) AS ids, count(*) AS rows FROM read_parquet(${bronzeGlob})`,
      );
      expect(Number(copies!.ids)).toBe(BATCHES * EVENTS_PER_BATCH);
      expect(Number(copies!.rows)).toBeGreaterThanOrEqual(BATCHES * EVENTS_PER_BATCH);

      const silver = await buildSilverDay('2024-05-01', { paths: ws.paths, connections: ws.connections });
      const silverGlob = sqlString(path.join(silver.target, '*.parquet'));
      const [counted] = await engine.rows<{ ids: number; rows: number; maxCopies: number }>(
        `SELECT count(DISTINCT event_id) AS ids, count(*) AS rows, max(c) AS maxCopies
         FROM (SELECT event_id, count(*) AS c FROM read_parquet(${silverGlob}) WHERE NOT is_duplicate GROUP BY event_id)`,
      );
      expect(Number(counted!.ids)).toBe(BATCHES * EVENTS_PER_BATCH);
      expect(Number(counted!.maxCopies)).toBe(1);
      expect(silver.duplicates).toBe(Number(copies!.rows) - BATCHES * EVENTS_PER_BATCH);
    } finally {
      engine.close();
    }
    expect(fs.readdirSync(path.join(ws.paths.lake, '_ingestions')).filter((f) => f.startsWith('.lock-'))).toEqual([]);
  }, 240_000);
});
