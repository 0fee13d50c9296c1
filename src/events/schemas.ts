import {
  ENVELOPE_FIELDS,
  ENVELOPE_FIELD_NAMES,
  EVENT_CATALOG,
  EVENT_NAMES,
  REQUIRED_ENVELOPE_FIELDS,
  REQUIRED_PROPERTIES,
  type EventName,
  type FieldSpec,
} from './catalog.js';

/**
 * JSON Schemas (draft 2020-12) rendered from the catalog: one for the envelope and one per
 * event that adds `eventName: const` and the event's properties on top of it (the required ones
 * listed in `required`; the optional ones nullable, with their `default` when it is a value).
 * The files under `schemas/` are exactly these objects (test/events/schemas.test.ts).
 */

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
/** Base of the schemas' `$id`s; identifiers only, nothing is fetched from there. */
export const SCHEMA_BASE_URI = 'https://gamepipe.example/schemas/';

export type JsonSchema = Record<string, unknown>;

/** A field's schema; an optional catalog property (one with a default) also accepts null, which means its default. */
function fieldSchema(spec: FieldSpec): JsonSchema {
  const optional = spec.default !== undefined;
  const schema: JsonSchema = { type: optional ? [spec.type, 'null'] : spec.type, description: spec.description };
  if (optional && spec.default !== null) schema.default = spec.default;
  if (spec.format !== undefined) schema.format = spec.format;
  if (spec.pattern !== undefined) schema.pattern = spec.pattern;
  if (spec.enum !== undefined) schema.enum = [...spec.enum];
  if (spec.minLength !== undefined) schema.minLength = spec.minLength;
  if (spec.minimum !== undefined) schema.minimum = spec.minimum;
  if (spec.exclusiveMinimum !== undefined) schema.exclusiveMinimum = spec.exclusiveMinimum;
  if (spec.valuesType !== undefined) schema.additionalProperties = { type: spec.valuesType };
  return schema;
}

/** A complete example event (envelope + the catalog example properties). */
export function exampleEvent(name: EventName): Record<string, unknown> {
  const index = EVENT_NAMES.indexOf(name);
  const second = String(10 + index).padStart(2, '0');
  return {
    eventId: `3f1c9a2e-5b7d-4e80-9a1b-${(0xc0ffee000000 + index).toString(16)}`,
    eventName: name,
    timestamp: `2024-05-01T13:45:${second}.250Z`,
    gameId: 'game_1',
    userId: 'u0000042',
    sessionId: 'ses_9d2e4b7a10c3f581',
    serverId: 's03',
    platform: 'Android',
    countryCode: 'TH',
    appVersion: '1.2.0',
    levelFunnel: 'live_v1',
    levelFunnelVersion: 2,
    properties: { ...EVENT_CATALOG[name].example },
  };
}

export function envelopeSchema(): JsonSchema {
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: `${SCHEMA_BASE_URI}envelope.schema.json`,
    title: 'gamepipe event envelope',
    description:
      'One JSON object per event (one line in NDJSON). eventId is the dedup key. Fields not listed here pass through untouched.',
    type: 'object',
    required: [...REQUIRED_ENVELOPE_FIELDS],
    properties: Object.fromEntries(ENVELOPE_FIELD_NAMES.map((f) => [f, fieldSchema(ENVELOPE_FIELDS[f])])),
    additionalProperties: true,
    examples: [exampleEvent('login')],
  };
}

export function eventSchema(name: EventName): JsonSchema {
  const spec = EVENT_CATALOG[name];
  const required = REQUIRED_PROPERTIES[name].map((p) => p.name);
  const properties: JsonSchema = {
    ...Object.fromEntries(Object.entries(spec.properties).map(([p, s]) => [p, fieldSchema(s)])),
    ...Object.fromEntries(Object.entries(spec.optionalProperties ?? {}).map(([p, s]) => [p, fieldSchema(s)])),
  };
  const propertiesSchema: JsonSchema = {
    type: 'object',
    ...(required.length > 0 ? { required } : {}),
    properties,
    additionalProperties: true,
  };
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: `${SCHEMA_BASE_URI}events/${name}.schema.json`,
    title: name,
    description: spec.description,
    allOf: [{ $ref: '../envelope.schema.json' }],
    type: 'object',
    ...(required.length > 0 ? { required: ['properties'] } : {}),
    properties: {
      eventName: { const: name },
      properties: propertiesSchema,
    },
    examples: [exampleEvent(name)],
  };
}

/** Every schema file as `path relative to the repository root → schema object`. */
export function schemaFiles(): Map<string, JsonSchema> {
  const files = new Map<string, JsonSchema>();
  files.set('schemas/envelope.schema.json', envelopeSchema());
  for (const name of EVENT_NAMES) files.set(`schemas/events/${name}.schema.json`, eventSchema(name));
  return files;
}
