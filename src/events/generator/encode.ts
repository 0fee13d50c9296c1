import type { Dictionaries, EventBatch } from './batch.js';
import { eventIdAt, propertiesAt } from './batch.js';
import { ByteBuffer, bytesOf, decodeBytes, putBytes, putNumber, putPadded, putString, putUint, putUuid } from './bytes.js';
import { HOUR_MS, MINUTE_MS } from './time.js';
import { DAY_MS } from '../../core/dates.js';

/**
 * Byte encoders for batch rows: NDJSON lines (the data set's public format) and the
 * tab-separated staging rows the Parquet writer hands to DuckDB.
 */

/** `Date.prototype.toISOString` bytes for epoch ms, with the day prefix cached. */
export class IsoBytes {
  private day = Number.NaN;
  private readonly prefix = new Uint8Array(11);

  put(buf: Uint8Array, pos: number, ms: number): number {
    const day = Math.floor(ms / DAY_MS);
    if (day !== this.day) {
      const iso = new Date(day * DAY_MS).toISOString();
      // Years outside 0000–9999 use the extended `+YYYYYY` form; let Date handle those.
      if (iso.length !== 24) return putString(buf, pos, new Date(ms).toISOString());
      this.day = day;
      putString(this.prefix, 0, iso.slice(0, 11));
    }
    pos = putBytes(buf, pos, this.prefix);
    let rest = ms - day * DAY_MS;
    const h = Math.floor(rest / HOUR_MS);
    rest -= h * HOUR_MS;
    const m = Math.floor(rest / MINUTE_MS);
    rest -= m * MINUTE_MS;
    const s = Math.floor(rest / 1000);
    pos = putPadded(buf, pos, h, 2);
    buf[pos++] = 58; // :
    pos = putPadded(buf, pos, m, 2);
    buf[pos++] = 58;
    pos = putPadded(buf, pos, s, 2);
    buf[pos++] = 46; // .
    pos = putPadded(buf, pos, rest - s * 1000, 3);
    buf[pos++] = 90; // Z
    return pos;
  }
}

interface MiddleKey {
  userId: string;
  sessionId: string;
  game: number;
  server: number;
  platform: number;
  country: number;
  version: number;
  funnel: number;
  funnelVersion: number;
}

/**
 * The encoded bytes of the envelope fields a session shares (user, session, game, server,
 * platform, country, version, funnel): encoded by `encode` when one of them changes, else the
 * previous row's bytes, copied with one native call per line.
 */
class SessionFields {
  private key: MiddleKey = { userId: '', sessionId: '', game: -1, server: 0, platform: 0, country: 0, version: 0, funnel: 0, funnelVersion: 0 };
  private bytes: Uint8Array = new Uint8Array(0);

  constructor(private readonly encode: (key: MiddleKey) => Uint8Array) {}

  of(b: EventBatch, i: number, userId: string, sessionId: string): Uint8Array {
    const game = b.gameId[i]!;
    const server = b.serverId[i]!;
    const platform = b.platform[i]!;
    const country = b.countryCode[i]!;
    const version = b.appVersion[i]!;
    const funnel = b.levelFunnel[i]!;
    const funnelVersion = b.levelFunnelVersion[i]!;
    const key = this.key;
    if (
      key.userId === userId &&
      key.sessionId === sessionId &&
      key.game === game &&
      key.server === server &&
      key.platform === platform &&
      key.country === country &&
      key.version === version &&
      key.funnel === funnel &&
      key.funnelVersion === funnelVersion
    ) {
      return this.bytes;
    }
    this.key = { userId, sessionId, game, server, platform, country, version, funnel, funnelVersion };
    this.bytes = this.encode(this.key);
    return this.bytes;
  }
}

const fragments = (values: readonly (string | null)[], make: (jsonValue: string) => string): Uint8Array[] =>
  values.map((v) => (v === null ? new Uint8Array(0) : bytesOf(make(JSON.stringify(v)))));

const EVENT_ID_OPEN = bytesOf('{"eventId":"');
const SESSION_KEY = bytesOf('","sessionId":"');
const PROPERTIES_KEY = bytesOf(',"properties":');

/**
 * NDJSON lines. Complete rows take a byte-level fast path; rows with an absent field (and
 * malformed_json rows, which are cut) go through a generic path that produces the same format
 * (no spaces, envelope keys in contract order), so equal rows always give identical lines.
 */
export class NdjsonEncoder {
  private readonly iso = new IsoBytes();
  private readonly nameFrag: Uint8Array[];
  private readonly gameFrag: Uint8Array[];
  private readonly serverFrag: Uint8Array[];
  private readonly platformFrag: Uint8Array[];
  private readonly countryFrag: Uint8Array[];
  private readonly versionFrag: Uint8Array[];
  private readonly funnelFrag: Uint8Array[];
  private readonly scratch = new ByteBuffer(1 << 16);
  private readonly session = new SessionFields((key) => this.encodeMiddle(key));

  constructor(private readonly dict: Dictionaries) {
    this.nameFrag = fragments(dict.eventName, (v) => `","eventName":${v},"timestamp":"`);
    this.gameFrag = fragments(dict.gameId, (v) => `","gameId":${v},"userId":"`);
    this.serverFrag = fragments(dict.serverId, (v) => `","serverId":${v}`);
    this.platformFrag = fragments(dict.platform, (v) => `,"platform":${v}`);
    this.countryFrag = fragments(dict.countryCode, (v) => `,"countryCode":${v}`);
    this.versionFrag = fragments(dict.appVersion, (v) => `,"appVersion":${v}`);
    this.funnelFrag = fragments(dict.levelFunnel, (v) => `,"levelFunnel":${v},"levelFunnelVersion":`);
  }

  /** Append row `i` and a newline to `out`. */
  encode(b: EventBatch, i: number, out: ByteBuffer): void {
    const userId = b.userId[i];
    const sessionId = b.sessionId[i];
    const propStart = b.propStart[i]!;
    const propEnd = b.propEnd[i]!;
    if (
      b.eventIdAbsent[i] !== 0 ||
      b.eventName[i] === 0 ||
      Number.isNaN(b.timestamp[i]) ||
      b.gameId[i] === 0 ||
      userId == null ||
      sessionId == null ||
      b.serverId[i] === 0 ||
      b.platform[i] === 0 ||
      b.countryCode[i] === 0 ||
      b.appVersion[i] === 0 ||
      b.levelFunnel[i] === 0 ||
      b.levelFunnelVersion[i] === 0 ||
      (b.malformedCut.size > 0 && b.malformedCut.has(i))
    ) {
      const line = this.line(b, i) + '\n';
      out.reserve(4 * line.length);
      out.pos = putString(out.buf, out.pos, line);
      return;
    }
    const middle = this.session.of(b, i, userId, sessionId);
    out.reserve(propEnd - propStart + middle.length + 160);
    const buf = out.buf;
    const w = b.eventIdWords;
    const k = 4 * i;
    let pos = out.pos;
    buf.set(EVENT_ID_OPEN, pos);
    pos = putUuid(buf, out.view, pos + EVENT_ID_OPEN.length, w[k]!, w[k + 1]!, w[k + 2]!, w[k + 3]!);
    const name = this.nameFrag[b.eventName[i]!]!;
    buf.set(name, pos);
    pos = this.iso.put(buf, pos + name.length, b.timestamp[i]!);
    buf.set(middle, pos);
    pos += middle.length;
    buf.set(b.props.subarray(propStart, propEnd), pos);
    pos += propEnd - propStart;
    buf[pos++] = 125; // }
    buf[pos++] = 10; // \n
    out.pos = pos;
  }

  /**
   * Everything from `","gameId"` to `"properties":` is the same for all the events of a
   * session: encoded once per session (SessionFields).
   */
  private encodeMiddle({ userId, sessionId, game, server, platform, country, version, funnel, funnelVersion }: MiddleKey): Uint8Array {
    const scratch = this.scratch;
    scratch.reserve(4 * (userId.length + sessionId.length) + 512);
    const buf = scratch.buf;
    let pos = putBytes(buf, 0, this.gameFrag[game]!);
    pos = putString(buf, pos, userId);
    pos = putBytes(buf, pos, SESSION_KEY);
    pos = putString(buf, pos, sessionId);
    pos = putBytes(buf, pos, this.serverFrag[server]!);
    pos = putBytes(buf, pos, this.platformFrag[platform]!);
    pos = putBytes(buf, pos, this.countryFrag[country]!);
    pos = putBytes(buf, pos, this.versionFrag[version]!);
    pos = putBytes(buf, pos, this.funnelFrag[funnel]!);
    pos = putUint(buf, pos, funnelVersion);
    pos = putBytes(buf, pos, PROPERTIES_KEY);
    return buf.slice(0, pos);
  }

  /** The line of row `i` as a string, without the newline (truncated when malformed_json). */
  line(b: EventBatch, i: number): string {
    const full = this.generic(b, i);
    const cut = b.malformedCut.get(i);
    // A proper prefix of a JSON object is never valid JSON (the closing brace is missing).
    return cut === undefined ? full : full.slice(0, Math.max(1, Math.min(full.length - 1, Math.floor(full.length * cut))));
  }

  /** The line as the fast path writes it (for tests comparing both paths). */
  fastLine(b: EventBatch, i: number): string {
    const out = new ByteBuffer(1 << 12);
    this.encode(b, i, out);
    return decodeBytes(out.buf, 0, out.pos - 1);
  }

  private generic(b: EventBatch, i: number): string {
    const d = this.dict;
    const parts: string[] = [];
    const str = (key: string, value: string | null | undefined) => {
      if (value != null) parts.push(`"${key}":${JSON.stringify(value)}`);
    };
    str('eventId', eventIdAt(b, i));
    str('eventName', d.eventName[b.eventName[i]!]);
    const ts = b.timestamp[i]!;
    if (!Number.isNaN(ts)) str('timestamp', new Date(ts).toISOString());
    str('gameId', d.gameId[b.gameId[i]!]);
    str('userId', b.userId[i]);
    str('sessionId', b.sessionId[i]);
    str('serverId', d.serverId[b.serverId[i]!]);
    str('platform', d.platform[b.platform[i]!]);
    str('countryCode', d.countryCode[b.countryCode[i]!]);
    str('appVersion', d.appVersion[b.appVersion[i]!]);
    str('levelFunnel', d.levelFunnel[b.levelFunnel[i]!]);
    if (b.levelFunnelVersion[i]! > 0) parts.push(`"levelFunnelVersion":${b.levelFunnelVersion[i]}`);
    parts.push(`"properties":${propertiesAt(b, i)}`);
    return '{' + parts.join(',') + '}';
  }
}

/**
 * Tab-separated staging rows for DuckDB: ids and properties as text, every dictionary field
 * as its integer code, the timestamp as epoch ms; an absent value is an empty field (NULL).
 * Tabs and newlines cannot occur inside values (JSON escapes them).
 */
export class TsvEncoder {
  private readonly scratch = new ByteBuffer(1 << 12);
  private readonly session = new SessionFields((key) => this.encodeMiddle(key));

  encode(b: EventBatch, i: number, out: ByteBuffer): void {
    const propStart = b.propStart[i]!;
    const propEnd = b.propEnd[i]!;
    const middle = this.session.of(b, i, b.userId[i] ?? '', b.sessionId[i] ?? '');
    out.reserve(propEnd - propStart + middle.length + 80);
    const buf = out.buf;
    let pos = out.pos;
    if (b.eventIdAbsent[i] === 0) {
      const w = b.eventIdWords;
      const k = 4 * i;
      pos = putUuid(buf, out.view, pos, w[k]!, w[k + 1]!, w[k + 2]!, w[k + 3]!);
    }
    buf[pos++] = 9;
    pos = putUint(buf, pos, b.eventName[i]!);
    buf[pos++] = 9;
    const ts = b.timestamp[i]!;
    if (!Number.isNaN(ts)) pos = putNumber(buf, pos, ts);
    buf.set(middle, pos);
    pos += middle.length;
    buf.set(b.props.subarray(propStart, propEnd), pos);
    pos += propEnd - propStart;
    buf[pos++] = 10;
    out.pos = pos;
  }

  /** `\tgameId\tuserId\tsessionId\t…\tlevelFunnelVersion\t`, encoded once per session (SessionFields). */
  private encodeMiddle({ userId, sessionId, game, server, platform, country, version, funnel, funnelVersion }: MiddleKey): Uint8Array {
    const scratch = this.scratch;
    scratch.reserve(4 * (userId.length + sessionId.length) + 128);
    const buf = scratch.buf;
    let pos = 0;
    buf[pos++] = 9;
    pos = putUint(buf, pos, game);
    buf[pos++] = 9;
    pos = putString(buf, pos, userId);
    buf[pos++] = 9;
    pos = putString(buf, pos, sessionId);
    for (const code of [server, platform, country, version, funnel, funnelVersion]) {
      buf[pos++] = 9;
      pos = putUint(buf, pos, code);
    }
    buf[pos++] = 9;
    return buf.slice(0, pos);
  }
}
