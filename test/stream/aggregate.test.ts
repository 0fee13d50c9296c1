import fs from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgAdapter } from '../../src/connections/adapter.js';
import { realtimeRoutes } from '../../src/server/routes/realtime.js';
import { MinuteAggregator } from '../../src/stream/aggregate.js';
import type { EnrichedEvent } from '../../src/stream/quality.js';
import { ensureRealtimeTables } from '../../src/stream/tables.js';
import type { StreamRecord } from '../../src/stream/transport.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';
import { decimal } from './helpers/reference.js';

/** The aggregator's bookkeeping on hand-made records: exact totals, replays, fencing, lateness. */

const T0 = Date.parse('2024-05-01T10:00:00Z');
const MIN = 60_000;

function enriched(id: string, at: number, over: Partial<EnrichedEvent> & { amount?: number; currency?: string } = {}): EnrichedEvent {
  const { amount, currency, ...rest } = over;
  return {
    eventId: id,
    eventName: amount !== undefined ? 'purchase' : 'login',
    timestamp: new Date(at).toISOString(),
    gameId: 'game_1',
    userId: 'u1',
    countryCode: 'VN',
    properties: amount !== undefined ? { amount, currency: currency ?? 'USD' } : {},
    enrichment: {
      eventTs: at,
      countryName: 'Vietnam',
      warnings: [],
      normalizedFields: [],
      source: { topic: 'events-raw', partition: 0, offset: '0', ingestedAt: new Date(at).toISOString() },
    },
    ...rest,
  };
}

function recordsOf(events: EnrichedEvent[], partition = 0, from = 0): StreamRecord[] {
  return events.map((e, i) => ({
    topic: 'events-enriched',
    partition,
    offset: BigInt(from + i),
    key: Buffer.from(e.userId),
    value: Buffer.from(JSON.stringify(e)),
    timestamp: e.enrichment.eventTs,
  }));
}

describe(`MinuteAggregator (${backend})`, () => {
  let ws: Workspace;
  let db: PgAdapter;
  let ratesFile: string;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    db = ws.connections.get('WAREHOUSE');
    await ensureRealtimeTables(db);
    // VND changes rate on May 2nd: a purchase converts at the rate of its day.
    ratesFile = path.join(ws.dir, 'rates.csv');
    fs.writeFileSync(ratesFile, 'currency,usd_per_unit,valid_from\nUSD,1.0,2024-01-01\nVND,0.0000393,2024-01-01\nVND,0.00005,2024-05-02\n');
  });
  afterAll(async () => {
    await ws?.close();
  });

  const kpis = () =>
    ws.query<Record<string, string | number>>(
      `SELECT to_char(window_start, 'HH24:MI') AS w, purchases, revenue_usd::text AS revenue, active_users, matches, events FROM rt_minute_kpis ORDER BY 1`,
    );

  it('adds each event once, exact distinct users and revenue; a replayed batch changes nothing', async () => {
    const agg = new MinuteAggregator(db, { groupId: 'g1', ratesFile });
    const batch = recordsOf([
      enriched('a1', T0 + 1_000),
      enriched('a2', T0 + 2_000, { userId: 'u2', amount: 4.99 }),
      enriched('a3', T0 + 3_000, { amount: 119000, currency: 'VND' }),
      enriched('a3', T0 + 3_000, { amount: 119000, currency: 'VND' }), // re-sent by the quality service
      enriched('a4', T0 + MIN + 5_000, { eventName: 'match', userId: 'u3' }),
    ]);
    const first = await agg.apply(batch);
    expect(first).toMatchObject({ applied: 5, replayed: 0, counted: 4, duplicates: 1, late: 0 });
    // Same records again (a restart that re-reads them): all skipped by offset.
    expect(await agg.apply(batch)).toMatchObject({ applied: 0, replayed: 5, counted: 0 });
    // A fresh instance (after a crash) reloads the offsets from rt_offsets and skips them too.
    expect(await new MinuteAggregator(db, { groupId: 'g1', ratesFile }).apply(batch)).toMatchObject({ applied: 0, replayed: 5 });
    const rows = (await kpis()).map((r) => [r.w, Number(r.purchases), decimal(r.revenue), Number(r.active_users), Number(r.matches), Number(r.events)]);
    // 10:00: u1 login + u2 purchase 4.99 USD + u1 purchase 119,000 VND (× 0.0000393 = 4.6767 USD,
    // exact decimals) → 2 purchases, 9.6667 USD, 2 users.
    expect(rows).toEqual([
      ['10:00', 2, '9.6667', 2, 0, 3],
      ['10:01', 0, '0', 1, 1, 1],
    ]);
    const byCountry = await ws.query<Record<string, string | number>>(`SELECT country_code, country_name, purchases, revenue_usd::text AS r FROM rt_minute_revenue_by_country`);
    expect(byCountry.map((r) => [r.country_code, r.country_name, Number(r.purchases), decimal(r.r)])).toEqual([['VN', 'Vietnam', 2, '9.6667']]);
  });

  it('converts purchases as the daily pipeline does: the rate of the day, none for a currency without a rate', async () => {
    const agg = new MinuteAggregator(db, { groupId: 'g4', ratesFile });
    const may2 = Date.parse('2024-05-02T00:30:00Z');
    await agg.apply(
      recordsOf(
        [
          enriched('c1', may2, { amount: 100000, currency: 'VND', userId: 'c1' }), // 0.00005 from May 2nd → 5 USD
          enriched('c2', may2 + 1000, { amount: 7.5, currency: 'CHF', userId: 'c2' }), // no rate: a purchase, no revenue
        ],
        3,
      ),
    );
    const row = (await ws.query<{ purchases: string | number; revenue: string }>(`SELECT purchases, revenue_usd::text AS revenue FROM rt_minute_kpis WHERE window_start = '2024-05-02T00:30:00Z'`))[0]!;
    expect([Number(row.purchases), decimal(row.revenue)]).toEqual([2, '5']);
  });

  it('fences a stale member: a partition applied meanwhile by another is re-read from rt_offsets, never counted twice', async () => {
    const a = new MinuteAggregator(db, { groupId: 'g2', ratesFile });
    const b = new MinuteAggregator(db, { groupId: 'g2', ratesFile });
    const events = Array.from({ length: 20 }, (_, i) => enriched(`f${i}`, T0 + 10 * MIN + i * 1000, { userId: `fu${i % 4}` }));
    const all = recordsOf(events, 1);
    // b applies the first 5 records and keeps the partition's offset (5) in its cache …
    expect(await b.apply(all.slice(0, 5))).toMatchObject({ applied: 5, counted: 5 });
    // … the partition moves to a (a rebalance), which reads offset 5 and applies 5..14 …
    expect(await a.apply(all.slice(5, 15))).toMatchObject({ applied: 10, counted: 10 });
    // … then b, still believing the offset is 5, gets 5..19 (records it had buffered): its offset
    // update matches no row, so it rolls back, reloads 15, skips 5..14 and applies only 15..19.
    expect(await b.apply(all.slice(5))).toMatchObject({ applied: 5, replayed: 10, counted: 5, duplicates: 0 });
    const row = (await ws.query<{ events: string | number; users: string | number }>(`SELECT events, active_users AS users FROM rt_minute_kpis WHERE window_start = '2024-05-01T10:10:00Z'`))[0]!;
    expect(Number(row.events)).toBe(20);
    expect(Number(row.users)).toBe(4);
  });

  it('keeps late events (beyond the allowed lateness) out of their closed minute, in rt_late_events', async () => {
    const agg = new MinuteAggregator(db, { groupId: 'g3', allowedLatenessMs: 2 * MIN, ratesFile });
    const base = T0 + 60 * MIN; // 11:00
    const res = await agg.apply(
      recordsOf(
        [
          enriched('l1', base + 10 * MIN), // 11:10, watermark 11:10
          enriched('l2', base + 7 * MIN + 30_000), // 11:07 ends 11:08, +2 min = 11:10 ≤ 11:10 → late
          enriched('l3', base + 8 * MIN + 1_000), // 11:08 ends 11:09, +2 = 11:11 > 11:10 → on time
          enriched('l4', base + 2 * MIN, { amount: 10 }), // late purchase: revenue kept in the late table
        ],
        2,
      ),
    );
    expect(res).toMatchObject({ counted: 2, late: 2 });
    const late = await ws.query<{ event_id: string; revenue_usd: string }>(`SELECT event_id, revenue_usd::text AS revenue_usd FROM rt_late_events ORDER BY event_id`);
    expect(late.map((r) => [r.event_id, Number(r.revenue_usd)])).toEqual([
      ['l2', 0],
      ['l4', 10],
    ]);
  });

  it('GET /api/realtime/minutes serves the minutes, revenue by country, closed flags and late events', async () => {
    const app = Fastify();
    await app.register(realtimeRoutes, { connections: ws.connections });
    try {
      const res = await app.inject({ url: '/api/realtime/minutes?from=2024-05-01T10:00:00Z&to=2024-05-01T10:02:00Z' });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.from).toBe('2024-05-01T10:00:00.000Z');
      expect(body.minutes).toEqual([
        { windowStart: '2024-05-01T10:00:00.000Z', gameId: 'game_1', purchases: 2, revenueUsd: 9.6667, activeUsers: 2, matches: 0, events: 3, closed: true },
        { windowStart: '2024-05-01T10:01:00.000Z', gameId: 'game_1', purchases: 0, revenueUsd: 0, activeUsers: 1, matches: 1, events: 1, closed: true },
      ]);
      expect(body.byCountry).toEqual([
        { windowStart: '2024-05-01T10:00:00.000Z', gameId: 'game_1', countryCode: 'VN', countryName: 'Vietnam', purchases: 2, revenueUsd: 9.6667 },
      ]);
      const late = (await app.inject({ url: '/api/realtime/minutes?from=2024-05-01T11:00:00Z&to=2024-05-01T12:00:00Z&game=game_1' })).json();
      expect(late.late).toEqual({ events: 2, revenueUsd: 10 });
      // The last group to write (g3) has seen 11:10 on its partition: minutes ending by 11:08 are closed.
      expect(late.closedBefore).toBe('2024-05-01T11:08:00.000Z');
      expect(late.minutes.map((m: { windowStart: string; closed: boolean }) => [m.windowStart.slice(11, 16), m.closed])).toEqual([
        ['11:08', false],
        ['11:10', false],
      ]);
      const bad = await app.inject({ url: '/api/realtime/minutes?from=yesterday' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().issues[0]).toMatch(/^from: an ISO-8601 date-time/);
      const reversed = await app.inject({ url: '/api/realtime/minutes?from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z' });
      expect(reversed.json().issues).toEqual(['from: from must be before to']);
    } finally {
      await app.close();
    }
  });
});
