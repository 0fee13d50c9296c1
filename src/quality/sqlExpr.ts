import { ENVELOPE_FIELD_NAMES, EVENT_NAMES, type EventName, type JsonType } from '../events/catalog.js';
import { SQL_TYPE, eventProperties, type ColumnKind } from './columns.js';
import { sqlString, sqlStringList } from '../sql/quote.js';

/**
 * Builders of DuckDB expressions over the raw JSON of an event, shared by the rules and the
 * silver SQL so both judge JSON types as `hasJsonType` (src/events/catalog.ts) does in JS.
 *
 * Silver parses each line once per function: `json_type(raw, [paths])` and
 * `json_extract_string(raw, [paths])` for the same list of paths — the envelope fields, then the
 * catalog properties of the event (the list depends on `ename`, the event name bronze extracted)
 * — and unpacks the two lists into slot columns `t1…tN` (JSON types: 'VARCHAR', 'BIGINT',
 * 'UBIGINT', 'DOUBLE', 'BOOLEAN', 'OBJECT', 'ARRAY', 'NULL'; SQL NULL when absent) and `x1…xN`
 * (texts: strings unquoted, numbers as written, objects and arrays as JSON text, NULL for null).
 * A value is a `JsonRef` to one slot. (One json_extract decoded with string tests was measured:
 * no faster.)
 */
export interface JsonRef {
  type: string;
  text: string;
}

/** `['a', 'b']` as a DuckDB list literal. */
export function litArray(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

/** JSON paths extracted for an event: the envelope, then its catalog properties. */
export function eventPaths(name: EventName | null): string[] {
  const envelope = ENVELOPE_FIELD_NAMES.map((f) => `$.${f}`);
  return name === null ? envelope : [...envelope, ...eventProperties(name).map((p) => `$.properties.${p}`)];
}

/** Number of slot columns: the envelope plus the most properties any catalog event has. */
export const SLOT_COUNT = ENVELOPE_FIELD_NAMES.length + Math.max(...EVENT_NAMES.map((e) => eventProperties(e).length));

function slot(i: number): JsonRef {
  return { type: `t${i}`, text: `x${i}` };
}

export function envRef(field: string): JsonRef {
  const i = (ENVELOPE_FIELD_NAMES as readonly string[]).indexOf(field);
  if (i < 0) throw new Error(`not an envelope field: ${field}`);
  return slot(i + 1);
}

/** Slot number of a property of a given catalog event. */
export function propSlot(event: EventName, property: string): number {
  const k = eventProperties(event).indexOf(property);
  if (k < 0) throw new Error(`${event} has no catalog property ${property}`);
  return ENVELOPE_FIELD_NAMES.length + k + 1;
}

/** A property of a given catalog event (valid where `ename` is that event). */
export function propRef(event: EventName, property: string): JsonRef {
  return slot(propSlot(event, property));
}

/** `t1, x1, t2, x2, …` from the two lists `jt` (json_type) and `jx` (json_extract_string). */
export function unpackSlots(types: string, texts: string): string {
  return Array.from({ length: SLOT_COUNT }, (_, k) => `${types}[${k + 1}] AS t${k + 1}, ${texts}[${k + 1}] AS x${k + 1}`).join(',\n  ');
}

/**
 * `CASE WHEN ename IN (…) THEN expr(slot) … END` over the events that have the property, one branch
 * per slot the property sits in (events sharing a slot share a branch).
 */
export function bySlot(property: string, expr: (ref: JsonRef, events: EventName[]) => string, otherwise = 'NULL'): string {
  const groups = new Map<number, EventName[]>();
  for (const e of eventsWith(property)) {
    const k = propSlot(e, property);
    groups.set(k, [...(groups.get(k) ?? []), e]);
  }
  if (groups.size === 0) return otherwise;
  const branches = [...groups].map(([k, events]) => `WHEN ename IN ${sqlStringList(events)} THEN ${expr(slot(k), events)}`);
  return `CASE ${branches.join(' ')} ELSE ${otherwise} END`;
}

/** Catalog events that have the property. */
export function eventsWith(property: string): EventName[] {
  return EVENT_NAMES.filter((e) => eventProperties(e).includes(property));
}

/** Absent or JSON null. */
export function absent(ref: JsonRef): string {
  return `(${ref.type} IS NULL OR ${ref.type} = 'NULL')`;
}

export function present(ref: JsonRef): string {
  return `(${ref.type} IS NOT NULL AND ${ref.type} <> 'NULL')`;
}

/** Absent, null or the empty string (required envelope fields). */
export function absentOrEmpty(ref: JsonRef): string {
  return `(${ref.type} IS NULL OR ${ref.type} = 'NULL' OR (${ref.type} = 'VARCHAR' AND ${ref.text} = ''))`;
}

/** The value as a DOUBLE (NULL when it is not a number). */
export function asDouble(ref: JsonRef): string {
  return `TRY_CAST(${ref.text} AS DOUBLE)`;
}

/** TRUE when the value has the JSON Schema type (integer: a number without fraction). */
export function hasType(ref: JsonRef, type: JsonType): string {
  const t = ref.type;
  switch (type) {
    case 'string':
      return `${t} = 'VARCHAR'`;
    case 'boolean':
      return `${t} = 'BOOLEAN'`;
    case 'object':
      return `${t} = 'OBJECT'`;
    case 'number':
      return `(${t} IN ('BIGINT', 'UBIGINT') OR (${t} = 'DOUBLE' AND isfinite(${asDouble(ref)})))`;
    case 'integer':
      return `(${t} IN ('BIGINT', 'UBIGINT') OR (${t} = 'DOUBLE' AND isfinite(${asDouble(ref)}) AND ${asDouble(ref)} = floor(${asDouble(ref)})))`;
  }
}

/** The value typed as a silver column of that kind (NULL when the JSON type does not fit). */
export function typedValue(ref: JsonRef, kind: ColumnKind): string {
  const { type: t, text: x } = ref;
  switch (kind) {
    case 'string':
      return `CASE WHEN ${t} = 'VARCHAR' THEN ${x} END`;
    case 'integer':
      return (
        `CASE WHEN ${t} IN ('BIGINT', 'UBIGINT') THEN TRY_CAST(${x} AS ${SQL_TYPE.integer}) ` +
        `WHEN ${hasType(ref, 'integer')} THEN TRY_CAST(${asDouble(ref)} AS ${SQL_TYPE.integer}) END`
      );
    case 'decimal':
      return `CASE WHEN ${hasType(ref, 'number')} THEN coalesce(TRY_CAST(${x} AS ${SQL_TYPE.decimal}), TRY_CAST(${asDouble(ref)} AS ${SQL_TYPE.decimal})) END`;
    case 'object':
      return `CASE WHEN ${t} = 'OBJECT' THEN CAST(${x} AS JSON) END`;
  }
}

/** Any JSON value as JSON (strings re-quoted), NULL when absent or null. */
export function asJson(ref: JsonRef): string {
  return `CASE WHEN ${ref.type} = 'VARCHAR' THEN to_json(${ref.text}) WHEN ${present(ref)} THEN CAST(${ref.text} AS JSON) END`;
}

/** `CASE WHEN c1 THEN 'a' END, …` collected into a list without the NULLs. */
export function listOfNames(cases: ReadonlyArray<{ when: string; name: string }>, indent = '  '): string {
  if (cases.length === 0) return 'CAST([] AS VARCHAR[])';
  const items = cases.map((c) => `${indent}  CASE WHEN ${c.when} THEN ${sqlString(c.name)} END`).join(',\n');
  return `list_filter([\n${items}\n${indent}], lambda x: x IS NOT NULL)`;
}

/** `CASE ename WHEN 'e' THEN <pred(e)> … ELSE false END` over the catalog events that have a predicate. */
export function perEvent(predicate: (name: EventName) => string | null): string {
  const branches = EVENT_NAMES.map((name) => [name, predicate(name)] as const).filter(([, p]) => p !== null);
  if (branches.length === 0) return 'false';
  return `CASE ename ${branches.map(([name, p]) => `WHEN ${sqlString(name)} THEN ${p}`).join(' ')} ELSE false END`;
}
