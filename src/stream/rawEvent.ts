import { TIMESTAMP_PATTERN } from '../events/catalog.js';
import { QUARANTINE_REASONS, type QuarantineReason } from '../ingest/ingest.js';
import type { EventMapper } from '../mapping/apply.js';
import { MAPPING_FAILURES, type MappingFailure } from '../mapping/failures.js';
import { isJsonObject, type RawEvent } from '../quality/columns.js';

/**
 * One Kafka record value → an event, or the reason it cannot be one: the stream twin of the
 * checks `gamepipe ingest` does before bronze (see src/ingest/ingest.ts, classifySql), with the
 * same reason names. What ingestion quarantines, the stream service sends to the DLQ.
 */

export type RejectReason = QuarantineReason | MappingFailure | 'blank' | 'wrong_game';

export const REJECT_REASONS: Readonly<Record<RejectReason, string>> = {
  ...MAPPING_FAILURES,
  ...QUARANTINE_REASONS,
  blank: 'the record value is empty (or only white space)',
  wrong_game: 'the event names another game than the one the ingest key may write',
};

/** `text` is the event as stored downstream: the source text, or the mapped envelope's JSON. */
export type RawVerdict =
  | { kind: 'reject'; reason: RejectReason; text: string | null; detail?: string }
  | { kind: 'event'; raw: RawEvent; text: string; eventTs: number };

/** How a parsed source event becomes an envelope: a studio's mapping, and the game it must belong to. */
export interface PrepareOptions {
  mapper?: EventMapper | undefined;
  /** The only game allowed (an ingest key's game); an event without gameId gets it. */
  gameId?: string | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const iso = new RegExp(TIMESTAMP_PATTERN);
/** Date[-time][zone] shapes a SQL timestamp cast accepts (`2024-05-01 13:45:12`, `2024-05-01`). */
const looseTimestamp =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Epoch ms of an event timestamp, as ingestion's `TRY_CAST(… AS TIMESTAMPTZ)` reads it:
 * `undefined` when absent or null, `null` when it is not a string holding a real date-time
 * (`2024-02-30T…` is not one). A time without a zone is read as UTC; the quality rule
 * `invalid_timestamp` then flags anything that is not ISO-8601 with a zone.
 */
export function parseEventTimestamp(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return null;
  const m = looseTimestamp.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  let offsetMs = 0;
  if (zone && zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    offsetMs = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const millis = frac ? Math.floor(Number(`0${frac}`) * 1000 + 1e-9) : 0;
  const utc = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s), millis) - offsetMs;
  return Number.isFinite(utc) ? utc : null;
}

/** Whether a timestamp string is the contract's ISO-8601 with a zone. */
export function isIsoTimestamp(value: string): boolean {
  return iso.test(value);
}

export function classifyRawValue(value: Buffer | null, opts: PrepareOptions = {}): RawVerdict {
  if (value === null || value.length === 0) return { kind: 'reject', reason: 'blank', text: null };
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return { kind: 'reject', reason: 'invalid_utf8', text: null };
  }
  if (text.trim() === '') return { kind: 'reject', reason: 'blank', text };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'reject', reason: 'invalid_json', text };
  }
  return prepareEvent(parsed, text, opts);
}

/**
 * One parsed source event → an envelope ready for bronze / events-raw, or the reason it cannot
 * be one: the studio's mapping (when given), the game check, then the same checks as ingestion.
 * The collector, file ingestion with a mapping and the stream quality service all call this.
 */
export function prepareEvent(parsed: unknown, text: string | undefined, opts: PrepareOptions = {}): RawVerdict {
  let raw: unknown = parsed;
  let out = text;
  if (opts.mapper) {
    const mapped = opts.mapper.map(parsed);
    if (!mapped.ok) return { kind: 'reject', reason: mapped.reason, text: text ?? JSON.stringify(parsed), detail: mapped.detail };
    raw = mapped.event;
    out = undefined;
  }
  if (!isJsonObject(raw)) return { kind: 'reject', reason: 'not_an_object', text: text ?? JSON.stringify(parsed) };
  if (opts.gameId !== undefined) {
    if (raw.gameId === undefined || raw.gameId === null) {
      raw = { ...raw, gameId: opts.gameId };
      out = undefined;
    } else if (raw.gameId !== opts.gameId) {
      return {
        kind: 'reject',
        reason: 'wrong_game',
        text: text ?? JSON.stringify(parsed),
        detail: `gameId ${JSON.stringify(raw.gameId)}: this key writes only ${JSON.stringify(opts.gameId)}`,
      };
    }
  }
  const event = raw as RawEvent;
  const finalText = out ?? JSON.stringify(event);
  const eventTs = parseEventTimestamp(event.timestamp);
  if (eventTs === undefined) return { kind: 'reject', reason: 'missing_timestamp', text: finalText };
  if (eventTs === null) return { kind: 'reject', reason: 'invalid_timestamp', text: finalText };
  return { kind: 'event', raw: event, text: finalText, eventTs };
}
