import {
  ABSURD_PURCHASE_USD,
  COUNTRY_CODES,
  CURRENCIES,
  ENVELOPE_FIELDS,
  EVENT_CATALOG,
  EVENT_NAMES,
  PLATFORMS,
  REQUIRED_ENVELOPE_FIELDS,
  REQUIRED_PROPERTIES,
  TIMESTAMP_PATTERN,
  amountInUsd,
  hasJsonType,
  isKnownCountry,
  type EventName,
  type JsonType,
} from '../events/catalog.js';
import { isMissingEnvelopeValue, propertiesOf, typeEvent, type RawEvent, type TypedEvent } from './columns.js';
import { absent, absentOrEmpty, asDouble, bySlot, envRef, hasType, perEvent, present, propRef, type JsonRef } from './sqlExpr.js';
import { sqlString, sqlStringList } from '../sql/quote.js';
import { DAY_MS } from '../core/dates.js';

/**
 * The data-quality rules, in ONE place, as data: each has a name (what `validation_errors`
 * lists), a description, a severity, a DuckDB predicate (used by the silver layout, rendered
 * into pipelines/daily/silver/templates/_generated.sql.j2) and the same predicate in JS for a single
 * event (for the stream service). test/quality/rules.test.ts runs both on a fixture of events
 * and requires the same verdicts.
 *
 * A predicate is TRUE when the event BREAKS the rule. In SQL a NULL result counts as not broken.
 *
 * Severity `error` makes the event invalid (`is_valid = false`: gold skips it); `warning` only
 * flags it (it stays valid, e.g. an event name the catalog does not know yet is kept and counted
 * as activity, but listed in `validation_errors`).
 *
 * SQL context (one row per event, see silver_events.sql.j2): the typed silver columns
 * (`event_name`, `country_code`, `platform`, `currency`, … as in columns.ts), `event_ts`
 * (TIMESTAMPTZ), `ingested_at` (TIMESTAMPTZ), `install_ts` (the user's register time when known,
 * else NULL), `ename` (the event name when it is a string) and the raw JSON values through
 * `jt`/`jx` (see sqlExpr.ts: `envRef('userId')`, `propRef('purchase', 'amount')`).
 */

export type RuleSeverity = 'error' | 'warning';

export interface RuleInput {
  /** The event as parsed from its line. */
  raw: RawEvent;
  /** Its typed silver columns (`typeEvent(raw, eventTs)`). */
  typed: TypedEvent;
  /** When the event was ingested (epoch ms). */
  ingestedAt: number;
  /** The user's install (register) time (epoch ms), when known. */
  installTs: number | null;
}

export interface QualityRule {
  readonly name: string;
  readonly description: string;
  readonly severity: RuleSeverity;
  /** DuckDB boolean expression, TRUE when the event breaks the rule. */
  readonly sql: string;
  /** The same test for one event. */
  readonly check: (input: RuleInput) => boolean;
}


/** Events with a numeric `amount` (purchase: money; currency_gain/spend: virtual currency). */
const AMOUNT_EVENTS = EVENT_NAMES.filter((n) => 'amount' in EVENT_CATALOG[n].properties);
/** Shop-funnel events with a `price`. */
const PRICE_EVENTS = EVENT_NAMES.filter((n) => 'price' in EVENT_CATALOG[n].properties);
/** Item events with a `quantity`. */
const QUANTITY_EVENTS = EVENT_NAMES.filter((n) => 'quantity' in EVENT_CATALOG[n].properties);

/** The properties without which the event cannot be counted (no default in the catalog). */
function requiredProperties(name: EventName): Array<[string, JsonType]> {
  return REQUIRED_PROPERTIES[name].map(({ name: p, type }) => [p, type]);
}

/** Every catalog property of the event, required or optional: each must have its JSON type when sent. */
function catalogProperties(name: EventName): Array<[string, JsonType]> {
  return Object.entries(EVENT_CATALOG[name].properties).map(([p, spec]) => [p, spec.type]);
}

function propOf(input: RuleInput, property: string): unknown {
  return propertiesOf(input.raw)?.[property];
}

function isCatalogEvent(name: unknown): name is EventName {
  return typeof name === 'string' && (EVENT_NAMES as readonly string[]).includes(name);
}

function negativeNumberSql(ref: JsonRef): string {
  return `(${hasType(ref, 'number')} AND ${asDouble(ref)} < 0)`;
}

function isNegativeNumber(value: unknown): boolean {
  return hasJsonType(value, 'number') && (value as number) < 0;
}

/** Purchase amount in USD at the catalog reference rate; an unknown currency counts 1:1. */
function usdAmountSql(amount: string): string {
  const cases = Object.entries(CURRENCIES)
    .map(([code, spec]) => `WHEN ${sqlString(code)} THEN ${amount} * CAST(${sqlString(String(spec.usdPerUnit))} AS DOUBLE)`)
    .join(' ');
  return `(CASE currency ${cases} ELSE ${amount} END)`;
}

const timestampPattern = new RegExp(TIMESTAMP_PATTERN);

export const QUALITY_RULES: readonly QualityRule[] = [
  {
    name: 'missing_required_field',
    description: `A required envelope field (${REQUIRED_ENVELOPE_FIELDS.join(', ')}) is absent, null or empty.`,
    severity: 'error',
    sql: REQUIRED_ENVELOPE_FIELDS.map((f) => absentOrEmpty(envRef(f))).join(' OR '),
    check: ({ raw }) => REQUIRED_ENVELOPE_FIELDS.some((f) => isMissingEnvelopeValue(raw[f])),
  },
  {
    name: 'invalid_field_type',
    description: 'An envelope field has the wrong JSON type (e.g. a numeric userId, levelFunnelVersion not an integer, properties not an object).',
    severity: 'error',
    sql: Object.entries(ENVELOPE_FIELDS)
      .map(([f, spec]) => `(${present(envRef(f))} AND NOT ${hasType(envRef(f), spec.type)})`)
      .join(' OR '),
    check: ({ raw }) =>
      Object.entries(ENVELOPE_FIELDS).some(([f, spec]) => raw[f] !== undefined && raw[f] !== null && !hasJsonType(raw[f], spec.type)),
  },
  {
    name: 'unknown_event_name',
    description: 'eventName is not in the event catalog. The event is kept and flagged (a warning: it stays valid).',
    severity: 'warning',
    sql: `ename IS NOT NULL AND ename <> '' AND ename NOT IN ${sqlStringList(EVENT_NAMES)}`,
    check: ({ typed }) => typed.event_name !== null && typed.event_name !== '' && !isCatalogEvent(typed.event_name),
  },
  {
    name: 'missing_required_property',
    description: "A property the catalog requires for this event (one without which it cannot be counted, e.g. levelId, a purchase's amount and currency) is absent or null (or `properties` is missing). Absent optional properties take their catalog default instead.",
    severity: 'error',
    sql: perEvent((name) => {
      const props = requiredProperties(name);
      return props.length ? `(${props.map(([p]) => absent(propRef(name, p))).join(' OR ')})` : null;
    }),
    check: (input) =>
      isCatalogEvent(input.typed.event_name) &&
      requiredProperties(input.typed.event_name).some(([p]) => {
        const v = propOf(input, p);
        return v === undefined || v === null;
      }),
  },
  {
    name: 'invalid_property_type',
    description: 'A catalog property (required or optional) is sent with the wrong JSON type (e.g. amount as a string, egp as "2").',
    severity: 'error',
    sql: perEvent((name) => {
      const props = catalogProperties(name);
      return props.length
        ? `(${props.map(([p, type]) => `(${present(propRef(name, p))} AND NOT ${hasType(propRef(name, p), type)})`).join(' OR ')})`
        : null;
    }),
    check: (input) =>
      isCatalogEvent(input.typed.event_name) &&
      catalogProperties(input.typed.event_name).some(([p, type]) => {
        const v = propOf(input, p);
        return v !== undefined && v !== null && !hasJsonType(v, type);
      }),
  },
  {
    name: 'invalid_timestamp',
    description: 'timestamp is not ISO-8601 with a zone (e.g. `2024-05-01 13:45:12` without `Z`); it was readable enough to file the event under a day.',
    severity: 'error',
    sql: `${envRef('timestamp').type} = 'VARCHAR' AND NOT regexp_full_match(${envRef('timestamp').text}, ${sqlString(TIMESTAMP_PATTERN)})`,
    check: ({ raw }) => typeof raw.timestamp === 'string' && !timestampPattern.test(raw.timestamp),
  },
  {
    name: 'future_timestamp',
    description: 'timestamp is more than 1 day after the event was ingested.',
    severity: 'error',
    // epoch arithmetic: adding an INTERVAL to a TIMESTAMPTZ goes through the calendar, per row
    sql: `epoch_us(event_ts) > epoch_us(ingested_at) + ${DAY_MS * 1000}`,
    check: ({ typed, ingestedAt }) => typed.event_ts !== null && typed.event_ts > ingestedAt + DAY_MS,
  },
  {
    name: 'before_install',
    description: "timestamp is earlier than the user's register event (install), when that is known.",
    severity: 'error',
    sql: `install_ts IS NOT NULL AND event_ts < install_ts`,
    check: ({ typed, installTs }) => installTs !== null && typed.event_ts !== null && typed.event_ts < installTs,
  },
  {
    name: 'negative_amount',
    description: `A negative amount (${AMOUNT_EVENTS.join(', ')}) or price (${PRICE_EVENTS.join(', ')}).`,
    severity: 'error',
    sql: `${bySlot('amount', negativeNumberSql, 'false')} OR ${bySlot('price', negativeNumberSql, 'false')}`,
    check: (input) =>
      (AMOUNT_EVENTS.includes(input.typed.event_name as EventName) && isNegativeNumber(propOf(input, 'amount'))) ||
      (PRICE_EVENTS.includes(input.typed.event_name as EventName) && isNegativeNumber(propOf(input, 'price'))),
  },
  {
    name: 'absurd_amount',
    description:
      `A purchase above ${ABSURD_PURCHASE_USD.toLocaleString('en-US')} USD at the catalog reference rates ` +
      `(an amount in an unknown currency counts as USD). 119000 VND is a 4.99 USD pack, not absurd.`,
    severity: 'error',
    sql: perEvent((name) =>
      name === 'purchase'
        ? `(${hasType(propRef(name, 'amount'), 'number')} AND ${usdAmountSql(asDouble(propRef(name, 'amount')))} > ${ABSURD_PURCHASE_USD})`
        : null,
    ),
    check: (input) => {
      const amount = propOf(input, 'amount');
      if (input.typed.event_name !== 'purchase' || !hasJsonType(amount, 'number')) return false;
      const usd = amountInUsd(amount as number, input.typed.currency ?? '') ?? (amount as number);
      return usd > ABSURD_PURCHASE_USD;
    },
  },
  {
    name: 'negative_quantity',
    description: `A negative item quantity (${QUANTITY_EVENTS.join(', ')}).`,
    severity: 'error',
    sql: bySlot('quantity', negativeNumberSql, 'false'),
    check: (input) => QUANTITY_EVENTS.includes(input.typed.event_name as EventName) && isNegativeNumber(propOf(input, 'quantity')),
  },
  {
    name: 'unknown_country',
    description: 'countryCode (after upper-casing) is not in the catalog country list.',
    severity: 'error',
    sql: `country_code IS NOT NULL AND country_code NOT IN ${sqlStringList(COUNTRY_CODES)}`,
    check: ({ typed }) => typed.country_code !== null && !isKnownCountry(typed.country_code),
  },
  {
    name: 'unknown_platform',
    description: `platform is not ${PLATFORMS.join(', ')} in any letter case (mixed case is normalized, not invalid).`,
    severity: 'error',
    sql: `platform IS NOT NULL AND platform NOT IN ${sqlStringList(PLATFORMS)}`,
    check: ({ typed }) => typed.platform !== null && !(PLATFORMS as readonly string[]).includes(typed.platform),
  },
];

export const RULE_NAMES: readonly string[] = QUALITY_RULES.map((r) => r.name);
export const ERROR_RULES: readonly string[] = QUALITY_RULES.filter((r) => r.severity === 'error').map((r) => r.name);
export const WARNING_RULES: readonly string[] = QUALITY_RULES.filter((r) => r.severity === 'warning').map((r) => r.name);

export function ruleByName(name: string): QualityRule | undefined {
  return QUALITY_RULES.find((r) => r.name === name);
}

export interface EventVerdict {
  typed: TypedEvent;
  /** Names of the rules the event breaks, in rule order (errors and warnings). */
  validationErrors: string[];
  /** No error-severity rule broken. */
  isValid: boolean;
}

/**
 * Checks one event as silver does (without dedup, which needs the other events): types and
 * normalizes it, then applies every rule. For a stream service: `eventTs` is the parsed
 * timestamp, `ingestedAt` the arrival time, `installTs` the user's register time if known.
 */
export function checkEvent(raw: RawEvent, ctx: { eventTs: number | null; ingestedAt: number; installTs?: number | null }): EventVerdict {
  const typed = typeEvent(raw, ctx.eventTs);
  const input: RuleInput = { raw, typed, ingestedAt: ctx.ingestedAt, installTs: ctx.installTs ?? null };
  const validationErrors = QUALITY_RULES.filter((r) => r.check(input)).map((r) => r.name);
  return { typed, validationErrors, isValid: !validationErrors.some((n) => ERROR_RULES.includes(n)) };
}
