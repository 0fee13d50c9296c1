import {
  COUNTRIES,
  EVENT_CATALOG,
  EVENT_NAMES,
  PLATFORM_PATTERN,
  REQUIRED_ENVELOPE_FIELDS,
  REQUIRED_PROPERTIES,
  hasJsonType,
  normalizePlatform,
  propertyDefaults,
  type EnvelopeFieldName,
  type EventName,
} from '../events/catalog.js';

/**
 * The typed silver columns, as data: which envelope field or property each column comes from,
 * its type, and its normalization. The silver SQL (rendered into
 * pipelines/daily/silver/templates/_generated.sql.j2) and `typeEvent()` below — the same conversion for
 * one event, for a streaming service — are both built from these lists, so they cannot drift.
 *
 * Typing is strict: a value of the wrong JSON type gives NULL (and the rules flag it), never a
 * coerced guess (`"5"` is not the integer 5). A property column is filled only for the events
 * whose catalog entry declares that property (`level` of login/logout, `amount` of purchase and
 * currency_gain/spend…); any other property passes through in `properties`.
 */

/** How a JSON value becomes a column value. */
export type ColumnKind = 'string' | 'integer' | 'decimal' | 'object';

export interface EnvelopeColumn {
  readonly column: string;
  readonly field: EnvelopeFieldName;
  readonly kind: ColumnKind;
  readonly normalize?: 'platform' | 'countryCode';
}

export interface PropertyColumn {
  readonly column: string;
  readonly property: string;
  readonly kind: ColumnKind;
  /** ISO 4217 codes are upper-cased on the events whose catalog `currency` is an ISO code. */
  readonly normalize?: 'isoCurrency';
}

export const ENVELOPE_COLUMNS = [
  { column: 'event_id', field: 'eventId', kind: 'string' },
  { column: 'event_name', field: 'eventName', kind: 'string' },
  { column: 'game_id', field: 'gameId', kind: 'string' },
  { column: 'user_id', field: 'userId', kind: 'string' },
  { column: 'session_id', field: 'sessionId', kind: 'string' },
  { column: 'server_id', field: 'serverId', kind: 'string' },
  { column: 'platform', field: 'platform', kind: 'string', normalize: 'platform' },
  { column: 'country_code', field: 'countryCode', kind: 'string', normalize: 'countryCode' },
  { column: 'app_version', field: 'appVersion', kind: 'string' },
  { column: 'level_funnel', field: 'levelFunnel', kind: 'string' },
  { column: 'level_funnel_version', field: 'levelFunnelVersion', kind: 'integer' },
] as const satisfies readonly EnvelopeColumn[];

export const PROPERTY_COLUMNS = [
  { column: 'level', property: 'level', kind: 'integer' },
  { column: 'ip', property: 'ip', kind: 'string' },
  { column: 'session_seconds', property: 'sessionSeconds', kind: 'integer' },
  { column: 'amount', property: 'amount', kind: 'decimal' },
  { column: 'currency', property: 'currency', kind: 'string', normalize: 'isoCurrency' },
  { column: 'product_id', property: 'productId', kind: 'string' },
  { column: 'payment_channel', property: 'paymentChannel', kind: 'string' },
  { column: 'transaction_id', property: 'transactionId', kind: 'string' },
  { column: 'item_id', property: 'itemId', kind: 'string' },
  { column: 'quantity', property: 'quantity', kind: 'integer' },
  { column: 'reason_id', property: 'reasonId', kind: 'integer' },
  { column: 'level_id', property: 'levelId', kind: 'integer' },
  { column: 'boosters', property: 'boosters', kind: 'object' },
  { column: 'egp', property: 'egp', kind: 'integer' },
  { column: 'match_id', property: 'matchId', kind: 'string' },
  { column: 'result', property: 'result', kind: 'string' },
  { column: 'duration_seconds', property: 'durationSeconds', kind: 'integer' },
  { column: 'guild_id', property: 'guildId', kind: 'string' },
  { column: 'guild_name', property: 'guildName', kind: 'string' },
  { column: 'offer_id', property: 'offerId', kind: 'string' },
  { column: 'price', property: 'price', kind: 'decimal' },
] as const satisfies readonly PropertyColumn[];

/** DuckDB type of each column kind (`object` stays JSON text). */
export const SQL_TYPE: Readonly<Record<ColumnKind, string>> = {
  string: 'VARCHAR',
  integer: 'INTEGER',
  decimal: 'DECIMAL(18,4)',
  object: 'JSON',
};

/** Largest magnitude a DECIMAL(18,4) holds; larger amounts type as NULL (and are flagged as absurd). */
export const DECIMAL_LIMIT = 1e14;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Events whose `currency` property is an ISO 4217 code (derived from the catalog pattern). */
export const ISO_CURRENCY_EVENTS: readonly EventName[] = EVENT_NAMES.filter(
  (name) => (EVENT_CATALOG[name].properties as Record<string, { pattern?: string } | undefined>).currency?.pattern === '^[A-Z]{3}$',
);

/** The catalog properties of an event (required, then optional): the ones silver types for it. */
export function eventProperties(name: EventName): string[] {
  const spec = EVENT_CATALOG[name];
  return [...Object.keys(spec.properties), ...Object.keys(spec.optionalProperties ?? {})];
}

export function isCatalogEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(EVENT_CATALOG, name);
}

/** Letter-only codes of this length are upper-cased; anything else is kept as sent (and flagged if unknown). */
export const COUNTRY_CODE_SHAPE = '^[A-Za-z]{2}$';
export const CURRENCY_CODE_SHAPE = '^[A-Za-z]{3}$';

type KindValue = { string: string; integer: number; decimal: number; object: Record<string, unknown> };
type EnvelopeSpec = (typeof ENVELOPE_COLUMNS)[number];
type PropertySpec = (typeof PROPERTY_COLUMNS)[number];

/** One silver row before the flags (the typed, normalized event). Timestamps are epoch ms. */
export type TypedEvent = { [C in EnvelopeSpec as C['column']]: KindValue[C['kind']] | null } & {
  [C in PropertySpec as C['column']]: KindValue[C['kind']] | null;
} & {
  event_ts: number | null;
  country_name: string | null;
  /** The `properties` value kept whole (any JSON value, or null when absent). */
  properties: unknown;
  /** Fields whose value normalization changed (`platform`, `countryCode`, `properties.currency`). */
  normalized_fields: string[];
  /** Required envelope fields and required properties (`properties.x`) absent or null (optional ones have defaults). */
  missing_fields: string[];
};

export type RawEvent = Record<string, unknown>;

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `properties` object of an event, or undefined when it is absent or not an object. */
export function propertiesOf(raw: RawEvent): Record<string, unknown> | undefined {
  return isJsonObject(raw.properties) ? raw.properties : undefined;
}

/** A JSON value converted to a column kind; the wrong JSON type gives null. */
export function typeValue(value: unknown, kind: ColumnKind): string | number | Record<string, unknown> | null {
  switch (kind) {
    case 'string':
      return typeof value === 'string' ? value : null;
    case 'integer':
      return hasJsonType(value, 'integer') && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX ? (value as number) : null;
    case 'decimal':
      return hasJsonType(value, 'number') && Math.abs(value as number) < DECIMAL_LIMIT ? (value as number) : null;
    case 'object':
      return isJsonObject(value) ? value : null;
  }
}

const platformShape = new RegExp(PLATFORM_PATTERN);
const countryShape = new RegExp(COUNTRY_CODE_SHAPE);
const currencyShape = new RegExp(CURRENCY_CODE_SHAPE);

/** `ios` → `iOS`; other values are kept as sent (unknown platforms are flagged, not rewritten). */
export function normalizePlatformValue(value: string): string {
  return platformShape.test(value) ? normalizePlatform(value)! : value;
}

export function normalizeCountryValue(value: string): string {
  return countryShape.test(value) ? value.toUpperCase() : value;
}

export function normalizeCurrencyValue(value: string): string {
  return currencyShape.test(value) ? value.toUpperCase() : value;
}

export function isMissingEnvelopeValue(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** Required properties of a catalog event that are absent or null (`properties.x`). */
export function missingPropertiesOf(raw: RawEvent): string[] {
  const name = raw.eventName;
  if (!isCatalogEventName(name)) return [];
  const props = propertiesOf(raw);
  return REQUIRED_PROPERTIES[name]
    .filter(({ name: p }) => props?.[p] === undefined || props[p] === null)
    .map(({ name: p }) => `properties.${p}`);
}

/**
 * The typed silver columns of one event (the JS twin of the silver SQL): strict typing, the
 * catalog defaults of absent optional properties (egp 0, boosters {}), platform / country /
 * ISO-currency normalization, the country's English name.
 * `eventTs` is the parsed timestamp (epoch ms) as ingestion determined it.
 */
export function typeEvent(raw: RawEvent, eventTs: number | null): TypedEvent {
  const typed: Record<string, unknown> = { event_ts: eventTs };
  const normalized: string[] = [];
  for (const spec of ENVELOPE_COLUMNS as readonly EnvelopeColumn[]) {
    let value = typeValue(raw[spec.field], spec.kind);
    if (typeof value === 'string' && spec.normalize) {
      const fixed = spec.normalize === 'platform' ? normalizePlatformValue(value) : normalizeCountryValue(value);
      if (fixed !== value) normalized.push(spec.field);
      value = fixed;
    }
    typed[spec.column] = value;
  }
  const props = propertiesOf(raw);
  const name = typed.event_name;
  const isoCurrency = typeof name === 'string' && (ISO_CURRENCY_EVENTS as readonly string[]).includes(name);
  // Only the properties the catalog declares for this event are typed; others stay in `properties`.
  const declared = isCatalogEventName(name) ? eventProperties(name) : [];
  const defaults: Readonly<Record<string, unknown>> = isCatalogEventName(name) ? propertyDefaults(name) : {};
  for (const spec of PROPERTY_COLUMNS as readonly PropertyColumn[]) {
    const sent = props?.[spec.property];
    let value = !declared.includes(spec.property)
      ? null
      : (sent === undefined || sent === null) && defaults[spec.property] !== undefined
        ? typeValue(defaults[spec.property], spec.kind)
        : typeValue(sent, spec.kind);
    if (typeof value === 'string' && spec.normalize === 'isoCurrency' && isoCurrency) {
      const fixed = normalizeCurrencyValue(value);
      if (fixed !== value) normalized.push(`properties.${spec.property}`);
      value = fixed;
    }
    typed[spec.column] = value;
  }
  const code = typed.country_code;
  typed.country_name = typeof code === 'string' && Object.prototype.hasOwnProperty.call(COUNTRIES, code)
    ? COUNTRIES[code as keyof typeof COUNTRIES]
    : null;
  typed.properties = raw.properties === undefined ? null : raw.properties;
  typed.normalized_fields = normalized;
  typed.missing_fields = [
    ...REQUIRED_ENVELOPE_FIELDS.filter((f) => isMissingEnvelopeValue(raw[f])),
    ...missingPropertiesOf(raw),
  ];
  return typed as TypedEvent;
}
