import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  COUNTRIES,
  EVENT_NAMES,
  PLATFORM_PATTERN,
  PLATFORMS,
  REQUIRED_ENVELOPE_FIELDS,
  REQUIRED_PROPERTIES,
  propertyDefaults,
  type EventName,
} from '../events/catalog.js';
import {
  COUNTRY_CODE_SHAPE,
  CURRENCY_CODE_SHAPE,
  ENVELOPE_COLUMNS,
  ISO_CURRENCY_EVENTS,
  PROPERTY_COLUMNS,
  SQL_TYPE,
  type EnvelopeColumn,
  type PropertyColumn,
} from './columns.js';
import { ERROR_RULES, QUALITY_RULES, WARNING_RULES } from './rules.js';
import {
  absent,
  absentOrEmpty,
  asJson,
  bySlot,
  envRef,
  eventPaths,
  litArray,
  listOfNames,
  propRef,
  typedValue,
  unpackSlots,
  type JsonRef,
} from './sqlExpr.js';
import { sqlString, sqlStringList } from '../sql/quote.js';

/**
 * Renders the SQL that the silver and quality layouts need from the rules, the typed columns and
 * the catalog as nunjucks macros in `pipelines/daily/silver/templates/_generated.sql.j2`. The file is
 * checked in (a reviewer reads the exact SQL a layout runs) and test/quality/layouts.test.ts
 * fails when it drifts from the TypeScript; regenerate with
 *
 *     npx tsx src/quality/generatedSql.ts --write
 */

export const GENERATED_TEMPLATE = path.resolve(import.meta.dirname, '../../pipelines/daily/silver/templates/_generated.sql.j2');

/** `CASE ename WHEN 'purchase' THEN fn(raw, [envelope + purchase paths]) … ELSE fn(raw, [envelope]) END` */
function perEventPaths(fn: string): string {
  const list = (name: EventName | null) => `${fn}(raw, ${litArray(eventPaths(name))})`;
  const branches = EVENT_NAMES.map((name) => `    WHEN ${sqlString(name)} THEN ${list(name)}`).join('\n');
  return `CASE ename\n${branches}\n    ELSE ${list(null)}\n  END`;
}

function platformSql(text: string): string {
  const canonical = PLATFORMS.map((p) => `WHEN ${sqlString(p.toLowerCase())} THEN ${sqlString(p)}`).join(' ');
  return `CASE WHEN regexp_full_match(${text}, ${sqlString(PLATFORM_PATTERN)}) THEN CASE lower(${text}) ${canonical} END ELSE ${text} END`;
}

function upperIfShape(text: string, shape: string): string {
  return `CASE WHEN regexp_full_match(${text}, ${sqlString(shape)}) THEN upper(${text}) ELSE ${text} END`;
}

function envelopeColumnSql(spec: EnvelopeColumn): string {
  const ref = envRef(spec.field);
  const text = `(${typedValue(ref, 'string')})`;
  if (spec.normalize === 'platform') return platformSql(text);
  if (spec.normalize === 'countryCode') return upperIfShape(text, COUNTRY_CODE_SHAPE);
  return typedValue(ref, spec.kind);
}

/** A catalog default as a literal of the column's type. */
function defaultSql(value: number | Readonly<Record<string, never>>, spec: PropertyColumn): string {
  return typeof value === 'number' ? `CAST(${value} AS ${SQL_TYPE[spec.kind]})` : `CAST(${sqlString(JSON.stringify(value))} AS JSON)`;
}

/**
 * Typed only for the events whose catalog declares the property; an absent or null optional
 * property takes its catalog default (columns.ts typeEvent does the same for one event).
 */
function propertyColumnSql(spec: PropertyColumn): string {
  return bySlot(spec.property, (ref, events) => {
    const typed = typedColumnSql(spec, ref, events);
    const defaults = events.map((e) => propertyDefaults(e)[spec.property]);
    if (defaults.every((d) => d === undefined)) return typed;
    const first = defaults[0];
    const same = defaults.every((d) => JSON.stringify(d) === JSON.stringify(first));
    const fallback = same && first !== undefined
      ? defaultSql(first, spec)
      : `CASE ename ${events
          .map((e, i) => (defaults[i] === undefined ? null : `WHEN ${sqlString(e)} THEN ${defaultSql(defaults[i]!, spec)}`))
          .filter((b) => b !== null)
          .join(' ')} END`;
    return `CASE WHEN ${absent(ref)} THEN ${fallback} ELSE ${typed} END`;
  }, `CAST(NULL AS ${SQL_TYPE[spec.kind]})`);
}

/** The property typed (ISO currency codes upper-cased on the events whose catalog says ISO). */
function typedColumnSql(spec: PropertyColumn, ref: JsonRef, events: EventName[]): string {
  if (spec.normalize !== 'isoCurrency') return typedValue(ref, spec.kind);
  const iso = events.filter((e) => ISO_CURRENCY_EVENTS.includes(e));
  const upper = upperIfShape(`(${typedValue(ref, 'string')})`, CURRENCY_CODE_SHAPE);
  if (iso.length === events.length) return upper;
  if (iso.length === 0) return typedValue(ref, 'string');
  return `CASE WHEN ename IN ${sqlStringList(iso)} THEN ${upper} ELSE ${typedValue(ref, 'string')} END`;
}

function macro(name: string, body: string, args = ''): string {
  return `{% macro ${name}(${args}) %}{% raw %}${body}{% endraw %}{% endmacro %}\n`;
}

/** The generated template text. */
export function renderGeneratedTemplate(): string {
  const envelope = ENVELOPE_COLUMNS as readonly EnvelopeColumn[];
  const properties = PROPERTY_COLUMNS as readonly PropertyColumn[];
  const typedColumns = [
    ...envelope.map((c) => `  ${envelopeColumnSql(c)} AS ${c.column}`),
    ...properties.map((c) => `  ${propertyColumnSql(c)} AS ${c.column}`),
    `  ${asJson(envRef('properties'))} AS properties`,
  ].join(',\n');

  const countryName = `CASE country_code ${Object.entries(COUNTRIES)
    .map(([code, name]) => `WHEN ${sqlString(code)} THEN ${sqlString(name)}`)
    .join(' ')} END`;

  const silverColumns = [
    'event_id',
    'event_name',
    'event_ts',
    ...envelope
      .map((c) => c.column)
      .filter((c) => c !== 'event_id' && c !== 'event_name')
      .flatMap((c) => (c === 'country_code' ? [c, 'country_name'] : [c])),
    ...properties.map((c) => c.column),
    'properties',
  ].join(', ');

  // Flags are computed once as booleans; the lists are only built for the rows that have any
  // (most rows are clean, and building a list per row is the expensive part).
  const flag = (name: string) => `f_${name}`;
  const listWhenAny = (cases: ReadonlyArray<{ when: string; name: string }>, indent = '  ') =>
    `CASE WHEN ${cases.map((c) => c.when).join(' OR ')} THEN ${listOfNames(cases, indent)} ELSE CAST([] AS VARCHAR[]) END`;

  const normalizedFlags = [
    ...envelope
      .filter((c) => c.normalize)
      .map((c) => ({ name: c.field, sql: `${envRef(c.field).type} = 'VARCHAR' AND ${envRef(c.field).text} <> ${c.column}` })),
    ...properties
      .filter((c) => c.normalize)
      .map((c) => ({
        name: `properties.${c.property}`,
        sql: bySlot(c.property, (ref) => `(${ref.type} = 'VARCHAR' AND ${ref.text} <> ${c.column})`, 'false'),
      })),
  ];
  const normalizedFlagColumns = normalizedFlags.map((n, i) => `coalesce(${n.sql}, false) AS n_${i + 1}`).join(',\n  ');
  const normalizedFields = listWhenAny(normalizedFlags.map((n, i) => ({ when: `n_${i + 1}`, name: n.name })));

  const ruleFlagColumns = QUALITY_RULES.map((r) => `coalesce(${r.sql}, false) AS ${flag(r.name)}`).join(',\n  ');
  const validationErrors = listWhenAny(QUALITY_RULES.map((r) => ({ when: flag(r.name), name: r.name })));
  const isValid = `NOT (${ERROR_RULES.map(flag).join(' OR ')})`;

  // Envelope fields for every event, then the required properties of its catalog event; only
  // where a missing-field rule fired (the two are the same tests).
  const missingProperties = EVENT_NAMES.map((event) => {
    const props = REQUIRED_PROPERTIES[event].map((p) => p.name);
    if (props.length === 0) return null;
    return `WHEN ${sqlString(event)} THEN ${listOfNames(props.map((p) => ({ when: absent(propRef(event, p)), name: `properties.${p}` })), '    ')}`;
  }).filter((b) => b !== null);
  const missingFields =
    `CASE WHEN ${flag('missing_required_field')} OR ${flag('missing_required_property')} THEN list_concat(` +
    `${listOfNames(REQUIRED_ENVELOPE_FIELDS.map((f) => ({ when: absentOrEmpty(envRef(f)), name: f })), '    ')},\n` +
    `    CASE ename ${missingProperties.join('\n    ')}\n    ELSE CAST([] AS VARCHAR[]) END)\n  ELSE CAST([] AS VARCHAR[]) END`;

  const ruleCounts = (names: readonly string[]) =>
    names.length === 0
      ? `CAST('{}' AS JSON)`
      : `json_object(${names
          .map((n) => `${sqlString(n)}, count(*) FILTER (WHERE NOT is_duplicate AND list_contains(validation_errors, ${sqlString(n)}))`)
          .join(',\n    ')})`;

  const header =
    '{#- GENERATED by src/quality/generatedSql.ts from src/quality/rules.ts, src/quality/columns.ts and\n' +
    '    src/events/catalog.ts. Do not edit: run `npx tsx src/quality/generatedSql.ts --write`. -#}\n';
  return (
    header +
    '\n{#- Each line parsed once per function: the JSON types (jt) and texts (jx) of the envelope fields,\n' +
    '    then of the catalog properties of its event (ename); slots() unpacks them into t1…tN, x1…xN. -#}\n' +
    macro('json_types', perEventPaths('json_type')) +
    macro('json_texts', perEventPaths('json_extract_string')) +
    macro('slots', unpackSlots('jt', 'jx')) +
    '\n{#- Typed, normalized columns (strict: a wrong JSON type gives NULL). -#}\n' +
    macro('typed_columns', `\n${typedColumns}\n`) +
    macro('country_name', countryName) +
    '\n{#- Silver event columns in contract order (flags and lineage follow in the template). -#}\n' +
    macro('silver_columns', silverColumns) +
    `\n{#- The quality rules (${QUALITY_RULES.length}), each a boolean f_<rule>, and the normalization tests n_<i>. -#}\n` +
    macro('rule_flags', ruleFlagColumns) +
    macro('normalized_flags', normalizedFlagColumns) +
    '\n{#- From the flags: rule names broken (in rule order), validity, required fields absent, fields normalized. -#}\n' +
    macro('validation_errors', validationErrors) +
    macro('is_valid', isValid) +
    macro('missing_fields', missingFields) +
    macro('normalized_fields', normalizedFields) +
    '\n{#- Quality report: events (not duplicates) breaking each rule. -#}\n' +
    macro('error_rule_counts', ruleCounts(ERROR_RULES)) +
    macro('warning_rule_counts', ruleCounts(WARNING_RULES))
  );
}

export function writeGeneratedTemplate(file = GENERATED_TEMPLATE): boolean {
  const text = renderGeneratedTemplate();
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  if (current === text) return false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--write')) {
    const changed = writeGeneratedTemplate();
    process.stdout.write(`${changed ? 'wrote' : 'unchanged'} ${path.relative(process.cwd(), GENERATED_TEMPLATE)}\n`);
  } else {
    process.stdout.write(renderGeneratedTemplate());
  }
}
