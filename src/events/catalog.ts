/**
 * The event contract in one place: envelope fields, the event catalog with each event's
 * properties (required, or optional with a default) and their JSON types, and the reference lists (platforms, countries,
 * currencies, reasons, items) that the generator draws from and validation checks against.
 *
 * `schemas/*.json` and `docs/events.md` are rendered from this module (see contractFiles.ts);
 * test/events/schemas.test.ts fails when they drift apart.
 */

/** JSON types as JSON Schema names them (`integer` is a number without a fraction). */
export type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'object';

export interface FieldSpec {
  readonly type: JsonType;
  readonly description: string;
  /** Regular expression (ECMA-262, as JSON Schema uses) the string must match. */
  readonly pattern?: string;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly minLength?: number;
  /** For `object` maps (boosters): the JSON type of every value. */
  readonly valuesType?: JsonType;
  /** JSON Schema `format` annotation (informative only). */
  readonly format?: string;
  /**
   * Catalog properties only. Not set: the property is required — without it (absent or null) the
   * event cannot be counted and is invalid (`missing_required_property`). Set: the property is
   * optional, and absent or null means this default, which silver and the stream quality service
   * put in its place: a value (a counter absent means none: `0`, `{}`), or null for "unknown"
   * (the typed column stays NULL). See `isRequiredProperty`.
   */
  readonly default?: number | Readonly<Record<string, never>> | null;
}

/** Whether a catalog property is required (it has no default). */
export function isRequiredProperty(spec: FieldSpec): boolean {
  return spec.default === undefined;
}

/** Optional with no value to put in its place: absent means unknown. */
function unknownWhenAbsent(spec: FieldSpec): FieldSpec {
  return { ...spec, default: null };
}

// ---------------------------------------------------------------------------------------------
// Envelope
// ---------------------------------------------------------------------------------------------

export const ENVELOPE_FIELD_NAMES = [
  'eventId',
  'eventName',
  'timestamp',
  'gameId',
  'userId',
  'sessionId',
  'serverId',
  'platform',
  'countryCode',
  'appVersion',
  'levelFunnel',
  'levelFunnelVersion',
  'properties',
] as const;
export type EnvelopeFieldName = (typeof ENVELOPE_FIELD_NAMES)[number];

export const REQUIRED_ENVELOPE_FIELDS = ['eventId', 'eventName', 'timestamp', 'gameId', 'userId'] as const;
export type RequiredEnvelopeField = (typeof REQUIRED_ENVELOPE_FIELDS)[number];

/** ISO-8601 date-time that carries a zone (`Z` or `±hh:mm`); a bare local time is rejected. */
export const TIMESTAMP_PATTERN =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$';

/** Any letter case of a known platform: `ios` is accepted and normalized, `Switch` is not. */
export const PLATFORM_PATTERN = '^([iI][oO][sS]|[aA][nN][dD][rR][oO][iI][dD]|[wW][eE][bB][gG][lL])$';

export const ENVELOPE_FIELDS: Readonly<Record<EnvelopeFieldName, FieldSpec>> = {
  eventId: {
    type: 'string',
    minLength: 1,
    description: 'Unique per event, set by the sender; the dedup key (a redelivered event repeats it).',
  },
  eventName: {
    type: 'string',
    minLength: 1,
    description: 'One of the catalog events. Unknown names are kept and flagged, not dropped.',
  },
  timestamp: {
    type: 'string',
    format: 'date-time',
    pattern: TIMESTAMP_PATTERN,
    description: 'When the event happened: ISO-8601 with a zone, e.g. `2024-05-01T13:45:12.345Z`.',
  },
  gameId: { type: 'string', minLength: 1, description: 'The game (title) that sent the event, e.g. `game_1`.' },
  userId: { type: 'string', minLength: 1, description: 'The account, stable across sessions and devices.' },
  sessionId: { type: 'string', minLength: 1, description: 'One app session, from `init` to `logout`.' },
  serverId: { type: 'string', minLength: 1, description: 'Game server (shard / realm) the account plays on.' },
  platform: {
    type: 'string',
    pattern: PLATFORM_PATTERN,
    description: 'Canonical `iOS`, `Android` or `WebGL`; other letter cases are accepted and normalized.',
  },
  countryCode: {
    type: 'string',
    pattern: '^[A-Z]{2}$',
    description: 'ISO 3166-1 alpha-2 country of the player; codes outside the catalog list are flagged.',
  },
  appVersion: { type: 'string', minLength: 1, description: 'Client build, e.g. `1.2.0`.' },
  levelFunnel: { type: 'string', minLength: 1, description: 'Level-design variant (A/B test arm), e.g. `live_v1`.' },
  levelFunnelVersion: { type: 'integer', minimum: 1, description: 'Revision of that level funnel, 1, 2, 3…' },
  properties: { type: 'object', description: "The event's own properties (see the catalog); extras pass through." },
};

// ---------------------------------------------------------------------------------------------
// Event catalog
// ---------------------------------------------------------------------------------------------

export const EVENT_NAMES = [
  'register',
  'init',
  'login',
  'logout',
  'purchase',
  'item_gain',
  'item_spend',
  'currency_gain',
  'currency_spend',
  'level_start',
  'level_complete',
  'level_failed',
  'match',
  'guild_join',
  'guild_leave',
  'store_view',
  'offer_click',
  'order',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export interface EventSpec {
  readonly description: string;
  /**
   * The catalog properties with their JSON types: required (no `default`: the event is invalid
   * without them) or optional with a default (FieldSpec.default). Typed into silver columns.
   */
  readonly properties: Readonly<Record<string, FieldSpec>>;
  /** Documented optional extras the generator also sends; they pass through like any extra. */
  readonly optionalProperties?: Readonly<Record<string, FieldSpec>>;
  /** A typical `properties` object, used in the schema `examples` and the docs. */
  readonly example: Readonly<Record<string, unknown>>;
}

const levelSpec: FieldSpec = { type: 'integer', minimum: 0, default: null, description: "The player's account level at that moment." };
const ipSpec: FieldSpec = { type: 'string', format: 'ipv4', minLength: 7, default: null, description: 'Client IP address (IPv4).' };
const reasonSpec: FieldSpec = {
  type: 'integer',
  minimum: 1,
  default: null,
  description: 'Why it happened: a code from the reason table (`REASONS` in src/events/catalog.ts).',
};
const levelIdSpec: FieldSpec = { type: 'integer', minimum: 1, description: 'The level (1-based).' };
const boostersSpec: FieldSpec = {
  type: 'object',
  valuesType: 'integer',
  default: {},
  description: 'Boosters used: booster type → count; `{}` when none.',
};
const egpSpec: FieldSpec = {
  type: 'integer',
  minimum: 0,
  default: 0,
  description: 'End-game purchases: continues bought when the level was about to be lost (0 when none).',
};
const levelDurationSpec: FieldSpec = {
  type: 'integer',
  minimum: 0,
  description: 'Seconds from level_start to this event.',
};
const isoCurrencySpec: FieldSpec = {
  type: 'string',
  pattern: '^[A-Z]{3}$',
  description: 'ISO 4217 currency code of the price.',
};
const offerProps = {
  offerId: { type: 'string', minLength: 1, description: 'Shop offer shown / clicked / ordered.' },
  price: { type: 'number', minimum: 0, default: null, description: 'Offer price in `currency` (major units, e.g. 4.99).' },
  currency: unknownWhenAbsent(isoCurrencySpec),
} satisfies Record<string, FieldSpec>;
const itemProps = {
  itemId: { type: 'string', minLength: 1, description: 'Item identifier (see `ITEM_IDS`).' },
  quantity: { type: 'integer', minimum: 1, description: 'How many items.' },
  reasonId: reasonSpec,
} satisfies Record<string, FieldSpec>;
const currencyProps = {
  currency: {
    type: 'string',
    minLength: 1,
    description: 'In-game (virtual) currency, e.g. `diamond` (premium) or `gold` (soft).',
  },
  amount: { type: 'integer', minimum: 1, description: 'How much of the virtual currency.' },
  reasonId: reasonSpec,
} satisfies Record<string, FieldSpec>;
const guildProps = {
  guildId: { type: 'string', minLength: 1, description: 'Guild (clan) identifier.' },
  guildName: { type: 'string', minLength: 1, default: null, description: 'Guild display name at that moment.' },
} satisfies Record<string, FieldSpec>;
const levelProps = { levelId: levelIdSpec, boosters: boostersSpec, egp: egpSpec } satisfies Record<string, FieldSpec>;

export const EVENT_CATALOG: Readonly<Record<EventName, EventSpec>> = {
  register: {
    description: "The account's creation: the user's install time. Sent once per account, before anything else.",
    properties: {},
    optionalProperties: {
      installSource: { type: 'string', description: 'Acquisition channel, e.g. `organic`, `facebook_ads`.' },
    },
    example: { installSource: 'organic' },
  },
  init: {
    description: 'The app started (client initialised); opens a session.',
    properties: {
      os: { type: 'string', minLength: 1, default: null, description: 'Operating system and version, e.g. `Android 13`.' },
      deviceModel: { type: 'string', minLength: 1, default: null, description: 'Device model, e.g. `SM-A515F`, `iPhone14,5`.' },
    },
    example: { os: 'Android 13', deviceModel: 'SM-A515F' },
  },
  login: {
    description: 'The account logged in to a game server.',
    properties: { level: levelSpec, ip: ipSpec },
    example: { level: 12, ip: '171.96.14.203' },
  },
  logout: {
    description: 'The session ended normally. A session killed by the OS has no logout.',
    properties: {
      level: levelSpec,
      ip: ipSpec,
      sessionSeconds: { type: 'integer', minimum: 0, default: null, description: 'Seconds since the login of this session.' },
    },
    example: { level: 13, ip: '171.96.14.203', sessionSeconds: 845 },
  },
  purchase: {
    description: 'A real-money payment succeeded (in-app purchase). Revenue comes from these.',
    properties: {
      amount: {
        type: 'number',
        exclusiveMinimum: 0,
        description: 'Amount paid in `currency`, major units (e.g. 4.99 USD, 179.99 THB, 120000 VND).',
      },
      currency: { ...isoCurrencySpec, description: 'ISO 4217 code of the local currency paid.' },
      productId: { type: 'string', minLength: 1, default: null, description: 'Store product bought, e.g. `gems_500`.' },
      paymentChannel: {
        type: 'string',
        minLength: 1,
        default: null,
        description: 'Payment provider: `app_store`, `google_play`, `xsolla`, `paypal`, `codashop`…',
      },
      transactionId: { type: 'string', minLength: 1, default: null, description: "The payment provider's transaction id (unique)." },
    },
    optionalProperties: {
      offerId: { type: 'string', description: 'Shop offer the purchase came from.' },
    },
    example: {
      amount: 179.99,
      currency: 'THB',
      productId: 'gems_500',
      paymentChannel: 'google_play',
      transactionId: 'GPA.3f9a0c1e8b2d4471',
      offerId: 'offer_gems_500',
    },
  },
  item_gain: {
    description: 'The account received items.',
    properties: itemProps,
    example: { itemId: 'booster_hammer', quantity: 2, reasonId: 1 },
  },
  item_spend: {
    description: 'The account used up or lost items.',
    properties: itemProps,
    example: { itemId: 'booster_hammer', quantity: 1, reasonId: 6 },
  },
  currency_gain: {
    description: 'The account received virtual currency.',
    properties: currencyProps,
    example: { currency: 'diamond', amount: 500, reasonId: 4 },
  },
  currency_spend: {
    description: 'The account spent virtual currency.',
    properties: currencyProps,
    example: { currency: 'diamond', amount: 90, reasonId: 7 },
  },
  level_start: {
    description: 'A level attempt started.',
    properties: levelProps,
    example: { levelId: 10, boosters: { hammer: 1 }, egp: 0 },
  },
  level_complete: {
    description: 'A level attempt was won; the account may go on to the next level.',
    properties: levelProps,
    optionalProperties: { durationSeconds: levelDurationSpec },
    example: { levelId: 10, boosters: { hammer: 1 }, egp: 0, durationSeconds: 142 },
  },
  level_failed: {
    description: 'A level attempt was lost (after any end-game purchases).',
    properties: levelProps,
    optionalProperties: { durationSeconds: levelDurationSpec },
    example: { levelId: 10, boosters: {}, egp: 1, durationSeconds: 188 },
  },
  match: {
    description: 'A PvP match finished.',
    properties: {
      matchId: { type: 'string', minLength: 1, default: null, description: 'Match identifier.' },
      result: { type: 'string', enum: ['win', 'loss', 'draw'], default: null, description: 'Outcome for this account.' },
      durationSeconds: { type: 'integer', minimum: 0, default: null, description: 'Match length in seconds.' },
    },
    example: { matchId: 'm_5be1c0a27d3f9e41', result: 'win', durationSeconds: 312 },
  },
  guild_join: {
    description: 'The account joined a guild.',
    properties: guildProps,
    example: { guildId: 'gd_1_0042', guildName: 'Crimson Wolves' },
  },
  guild_leave: {
    description: 'The account left a guild.',
    properties: guildProps,
    example: { guildId: 'gd_1_0042', guildName: 'Crimson Wolves' },
  },
  store_view: {
    description: 'The shop was opened, showing a featured offer (funnel step 1).',
    properties: offerProps,
    example: { offerId: 'offer_gems_500', price: 179.99, currency: 'THB' },
  },
  offer_click: {
    description: 'An offer was tapped (funnel step 2).',
    properties: offerProps,
    example: { offerId: 'offer_gems_500', price: 179.99, currency: 'THB' },
  },
  order: {
    description: 'Checkout started for an offer (funnel step 3); a `purchase` follows when payment succeeds.',
    properties: offerProps,
    example: { offerId: 'offer_gems_500', price: 179.99, currency: 'THB' },
  },
};

/** Required property names and JSON types per event: without one, the event is invalid. */
export const REQUIRED_PROPERTIES: Readonly<Record<EventName, ReadonlyArray<{ name: string; type: JsonType }>>> =
  Object.fromEntries(
    EVENT_NAMES.map((name) => [
      name,
      Object.entries(EVENT_CATALOG[name].properties)
        .filter(([, spec]) => isRequiredProperty(spec))
        .map(([prop, spec]) => ({ name: prop, type: spec.type })),
    ]),
  ) as unknown as Record<EventName, ReadonlyArray<{ name: string; type: JsonType }>>;

/** The defaults that stand for absent optional properties of an event (those with a value, not null). */
export function propertyDefaults(name: EventName): Readonly<Record<string, number | Readonly<Record<string, never>>>> {
  const out: Record<string, number | Readonly<Record<string, never>>> = {};
  for (const [prop, spec] of Object.entries(EVENT_CATALOG[name].properties)) {
    if (spec.default !== undefined && spec.default !== null) out[prop] = spec.default;
  }
  return out;
}

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && (EVENT_NAMES as readonly string[]).includes(value);
}

/** Whether `value` has JSON type `type` (`integer` = a finite number without fraction). */
export function hasJsonType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Reference lists
// ---------------------------------------------------------------------------------------------

export const PLATFORMS = ['iOS', 'Android', 'WebGL'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Canonical platform for any letter case (`ios` → `iOS`), or undefined when unknown. */
export function normalizePlatform(value: string): Platform | undefined {
  const lower = value.toLowerCase();
  return PLATFORMS.find((p) => p.toLowerCase() === lower);
}

/**
 * Countries the studios report on (ISO 3166-1 alpha-2 → English short name). A code outside
 * this list (`XX`, `ZZ`) is "unknown" to validation even when it looks like a code.
 */
export const COUNTRIES = {
  TH: 'Thailand',
  VN: 'Vietnam',
  ID: 'Indonesia',
  PH: 'Philippines',
  SG: 'Singapore',
  MY: 'Malaysia',
  US: 'United States',
  TR: 'Turkey',
  MX: 'Mexico',
  BR: 'Brazil',
  JP: 'Japan',
  KR: 'South Korea',
  DE: 'Germany',
  GB: 'United Kingdom',
  FR: 'France',
  IN: 'India',
  CA: 'Canada',
  AU: 'Australia',
  ES: 'Spain',
  IT: 'Italy',
  NL: 'Netherlands',
  PT: 'Portugal',
  PL: 'Poland',
  SE: 'Sweden',
  AR: 'Argentina',
  CO: 'Colombia',
  SA: 'Saudi Arabia',
  AE: 'United Arab Emirates',
  EG: 'Egypt',
  TW: 'Taiwan',
  HK: 'Hong Kong',
} as const satisfies Record<string, string>;
export type CountryCode = keyof typeof COUNTRIES;
export const COUNTRY_CODES = Object.keys(COUNTRIES) as CountryCode[];

export function isKnownCountry(code: unknown): code is CountryCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(COUNTRIES, code);
}

/**
 * Real-money currencies the generator uses (ISO 4217), with an approximate USD value of one
 * unit and the number of minor-unit digits. The rates are fixed reference values for
 * plausibility checks (e.g. "a purchase above 100,000 USD is absurd"), not for accounting.
 */
export const CURRENCIES = {
  USD: { usdPerUnit: 1, digits: 2 },
  THB: { usdPerUnit: 0.028, digits: 2 },
  VND: { usdPerUnit: 0.00004, digits: 0 },
  IDR: { usdPerUnit: 0.000063, digits: 0 },
  PHP: { usdPerUnit: 0.0175, digits: 2 },
  SGD: { usdPerUnit: 0.74, digits: 2 },
  MYR: { usdPerUnit: 0.215, digits: 2 },
  TRY: { usdPerUnit: 0.031, digits: 2 },
  MXN: { usdPerUnit: 0.055, digits: 2 },
  BRL: { usdPerUnit: 0.19, digits: 2 },
  JPY: { usdPerUnit: 0.0067, digits: 0 },
  KRW: { usdPerUnit: 0.00074, digits: 0 },
  EUR: { usdPerUnit: 1.08, digits: 2 },
  GBP: { usdPerUnit: 1.27, digits: 2 },
  INR: { usdPerUnit: 0.012, digits: 2 },
  CAD: { usdPerUnit: 0.73, digits: 2 },
  AUD: { usdPerUnit: 0.66, digits: 2 },
  PLN: { usdPerUnit: 0.25, digits: 2 },
  SEK: { usdPerUnit: 0.095, digits: 2 },
  ARS: { usdPerUnit: 0.0011, digits: 2 },
  COP: { usdPerUnit: 0.00025, digits: 0 },
  SAR: { usdPerUnit: 0.27, digits: 2 },
  AED: { usdPerUnit: 0.27, digits: 2 },
  EGP: { usdPerUnit: 0.021, digits: 2 },
  TWD: { usdPerUnit: 0.031, digits: 0 },
  HKD: { usdPerUnit: 0.128, digits: 2 },
} as const satisfies Record<string, { usdPerUnit: number; digits: number }>;
export type CurrencyCode = keyof typeof CURRENCIES;
export const CURRENCY_CODES = Object.keys(CURRENCIES) as CurrencyCode[];

/** The currency players in each country pay in. */
export const COUNTRY_CURRENCY: Readonly<Record<CountryCode, CurrencyCode>> = {
  TH: 'THB',
  VN: 'VND',
  ID: 'IDR',
  PH: 'PHP',
  SG: 'SGD',
  MY: 'MYR',
  US: 'USD',
  TR: 'TRY',
  MX: 'MXN',
  BR: 'BRL',
  JP: 'JPY',
  KR: 'KRW',
  DE: 'EUR',
  GB: 'GBP',
  FR: 'EUR',
  IN: 'INR',
  CA: 'CAD',
  AU: 'AUD',
  ES: 'EUR',
  IT: 'EUR',
  NL: 'EUR',
  PT: 'EUR',
  PL: 'PLN',
  SE: 'SEK',
  AR: 'ARS',
  CO: 'COP',
  SA: 'SAR',
  AE: 'AED',
  EG: 'EGP',
  TW: 'TWD',
  HK: 'HKD',
};

/** Above this many US dollars (at the reference rates) a single purchase is absurd. */
export const ABSURD_PURCHASE_USD = 100_000;

/** The purchase amount in US dollars at the reference rate, or undefined for an unknown currency. */
export function amountInUsd(amount: number, currency: string): number | undefined {
  const spec = (CURRENCIES as Record<string, { usdPerUnit: number } | undefined>)[currency];
  return spec ? amount * spec.usdPerUnit : undefined;
}

/** Virtual (in-game) currencies used by currency_gain / currency_spend. */
export const GAME_CURRENCIES = ['diamond', 'gold'] as const;

/** Reason codes for item and currency movements (`reasonId`). */
export const REASONS = {
  1: 'level_reward',
  2: 'daily_login',
  3: 'quest_reward',
  4: 'iap_purchase',
  5: 'shop_exchange',
  6: 'booster_use',
  7: 'egp_continue',
  8: 'pvp_reward',
  9: 'guild_gift',
  10: 'crafting',
  11: 'upgrade',
  12: 'event_reward',
} as const satisfies Record<number, string>;
export type ReasonId = keyof typeof REASONS;

/** Booster types (keys of `boosters`) and the items they are bought/used as. */
export const BOOSTER_TYPES = ['hammer', 'extra_moves', 'color_bomb', 'shuffle'] as const;

/** Items the games move around (item_gain / item_spend `itemId`). */
export const ITEM_IDS = [
  'booster_hammer',
  'booster_extra_moves',
  'booster_color_bomb',
  'booster_shuffle',
  'chest_common',
  'chest_rare',
  'chest_epic',
  'energy_potion',
  'pvp_ticket',
  'material_ore',
  'material_wood',
  'material_crystal',
  'skin_fragment',
  'hero_shard',
  'guild_token',
] as const;

export const MATCH_RESULTS = ['win', 'loss', 'draw'] as const;

/** Level-design variants (A/B arms) and how their difficulty compares. */
export const LEVEL_FUNNELS = ['live_v1', 'test_easy', 'test_hard'] as const;

export const PAYMENT_CHANNELS = ['app_store', 'google_play', 'xsolla', 'paypal', 'codashop'] as const;
