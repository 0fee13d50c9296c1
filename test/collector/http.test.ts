import zlib from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/auth/tokens.js';
import { buildCollectorApp, collectorConfigSchema, openCollector, type Collector } from '../../src/collector/index.js';
import type { CollectedBatch, EventSink } from '../../src/collector/batch.js';
import { GroupCommitter } from '../../src/collector/groupCommit.js';
import { IngestionLedger } from '../../src/ingest/ledger.js';
import { backend, createWorkspace, readParquetRows, type Workspace } from '../helpers/workspace.js';

/**
 * The collector over HTTP (in-process requests through Fastify's inject), writing to bronze:
 * key checks, body formats, quarantine of malformed events, and every limit.
 */

let seq = 0;
function event(over: Record<string, unknown> = {}): Record<string, unknown> {
  seq++;
  return {
    eventId: `e-${String(seq).padStart(5, '0')}`,
    eventName: 'login',
    timestamp: '2024-05-01T10:00:00Z',
    gameId: 'g1',
    userId: `u${seq % 7}`,
    properties: { level: 3, ip: '10.0.0.1' },
    ...over,
  };
}

const ndjson = (events: unknown[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

describe(`HTTP collector → bronze (${backend})`, () => {
  let ws: Workspace;
  let store: TokenStore;
  let collector: Collector;
  let app: FastifyInstance;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    store = new TokenStore(ws.connections.get('WAREHOUSE'));
    keys.g1 = (await store.create({ name: 'srv-g1', role: 'ingest', gameId: 'g1' })).token;
    keys.g2 = (await store.create({ name: 'srv-g2', role: 'ingest', gameId: 'g2' })).token;
    keys.revoked = (await store.create({ name: 'old-g1', role: 'ingest', gameId: 'g1' })).token;
    keys.read = (await store.create({ name: 'screen', role: 'read' })).token;
    await store.revoke('old-g1');
    collector = await openCollector({
      paths: ws.paths,
      config: collectorConfigSchema.parse({ maxBodyBytes: 20_000, maxBatchEvents: 50 }),
    });
    app = await buildCollectorApp(collector, store);
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await collector?.close();
    await ws?.close();
  });

  const post = (payload: string | Buffer, key: string | undefined, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/v1/events',
      payload,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    });

  const bronze = async () => (await readParquetRows(`${ws.paths.lake}/bronze/events`, 'event_id')) as Array<Record<string, unknown>>;
  const quarantine = async () => (await readParquetRows(`${ws.paths.lake}/quarantine/events`, 'line_number')) as Array<Record<string, unknown>>;

  it('a JSON array is acknowledged once in bronze, under the ledger, with the key as source', async () => {
    const events = [event(), event(), event({ timestamp: '2024-05-02T23:59:59+02:00' })];
    const res = await post(JSON.stringify(events), keys.g1);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 3, rejected: 0, reasons: {}, errors: [] });
    const rows = await bronze();
    expect(rows.map((r) => r.event_id)).toEqual(events.map((e) => e.eventId));
    expect(rows.map((r) => String(r.ds))).toEqual(['2024-05-01', '2024-05-01', '2024-05-02']);
    expect(rows.every((r) => r.source === 'http:srv-g1')).toBe(true);
    expect(JSON.parse(String(rows[0]!.raw))).toEqual(events[0]);
    const ledger = new IngestionLedger(ws.paths.lake).all();
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ events: 3, quarantined: 0, partitions: { '2024-05-01': 2, '2024-05-02': 1 } });
    expect(rows.every((r) => r.ingestion_id === ledger[0]!.ingestion_id)).toBe(true);
  });

  it('NDJSON and gzip bodies; blank lines are skipped', async () => {
    const a = [event(), event()];
    const nd = await post(ndjson(a) + '\n\n', keys.g1, { 'content-type': 'application/x-ndjson' });
    expect(nd.json()).toMatchObject({ accepted: 2, rejected: 0 });
    const b = [event(), event(), event()];
    const gz = await post(zlib.gzipSync(JSON.stringify(b)), keys.g1, { 'content-encoding': 'gzip' });
    expect(gz.statusCode).toBe(200);
    expect(gz.json()).toMatchObject({ accepted: 3 });
    const c = [event()];
    const gzNd = await post(zlib.gzipSync(ndjson(c)), keys.g1, { 'content-encoding': 'gzip', 'content-type': 'application/x-ndjson' });
    expect(gzNd.json()).toMatchObject({ accepted: 1 });
    const ids = new Set((await bronze()).map((r) => r.event_id));
    for (const e of [...a, ...b, ...c]) expect(ids.has(e.eventId as string)).toBe(true);
  });

  it('malformed events go to quarantine with their reason; the rest of the batch is accepted', async () => {
    const good = event();
    const body = [
      JSON.stringify(good),
      '{not json',
      '[1,2]',
      JSON.stringify(event({ timestamp: undefined })),
      JSON.stringify(event({ timestamp: 'yesterday' })),
      JSON.stringify(event({ gameId: 'g2' })),
    ].join('\n');
    const res = await post(body, keys.g1, { 'content-type': 'application/x-ndjson' });
    expect(res.statusCode).toBe(200);
    const answer = res.json();
    expect(answer).toMatchObject({
      accepted: 1,
      rejected: 5,
      reasons: { invalid_json: 1, not_an_object: 1, missing_timestamp: 1, invalid_timestamp: 1, wrong_game: 1 },
    });
    expect(answer.errors.map((e: { index: number; reason: string }) => [e.index, e.reason])).toEqual([
      [1, 'invalid_json'],
      [2, 'not_an_object'],
      [3, 'missing_timestamp'],
      [4, 'invalid_timestamp'],
      [5, 'wrong_game'],
    ]);
    expect(answer.errors[4].detail).toMatch(/"g2".*"g1"/);
    const q = await quarantine();
    expect(q.map((r) => r.reason).sort()).toEqual(['invalid_json', 'invalid_timestamp', 'missing_timestamp', 'not_an_object', 'wrong_game']);
    expect(q.find((r) => r.reason === 'invalid_json')!.raw).toBe('{not json');
    expect((await bronze()).some((r) => r.event_id === good.eventId)).toBe(true);
  });

  it('an event without gameId gets the key’s game', async () => {
    const e = event({ gameId: undefined });
    expect((await post(JSON.stringify([e]), keys.g2)).json()).toMatchObject({ accepted: 1 });
    const row = (await bronze()).find((r) => r.event_id === e.eventId)!;
    expect(JSON.parse(String(row.raw)).gameId).toBe('g2');
  });

  it('key checks: missing, unknown, revoked → 401; a read token → 403; another game’s events → rejected', async () => {
    const body = JSON.stringify([event()]);
    const missing = await post(body, undefined);
    expect(missing.statusCode).toBe(401);
    expect(missing.json().expected).toMatch(/ingest token/);
    expect((await post(body, 'gp_' + 'x'.repeat(43))).statusCode).toBe(401);
    const revoked = await post(body, keys.revoked);
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error).toMatch(/revoked/);
    expect((await post(body, keys.read)).statusCode).toBe(403);
    const other = await post(JSON.stringify([event({ gameId: 'g1' })]), keys.g2);
    expect(other.json()).toMatchObject({ accepted: 0, rejected: 1, reasons: { wrong_game: 1 } });
    // Write-only: an ingest key reads nothing.
    const read = await app.inject({ method: 'GET', url: '/api/health' });
    expect(read.statusCode).toBe(200);
  });

  it('413: body over the limit, decompressed body over the limit, batch over the event limit; 400 not an array', async () => {
    const big = JSON.stringify([event({ properties: { pad: 'x'.repeat(25_000) } })]);
    const tooBig = await post(big, keys.g1);
    expect(tooBig.statusCode).toBe(413);
    const bomb = zlib.gzipSync(Buffer.from(JSON.stringify([event({ properties: { pad: ' '.repeat(200_000) } })])));
    expect(bomb.length).toBeLessThan(20_000);
    const bombed = await post(bomb, keys.g1, { 'content-encoding': 'gzip' });
    expect(bombed.statusCode).toBe(413);
    expect(bombed.json().error).toMatch(/decompressed/);
    const many = await post(ndjson(Array.from({ length: 51 }, () => ({ a: 1 }))), keys.g1, { 'content-type': 'application/x-ndjson' });
    expect(many.statusCode).toBe(413);
    expect(many.json().error).toMatch(/51 events/);
    expect((await post('{"a":1}', keys.g1)).statusCode).toBe(400);
    expect((await post('not json', keys.g1)).statusCode).toBe(400);
  });
});

describe(`HTTP collector limits: 429 and 503 (${backend})`, () => {
  let ws: Workspace;
  let store: TokenStore;
  let key: string;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    store = new TokenStore(ws.connections.get('WAREHOUSE'));
    key = (await store.create({ name: 'srv', role: 'ingest', gameId: 'g1' })).token;
  });
  afterAll(async () => ws?.close());

  const post = (app: FastifyInstance, events: unknown[], k = key) =>
    app.inject({ method: 'POST', url: '/v1/events', payload: JSON.stringify(events), headers: { 'content-type': 'application/json', authorization: `Bearer ${k}` } });

  it('429 with Retry-After once a key has used its burst; other keys are not affected', async () => {
    const collector = await openCollector({
      paths: ws.paths,
      config: collectorConfigSchema.parse({ eventsPerSecondPerKey: 0.01, burstEventsPerKey: 5 }),
    });
    const app = await buildCollectorApp(collector, store);
    try {
      expect((await post(app, [event(), event(), event(), event(), event()])).statusCode).toBe(200);
      const limited = await post(app, [event()]);
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const other = (await store.create({ name: 'srv2', role: 'ingest', gameId: 'g1' })).token;
      expect((await post(app, [event()], other)).statusCode).toBe(200);
    } finally {
      await app.close();
      await collector.close();
    }
  });

  it('503 with Retry-After when the write queue is full; the refused batch is not written', async () => {
    const collector = await openCollector({ paths: ws.paths, config: collectorConfigSchema.parse({ maxQueuedEvents: 3 }) });
    // The real bronze sink behind a gate: the first write stays in flight until the test opens it.
    let open!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const writing = new Promise<void>((resolve) => (started = resolve));
    const gated: EventSink = {
      kind: 'bronze',
      write: async (batches: readonly CollectedBatch[]) => {
        started();
        await gate;
        await collector.sink.write(batches);
      },
      close: async () => {},
    };
    const committer = new GroupCommitter(gated, { maxQueuedEvents: 3, maxEventsPerCommit: 100, concurrency: 1 });
    const app = await buildCollectorApp({ ...collector, committer }, store);
    try {
      const first = [event()];
      const second = [event(), event()];
      const refused = [event(), event()];
      const inFlight = post(app, first);
      await writing;
      const queued = post(app, second);
      while (committer.queuedEvents < 2) await new Promise((r) => setTimeout(r, 5));
      expect(committer.queuedEvents).toBe(2);
      const full = await post(app, refused);
      expect(full.statusCode).toBe(503);
      expect(full.headers['retry-after']).toBe('1');
      open();
      expect((await inFlight).statusCode).toBe(200);
      expect((await queued).statusCode).toBe(200);
      const ids = new Set((await readParquetRows(`${ws.paths.lake}/bronze/events`, 'event_id')).map((r) => r.event_id));
      for (const e of [...first, ...second]) expect(ids.has(e.eventId)).toBe(true);
      for (const e of refused) expect(ids.has(e.eventId)).toBe(false);
    } finally {
      await app.close();
      await collector.close();
    }
  });
});
