import type { PgAdapter, PgSession } from '../connections/adapter.js';
import { logger } from '../core/logger.js';
import { DEFAULT_ALLOWED_LATENESS_MS, DEFAULT_STATE_RETENTION_MS, WINDOW_MS } from './config.js';
import type { EnrichedEvent } from './quality.js';
import { CurrencyRates } from './rates.js';
import { msToTimestampSql, timestampToMsSql } from './tables.js';
import type { StreamRecord } from './transport.js';

/**
 * The per-minute aggregator: events-enriched → rt_minute_kpis and rt_minute_revenue_by_country,
 * tumbling one-minute windows of event time, with an allowed lateness.
 *
 * Exactly-once effect: each batch is applied in ONE PostgreSQL transaction that adds the batch's
 * contributions to the window totals AND moves the partition offsets stored in `rt_offsets`
 * (plus each partition's newest event time, the watermark). A crash before the commit leaves
 * nothing; after it, the offsets say where to resume — records below them are skipped — so a
 * kill -9 and restart neither loses nor double counts. The offset update is conditional on the
 * offset this member read (`WHERE next_offset = <expected>`): if another member of the group
 * applied the partition meanwhile (a rebalance race), the update matches no row, the transaction
 * is rolled back, the state reloaded and the batch re-filtered. Kafka's own committed offsets
 * are only advanced afterwards, as a hint for where to start fetching.
 *
 * Each eventId is counted once (`rt_minute_events`): a record the at-least-once quality service
 * delivered twice adds nothing the second time. active_users is exact: the (minute, game, user)
 * rows in `rt_minute_users` that are new in a batch are what it adds.
 *
 * Lateness is judged per partition, against the newest event time that partition has shown (its
 * watermark, persisted with the offsets so replays judge the same way): an event whose minute
 * ended more than `allowedLatenessMs` before it is late. Late events are not dropped: they go to
 * `rt_late_events` (counted, with revenue), and the batch pipeline stays the source of truth for
 * closed days.
 */

export interface AggregateOptions {
  groupId: string;
  allowedLatenessMs?: number;
  /** Event time for which counted event ids and window users are kept (dedup, late checks). */
  stateRetentionMs?: number;
  /** Exchange rates CSV (default: WAREHOUSE.currency_rates, else reference/currency_rates.csv; see rates.ts). */
  ratesFile?: string;
}

/** Rates are re-read this often, so a published rate change reaches a long-running aggregator. */
const RATES_REFRESH_MS = 5 * 60_000;

interface PartitionState {
  /** Next offset to apply; null when the partition has no row yet. */
  next: bigint | null;
  /** Newest event time seen on the partition (epoch ms). */
  maxEventTs: number | null;
}

interface MinuteEvent {
  eventId: string;
  eventName: string;
  windowMs: number;
  eventTs: number;
  gameId: string;
  userId: string;
  countryCode: string;
  countryName: string | null;
  /** Purchase amount as text (JSON number), and the currency's USD rate that day as text (null: none). */
  amount: string | null;
  rate: string | null;
  record: StreamRecord;
  /** The partition's newest event time when this event arrived. */
  partitionEventTs: number;
}

export interface AggregateBatchResult {
  /** Records applied by this batch (not seen before). */
  applied: number;
  /** Records skipped: already applied (replayed after a restart or rebalance). */
  replayed: number;
  /** Events counted into windows (new event ids). */
  counted: number;
  /** Events whose id was already counted (a re-sent record). */
  duplicates: number;
  late: number;
  /** Records that are not enriched events (logged, skipped). */
  unreadable: number;
  /** Partitions this batch touched. */
  partitions: number[];
}

class FenceConflict extends Error {
  constructor(readonly partition: number) {
    super(`partition ${partition} was applied by another member meanwhile`);
  }
}

const partKey = (topic: string, partition: number) => `${topic}:${partition}`;

function isRetryable(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === '40P01' || code === '40001';
}

/** The event's contribution, read from an enriched record (null when unreadable). */
function readEnriched(record: StreamRecord, rates: CurrencyRates): Omit<MinuteEvent, 'partitionEventTs'> | null {
  if (!record.value) return null;
  let e: EnrichedEvent;
  try {
    e = JSON.parse(record.value.toString('utf8')) as EnrichedEvent;
  } catch {
    return null;
  }
  const eventTs = e.enrichment?.eventTs;
  if (typeof e.eventId !== 'string' || typeof e.gameId !== 'string' || typeof e.userId !== 'string' || typeof eventTs !== 'number') {
    return null;
  }
  const props = typeof e.properties === 'object' && e.properties !== null ? (e.properties as Record<string, unknown>) : {};
  const isPurchase = e.eventName === 'purchase';
  const amount = isPurchase && typeof props.amount === 'number' && Number.isFinite(props.amount) ? String(props.amount) : null;
  const currency = typeof props.currency === 'string' ? props.currency : '';
  const rate = isPurchase ? rates.rateFor(currency, eventTs) : null;
  return {
    eventId: e.eventId,
    eventName: typeof e.eventName === 'string' ? e.eventName : '',
    windowMs: Math.floor(eventTs / WINDOW_MS) * WINDOW_MS,
    eventTs,
    gameId: e.gameId,
    userId: e.userId,
    countryCode: typeof e.countryCode === 'string' ? e.countryCode : '',
    countryName: e.enrichment.countryName ?? null,
    amount,
    rate,
    record,
  };
}

/** A purchase in USD exactly as the daily pipeline converts it (recharge: amount to 4 decimals × rate, to 6 decimals). */
const USD = `round(round(a::numeric, 4) * r::numeric, 6)`;

export class MinuteAggregator {
  readonly allowedLatenessMs: number;
  readonly stateRetentionMs: number;
  private readonly states = new Map<string, PartitionState>();
  private lastPurge = 0;
  private rates: CurrencyRates | undefined;
  private ratesLoadedAt = 0;

  constructor(
    private readonly db: PgAdapter,
    private readonly options: AggregateOptions,
  ) {
    this.allowedLatenessMs = options.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;
    this.stateRetentionMs = Math.max(options.stateRetentionMs ?? DEFAULT_STATE_RETENTION_MS, this.allowedLatenessMs + 2 * WINDOW_MS);
  }

  /** Forget the cached partition states (partitions moved): they are reloaded from rt_offsets. */
  reset(): void {
    this.states.clear();
  }

  private async loadStates(topicPartitions: Array<[string, number]>): Promise<void> {
    const missing = topicPartitions.filter(([t, p]) => !this.states.has(partKey(t, p)));
    if (missing.length === 0) return;
    const rows = await this.db.withSession(
      async (s) =>
        (
          await s.query<{ topic: string; partition: number; next_offset: string | number; max_ms: string | number | null }>(
            `SELECT o.topic, o.partition, o.next_offset, ${timestampToMsSql('o.max_event_ts')} AS max_ms
             FROM rt_offsets o JOIN unnest($2::text[], $3::int[]) AS k(topic, partition) USING (topic, partition)
             WHERE o.group_id = $1`,
            [this.options.groupId, missing.map((m) => m[0]), missing.map((m) => m[1])],
          )
        ).rows,
    );
    for (const [t, p] of missing) this.states.set(partKey(t, p), { next: null, maxEventTs: null });
    for (const r of rows) {
      this.states.set(partKey(r.topic, Number(r.partition)), {
        next: BigInt(r.next_offset),
        maxEventTs: r.max_ms === null ? null : Number(r.max_ms),
      });
    }
  }

  private async currentRates(): Promise<CurrencyRates> {
    if (!this.rates || Date.now() - this.ratesLoadedAt > RATES_REFRESH_MS) {
      this.rates = await CurrencyRates.load(this.db, this.options.ratesFile);
      this.ratesLoadedAt = Date.now();
    }
    return this.rates;
  }

  /** Applies a batch (exactly once per record, whatever was applied before). */
  async apply(records: readonly StreamRecord[]): Promise<AggregateBatchResult> {
    const partitions = [...new Map(records.map((r) => [partKey(r.topic, r.partition), [r.topic, r.partition] as [string, number]])).values()];
    for (let attempt = 1; ; attempt++) {
      await this.loadStates(partitions);
      try {
        return await this.applyOnce(records, partitions);
      } catch (err) {
        if (err instanceof FenceConflict || isRetryable(err)) {
          if (attempt >= 10) throw err;
          logger.info({ err: (err as Error).message, attempt }, 'aggregate batch retried');
          for (const [t, p] of partitions) this.states.delete(partKey(t, p));
          continue;
        }
        throw err;
      }
    }
  }

  private async applyOnce(records: readonly StreamRecord[], partitions: Array<[string, number]>): Promise<AggregateBatchResult> {
    const rates = await this.currentRates();
    // Plan against a copy of the partition states; they replace the cache only after the commit.
    const planned = new Map<string, PartitionState & { expected: bigint | null; touched: boolean }>();
    for (const [t, p] of partitions) {
      const s = this.states.get(partKey(t, p))!;
      planned.set(partKey(t, p), { ...s, expected: s.next, touched: false });
    }
    const inWindow: MinuteEvent[] = [];
    const late: MinuteEvent[] = [];
    let replayed = 0;
    let unreadable = 0;
    for (const record of records) {
      const s = planned.get(partKey(record.topic, record.partition))!;
      if (s.next !== null && record.offset < s.next) {
        replayed++;
        continue;
      }
      s.next = record.offset + 1n;
      s.touched = true;
      const e = readEnriched(record, rates);
      if (!e) {
        unreadable++;
        logger.warn({ topic: record.topic, partition: record.partition, offset: record.offset.toString() }, 'not an enriched event; skipped');
        continue;
      }
      const partitionEventTs = s.maxEventTs ?? e.eventTs;
      const event = { ...e, partitionEventTs };
      if (s.maxEventTs !== null && e.windowMs + WINDOW_MS + this.allowedLatenessMs <= s.maxEventTs) late.push(event);
      else inWindow.push(event);
      if (s.maxEventTs === null || e.eventTs > s.maxEventTs) s.maxEventTs = e.eventTs;
    }
    const touched = [...planned.entries()].filter(([, s]) => s.touched).sort(([a], [b]) => (a < b ? -1 : 1));
    const result: AggregateBatchResult = {
      applied: records.length - replayed,
      replayed,
      counted: 0,
      duplicates: 0,
      late: 0,
      unreadable,
      partitions: touched.map(([k]) => Number(k.slice(k.lastIndexOf(':') + 1))),
    };
    if (touched.length === 0) return result;

    await this.db.transaction(async (s) => {
      // 1. Fence: move each partition's offset from what we read, or fail if someone else did.
      for (const [key, st] of touched) {
        const topic = key.slice(0, key.lastIndexOf(':'));
        const partition = Number(key.slice(key.lastIndexOf(':') + 1));
        const maxMs = st.maxEventTs === null ? null : String(st.maxEventTs);
        const res =
          st.expected === null
            ? await s.query(
                `INSERT INTO rt_offsets (group_id, topic, partition, next_offset, max_event_ts, allowed_lateness_ms)
                 VALUES ($1, $2, $3, $4::bigint, ${msToTimestampSql('$5::bigint')}, $6::bigint)
                 ON CONFLICT (group_id, topic, partition) DO NOTHING`,
                [this.options.groupId, topic, partition, st.next!.toString(), maxMs, String(this.allowedLatenessMs)],
              )
            : await s.query(
                `UPDATE rt_offsets SET next_offset = $4::bigint, max_event_ts = ${msToTimestampSql('$5::bigint')},
                        allowed_lateness_ms = $6::bigint, updated_at = now()
                 WHERE group_id = $1 AND topic = $2 AND partition = $3 AND next_offset = $7::bigint`,
                [this.options.groupId, topic, partition, st.next!.toString(), maxMs, String(this.allowedLatenessMs), st.expected.toString()],
              );
        if (res.rowCount !== 1) throw new FenceConflict(partition);
      }
      // 2. Count each event id once.
      const fresh = await this.claimEventIds(s, inWindow);
      result.counted = fresh.length;
      result.duplicates = inWindow.length - fresh.length;
      await this.addToWindows(s, fresh);
      // 3. Late events: recorded, unless already counted in their window (a re-sent copy).
      result.late = await this.recordLate(s, late);
      result.duplicates += late.length - result.late;
    });
    for (const [key, st] of touched) this.states.set(key, { next: st.next, maxEventTs: st.maxEventTs });
    await this.maybePurge();
    return result;
  }

  private async claimEventIds(s: PgSession, events: MinuteEvent[]): Promise<MinuteEvent[]> {
    if (events.length === 0) return [];
    const firstById = new Map<string, MinuteEvent>();
    for (const e of events) if (!firstById.has(e.eventId)) firstById.set(e.eventId, e);
    const unique = [...firstById.values()];
    const res = await s.query<{ event_id: string }>(
      `INSERT INTO rt_minute_events (event_id, window_start)
       SELECT id, ${msToTimestampSql('w')} FROM unnest($1::text[], $2::bigint[]) AS t(id, w)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id`,
      [unique.map((e) => e.eventId), unique.map((e) => String(e.windowMs))],
    );
    const claimed = new Set(res.rows.map((r) => r.event_id));
    return unique.filter((e) => claimed.has(e.eventId));
  }

  private async addToWindows(s: PgSession, events: MinuteEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Rows are locked in key order (ORDER BY), so concurrent members cannot deadlock.
    await s.query(
      `INSERT INTO rt_minute_kpis AS k (window_start, game_id, purchases, revenue_usd, active_users, matches, events)
       SELECT ${msToTimestampSql('w')}, g, sum(p), coalesce(sum(${USD}), 0), 0, sum(m), count(*)
       FROM unnest($1::bigint[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[]) AS t(w, g, p, m, a, r)
       GROUP BY w, g ORDER BY w, g
       ON CONFLICT (window_start, game_id) DO UPDATE SET
         purchases = k.purchases + excluded.purchases,
         revenue_usd = k.revenue_usd + excluded.revenue_usd,
         matches = k.matches + excluded.matches,
         events = k.events + excluded.events,
         updated_at = now()`,
      [
        events.map((e) => String(e.windowMs)),
        events.map((e) => e.gameId),
        events.map((e) => (e.eventName === 'purchase' ? 1 : 0)),
        events.map((e) => (e.eventName === 'match' ? 1 : 0)),
        events.map((e) => e.amount),
        events.map((e) => e.rate),
      ],
    );
    const purchases = events.filter((e) => e.eventName === 'purchase');
    if (purchases.length) {
      await s.query(
        `INSERT INTO rt_minute_revenue_by_country AS c (window_start, game_id, country_code, country_name, purchases, revenue_usd)
         SELECT ${msToTimestampSql('w')}, g, cc, max(cn), count(*), coalesce(sum(${USD}), 0)
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(w, g, cc, cn, a, r)
         GROUP BY w, g, cc ORDER BY w, g, cc
         ON CONFLICT (window_start, game_id, country_code) DO UPDATE SET
           purchases = c.purchases + excluded.purchases,
           revenue_usd = c.revenue_usd + excluded.revenue_usd,
           country_name = coalesce(excluded.country_name, c.country_name),
           updated_at = now()`,
        [
          purchases.map((e) => String(e.windowMs)),
          purchases.map((e) => e.gameId),
          purchases.map((e) => e.countryCode),
          purchases.map((e) => e.countryName),
          purchases.map((e) => e.amount),
          purchases.map((e) => e.rate),
        ],
      );
    }
    // Exact distinct users: only (minute, game, user) rows new to the table add to active_users.
    await s.query(
      `WITH added AS (
         INSERT INTO rt_minute_users (window_start, game_id, user_id)
         SELECT DISTINCT ${msToTimestampSql('w')}, g, u FROM unnest($1::bigint[], $2::text[], $3::text[]) AS t(w, g, u)
         ON CONFLICT DO NOTHING
         RETURNING window_start, game_id
       )
       UPDATE rt_minute_kpis k SET active_users = k.active_users + n.users
       FROM (SELECT window_start, game_id, count(*) AS users FROM added GROUP BY window_start, game_id) n
       WHERE k.window_start = n.window_start AND k.game_id = n.game_id`,
      [events.map((e) => String(e.windowMs)), events.map((e) => e.gameId), events.map((e) => e.userId)],
    );
  }

  private async recordLate(s: PgSession, events: MinuteEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const res = await s.query(
      `INSERT INTO rt_late_events (event_id, event_name, event_ts, window_start, game_id, user_id, country_code, revenue_usd,
                                   source_topic, source_partition, source_offset, partition_event_time)
       SELECT id, n, ${msToTimestampSql('ts')}, ${msToTimestampSql('w')}, g, u, cc, coalesce(${USD}, 0), st, sp, so, ${msToTimestampSql('pe')}
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                   $10::text[], $11::int[], $12::bigint[], $13::bigint[]) AS t(id, n, ts, w, g, u, cc, a, r, st, sp, so, pe)
       WHERE NOT EXISTS (SELECT 1 FROM rt_minute_events m WHERE m.event_id = t.id)
       ON CONFLICT (event_id) DO NOTHING`,
      [
        events.map((e) => e.eventId),
        events.map((e) => e.eventName),
        events.map((e) => String(e.eventTs)),
        events.map((e) => String(e.windowMs)),
        events.map((e) => e.gameId),
        events.map((e) => e.userId),
        events.map((e) => e.countryCode),
        events.map((e) => e.amount),
        events.map((e) => e.rate),
        events.map((e) => e.record.topic),
        events.map((e) => e.record.partition),
        events.map((e) => e.record.offset.toString()),
        events.map((e) => String(e.partitionEventTs)),
      ],
    );
    return res.rowCount;
  }

  /** Drops dedup ids and window users older than the retention behind the group's slowest partition. */
  private async maybePurge(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPurge < 60_000) return;
    this.lastPurge = now;
    await this.db.withSession(async (s) => {
      const row = (
        await s.query<{ cutoff: string | number | null }>(
          `SELECT ${timestampToMsSql('min(max_event_ts)')} - $2::bigint AS cutoff FROM rt_offsets WHERE group_id = $1`,
          [this.options.groupId, String(this.stateRetentionMs)],
        )
      ).rows[0];
      if (row?.cutoff === null || row?.cutoff === undefined) return;
      const cutoff = String(row.cutoff);
      await s.query(`DELETE FROM rt_minute_events WHERE window_start < ${msToTimestampSql('$1::bigint')}`, [cutoff]);
      await s.query(`DELETE FROM rt_minute_users WHERE window_start < ${msToTimestampSql('$1::bigint')}`, [cutoff]);
    });
  }
}
