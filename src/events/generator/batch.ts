import { COUNTRY_CODES, EVENT_NAMES, LEVEL_FUNNELS, PLATFORMS, type EventName } from '../catalog.js';
import { SERVERS_PER_GAME } from './population.js';
import { bytesOf, decodeBytes, putBytes, putNumber, putString } from './bytes.js';
import { uuidFromWords } from './ids.js';

/**
 * Columnar event batches. Low-cardinality envelope fields are small integer codes into
 * per-run dictionaries (code 0 = field absent); event ids are four uint32 words; timestamps
 * are epoch ms (NaN = absent); `properties` is JSON text in one byte arena per batch.
 * userId and sessionId are strings shared by all the events of a session. Writers turn a
 * batch into NDJSON lines or Parquet rows without building an object (or a string) per event.
 */

/** Event names that are not in the catalog, used by the `unknown_event_name` defect. */
export const UNKNOWN_EVENT_NAMES = ['tutorial_step', 'ad_impression', 'push_open', 'level_restart'] as const;
/** Non-canonical spellings used by the `mixed_case_platform` defect, per canonical platform. */
export const PLATFORM_VARIANTS: Readonly<Record<(typeof PLATFORMS)[number], readonly string[]>> = {
  iOS: ['ios', 'IOS', 'Ios'],
  Android: ['android', 'ANDROID'],
  WebGL: ['webgl', 'WEBGL', 'Webgl'],
};
/** Country codes outside the catalog, used by the `unknown_country` defect. */
export const UNKNOWN_COUNTRIES = ['XX', 'ZZ'] as const;

/** Code of each catalog event name (index + 1). */
export const EV = Object.fromEntries(EVENT_NAMES.map((n, i) => [n, i + 1])) as Readonly<Record<EventName, number>>;

export interface Dictionaries {
  /** `[code] → value`; index 0 is null (absent). */
  readonly eventName: readonly (string | null)[];
  readonly gameId: readonly (string | null)[];
  readonly serverId: readonly (string | null)[];
  readonly platform: readonly (string | null)[];
  readonly countryCode: readonly (string | null)[];
  readonly appVersion: readonly (string | null)[];
  readonly levelFunnel: readonly (string | null)[];
}

/** App builds released over the period: `1.0.0` on day 0, then a minor release every 7 days. */
export function appVersions(days: number): string[] {
  return Array.from({ length: Math.floor((days - 1) / 7) + 1 }, (_, k) => `1.${k}.0`);
}

export function buildDictionaries(games: number, days: number): Dictionaries {
  return {
    eventName: [null, ...EVENT_NAMES, ...UNKNOWN_EVENT_NAMES],
    gameId: [null, ...Array.from({ length: games }, (_, g) => `game_${g + 1}`)],
    serverId: [null, ...Array.from({ length: SERVERS_PER_GAME }, (_, s) => `s${String(s + 1).padStart(2, '0')}`)],
    platform: [null, ...PLATFORMS, ...PLATFORMS.flatMap((p) => PLATFORM_VARIANTS[p])],
    countryCode: [null, ...COUNTRY_CODES, ...UNKNOWN_COUNTRIES],
    appVersion: [null, ...appVersions(days)],
    levelFunnel: [null, ...LEVEL_FUNNELS],
  };
}

/** One event as scalar fields (the slow path: defects, carried late arrivals, duplicates). */
export interface EventRow {
  /** The four words of the event id (see ids.ts uuidFromWords), or null when absent. */
  eventId: [number, number, number, number] | null;
  eventName: number;
  timestamp: number;
  gameId: number;
  userId: string | null;
  sessionId: string | null;
  serverId: number;
  platform: number;
  countryCode: number;
  appVersion: number;
  levelFunnel: number;
  levelFunnelVersion: number;
  /** JSON text of the properties object. */
  properties: string;
  defect: number;
  /** For malformed_json: the fraction (0–1) of the line that is kept. */
  malformedCut: number;
}

export interface EventBatch {
  /** UTC day of the file this batch belongs to (`YYYY-MM-DD`); late arrivals have older timestamps. */
  readonly day: string;
  readonly dayIndex: number;
  /** The last batch of its day: a writer can close that day's file. */
  readonly lastOfDay: boolean;
  /** Rows in this batch; typed-array columns may be longer. */
  readonly size: number;
  readonly dict: Dictionaries;
  /** Event id words, 4 per row (use `eventIdAt`). */
  readonly eventIdWords: Uint32Array;
  /** 1 where the row has no eventId (missing_field defect). */
  readonly eventIdAbsent: Uint8Array;
  readonly eventName: Uint8Array;
  readonly timestamp: Float64Array;
  readonly gameId: Uint16Array;
  readonly userId: (string | null)[];
  readonly sessionId: (string | null)[];
  readonly serverId: Uint8Array;
  readonly platform: Uint8Array;
  readonly countryCode: Uint8Array;
  readonly appVersion: Uint8Array;
  readonly levelFunnel: Uint8Array;
  readonly levelFunnelVersion: Uint8Array;
  /**
   * Properties JSON of row i is props[propStart[i], propEnd[i]) (use `propertiesAt`). Each is
   * preceded by its byte length (4 bytes, little-endian) and rows follow each other without
   * gaps, so a run of rows is already a Parquet PLAIN BYTE_ARRAY run.
   */
  readonly props: Uint8Array;
  readonly propStart: Uint32Array;
  readonly propEnd: Uint32Array;
  /** Defect code per row (0 = clean); see dirty.ts `DEFECT_KINDS`. */
  readonly defect: Uint8Array;
  /** Rows written as truncated JSON (malformed_json) → fraction of the line kept. */
  readonly malformedCut: ReadonlyMap<number, number>;
}

/** Room kept free in the properties arena for the row being written (longest row ≪ this). */
const ROW_RESERVE = 4096;
const OPEN = 123; // {
const CLOSE = 125; // }
const COMMA = 44;
const QUOTE = 34;

/**
 * Accumulates rows into columns; `take()` hands the filled batch over and starts a new one.
 * Properties are written in place: `openProps(i)`, then `num`/`str`/`raw` per property, then
 * `closeProps(i)`.
 */
export class BatchBuilder {
  size = 0;
  private capacity: number;
  eventIdWords!: Uint32Array;
  eventIdAbsent!: Uint8Array;
  eventName!: Uint8Array;
  timestamp!: Float64Array;
  gameId!: Uint16Array;
  userId: (string | null)[] = [];
  sessionId: (string | null)[] = [];
  serverId!: Uint8Array;
  platform!: Uint8Array;
  countryCode!: Uint8Array;
  appVersion!: Uint8Array;
  levelFunnel!: Uint8Array;
  levelFunnelVersion!: Uint8Array;
  props!: Uint8Array;
  propsPos = 0;
  propStart!: Uint32Array;
  propEnd!: Uint32Array;
  defect!: Uint8Array;
  malformedCut = new Map<number, number>();
  private firstProp = true;

  constructor(
    private readonly dict: Dictionaries,
    private readonly initialCapacity: number,
  ) {
    this.capacity = initialCapacity;
    this.allocate(initialCapacity);
  }

  /** Index of a new row (columns grow when full). */
  nextRow(): number {
    if (this.size === this.capacity) this.grow();
    if (this.propsPos + ROW_RESERVE > this.props.length) this.growProps(ROW_RESERVE);
    return this.size++;
  }

  /** Forget the last row (it was moved elsewhere: a late arrival). */
  dropLastRow(): void {
    this.size--;
    this.propsPos = this.propStart[this.size]! - 4;
    this.malformedCut.delete(this.size);
  }

  openProps(i: number): void {
    this.propsPos += 4; // length prefix, filled in by closeProps
    this.propStart[i] = this.propsPos;
    this.props[this.propsPos++] = OPEN;
    this.firstProp = true;
  }

  /** `key` is the encoded `"name":` (see `propKey`). */
  num(key: Uint8Array, value: number): void {
    let p = this.keyAt(key);
    p = putNumber(this.props, p, value);
    this.propsPos = p;
  }

  /** A string value; the generator's strings never need JSON escapes (checked in tests). */
  str(key: Uint8Array, value: string): void {
    let p = this.keyAt(key);
    const props = this.props;
    props[p++] = QUOTE;
    p = putString(props, p, value);
    props[p++] = QUOTE;
    this.propsPos = p;
  }

  /** A value that is already JSON (an object such as boosters). */
  raw(key: Uint8Array, json: Uint8Array): void {
    this.propsPos = putBytes(this.props, this.keyAt(key), json);
  }

  closeProps(i: number): void {
    this.props[this.propsPos++] = CLOSE;
    this.propEnd[i] = this.propsPos;
    this.setLength(i);
  }

  private setLength(i: number): void {
    const start = this.propStart[i]!;
    const n = this.propsPos - start;
    const props = this.props;
    props[start - 4] = n & 255;
    props[start - 3] = (n >>> 8) & 255;
    props[start - 2] = (n >>> 16) & 255;
    props[start - 1] = n >>> 24;
  }

  private keyAt(key: Uint8Array): number {
    let p = this.propsPos;
    if (this.firstProp) this.firstProp = false;
    else this.props[p++] = COMMA;
    return putBytes(this.props, p, key);
  }

  /** Write row `i` (a new last row, see nextRow/dropLastRow) from scalar fields. */
  private setRow(i: number, row: EventRow): void {
    const id = row.eventId;
    if (id === null) {
      this.eventIdAbsent[i] = 1;
    } else {
      this.eventIdWords.set(id, 4 * i);
      this.eventIdAbsent[i] = 0;
    }
    this.eventName[i] = row.eventName;
    this.timestamp[i] = row.timestamp;
    this.gameId[i] = row.gameId;
    this.userId[i] = row.userId;
    this.sessionId[i] = row.sessionId;
    this.serverId[i] = row.serverId;
    this.platform[i] = row.platform;
    this.countryCode[i] = row.countryCode;
    this.appVersion[i] = row.appVersion;
    this.levelFunnel[i] = row.levelFunnel;
    this.levelFunnelVersion[i] = row.levelFunnelVersion;
    if (this.propsPos + 4 * row.properties.length + 16 > this.props.length) this.growProps(4 * row.properties.length + 16);
    this.propsPos += 4;
    this.propStart[i] = this.propsPos;
    this.propsPos = putString(this.props, this.propsPos, row.properties);
    this.propEnd[i] = this.propsPos;
    this.setLength(i);
    this.defect[i] = row.defect;
    if (row.malformedCut > 0) this.malformedCut.set(i, row.malformedCut);
    else this.malformedCut.delete(i);
  }

  writeRow(row: EventRow): void {
    this.setRow(this.nextRow(), row);
  }

  take(day: string, dayIndex: number, lastOfDay: boolean): EventBatch {
    const batch: EventBatch = {
      day,
      dayIndex,
      lastOfDay,
      size: this.size,
      dict: this.dict,
      eventIdWords: this.eventIdWords,
      eventIdAbsent: this.eventIdAbsent,
      eventName: this.eventName,
      timestamp: this.timestamp,
      gameId: this.gameId,
      userId: this.userId,
      sessionId: this.sessionId,
      serverId: this.serverId,
      platform: this.platform,
      countryCode: this.countryCode,
      appVersion: this.appVersion,
      levelFunnel: this.levelFunnel,
      levelFunnelVersion: this.levelFunnelVersion,
      props: this.props,
      propStart: this.propStart,
      propEnd: this.propEnd,
      defect: this.defect,
      malformedCut: this.malformedCut,
    };
    // The consumer owns the handed-over arrays; start fresh ones (no aliasing between batches).
    this.size = 0;
    this.capacity = this.initialCapacity;
    this.allocate(this.capacity);
    return batch;
  }

  private allocate(n: number): void {
    this.eventIdWords = new Uint32Array(4 * n);
    this.eventIdAbsent = new Uint8Array(n);
    this.userId = [];
    this.sessionId = [];
    this.eventName = new Uint8Array(n);
    this.timestamp = new Float64Array(n);
    this.gameId = new Uint16Array(n);
    this.serverId = new Uint8Array(n);
    this.platform = new Uint8Array(n);
    this.countryCode = new Uint8Array(n);
    this.appVersion = new Uint8Array(n);
    this.levelFunnel = new Uint8Array(n);
    this.levelFunnelVersion = new Uint8Array(n);
    this.props = new Uint8Array(Math.max(n * 96, 2 * ROW_RESERVE));
    this.propsPos = 0;
    this.propStart = new Uint32Array(n);
    this.propEnd = new Uint32Array(n);
    this.defect = new Uint8Array(n);
    this.malformedCut = new Map();
  }

  private growProps(extra: number): void {
    const next = new Uint8Array(Math.max(this.props.length * 2, this.propsPos + extra));
    next.set(this.props.subarray(0, this.propsPos));
    this.props = next;
  }

  private grow(): void {
    const n = this.capacity * 2;
    const copy = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.eventIdWords = copy(this.eventIdWords, (k) => new Uint32Array(4 * k));
    this.eventIdAbsent = copy(this.eventIdAbsent, (k) => new Uint8Array(k));
    this.eventName = copy(this.eventName, (k) => new Uint8Array(k));
    this.timestamp = copy(this.timestamp, (k) => new Float64Array(k));
    this.gameId = copy(this.gameId, (k) => new Uint16Array(k));
    this.serverId = copy(this.serverId, (k) => new Uint8Array(k));
    this.platform = copy(this.platform, (k) => new Uint8Array(k));
    this.countryCode = copy(this.countryCode, (k) => new Uint8Array(k));
    this.appVersion = copy(this.appVersion, (k) => new Uint8Array(k));
    this.levelFunnel = copy(this.levelFunnel, (k) => new Uint8Array(k));
    this.levelFunnelVersion = copy(this.levelFunnelVersion, (k) => new Uint8Array(k));
    this.propStart = copy(this.propStart, (k) => new Uint32Array(k));
    this.propEnd = copy(this.propEnd, (k) => new Uint32Array(k));
    this.defect = copy(this.defect, (k) => new Uint8Array(k));
    this.capacity = n;
  }
}

/** The encoded `"name":` prefix of a property, for BatchBuilder.num/str/raw. */
export function propKey(name: string): Uint8Array {
  return bytesOf(`${JSON.stringify(name)}:`);
}

/** The columns of a batch, whether handed over (EventBatch) or still being filled (BatchBuilder). */
export type RowColumns = Omit<EventBatch, 'day' | 'dayIndex' | 'lastOfDay' | 'size' | 'dict'>;

/** The eventId of row `i` (null when absent). */
export function eventIdAt(b: RowColumns, i: number): string | null {
  if (b.eventIdAbsent[i] === 1) return null;
  const w = b.eventIdWords;
  const k = 4 * i;
  return uuidFromWords(w[k]!, w[k + 1]!, w[k + 2]!, w[k + 3]!);
}

/** The properties JSON text of row `i`. */
export function propertiesAt(b: RowColumns, i: number): string {
  return decodeBytes(b.props, b.propStart[i]!, b.propEnd[i]!);
}

/** Read one row of a batch back as scalar fields. */
export function readRow(b: RowColumns, i: number): EventRow {
  const w = b.eventIdWords;
  const k = 4 * i;
  return {
    eventId: b.eventIdAbsent[i] === 1 ? null : [w[k]!, w[k + 1]!, w[k + 2]!, w[k + 3]!],
    eventName: b.eventName[i]!,
    timestamp: b.timestamp[i]!,
    gameId: b.gameId[i]!,
    userId: b.userId[i] ?? null,
    sessionId: b.sessionId[i] ?? null,
    serverId: b.serverId[i]!,
    platform: b.platform[i]!,
    countryCode: b.countryCode[i]!,
    appVersion: b.appVersion[i]!,
    levelFunnel: b.levelFunnel[i]!,
    levelFunnelVersion: b.levelFunnelVersion[i]!,
    properties: propertiesAt(b, i),
    defect: b.defect[i]!,
    malformedCut: b.malformedCut.get(i) ?? 0,
  };
}

/** The event of a row as a plain object (what its NDJSON line parses to, unless malformed). */
export function rowToEvent(b: EventBatch, i: number): Record<string, unknown> {
  const d = b.dict;
  const e: Record<string, unknown> = {};
  const id = eventIdAt(b, i);
  if (id !== null) e.eventId = id;
  const name = d.eventName[b.eventName[i]!];
  if (name != null) e.eventName = name;
  const ts = b.timestamp[i]!;
  if (!Number.isNaN(ts)) e.timestamp = new Date(ts).toISOString();
  const game = d.gameId[b.gameId[i]!];
  if (game != null) e.gameId = game;
  const user = b.userId[i];
  if (user != null) e.userId = user;
  const session = b.sessionId[i];
  if (session != null) e.sessionId = session;
  const server = d.serverId[b.serverId[i]!];
  if (server != null) e.serverId = server;
  const platform = d.platform[b.platform[i]!];
  if (platform != null) e.platform = platform;
  const country = d.countryCode[b.countryCode[i]!];
  if (country != null) e.countryCode = country;
  const version = d.appVersion[b.appVersion[i]!];
  if (version != null) e.appVersion = version;
  const funnel = d.levelFunnel[b.levelFunnel[i]!];
  if (funnel != null) e.levelFunnel = funnel;
  const funnelVersion = b.levelFunnelVersion[i]!;
  if (funnelVersion > 0) e.levelFunnelVersion = funnelVersion;
  e.properties = JSON.parse(propertiesAt(b, i)) as unknown;
  return e;
}
