import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckEngine } from '../../src/engine/duckdb.js';
import { ingestFiles } from '../../src/ingest/ingest.js';
import { IngestionLedger } from '../../src/ingest/ledger.js';
import { scanFile } from '../../src/ingest/scan.js';
import { computeQualityReport } from '../../src/quality/report.js';
import { buildSilverDay } from '../../src/quality/silver.js';
import { errorText } from '../helpers/errors.js';
import { createWorkspace, type Workspace } from '../helpers/workspace.js';
import { sqlString } from '../../src/sql/quote.js';

/** Hand-written NDJSON following the event schemas, and everything that can be wrong with a file. */

const NOW = () => new Date('2024-05-03T08:00:00Z');

// A day of one player, written by hand after schemas/events/*.schema.json.
const DAY1 = [
  '{"eventId":"e-01","eventName":"register","timestamp":"2024-05-01T08:00:00Z","gameId":"game_1","userId":"u1","platform":"iOS","countryCode":"TH","properties":{"installSource":"organic"}}',
  '{"eventId":"e-02","eventName":"init","timestamp":"2024-05-01T08:00:01Z","gameId":"game_1","userId":"u1","sessionId":"s1","platform":"iOS","countryCode":"TH","appVersion":"1.0.0","properties":{"os":"iOS 17.1","deviceModel":"iPhone14,5"}}',
  '{"eventId":"e-03","eventName":"login","timestamp":"2024-05-01T08:00:02Z","gameId":"game_1","userId":"u1","sessionId":"s1","serverId":"s01","platform":"iOS","countryCode":"TH","appVersion":"1.0.0","levelFunnel":"live_v1","levelFunnelVersion":1,"properties":{"level":1,"ip":"171.96.14.203"}}',
  '{"eventId":"e-04","eventName":"level_start","timestamp":"2024-05-01T08:01:00Z","gameId":"game_1","userId":"u1","sessionId":"s1","platform":"ios","countryCode":"TH","properties":{"levelId":1,"boosters":{},"egp":0}}',
  '{"eventId":"e-05","eventName":"level_complete","timestamp":"2024-05-01T08:03:00Z","gameId":"game_1","userId":"u1","sessionId":"s1","platform":"iOS","countryCode":"TH","properties":{"levelId":1,"boosters":{"hammer":1},"egp":0,"durationSeconds":120}}',
  '{"eventId":"e-06","eventName":"purchase","timestamp":"2024-05-01T08:05:00Z","gameId":"game_1","userId":"u1","sessionId":"s1","platform":"iOS","countryCode":"TH","properties":{"amount":179,"currency":"thb","productId":"gems_500","paymentChannel":"app_store","transactionId":"tx-1"}}',
  '{"eventId":"e-07","eventName":"purchase","timestamp":"2024-05-01T08:06:00Z","gameId":"game_1","userId":"u1","sessionId":"s1","platform":"iOS","countryCode":"TH","properties":{"amount":-179,"currency":"THB","productId":"gems_500","paymentChannel":"app_store","transactionId":"tx-2"}}',
  '{"eventId":"e-06","eventName":"purchase","timestamp":"2024-05-01T08:05:00Z","gameId":"game_1","userId":"u1","sessionId":"s1","platform":"iOS","countryCode":"TH","properties":{"amount":179,"currency":"thb","productId":"gems_500","paymentChannel":"app_store","transactionId":"tx-1"}}',
  '',
  '{"eventId":"e-08","eventName":"tutorial_step","timestamp":"2024-05-01T08:07:00Z","gameId":"game_1","userId":"u1","properties":{"step":3}}',
  '{"eventId":"e-09","eventName":"logout","timestamp":"2024-05-01T08:30:00Z","gameId":"game_1","userId":"u1","sessionId":"s1","platform":"iOS","countryCode":"TH","properties":{"level":2,"ip":"171.96.14.203","sessionSeconds":1798}}',
  '{"eventId":"e-10","eventName":"login","timestamp":"2024-05-01T09:00:00Z","gameId":"game_1","userId":"u1","properties":{"level":2,"ip":"171.96.14.203"',
  '{"eventId":"e-11","eventName":"login","gameId":"game_1","userId":"u1","properties":{"level":2,"ip":"171.96.14.203"}}',
  '[1,2,3]',
  '{"eventId":"e-12","eventName":"login","timestamp":"yesterday","gameId":"game_1","userId":"u1","properties":{"level":2,"ip":"1.2.3.4"}}',
  '{"eventId":"e-13","eventName":"login","timestamp":"2039-01-01T00:00:00Z","gameId":"game_1","userId":"u1","properties":{"level":2,"ip":"1.2.3.4"}}',
];
// The next day's file brings one late event of May 1st.
const DAY2 = [
  '{"eventId":"e-20","eventName":"login","timestamp":"2024-05-02T10:00:00Z","gameId":"game_1","userId":"u1","platform":"iOS","countryCode":"TH","properties":{"level":2,"ip":"171.96.14.203"}}',
  '{"eventId":"e-21","eventName":"item_gain","timestamp":"2024-05-01T23:59:00Z","gameId":"game_1","userId":"u1","platform":"iOS","countryCode":"TH","properties":{"itemId":"chest_rare","quantity":1,"reasonId":1}}',
];

async function query<T>(ws: Workspace, sql: string): Promise<T[]> {
  const engine = await DuckEngine.open(ws.paths.tmp, { threads: 1 });
  try {
    return await engine.rows<T>(sql);
  } finally {
    engine.close();
  }
}

const parquet = (ws: Workspace, rel: string) => `read_parquet(${sqlString(path.join(ws.paths.lake, rel, '**', '*.parquet'))}, hive_partitioning = true, union_by_name = true)`;

describe('ingest → silver → quality on hand-written NDJSON', () => {
  let ws: Workspace;
  let day1: string;
  let day2: string;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    day1 = path.join(ws.dir, 'in', 'events-2024-05-01.ndjson');
    day2 = path.join(ws.dir, 'in', 'events-2024-05-02.ndjson');
    fs.mkdirSync(path.dirname(day1), { recursive: true });
    fs.writeFileSync(day1, DAY1.join('\n') + '\n');
    fs.writeFileSync(day2, DAY2.join('\n')); // no final newline
  });
  afterAll(() => ws.close());

  it('files every line: events by event day, malformed lines in quarantine with reason and text, blanks counted', async () => {
    const [r1, r2] = await ingestFiles([day1, day2], ws.paths, { source: 'game-server-1', now: NOW });
    expect(r1).toMatchObject({
      status: 'ingested',
      source: 'game-server-1',
      fileDay: '2024-05-01',
      lines: 16,
      events: 11,
      blankLines: 1,
      quarantined: 4,
      quarantinedByReason: { invalid_json: 1, missing_timestamp: 1, not_an_object: 1, invalid_timestamp: 1 },
      // the 2039 event is filed under its file's day, not 15 years ahead
      partitions: [{ ds: '2024-05-01', events: 11 }],
      framing: 'duckdb',
    });
    expect(r2).toMatchObject({ lines: 2, events: 2, quarantined: 0, partitions: [{ ds: '2024-05-01', events: 1 }, { ds: '2024-05-02', events: 1 }] });

    const quarantine = await query<{ line_number: number; reason: string; raw: string; file: string; source: string; ds: string }>(
      ws,
      `SELECT line_number, reason, raw, file, source, CAST(ds AS VARCHAR) AS ds FROM ${parquet(ws, 'quarantine/events')} ORDER BY line_number`,
    );
    expect(quarantine.map((q) => [Number(q.line_number), q.reason, q.raw])).toEqual([
      [12, 'invalid_json', DAY1[11]],
      [13, 'missing_timestamp', DAY1[12]],
      [14, 'not_an_object', DAY1[13]],
      [15, 'invalid_timestamp', DAY1[14]],
    ]);
    expect(quarantine.every((q) => q.file === day1 && q.source === 'game-server-1' && q.ds === '2024-05-01')).toBe(true);

    // bronze keeps each line as it came, with where it came from
    const bronze = await query<{ line_number: number; raw: string; ingestion_id: string }>(
      ws,
      `SELECT line_number, raw, ingestion_id FROM ${parquet(ws, 'bronze/events')} WHERE file = ${sqlString(day1)} ORDER BY line_number`,
    );
    expect(bronze.map((b) => [Number(b.line_number), b.raw])).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 16].map((n) => [n, DAY1[n - 1]]),
    );
    expect(new Set(bronze.map((b) => b.ingestion_id))).toEqual(new Set([r1!.ingestionId]));
  });

  it('builds silver: typed, normalized, deduplicated, flagged — and the report counts it all', async () => {
    for (const day of ['2024-05-01', '2024-05-02']) await buildSilverDay(day, { paths: ws.paths, connections: ws.connections });
    const rows = await query<Record<string, unknown>>(
      ws,
      `SELECT event_id, platform, currency, CAST(amount AS DOUBLE) AS amount, country_name, is_valid, is_duplicate, validation_errors, line_number
       FROM ${parquet(ws, 'silver/events')} WHERE ds = DATE '2024-05-01' ORDER BY ingested_at, source_file, line_number`,
    );
    const byLine = (n: number) => rows.find((r) => Number(r.line_number) === n && r.event_id !== 'e-21')!;
    expect(byLine(4)).toMatchObject({ platform: 'iOS', is_valid: true });
    expect(byLine(6)).toMatchObject({ currency: 'THB', amount: 179, country_name: 'Thailand', is_valid: true, is_duplicate: false });
    expect(byLine(7)).toMatchObject({ is_valid: false, validation_errors: ['negative_amount'] });
    expect(byLine(8)).toMatchObject({ event_id: 'e-06', is_duplicate: true });
    expect(byLine(10)).toMatchObject({ is_valid: true, validation_errors: ['unknown_event_name'] });
    expect(byLine(16)).toMatchObject({ event_id: 'e-13', is_valid: false, validation_errors: ['future_timestamp'] });

    const { report } = await computeQualityReport('2024-05-01', { paths: ws.paths, connections: ws.connections });
    // Hand count for May 1st: 11 lines of day 1 in bronze + the late item_gain of day 2.
    expect(report).toMatchObject({
      ds: '2024-05-01',
      raw: 12,
      valid: 9, // e-01…e-06, e-08 (flagged), e-09, e-21
      invalid: 2, // e-07 negative amount, e-13 future
      duplicates: 1, // second e-06
      flagged: 1,
      quarantined: 4,
      lateArrivals: 1,
      normalized: { platform: 1, countryCode: 0, currency: 1 },
      invalidByRule: expect.objectContaining({ negative_amount: 1, future_timestamp: 1, missing_required_field: 0 }),
      flaggedByRule: { unknown_event_name: 1 },
      quarantinedByReason: { invalid_json: 1, invalid_timestamp: 1, missing_timestamp: 1, not_an_object: 1 },
      reconciliation: { holds: true, raw: 12, valid: 9, invalid: 2, duplicates: 1 },
    });
    const may2 = (await computeQualityReport('2024-05-02', { paths: ws.paths, connections: ws.connections })).report;
    expect(may2).toMatchObject({ raw: 1, valid: 1, quarantined: 0, lateArrivals: 0, reconciliation: { holds: true } });
  });

  it('re-ingesting a file (or the same content under another name) is detected and adds nothing', async () => {
    const copy = path.join(ws.dir, 'in', 'copy-of-day-1.ndjson');
    fs.copyFileSync(day1, copy);
    const before = fs.readdirSync(path.join(ws.paths.lake, 'bronze/events/ds=2024-05-01'));
    const results = await ingestFiles([day1, copy], ws.paths, { now: NOW });
    expect(results.map((r) => r.status)).toEqual(['skipped', 'skipped']);
    expect(results[1]!.previous?.file).toBe(day1);
    expect(fs.readdirSync(path.join(ws.paths.lake, 'bronze/events/ds=2024-05-01'))).toEqual(before);
    expect(new IngestionLedger(ws.paths.lake).all()).toHaveLength(2);
  });

  it('a silver built before new data arrives shows up as not reconciled until rebuilt', async () => {
    const more = path.join(ws.dir, 'in', 'events-2024-05-02-b.ndjson');
    fs.writeFileSync(more, '{"eventId":"e-30","eventName":"login","timestamp":"2024-05-02T11:00:00Z","gameId":"game_1","userId":"u1","properties":{"level":2,"ip":"1.2.3.4"}}\n');
    await ingestFiles([more], ws.paths, { now: NOW });
    const stale = (await computeQualityReport('2024-05-02', { paths: ws.paths, connections: ws.connections })).report;
    expect(stale.reconciliation).toMatchObject({ holds: false, raw: 2, valid: 1 });
    await buildSilverDay('2024-05-02', { paths: ws.paths, connections: ws.connections });
    const fresh = (await computeQualityReport('2024-05-02', { paths: ws.paths, connections: ws.connections })).report;
    expect(fresh.reconciliation).toMatchObject({ holds: true, raw: 2, valid: 2 });
  });
});

describe('files DuckDB cannot read line by line as they are', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
  });
  afterAll(() => ws.close());

  it('CRLF, stray carriage returns, control bytes and invalid UTF-8: every line kept exactly', async () => {
    const ok = (id: string, extra = '') => `{"eventId":"${id}","eventName":"login","timestamp":"2024-05-01T10:00:00Z","gameId":"g","userId":"u"${extra},"properties":{"level":1,"ip":"1.2.3.4"}}`;
    const file = path.join(ws.dir, 'events-2024-05-01.ndjson');
    const parts = [
      Buffer.from('\ufeff' + ok('c1') + '\r\n'),
      Buffer.from(ok('c2', ',"note":"déjà vu ✓"') + '\r\n'),
      Buffer.from('broken\rline\r\n'),
      Buffer.from('ctl\x01byte\n'),
      Buffer.concat([Buffer.from('bad '), Buffer.from([0xff, 0xfe]), Buffer.from(' utf8\n')]),
      Buffer.from('\r\n'),
      Buffer.from(ok('c3')),
    ];
    fs.writeFileSync(file, Buffer.concat(parts));
    const scan = await scanFile(file);
    expect(scan).toMatchObject({ lines: 7, hasCarriageReturn: true, hasDelimiterByte: true, validUtf8: false });

    const [r] = await ingestFiles([file], ws.paths, { now: NOW });
    expect(r).toMatchObject({ framing: 'js', lines: 7, events: 3, blankLines: 1, quarantined: 3 });
    expect(r!.quarantinedByReason).toEqual({ invalid_json: 2, invalid_utf8: 1 });

    const bronze = await query<{ line_number: number; raw: string }>(ws, `SELECT line_number, raw FROM ${parquet(ws, 'bronze/events')} ORDER BY line_number`);
    expect(bronze.map((b) => [Number(b.line_number), b.raw])).toEqual([
      [1, ok('c1')],
      [2, ok('c2', ',"note":"déjà vu ✓"')],
      [7, ok('c3')],
    ]);
    const quarantine = await query<{ line_number: number; reason: string; raw: string | null; raw_base64: string | null }>(
      ws,
      `SELECT line_number, reason, raw, raw_base64 FROM ${parquet(ws, 'quarantine/events')} ORDER BY line_number`,
    );
    expect(quarantine.map((q) => [Number(q.line_number), q.reason, q.raw])).toEqual([
      [3, 'invalid_json', 'broken\rline'],
      [4, 'invalid_json', 'ctl\x01byte'],
      [5, 'invalid_utf8', null],
    ]);
    expect(Buffer.from(quarantine[2]!.raw_base64!, 'base64')).toEqual(parts[4]!.subarray(0, parts[4]!.length - 1));
  });
});

describe('crash safety', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
  });
  afterAll(() => ws.close());

  it('rows of an ingestion that never committed are invisible to silver and removed by the next ingest', async () => {
    const line = (id: string) => `{"eventId":"${id}","eventName":"login","timestamp":"2024-05-01T10:00:00Z","gameId":"g","userId":"u","properties":{"level":1,"ip":"1.2.3.4"}}\n`;
    const a = path.join(ws.dir, 'a.ndjson');
    fs.writeFileSync(a, line('a1'));
    const [first] = await ingestFiles([a], ws.paths, { now: NOW });

    // A crashed ingestion: its bronze file was moved in, its record never written, its lock left
    // behind by a process that no longer exists.
    const ledger = new IngestionLedger(ws.paths.lake);
    const orphanId = '20240503T000000Z-deadbeef';
    const dayDir = path.join(ws.paths.lake, 'bronze/events/ds=2024-05-01');
    const mine = fs.readdirSync(dayDir)[0]!;
    await query(
      ws,
      `COPY (SELECT * REPLACE (${sqlString(orphanId)} AS ingestion_id) FROM read_parquet(${sqlString(path.join(dayDir, mine))}))
       TO ${sqlString(path.join(dayDir, `part-${orphanId}-0.parquet`))} (FORMAT parquet)`,
    );
    const crashed = { pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), ingestion_id: orphanId, started_at: '2024-05-03T00:00:00Z' };
    fs.writeFileSync(path.join(ledger.dir, `.lock-${'f'.repeat(64)}`), JSON.stringify(crashed));

    const silver = await buildSilverDay('2024-05-01', { paths: ws.paths, connections: ws.connections });
    expect(silver.rows).toBe(1); // the orphan copy of a1 is not read

    const b = path.join(ws.dir, 'b.ndjson');
    fs.writeFileSync(b, line('b1'));
    await ingestFiles([b], ws.paths, { now: NOW });
    expect(fs.readdirSync(dayDir).filter((f) => f.includes(orphanId))).toEqual([]);
    expect(fs.readdirSync(ledger.dir).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(fs.readdirSync(dayDir).some((f) => f.includes(first!.ingestionId))).toBe(true);
  });

  it('a lock held by a live process refuses a second ingestion of the same content', async () => {
    const c = path.join(ws.dir, 'c.ndjson');
    fs.writeFileSync(c, '{"eventId":"c1","eventName":"login","timestamp":"2024-05-01T10:00:00Z","gameId":"g","userId":"u"}\n');
    const { sha256 } = await scanFile(c);
    const ledger = new IngestionLedger(ws.paths.lake);
    const release = ledger.claim(sha256, 'other', c);
    try {
      expect(await errorText(() => ingestFiles([c], ws.paths))).toMatch(/c\.ndjson: this content is being ingested right now \(process \d+/);
    } finally {
      release();
    }
    expect((await ingestFiles([c], ws.paths))[0]!.status).toBe('ingested');
  });
});

describe('bad input gets a clear error naming it', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
  });
  afterAll(() => ws.close());

  it('names a missing file or a folder, and ingests nothing of the batch', async () => {
    const good = path.join(ws.dir, 'good.ndjson');
    fs.writeFileSync(good, '{"eventId":"x","eventName":"login","timestamp":"2024-05-01T10:00:00Z","gameId":"g","userId":"u"}\n');
    const missing = path.join(ws.dir, 'nope.ndjson');
    expect(await errorText(() => ingestFiles([good, missing], ws.paths))).toBe(
      `${missing}: cannot read input file: ENOENT\n  expected: an existing NDJSON file (one JSON event per line)`,
    );
    expect(fs.existsSync(path.join(ws.paths.lake, 'bronze'))).toBe(false);
    expect(await errorText(() => ingestFiles([ws.dir], ws.paths))).toMatch(/: input is not a file\n {2}expected: an NDJSON file/);
    expect(await errorText(() => ingestFiles([], ws.paths))).toMatch(/^no input files/);
  });

  it('names a bad source, date or file day', async () => {
    const good = path.join(ws.dir, 'good.ndjson');
    expect(await errorText(() => ingestFiles([good], ws.paths, { source: "x'; drop" }))).toMatch(/^--source: invalid source name/);
    expect(await errorText(() => ingestFiles([good], ws.paths, { fileDay: '2024-02-30' }))).toMatch(/invalid file day "2024-02-30"\n {2}expected: a calendar date/);
    expect(await errorText(() => buildSilverDay('2024-13-01', { paths: ws.paths, connections: ws.connections }))).toMatch(/^--date: "2024-13-01" is not a date/);
    expect(await errorText(() => buildSilverDay('2024-06-01', { paths: ws.paths, connections: ws.connections }))).toMatch(
      /ds=2024-06-01: no bronze events for 2024-06-01\n {2}expected: events of that day ingested first/,
    );
    expect(await errorText(() => computeQualityReport('2024-06-01', { paths: ws.paths, connections: ws.connections }))).toMatch(
      /nothing was ingested for 2024-06-01/,
    );
  });
});
