import { createHash } from 'node:crypto';
import { TIMESTAMP_PATTERN } from '../events/catalog.js';
import { isJsonObject, type RawEvent } from '../quality/columns.js';
import { parseEventTimestamp } from '../stream/rawEvent.js';
import { MAPPING_FAILURES, type MappingFailure } from './failures.js';
import type { FieldRule, Mapping, TimestampRule } from './schema.js';

/**
 * Applies a mapping (schema.ts) to one source event: the envelope it becomes, or why it cannot
 * become one. Pure and synchronous, so the collector, file ingestion and the stream quality
 * service run exactly this code (see prepare.ts).
 */

export type MapResult = { ok: true; event: RawEvent } | { ok: false; reason: MappingFailure; detail: string };

const isoWithZone = new RegExp(TIMESTAMP_PATTERN);
const localDateTime = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?$/;

class RuleError extends Error {
  constructor(
    readonly reason: MappingFailure,
    message: string,
  ) {
    super(message);
  }
}

function getPath(source: RawEvent, path: string): unknown {
  let value: unknown = source;
  for (const key of path.split('.')) {
    if (!isJsonObject(value)) return undefined;
    value = value[key];
  }
  return value;
}

/** Stable across processes and key order: the SHA-256 of the JSON array of the values. */
export function stableHash(values: readonly unknown[]): string {
  return createHash('sha256')
    .update(JSON.stringify(values.map((v) => (v === undefined ? null : v))))
    .digest('hex')
    .slice(0, 32);
}

function convert(value: unknown, as: 'string' | 'number' | undefined, target: string): unknown {
  if (as === undefined || value === null || value === undefined) return value;
  if (as === 'string') return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  if (typeof value !== 'number') throw new RuleError('unmapped_value', `${target}: ${JSON.stringify(value)} is not a number`);
  return value;
}

function applyRule(rule: FieldRule, source: RawEvent, target: string): unknown {
  if ('const' in rule) return rule.const;
  if ('hash' in rule) return rule.prefix + stableHash(rule.hash.map((p) => getPath(source, p)));
  let value = getPath(source, rule.from);
  if (value === undefined || value === null) return rule.default ?? value;
  if (rule.values !== undefined) {
    const key = typeof value === 'object' ? JSON.stringify(value) : String(value);
    if (Object.prototype.hasOwnProperty.call(rule.values, key)) value = rule.values[key];
    else if (rule.otherwise === 'null') value = null;
    else if (rule.otherwise === 'error') {
      throw new RuleError('unmapped_value', `${target}: ${JSON.stringify(value)} (from "${rule.from}") is not in the value map`);
    }
  }
  return convert(value, rule.as, target);
}

/** The UTC offset (ms) of `zone` at the instant `utcMs`. */
function zoneOffsetMs(utcMs: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** Epoch ms of a wall-clock time in `zone` (in a DST gap: the later offset's reading). */
export function zonedToUtc(wallMs: number, zone: string): number {
  let utc = wallMs - zoneOffsetMs(wallMs, zone);
  utc = wallMs - zoneOffsetMs(utc, zone);
  return utc;
}

function parseTimestamp(rule: TimestampRule, source: RawEvent): string {
  const value = getPath(source, rule.from);
  if (value === undefined || value === null) throw new RuleError('missing_timestamp', `timestamp: "${rule.from}" is absent`);
  const bad = (expected: string) => new RuleError('invalid_timestamp', `timestamp: ${JSON.stringify(value)} (from "${rule.from}") is not ${expected}`);
  let ms: number;
  switch (rule.format) {
    case 'iso': {
      if (typeof value !== 'string' || !isoWithZone.test(value)) throw bad('ISO-8601 with a zone');
      const parsed = parseEventTimestamp(value);
      if (typeof parsed !== 'number') throw bad('a real date-time');
      return value;
    }
    case 'epoch_s':
    case 'epoch_ms': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
      if (!Number.isFinite(n)) throw bad(rule.format === 'epoch_s' ? 'epoch seconds' : 'epoch milliseconds');
      ms = rule.format === 'epoch_s' ? Math.round(n * 1000) : Math.round(n);
      break;
    }
    case 'local': {
      const m = typeof value === 'string' ? localDateTime.exec(value.trim()) : null;
      if (!m) throw bad(`a local date-time without zone (YYYY-MM-DD HH:MM:SS) in ${rule.zone}`);
      const [, y, mo, d, h = '00', mi = '00', s = '00', frac = ''] = m;
      const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), frac ? Math.floor(Number(`0${frac}`) * 1000 + 1e-9) : 0);
      const check = new Date(wall);
      if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
        throw bad('a real date-time');
      }
      ms = zonedToUtc(wall, rule.zone!);
      break;
    }
  }
  const date = new Date(ms);
  if (!Number.isFinite(date.getTime()) || date.getUTCFullYear() < 1000 || date.getUTCFullYear() > 9999) throw bad('a date-time between years 1000 and 9999');
  return date.toISOString();
}

/** Top-level source keys a rule reads (they are not copied again as unmapped properties). */
function readKeys(rule: FieldRule | TimestampRule): string[] {
  if ('const' in rule) return [];
  if ('hash' in rule) return rule.hash.map((p) => p.split('.')[0]!);
  return [rule.from.split('.')[0]!];
}

export class EventMapper {
  private readonly common: ReadonlyArray<[string, FieldRule]>;
  private readonly used: ReadonlySet<string>;

  constructor(
    readonly mapping: Mapping,
    readonly file?: string,
  ) {
    this.common = Object.entries(mapping.fields);
    const used = new Set<string>();
    const rules: Array<FieldRule | TimestampRule> = [mapping.eventName, mapping.eventId, mapping.timestamp, ...Object.values(mapping.fields)];
    for (const e of Object.values(mapping.events)) rules.push(...Object.values(e.fields));
    for (const r of rules) for (const k of readKeys(r)) used.add(k);
    this.used = used;
  }

  get name(): string {
    return this.mapping.name;
  }

  map(source: unknown): MapResult {
    if (!isJsonObject(source)) return { ok: false, reason: 'not_an_object', detail: MAPPING_FAILURES.not_an_object };
    try {
      const eventName = applyRule(this.mapping.eventName, source, 'eventName');
      if (typeof eventName !== 'string' || eventName === '') {
        throw new RuleError('missing_event_name', `eventName: no event name (got ${JSON.stringify(eventName ?? null)})`);
      }
      const event: RawEvent = { eventName };
      const eventId = applyRule(this.mapping.eventId, source, 'eventId');
      if (eventId !== undefined && eventId !== null) event.eventId = typeof eventId === 'number' ? String(eventId) : eventId;
      event.timestamp = parseTimestamp(this.mapping.timestamp, source);
      const properties: Record<string, unknown> = {};
      const perEvent = this.mapping.events[eventName]?.fields ?? {};
      for (const [target, rule] of [...this.common, ...Object.entries(perEvent)]) {
        const value = applyRule(rule, source, target);
        if (value === undefined) continue;
        if (target.startsWith('properties.')) properties[target.slice('properties.'.length)] = value;
        else event[target] = value;
      }
      if (this.mapping.unmapped === 'properties') {
        for (const [k, v] of Object.entries(source)) {
          if (!this.used.has(k) && !(k in properties)) properties[k] = v;
        }
      }
      event.properties = properties;
      return { ok: true, event };
    } catch (err) {
      if (err instanceof RuleError) return { ok: false, reason: err.reason, detail: `mapping ${this.mapping.name}: ${err.message}` };
      throw err;
    }
  }
}
