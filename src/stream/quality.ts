import { propertyDefaults } from '../events/catalog.js';
import { ERROR_RULES, checkEvent } from '../quality/rules.js';
import { isCatalogEventName, propertiesOf, type RawEvent, type TypedEvent } from '../quality/columns.js';
import { DEFAULT_DEDUP_WINDOW, DEFAULT_TOPICS } from './config.js';
import { installKey, type InstallStore } from './installs.js';
import { classifyRawValue, type RejectReason } from './rawEvent.js';
import type { OutgoingRecord, StreamRecord } from './transport.js';

/**
 * The streaming quality service's logic: events-raw → events-enriched (valid, normalized) and
 * events-dlq (invalid, with the reasons). It applies exactly the rules and normalization that
 * build silver — `checkEvent()` from src/quality/rules.ts (the JS twin of the silver SQL, one
 * rule set) — after the same pre-checks as ingestion (rawEvent.ts). Duplicates (an eventId seen
 * in the last `dedupWindow` records of the same partition) are dropped and counted.
 *
 * Delivery is at-least-once: a batch's outputs are produced (and acknowledged) before the input
 * offsets are committed, so a crash re-processes at most the uncommitted batch. The aggregator
 * counts each eventId once, so a re-sent enriched event is harmless; a re-sent DLQ record
 * repeats its source partition/offset, which identifies it.
 */

export interface QualityTopics {
  raw: string;
  enriched: string;
  dlq: string;
}

/** The enriched event: the normalized envelope (extra fields kept) plus what the service learned. */
export interface EnrichedEvent extends RawEvent {
  eventId: string;
  eventName: string;
  timestamp: string;
  gameId: string;
  userId: string;
  enrichment: {
    /** Event time, epoch ms (the parsed `timestamp`). */
    eventTs: number;
    countryName: string | null;
    /** Warning-severity rules the event breaks (e.g. unknown_event_name); it is still valid. */
    warnings: string[];
    /** Fields whose value normalization changed (platform, countryCode, properties.currency). */
    normalizedFields: string[];
    /** Where it came from: the events-raw record and its timestamp (ingestion time). */
    source: { topic: string; partition: number; offset: string; ingestedAt: string };
  };
}

/** A dead-letter record: why, and the event exactly as it came. */
export interface DeadLetter {
  /** Error rules broken, or the pre-check reason (invalid_json, missing_timestamp, …). */
  reasons: string[];
  warnings: string[];
  eventId: string | null;
  /** The record value as text (null when it was not UTF-8: then `rawBase64`). */
  raw: string | null;
  rawBase64?: string;
  source: { topic: string; partition: number; offset: string; ingestedAt: string };
}

export interface QualityCounts {
  consumed: number;
  valid: number;
  invalid: number;
  duplicates: number;
  /** DLQ records per reason (an event breaking two rules counts under both). */
  byReason: Record<string, number>;
}

export function emptyQualityCounts(): QualityCounts {
  return { consumed: 0, valid: 0, invalid: 0, duplicates: 0, byReason: {} };
}

export function addQualityCounts(into: QualityCounts, add: QualityCounts): void {
  into.consumed += add.consumed;
  into.valid += add.valid;
  into.invalid += add.invalid;
  into.duplicates += add.duplicates;
  for (const [k, v] of Object.entries(add.byReason)) into.byReason[k] = (into.byReason[k] ?? 0) + v;
}

/** The last `capacity` ids added, in insertion order (oldest forgotten first). */
export class BoundedIdSet {
  private readonly ids = new Set<string>();

  constructor(readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}

export interface QualityBatchResult {
  out: OutgoingRecord[];
  counts: QualityCounts;
  /** Call once `out` is safely produced: remembers the batch's event ids for dedup. */
  accept(): void;
}

/**
 * The event as enriched downstream: platform, country and ISO currency normalized, and the
 * catalog defaults of absent optional properties filled in (egp 0, boosters {}), as silver types them.
 */
function normalizedEnvelope(raw: RawEvent, typed: TypedEvent): RawEvent {
  const out: RawEvent = { ...raw };
  if (typed.platform !== null) out.platform = typed.platform;
  if (typed.country_code !== null) out.countryCode = typed.country_code;
  const props = propertiesOf(raw);
  if (props) {
    const filled: Record<string, unknown> = { ...props };
    if (isCatalogEventName(raw.eventName)) {
      for (const [p, value] of Object.entries(propertyDefaults(raw.eventName))) {
        if (filled[p] === undefined || filled[p] === null) filled[p] = value;
      }
    }
    if (typed.currency !== null) filled.currency = typed.currency;
    out.properties = filled;
  }
  return out;
}

export class QualityProcessor {
  private readonly windows = new Map<string, BoundedIdSet>();

  constructor(
    private readonly installs: InstallStore,
    readonly topics: QualityTopics = { ...DEFAULT_TOPICS },
    readonly dedupWindow = DEFAULT_DEDUP_WINDOW,
  ) {}

  /** Forget the dedup windows (partitions moved: another member may have processed them). */
  reset(): void {
    this.windows.clear();
  }

  private windowOf(r: StreamRecord): BoundedIdSet {
    const key = `${r.topic}:${r.partition}`;
    let w = this.windows.get(key);
    if (!w) {
      w = new BoundedIdSet(this.dedupWindow);
      this.windows.set(key, w);
    }
    return w;
  }

  async process(records: readonly StreamRecord[]): Promise<QualityBatchResult> {
    const counts = emptyQualityCounts();
    const out: OutgoingRecord[] = [];
    const verdicts = records.map((r) => ({ record: r, verdict: classifyRawValue(r.value) }));

    // Install times of every (game, user) in the batch, in one lookup.
    const keys = new Map<string, readonly [string, string]>();
    for (const { verdict } of verdicts) {
      if (verdict.kind !== 'event') continue;
      const { gameId, userId } = verdict.raw;
      if (typeof gameId === 'string' && typeof userId === 'string') keys.set(installKey(gameId, userId), [gameId, userId]);
    }
    const installTimes = await this.installs.lookup([...keys.values()]);
    const newInstalls: Array<{ gameId: string; userId: string; ts: number }> = [];
    const seenInBatch = new Map<string, Set<string>>();
    const accepted: Array<[BoundedIdSet, string]> = [];

    for (const { record, verdict } of verdicts) {
      counts.consumed++;
      const source = {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset.toString(),
        ingestedAt: new Date(record.timestamp).toISOString(),
      };
      const key = record.key;
      if (verdict.kind === 'reject') {
        this.deadLetter(out, counts, key, [verdict.reason], [], null, verdict.text, record, source);
        continue;
      }
      const { raw, eventTs } = verdict;
      const eventId = typeof raw.eventId === 'string' && raw.eventId !== '' ? raw.eventId : null;
      if (eventId !== null) {
        const window = this.windowOf(record);
        const partKey = `${record.topic}:${record.partition}`;
        let batchIds = seenInBatch.get(partKey);
        if (!batchIds) seenInBatch.set(partKey, (batchIds = new Set()));
        if (window.has(eventId) || batchIds.has(eventId)) {
          counts.duplicates++;
          continue;
        }
        batchIds.add(eventId);
        accepted.push([window, eventId]);
      }
      // Registers define installs (as silver's: any register not dated more than a day ahead).
      const { gameId, userId } = raw;
      let installTs: number | null = null;
      if (typeof gameId === 'string' && typeof userId === 'string') {
        const k = installKey(gameId, userId);
        if (raw.eventName === 'register' && eventTs <= record.timestamp + 86_400_000) {
          const known = installTimes.get(k);
          if (known === undefined || eventTs < known) installTimes.set(k, eventTs);
          newInstalls.push({ gameId, userId, ts: eventTs });
        }
        installTs = installTimes.get(k) ?? null;
      }
      const check = checkEvent(raw, { eventTs, ingestedAt: record.timestamp, installTs });
      const errors = check.validationErrors.filter((n) => ERROR_RULES.includes(n));
      const warnings = check.validationErrors.filter((n) => !ERROR_RULES.includes(n));
      if (!check.isValid) {
        this.deadLetter(out, counts, key, errors, warnings, eventId, verdict.text, record, source);
        continue;
      }
      counts.valid++;
      const enriched: EnrichedEvent = {
        ...(normalizedEnvelope(raw, check.typed) as EnrichedEvent),
        enrichment: {
          eventTs,
          countryName: check.typed.country_name,
          warnings,
          normalizedFields: check.typed.normalized_fields,
          source,
        },
      };
      out.push({ topic: this.topics.enriched, key: key ?? (typeof userId === 'string' ? userId : null), value: JSON.stringify(enriched) });
    }

    // Installs are stored before anything is produced: a restarted service knows them.
    await this.installs.record(newInstalls);
    return {
      out,
      counts,
      accept: () => {
        for (const [window, id] of accepted) window.add(id);
      },
    };
  }

  private deadLetter(
    out: OutgoingRecord[],
    counts: QualityCounts,
    key: Buffer | null,
    reasons: Array<RejectReason | string>,
    warnings: string[],
    eventId: string | null,
    text: string | null,
    record: StreamRecord,
    source: DeadLetter['source'],
  ): void {
    counts.invalid++;
    for (const r of reasons) counts.byReason[r] = (counts.byReason[r] ?? 0) + 1;
    const letter: DeadLetter = {
      reasons,
      warnings,
      eventId,
      raw: text,
      ...(text === null && record.value && record.value.length ? { rawBase64: record.value.toString('base64') } : {}),
      source,
    };
    out.push({ topic: this.topics.dlq, key, value: JSON.stringify(letter) });
  }
}
