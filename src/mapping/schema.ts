import { z } from 'zod';

/**
 * The event-mapping format: a JSON file that says how one studio's events become gamepipe's
 * envelope (docs/events.md, "Event mappings"). Every target field gets one rule:
 *
 * - `{"from": "user_id"}` copies a source field (a dotted path: `device.os`); `values` maps its
 *   value (`{"InAppPurchase": "purchase"}`), `otherwise` says what an unmapped value does,
 *   `default` fills an absent one, `as` converts it to a string or a number.
 * - `{"const": "USD"}` is a constant.
 * - `{"hash": ["user_id", "time"]}` is a stable hash of named source fields (an eventId for
 *   sources that have none: a re-sent event hashes to the same id).
 *
 * `timestamp` names its source format: ISO-8601 with a zone, epoch seconds or milliseconds, or
 * a local date-time without zone read in `zone` (an IANA name such as `Europe/Lisbon`).
 */

const jsonValue: z.ZodType<unknown> = z.union([z.string(), z.number(), z.boolean(), z.null(), z.record(z.string(), z.unknown()), z.array(z.unknown())]);

/** Dotted path into the source event; each segment a key (keys may hold `-`, spaces…). */
const sourcePath = z.string().min(1).regex(/^[^.]+(\.[^.]+)*$/, 'a dotted path such as "user_id" or "device.os"');

export const fromRuleSchema = z.strictObject({
  from: sourcePath,
  /** Source value (as text) → target value. */
  values: z.record(z.string(), jsonValue).optional(),
  /** A value not in `values`: keep it as it is (default), drop it (`null`), or reject the event (`error`). */
  otherwise: z.enum(['keep', 'null', 'error']).default('keep'),
  /** Used when the source field is absent or null. */
  default: jsonValue.optional(),
  /** Convert the value: `string` (numbers and booleans as text) or `number` (numeric text parsed). */
  as: z.enum(['string', 'number']).optional(),
});

export const constRuleSchema = z.strictObject({ const: jsonValue });

export const hashRuleSchema = z.strictObject({
  /** Source fields whose values, together, identify the event. */
  hash: z.array(sourcePath).min(1),
  /** Prepended to the hex digest (e.g. `s3-`), to tell hashed ids apart. */
  prefix: z.string().default(''),
});

export const fieldRuleSchema = z.union([fromRuleSchema, constRuleSchema, hashRuleSchema]);

export const TIMESTAMP_FORMATS = ['iso', 'epoch_s', 'epoch_ms', 'local'] as const;

export const timestampRuleSchema = z
  .strictObject({
    from: sourcePath,
    /** `iso`: ISO-8601 with a zone; `epoch_s` / `epoch_ms`: a number (or numeric text); `local`: ISO-8601 without a zone, in `zone`. */
    format: z.enum(TIMESTAMP_FORMATS),
    /** IANA time zone of a `local` timestamp (e.g. `Asia/Bangkok`, `UTC`). */
    zone: z.string().optional(),
  })
  .refine((r) => r.format !== 'local' || r.zone !== undefined, { message: 'a "local" timestamp needs a "zone"', path: ['zone'] })
  .refine((r) => r.zone === undefined || isTimeZone(r.zone), { message: 'unknown time zone (expected an IANA name such as "Europe/Lisbon")', path: ['zone'] });

/** Target fields: envelope fields, or `properties.<name>`. */
export const TARGET_ENVELOPE_FIELDS = [
  'gameId',
  'userId',
  'sessionId',
  'serverId',
  'platform',
  'countryCode',
  'appVersion',
  'levelFunnel',
  'levelFunnelVersion',
] as const;

const targetField = z
  .string()
  .refine((t) => (TARGET_ENVELOPE_FIELDS as readonly string[]).includes(t) || /^properties\.[^.]+$/.test(t), {
    message: `a target field: one of ${TARGET_ENVELOPE_FIELDS.join(', ')} or properties.<name>`,
  });

const fieldsSchema = z.record(targetField, fieldRuleSchema);

export const mappingSchema = z.strictObject({
  $schema: z.string().optional(),
  /** Short name, shown in errors and stored as the ingestion source detail. */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . -'),
  description: z.string().optional(),
  eventName: fieldRuleSchema,
  eventId: fieldRuleSchema,
  timestamp: timestampRuleSchema,
  /** Fields for every event. */
  fields: fieldsSchema.default({}),
  /** Extra or overriding fields per (mapped) event name. */
  events: z.record(z.string().min(1), z.strictObject({ fields: fieldsSchema })).default({}),
  /**
   * Source fields no rule reads: `properties` copies them into the event's properties under
   * their own names (default), `drop` leaves them out.
   */
  unmapped: z.enum(['properties', 'drop']).default('properties'),
});

export type FromRule = z.infer<typeof fromRuleSchema>;
export type FieldRule = z.infer<typeof fieldRuleSchema>;
export type TimestampRule = z.infer<typeof timestampRuleSchema>;
export type Mapping = z.infer<typeof mappingSchema>;

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
