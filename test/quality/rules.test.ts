import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckEngine } from '../../src/engine/duckdb.js';
import { EVENT_NAMES } from '../../src/events/catalog.js';
import { exampleEvent } from '../../src/events/schemas.js';
import { ingestFiles } from '../../src/ingest/ingest.js';
import { ENVELOPE_COLUMNS, PROPERTY_COLUMNS, type TypedEvent } from '../../src/quality/columns.js';
import { ERROR_RULES, QUALITY_RULES, checkEvent } from '../../src/quality/rules.js';
import { buildSilverDay } from '../../src/quality/silver.js';
import { createWorkspace, type Workspace } from '../helpers/workspace.js';
import { sqlString } from '../../src/sql/quote.js';

/**
 * The rules exist twice — a DuckDB predicate (silver) and a JS predicate (one event, for the
 * stream service). Here a fixture of events goes through the real path (ingest → silver layout)
 * and through `checkEvent`, and both must give the same verdict, the same typed columns and the
 * expected rules for every event.
 */

const INGESTED_AT = '2024-05-02T06:00:00.000Z';
const DAY = '2024-05-01';

type Json = Record<string, unknown>;
interface Case {
  name: string;
  event: Json;
  expected: string[];
  /** The line as sent, when JSON.stringify cannot produce it (e.g. `2.0`). */
  line?: string;
}

let seq = 0;
function ev(name: string, patch: Json = {}, props?: Json | null): Json {
  const base = exampleEvent(name as never) as Json;
  seq++;
  // Each clean register is its own user's, so it is nobody else's install time.
  const userId = name === 'register' ? `u_reg${seq}` : 'u_fixture';
  const event: Json = { ...base, eventId: `ev-${String(seq).padStart(4, '0')}`, userId, timestamp: `${DAY}T10:${String(seq % 60).padStart(2, '0')}:00.000Z`, ...patch };
  if (props === null) delete event.properties;
  else if (props !== undefined) event.properties = props;
  return event;
}
function without(event: Json, field: string): Json {
  const copy = { ...event };
  delete copy[field];
  return copy;
}

const cases: Case[] = [
  ...EVENT_NAMES.map((name) => ({ name: `clean ${name}`, event: ev(name), expected: [] })),
  { name: 'platform in lower case is normalized', event: ev('login', { platform: 'ios' }), expected: [] },
  { name: 'platform in upper case is normalized', event: ev('login', { platform: 'ANDROID' }), expected: [] },
  { name: 'country in lower case is normalized', event: ev('login', { countryCode: 'th' }), expected: [] },
  { name: 'ISO currency in lower case is normalized', event: ev('purchase', {}, { amount: 4.99, currency: 'usd', productId: 'p', paymentChannel: 'xsolla', transactionId: 't1' }), expected: [] },
  { name: 'virtual currency keeps its case', event: ev('currency_gain', {}, { currency: 'diamond', amount: 5, reasonId: 1 }), expected: [] },
  { name: 'missing userId', event: without(ev('login'), 'userId'), expected: ['missing_required_field'] },
  { name: 'missing gameId', event: without(ev('login'), 'gameId'), expected: ['missing_required_field'] },
  { name: 'missing eventId', event: without(ev('login'), 'eventId'), expected: ['missing_required_field'] },
  { name: 'missing eventName', event: without(ev('login'), 'eventName'), expected: ['missing_required_field'] },
  { name: 'empty eventId', event: ev('login', { eventId: '' }), expected: ['missing_required_field'] },
  { name: 'null userId', event: ev('login', { userId: null }), expected: ['missing_required_field'] },
  { name: 'numeric userId', event: ev('login', { userId: 42 }), expected: ['invalid_field_type'] },
  { name: 'numeric eventName', event: ev('login', { eventName: 7 }), expected: ['invalid_field_type'] },
  { name: 'numeric platform', event: ev('login', { platform: 3 }), expected: ['invalid_field_type'] },
  { name: 'levelFunnelVersion as a string', event: ev('login', { levelFunnelVersion: '2' }), expected: ['invalid_field_type'] },
  { name: 'levelFunnelVersion with a fraction', event: ev('login', { levelFunnelVersion: 1.5 }), expected: ['invalid_field_type'] },
  { name: 'null optional field', event: ev('login', { sessionId: null }), expected: [] },
  { name: 'properties is an array', event: ev('level_start', {}, [1, 2] as never), expected: ['invalid_field_type', 'missing_required_property'] },
  { name: 'properties missing where a property is required', event: ev('level_start', {}, null), expected: ['missing_required_property'] },
  { name: 'login without properties counts (level and ip unknown)', event: ev('login', {}, null), expected: [] },
  { name: 'register without properties', event: ev('register', { userId: 'u_plain' }, null), expected: [] },
  { name: 'unknown event name', event: ev('login', { eventName: 'tutorial_step' }), expected: ['unknown_event_name'] },
  { name: 'missing property', event: ev('purchase', {}, { currency: 'THB', productId: 'p', paymentChannel: 'xsolla', transactionId: 't2' }), expected: ['missing_required_property'] },
  { name: 'null required property', event: ev('level_failed', {}, { levelId: null, boosters: {}, egp: 0 }), expected: ['missing_required_property'] },
  { name: 'item without its quantity', event: ev('item_gain', {}, { itemId: 'x', reasonId: 1 }), expected: ['missing_required_property'] },
  { name: 'null optional property means unknown', event: ev('logout', {}, { level: 1, ip: '1.2.3.4', sessionSeconds: null }), expected: [] },
  { name: 'level_start without boosters and egp counts (none of either)', event: ev('level_start', {}, { levelId: 4 }), expected: [] },
  { name: 'level_complete with null egp counts (none)', event: ev('level_complete', {}, { levelId: 4, boosters: { hammer: 1 }, egp: null }), expected: [] },
  { name: 'purchase with only amount and currency counts', event: ev('purchase', {}, { amount: 0.99, currency: 'USD' }), expected: [] },
  { name: 'an optional property of the wrong type', event: ev('level_start', {}, { levelId: 4, boosters: {}, egp: '2' }), expected: ['invalid_property_type'] },
  { name: 'empty string property is present', event: ev('init', {}, { os: '', deviceModel: 'x' }), expected: [] },
  { name: 'amount as a string', event: ev('purchase', {}, { amount: '4.99', currency: 'USD', productId: 'p', paymentChannel: 'xsolla', transactionId: 't3' }), expected: ['invalid_property_type'] },
  { name: 'quantity with a fraction', event: ev('item_spend', {}, { itemId: 'x', quantity: 1.5, reasonId: 6 }), expected: ['invalid_property_type'] },
  (() => {
    const event = ev('item_spend', {}, { itemId: 'x', quantity: 2, reasonId: 6 });
    return { name: 'integral double is an integer', event, expected: [], line: JSON.stringify(event).replace('"quantity":2', '"quantity":2.0') };
  })(),
  { name: 'level beyond 32 bits: valid, typed NULL', event: ev('login', {}, { level: 1e10, ip: '1.2.3.4' }), expected: [] },
  { name: 'negative purchase amount', event: ev('purchase', {}, { amount: -4.99, currency: 'USD', productId: 'p', paymentChannel: 'xsolla', transactionId: 't4' }), expected: ['negative_amount'] },
  { name: 'negative virtual currency amount', event: ev('currency_spend', {}, { currency: 'gold', amount: -3, reasonId: 7 }), expected: ['negative_amount'] },
  { name: 'negative price', event: ev('store_view', {}, { offerId: 'o', price: -1, currency: 'USD' }), expected: ['negative_amount'] },
  { name: '119000 VND is not absurd', event: ev('purchase', {}, { amount: 119000, currency: 'VND', productId: 'p', paymentChannel: 'xsolla', transactionId: 't5' }), expected: [] },
  { name: '3,000,000 THB (84,000 USD) is not absurd', event: ev('purchase', {}, { amount: 3000000, currency: 'THB', productId: 'p', paymentChannel: 'xsolla', transactionId: 't6' }), expected: [] },
  { name: '5,000,000 USD is absurd', event: ev('purchase', {}, { amount: 5000000, currency: 'USD', productId: 'p', paymentChannel: 'xsolla', transactionId: 't7' }), expected: ['absurd_amount'] },
  { name: 'absurd in lower-case currency', event: ev('purchase', {}, { amount: 9000000000, currency: 'vnd', productId: 'p', paymentChannel: 'xsolla', transactionId: 't8' }), expected: ['absurd_amount'] },
  { name: 'unknown currency counts 1:1', event: ev('purchase', {}, { amount: 200000, currency: 'XYZ', productId: 'p', paymentChannel: 'xsolla', transactionId: 't9' }), expected: ['absurd_amount'] },
  { name: 'amount beyond DECIMAL(18,4)', event: ev('purchase', {}, { amount: 1e20, currency: 'USD', productId: 'p', paymentChannel: 'xsolla', transactionId: 't10' }), expected: ['absurd_amount'] },
  { name: 'negative quantity', event: ev('item_gain', {}, { itemId: 'x', quantity: -1, reasonId: 1 }), expected: ['negative_quantity'] },
  { name: 'unknown country', event: ev('login', { countryCode: 'XX' }), expected: ['unknown_country'] },
  { name: 'three-letter country kept as sent', event: ev('login', { countryCode: 'usa' }), expected: ['unknown_country'] },
  { name: 'unknown platform', event: ev('login', { platform: 'Switch' }), expected: ['unknown_platform'] },
  { name: 'timestamp without zone', event: ev('login', { timestamp: `${DAY} 10:00:00` }), expected: ['invalid_timestamp'] },
  { name: 'timestamp with offset', event: ev('login', { timestamp: `${DAY}T23:30:00+07:00` }), expected: [] },
  { name: 'timestamp within a day of ingestion', event: ev('login', { timestamp: '2024-05-03T05:00:00Z' }), expected: [] },
  { name: 'future timestamp', event: ev('login', { timestamp: '2040-01-01T00:00:00Z' }), expected: ['future_timestamp'] },
  { name: 'register of u_late', event: ev('register', { userId: 'u_late', timestamp: `${DAY}T12:00:00.000Z` }, {}), expected: [] },
  { name: 'event before install', event: ev('login', { userId: 'u_late', timestamp: `${DAY}T11:00:00.000Z` }), expected: ['before_install'] },
  { name: 'event after install', event: ev('login', { userId: 'u_late', timestamp: `${DAY}T13:00:00.000Z` }), expected: [] },
  { name: 'register next day', event: ev('register', { userId: 'u_next', timestamp: '2024-05-02T01:00:00.000Z' }, {}), expected: [] },
  { name: 'event the day before install', event: ev('login', { userId: 'u_next', timestamp: `${DAY}T22:00:00.000Z` }), expected: ['before_install'] },
  { name: 'several rules at once', event: ev('purchase', { countryCode: 'ZZ', platform: 'Switch' }, { amount: -1, currency: 'USD', productId: 'p', paymentChannel: 'x', transactionId: 't11' }), expected: ['negative_amount', 'unknown_country', 'unknown_platform'] },
  { name: 'a property the catalog does not declare for the event is not typed', event: ev('login', {}, { level: 3, ip: '1.2.3.4', amount: 5, currency: 'usd' }), expected: [] },
  { name: 'extra properties pass through', event: ev('match', {}, { matchId: 'm', result: 'draw', durationSeconds: 30, mvp: true, tags: ['a'] }), expected: [] },
  { name: 'level event with no boosters', event: ev('level_failed', {}, { levelId: 3, boosters: {}, egp: 2, durationSeconds: 40 }), expected: [] },
];

/** Install time by definition: the user's earliest register among all the fixture's events (none future-dated). */
function installTsFor(event: Json, all: Json[]): number | null {
  const ingestedAt = Date.parse(INGESTED_AT);
  let best: number | null = null;
  for (const r of all) {
    if (r.eventName !== 'register' || typeof r.gameId !== 'string' || typeof r.userId !== 'string') continue;
    if (r.gameId !== event.gameId || r.userId !== event.userId) continue;
    const ts = Date.parse(r.timestamp as string);
    if (ts > ingestedAt + 86_400_000) continue;
    if (best === null || ts < best) best = ts;
  }
  return best;
}

interface SilverRow {
  event_id: string | null;
  line_number: number;
  ds: string;
  event_ts_ms: number;
  is_valid: boolean;
  is_duplicate: boolean;
  validation_errors: string[];
  [column: string]: unknown;
}

describe('quality rules: the DuckDB and JS predicates agree', () => {
  let ws: Workspace;
  let rows: SilverRow[];
  const events = cases.map((c) => c.event);

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    const file = path.join(ws.dir, `events-${DAY}.ndjson`);
    // The same eventId twice: the second arrival is the duplicate.
    const lines = [...cases.map((c) => c.line ?? JSON.stringify(c.event)), JSON.stringify(events[1])];
    fs.writeFileSync(file, lines.join('\n') + '\n');
    await ingestFiles([file], ws.paths, { now: () => new Date(INGESTED_AT) });
    const days = fs.readdirSync(path.join(ws.paths.lake, 'bronze/events')).map((d) => d.slice(3)).sort();
    for (const day of days) await buildSilverDay(day, { paths: ws.paths, connections: ws.connections });
    const engine = await DuckEngine.open(ws.paths.tmp);
    try {
      const typed = [...ENVELOPE_COLUMNS, ...PROPERTY_COLUMNS]
        .map((c) => (c.kind === 'decimal' ? `CAST(${c.column} AS DOUBLE) AS ${c.column}` : c.kind === 'object' ? `CAST(${c.column} AS VARCHAR) AS ${c.column}` : c.column))
        .join(', ');
      rows = await engine.rows<SilverRow>(
        `SELECT ${typed}, CAST(properties AS VARCHAR) AS properties, country_name, CAST(epoch_ms(event_ts) AS DOUBLE) AS event_ts_ms,
                is_valid, is_duplicate, validation_errors, missing_fields, normalized_fields, line_number, CAST(ds AS VARCHAR) AS ds
         FROM read_parquet(${sqlString(path.join(ws.paths.lake, 'silver/events/*/*.parquet'))}, hive_partitioning = true)
         ORDER BY line_number`,
      );
    } finally {
      engine.close();
    }
  });
  afterAll(() => ws.close());

  it('every fixture line reaches silver exactly once', () => {
    expect(rows.map((r) => Number(r.line_number))).toEqual(Array.from({ length: cases.length + 1 }, (_, i) => i + 1));
  });

  it('every rule is exercised by the fixture', () => {
    const hit = new Set(cases.flatMap((c) => c.expected));
    expect(QUALITY_RULES.map((r) => r.name).filter((n) => !hit.has(n))).toEqual([]);
  });

  it.each(cases.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    const c = cases[i]!;
    const row = rows[i]!;
    const eventTs = Number(row.event_ts_ms);
    const verdict = checkEvent(c.event, { eventTs, ingestedAt: Date.parse(INGESTED_AT), installTs: installTsFor(c.event, events) });

    expect(verdict.validationErrors).toEqual(c.expected); // JS = expectation
    expect(row.validation_errors).toEqual(c.expected); // SQL = expectation
    expect(row.is_valid).toBe(verdict.isValid);
    expect(verdict.isValid).toBe(!c.expected.some((r) => ERROR_RULES.includes(r)));
    expect(row.is_duplicate).toBe(false);

    // Typed columns: SQL = JS.
    const t = verdict.typed as TypedEvent & Record<string, unknown>;
    for (const col of [...ENVELOPE_COLUMNS, ...PROPERTY_COLUMNS]) {
      const sql = row[col.column] ?? null;
      const js = t[col.column] ?? null;
      if (col.kind === 'decimal') {
        if (js === null) expect(sql, col.column).toBeNull();
        else expect(Number(sql), col.column).toBeCloseTo(js as number, 4);
      } else if (col.kind === 'object') {
        expect(sql === null ? null : JSON.parse(sql as string), col.column).toEqual(js);
      } else {
        expect(sql === null ? null : col.kind === 'integer' ? Number(sql) : sql, col.column).toEqual(js);
      }
    }
    expect(row.country_name ?? null).toEqual(t.country_name);
    expect(row.properties === null ? null : JSON.parse(row.properties as string)).toEqual(t.properties);
    expect(row.missing_fields).toEqual(t.missing_fields);
    expect(row.normalized_fields).toEqual(t.normalized_fields);
  });

  it('normalizes case and names the country', () => {
    const byName = (name: string) => rows[cases.findIndex((c) => c.name === name)]!;
    expect(byName('platform in lower case is normalized')).toMatchObject({ platform: 'iOS', normalized_fields: ['platform'] });
    expect(byName('country in lower case is normalized')).toMatchObject({ country_code: 'TH', country_name: 'Thailand', normalized_fields: ['countryCode'] });
    expect(byName('ISO currency in lower case is normalized')).toMatchObject({ currency: 'USD', normalized_fields: ['properties.currency'] });
    expect(byName('virtual currency keeps its case')).toMatchObject({ currency: 'diamond', normalized_fields: [] });
    expect(byName('timestamp with offset')).toMatchObject({ event_ts_ms: Date.parse('2024-05-01T16:30:00Z'), ds: '2024-05-01' });
  });

  it('absent optional properties take their catalog defaults in silver and in checkEvent (egp 0, boosters {}, others NULL)', () => {
    for (const name of ['level_start without boosters and egp counts (none of either)', 'level_complete with null egp counts (none)']) {
      const i = cases.findIndex((c) => c.name === name);
      const row = rows[i]!;
      const typed = checkEvent(cases[i]!.event, { eventTs: Number(row.event_ts_ms), ingestedAt: Date.parse(INGESTED_AT) }).typed;
      expect([Number(row.egp), typed.egp], name).toEqual([0, 0]);
    }
    const start = rows[cases.findIndex((c) => c.name.startsWith('level_start without boosters'))]!;
    expect(JSON.parse(start.boosters as string)).toEqual({});
    expect(start).toMatchObject({ level_id: 4, is_valid: true, missing_fields: [] });
    const purchase = rows[cases.findIndex((c) => c.name === 'purchase with only amount and currency counts')]!;
    expect(purchase).toMatchObject({ currency: 'USD', product_id: null, payment_channel: null, transaction_id: null, is_valid: true });
  });

  it('a future-dated event is filed under the file day, not years ahead', () => {
    const row = rows[cases.findIndex((c) => c.name === 'future timestamp')]!;
    expect(row.ds).toBe(DAY);
    expect(Number(row.event_ts_ms)).toBe(Date.parse('2040-01-01T00:00:00Z'));
  });

  it('the second arrival of an eventId is the duplicate, the first wins', () => {
    const dup = rows[cases.length]!;
    expect(dup.event_id).toBe(cases[1]!.event.eventId);
    expect(dup.is_duplicate).toBe(true);
    expect(rows[1]!.is_duplicate).toBe(false);
  });
});
