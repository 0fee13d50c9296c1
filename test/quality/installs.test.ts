import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckEngine } from '../../src/engine/duckdb.js';
import { sqlString } from '../../src/sql/quote.js';
import { ingestFiles } from '../../src/ingest/ingest.js';
import { loadPipeline } from '../../src/pipeline/definition.js';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { DAILY_PIPELINE_DIR, SILVER_EVENTS_JOB, buildSilverDay } from '../../src/quality/silver.js';
import { PgInstallStore } from '../../src/stream/installs.js';
import { QualityProcessor, type DeadLetter } from '../../src/stream/quality.js';
import { ensureRealtimeTables } from '../../src/stream/tables.js';
import type { StreamRecord } from '../../src/stream/transport.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';

/**
 * A user's install time is the earliest `register` of the user over all of bronze, whatever the
 * order days are ingested, rebuilt or run in (in parallel too), and batch (silver) and stream
 * give the same verdicts. The expected verdicts are written by hand below, from the timestamps.
 */

const INGESTED_AT = new Date('2024-05-04T00:00:00Z');
let seq = 0;
function event(userId: string, eventName: 'register' | 'login', timestamp: string): Record<string, unknown> {
  seq++;
  return {
    eventId: `${userId}-${eventName}-${seq}`,
    eventName,
    timestamp,
    gameId: 'g',
    userId,
    platform: 'iOS',
    countryCode: 'TH',
    properties: eventName === 'login' ? { level: 1, ip: '10.0.0.1' } : {},
  };
}

// ua registers on 05-01 and again (a reinstall) on 05-03: its install is 05-01 10:00.
const uaRegister1 = event('ua', 'register', '2024-05-01T10:00:00Z');
const uaLogin0502 = event('ua', 'login', '2024-05-02T12:00:00Z');
const uaLogin0503 = event('ua', 'login', '2024-05-03T08:00:00Z');
const uaRegister2 = event('ua', 'register', '2024-05-03T09:00:00Z');
// ub logs in an hour before its only register.
const ubLogin0501 = event('ub', 'login', '2024-05-01T09:00:00Z');
const ubRegister = event('ub', 'register', '2024-05-01T10:00:00Z');
const ubLogin0502 = event('ub', 'login', '2024-05-02T09:00:00Z');
// uc's only register is on 05-03, after its login of 05-02.
const ucLogin0502 = event('uc', 'login', '2024-05-02T11:00:00Z');
const ucRegister = event('uc', 'register', '2024-05-03T12:00:00Z');
// ud registers on 05-03; a second file, ingested after the days were built, brings its first
// register, of 05-01 07:00 (a day re-ingested with an earlier register).
const udLogin0502 = event('ud', 'login', '2024-05-02T08:00:00Z');
const udRegister0503 = event('ud', 'register', '2024-05-03T07:00:00Z');
const udRegister0501 = event('ud', 'register', '2024-05-01T07:00:00Z');

const FIRST_FILE = [uaRegister1, uaLogin0502, uaLogin0503, uaRegister2, ubLogin0501, ubRegister, ubLogin0502, ucLogin0502, ucRegister, udLogin0502, udRegister0503];
const SECOND_FILE = [udRegister0501];
const DAYS = ['2024-05-01', '2024-05-02', '2024-05-03'];

/** By hand: before the second file, ud's login (05-02 08:00) precedes its only known register (05-03 07:00). */
const EXPECTED_BEFORE_SECOND_FILE: Record<string, string[]> = {
  [uaRegister1.eventId as string]: [],
  [uaLogin0502.eventId as string]: [],
  [uaLogin0503.eventId as string]: [],
  [uaRegister2.eventId as string]: [],
  [ubLogin0501.eventId as string]: ['before_install'],
  [ubRegister.eventId as string]: [],
  [ubLogin0502.eventId as string]: [],
  [ucLogin0502.eventId as string]: ['before_install'],
  [ucRegister.eventId as string]: [],
  [udLogin0502.eventId as string]: ['before_install'],
  [udRegister0503.eventId as string]: [],
};
/** By hand: with ud's register of 05-01 07:00 known, its login of 05-02 is after the install. */
const EXPECTED: Record<string, string[]> = {
  ...EXPECTED_BEFORE_SECOND_FILE,
  [udLogin0502.eventId as string]: [],
  [udRegister0501.eventId as string]: [],
};

describe(`install time over all of bronze (${backend})`, () => {
  let ws: Workspace;

  function writeNdjson(name: string, events: Record<string, unknown>[]): string {
    const file = path.join(ws.dir, name);
    fs.writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    return file;
  }

  async function silverVerdicts(): Promise<Record<string, string[]>> {
    const engine = await DuckEngine.open(ws.paths.tmp);
    try {
      const rows = await engine.rows<{ event_id: string; validation_errors: string[] }>(
        `SELECT event_id, validation_errors FROM read_parquet(${sqlString(path.join(ws.paths.lake, 'silver/events/*/*.parquet'))}) ORDER BY event_id`,
      );
      return Object.fromEntries(rows.map((r) => [r.event_id, [...r.validation_errors]]));
    } finally {
      engine.close();
    }
  }

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
  });
  afterAll(() => ws.close());

  it('silver: days built out of order and in parallel (a backfill) take the earliest register of every day', async () => {
    await ingestFiles([writeNdjson('first.ndjson', FIRST_FILE)], ws.paths, { now: () => INGESTED_AT });
    const backfill = await runPipeline(loadPipeline(DAILY_PIPELINE_DIR), { paths: ws.paths, connections: ws.connections }, {
      varSets: ['2024-05-03', '2024-05-01', '2024-05-02'].map((logDate) => ({ logDate })),
      only: [SILVER_EVENTS_JOB],
      concurrency: 3,
    });
    expect(backfill.tasks.map((t) => [t.vars.logDate, t.status])).toEqual([
      ['2024-05-03', 'succeeded'], ['2024-05-01', 'succeeded'], ['2024-05-02', 'succeeded'],
    ]);
    expect(await silverVerdicts()).toEqual(EXPECTED_BEFORE_SECOND_FILE);
  });

  it('silver: an earlier register ingested later counts once the day is rebuilt', async () => {
    await ingestFiles([writeNdjson('second.ndjson', SECOND_FILE)], ws.paths, { now: () => INGESTED_AT });
    for (const d of ['2024-05-02', '2024-05-01']) await buildSilverDay(d, { paths: ws.paths, connections: ws.connections, threads: 1 });
    expect(await silverVerdicts()).toEqual(EXPECTED);
  });

  it('a lake ingested before the install index gets it at the next ingest', async () => {
    const index = path.join(ws.paths.lake, 'bronze', 'installs');
    fs.rmSync(index, { recursive: true });
    await ingestFiles([writeNdjson('third.ndjson', [event('ue', 'login', '2024-05-03T13:00:00Z')])], ws.paths, { now: () => INGESTED_AT });
    expect(fs.readdirSync(index).filter((f) => f.endsWith('.parquet'))).toHaveLength(3);
    for (const d of DAYS) await buildSilverDay(d, { paths: ws.paths, connections: ws.connections, threads: 1 });
    const verdicts = await silverVerdicts();
    expect(Object.fromEntries(Object.entries(verdicts).filter(([id]) => !id.startsWith('ue-')))).toEqual(EXPECTED);
  });

  it('stream: the quality service gives the same verdicts (each register arrives before the other events)', async () => {
    const warehouse = ws.connections.get('WAREHOUSE');
    await ensureRealtimeTables(warehouse);
    const q = new QualityProcessor(new PgInstallStore(warehouse));
    // A client sends its register first: a stream only knows the registers it has seen.
    const registersFirst = (e: Record<string, unknown>) => (e.eventName === 'register' ? 0 : 1);
    const all = [...FIRST_FILE, ...SECOND_FILE].sort((a, b) => registersFirst(a) - registersFirst(b) || String(a.timestamp).localeCompare(String(b.timestamp)));
    const records: StreamRecord[] = all.map((e, i) => ({
      topic: 'events-raw', partition: 0, offset: BigInt(i), key: Buffer.from(String(e.userId)),
      value: Buffer.from(JSON.stringify(e)), timestamp: INGESTED_AT.getTime(),
    }));
    const batch = await q.process(records);
    batch.accept();
    const verdicts: Record<string, string[]> = Object.fromEntries(all.map((e) => [e.eventId as string, [] as string[]]));
    for (const r of batch.out.filter((o) => o.topic === 'events-dlq')) {
      const dead = JSON.parse(String(r.value)) as DeadLetter;
      verdicts[dead.eventId!] = dead.reasons;
    }
    expect(verdicts).toEqual(EXPECTED);
    const silver = await silverVerdicts();
    expect(verdicts).toEqual(Object.fromEntries(Object.entries(silver).filter(([id]) => id in verdicts)));
  });
});
