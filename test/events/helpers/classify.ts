import fs from 'node:fs';
import path from 'node:path';
import {
  ABSURD_PURCHASE_USD,
  REQUIRED_ENVELOPE_FIELDS,
  REQUIRED_PROPERTIES,
  amountInUsd,
  isEventName,
  isKnownCountry,
  normalizePlatform,
} from '../../../src/events/catalog.js';

/**
 * Recognises each defect in generated NDJSON from the output alone, following the rules the
 * manifest documents (defectRules), independently of the generator's code. Used to check
 * that the manifest's counts are the truth.
 */

export type Verdict =
  | 'clean'
  | 'duplicate'
  | 'missing_field'
  | 'missing_property'
  | 'negative_amount'
  | 'absurd_amount'
  | 'unknown_country'
  | 'mixed_case_platform'
  | 'future_timestamp'
  | 'before_install'
  | 'late_arrival'
  | 'unknown_event_name'
  | 'malformed_json';

export interface DayClassification {
  day: string;
  lines: number;
  counts: Record<Verdict, number>;
  missingFields: Record<string, number>;
  missingProperties: Record<string, number>;
}

function zero(): Record<Verdict, number> {
  return {
    clean: 0,
    duplicate: 0,
    missing_field: 0,
    missing_property: 0,
    negative_amount: 0,
    absurd_amount: 0,
    unknown_country: 0,
    mixed_case_platform: 0,
    future_timestamp: 0,
    before_install: 0,
    late_arrival: 0,
    unknown_event_name: 0,
    malformed_json: 0,
  };
}

/** Lines of every `events-*.ndjson` in `dir`, by day, in day order. */
export function readDays(dir: string): Array<{ day: string; lines: string[] }> {
  return fs
    .readdirSync(dir)
    .filter((f) => /^events-\d{4}-\d{2}-\d{2}\.ndjson$/.test(f))
    .sort()
    .map((f) => {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      return { day: f.slice(7, 17), lines: text === '' ? [] : text.replace(/\n$/, '').split('\n') };
    });
}

export function classify(dir: string, futureAfter: string): DayClassification[] {
  const days = readDays(dir);
  const future = Date.parse(futureAfter);
  // Install times come from register events, wherever they are.
  const registered = new Map<string, number>();
  for (const { lines } of days) {
    for (const line of lines) {
      try {
        const e = JSON.parse(line) as Record<string, unknown>;
        if (e.eventName === 'register' && typeof e.userId === 'string' && typeof e.timestamp === 'string') {
          const ts = Date.parse(e.timestamp);
          const known = registered.get(e.userId);
          if (known === undefined || ts < known) registered.set(e.userId, ts);
        }
      } catch {
        // malformed, counted below
      }
    }
  }
  const seen = new Map<string, string>();
  return days.map(({ day, lines }) => {
    const counts = zero();
    const missingFields: Record<string, number> = {};
    const missingProperties: Record<string, number> = {};
    for (const line of lines) {
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line) as Record<string, unknown>;
      } catch {
        counts.malformed_json++;
        continue;
      }
      const id = e.eventId;
      if (typeof id === 'string' && seen.has(id)) {
        if (seen.get(id) !== line) throw new Error(`eventId ${id} reused by a different line`);
        counts.duplicate++;
        continue;
      }
      if (typeof id === 'string') seen.set(id, line);
      const missing = REQUIRED_ENVELOPE_FIELDS.filter((f) => e[f] === undefined);
      if (missing.length > 0) {
        counts.missing_field++;
        for (const f of missing) missingFields[f] = (missingFields[f] ?? 0) + 1;
        continue;
      }
      if (!isEventName(e.eventName)) {
        counts.unknown_event_name++;
        continue;
      }
      const props = (e.properties ?? {}) as Record<string, unknown>;
      const absent = REQUIRED_PROPERTIES[e.eventName].filter((p) => props[p.name] === undefined);
      if (absent.length > 0) {
        counts.missing_property++;
        for (const p of absent) missingProperties[p.name] = (missingProperties[p.name] ?? 0) + 1;
        continue;
      }
      if (e.eventName === 'purchase') {
        const amount = props.amount as number;
        if (amount < 0) {
          counts.negative_amount++;
          continue;
        }
        if ((amountInUsd(amount, props.currency as string) ?? Infinity) > ABSURD_PURCHASE_USD) {
          counts.absurd_amount++;
          continue;
        }
      }
      if (!isKnownCountry(e.countryCode)) {
        counts.unknown_country++;
        continue;
      }
      const platform = e.platform as string;
      if (normalizePlatform(platform) !== platform) {
        if (normalizePlatform(platform) === undefined) throw new Error(`unknown platform ${platform}`);
        counts.mixed_case_platform++;
        continue;
      }
      const ts = Date.parse(e.timestamp as string);
      if (ts > future) {
        counts.future_timestamp++;
        continue;
      }
      const installed = registered.get(e.userId as string);
      if (installed === undefined) throw new Error(`no register event for ${String(e.userId)}`);
      if (ts < installed) {
        counts.before_install++;
        continue;
      }
      const tsDay = (e.timestamp as string).slice(0, 10);
      if (tsDay < day) {
        counts.late_arrival++;
        continue;
      }
      if (tsDay !== day) throw new Error(`clean-looking event of ${tsDay} in the file of ${day}: ${line}`);
      counts.clean++;
    }
    return { day, lines: lines.length, counts, missingFields, missingProperties };
  });
}
