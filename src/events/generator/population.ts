import {
  COUNTRY_CODES,
  COUNTRY_CURRENCY,
  PLATFORMS,
  type CountryCode,
  type CurrencyCode,
} from '../catalog.js';
import { ipv4, userIdFor } from './ids.js';
import { cumulative, hash32, permute32, Rng } from './rng.js';
import { HOUR_MS } from './time.js';
import { DAY_MS } from '../../core/dates.js';

/**
 * Who plays: the accounts installed over the period and their fixed traits. Traits are a pure
 * function of (seed, account index), recomputed when needed instead of stored, so memory
 * does not grow with the number of accounts beyond the small per-account progression state
 * (see state.ts). Accounts are numbered in install order: account i installs on the day whose
 * range [dayStart[d], dayStart[d+1]) contains i.
 *
 * Bot farmers are contiguous runs of 5–20 accounts (created together, as farms do) that
 * share one login IP, play only level 1 and never progress.
 */

export const SERVERS_PER_GAME = 8;

const COUNTRY_WEIGHTS: Readonly<Record<CountryCode, number>> = {
  TH: 14, VN: 12, ID: 12, PH: 9, SG: 3, MY: 6, US: 9, TR: 3, MX: 3, BR: 4, JP: 3, KR: 2, DE: 2, GB: 2,
  FR: 1.5, IN: 5, CA: 1, AU: 1, ES: 1, IT: 1, NL: 0.5, PT: 0.5, PL: 0.5, SE: 0.3, AR: 0.7, CO: 0.7,
  SA: 0.8, AE: 0.5, EG: 0.7, TW: 1.5, HK: 1,
};
/** UTC offset (hours) of each country's main time zone: players play in their evening. */
const COUNTRY_UTC_OFFSET: Readonly<Record<CountryCode, number>> = {
  TH: 7, VN: 7, ID: 7, PH: 8, SG: 8, MY: 8, US: -6, TR: 3, MX: -6, BR: -3, JP: 9, KR: 9, DE: 1, GB: 0,
  FR: 1, IN: 5, CA: -5, AU: 10, ES: 1, IT: 1, NL: 1, PT: 0, PL: 1, SE: 1, AR: -3, CO: -5, SA: 3, AE: 4,
  EG: 2, TW: 8, HK: 8,
};
/** Share of iOS players where it differs from the default 18%. */
const IOS_SHARE: Partial<Record<CountryCode, number>> = {
  US: 0.5, JP: 0.65, GB: 0.5, AU: 0.5, CA: 0.5, KR: 0.3, DE: 0.35, FR: 0.35, SG: 0.45, HK: 0.5, TW: 0.4,
  AE: 0.45, SA: 0.4,
};
const WEBGL_SHARE = 0.06;
/** Higher payer share in rich markets. */
const PAYER_SHARE: Partial<Record<CountryCode, number>> = { US: 0.07, JP: 0.08, KR: 0.07, GB: 0.06, DE: 0.06, AU: 0.06 };
const DEFAULT_PAYER_SHARE = 0.04;
const WHALE_SHARE_OF_PAYERS = 0.08;

const COUNTRY_CDF = cumulative(COUNTRY_CODES.map((c) => COUNTRY_WEIGHTS[c]));
const BOT_COUNTRIES: readonly CountryCode[] = ['VN', 'TH', 'ID', 'PH'];

export const DEVICES: Readonly<Record<(typeof PLATFORMS)[number], { models: readonly string[]; os: readonly string[] }>> = {
  iOS: {
    models: ['iPhone12,1', 'iPhone13,2', 'iPhone14,5', 'iPhone14,7', 'iPhone15,2', 'iPhone15,4', 'iPad13,18'],
    os: ['iOS 16.7', 'iOS 17.4', 'iOS 17.5', 'iOS 18.1'],
  },
  Android: {
    models: ['SM-A515F', 'SM-A546E', 'SM-G991B', 'Redmi Note 12', 'CPH2387', 'vivo 1906', 'Pixel 7', 'moto g54'],
    os: ['Android 11', 'Android 12', 'Android 13', 'Android 14'],
  },
  WebGL: {
    models: ['Chrome 124', 'Safari 17', 'Edge 124', 'Firefox 125'],
    os: ['Windows 10', 'Windows 11', 'macOS 14', 'ChromeOS'],
  },
};

const INSTALL_SOURCES = ['organic', 'facebook_ads', 'google_ads', 'tiktok_ads', 'unity_ads', 'cross_promo'] as const;
const INSTALL_SOURCE_CDF = cumulative([55, 15, 15, 8, 5, 2]);
const FUNNEL_CDF = cumulative([60, 20, 20]);

/** First octet reserved for bot-farm IPs (normal players never get it), so farm IPs are never shared by accident. */
export const BOT_IP_FIRST_OCTET = 45;
/** Public-looking first octets for normal players (no private, loopback, multicast or the farm range). */
const PLAYER_FIRST_OCTETS: readonly number[] = Array.from({ length: 223 }, (_, i) => i + 1).filter(
  (o) => ![10, 100, 127, 169, 172, 192, 198, 203, BOT_IP_FIRST_OCTET].includes(o),
);

export interface BotCluster {
  /** First account index of the farm; members are [first, first + size). */
  first: number;
  size: number;
  game: number;
  ip: string;
  country: CountryCode;
  deviceModel: string;
  /** "PU farmers": farms that also pay a little (the studios report them separately). */
  paying: boolean;
}

/** A player's fixed traits. One object is reused per lookup; copy what you keep. */
export interface Profile {
  index: number;
  userId: string;
  /** 1-based game number (`game_<n>`). */
  game: number;
  installDay: number;
  /** Epoch ms of the register event. */
  installMs: number;
  countryIndex: number;
  country: CountryCode;
  currency: CurrencyCode;
  utcOffset: number;
  platformIndex: number;
  deviceModel: string;
  os: string;
  installSource: string;
  /** 1-based server number on the game. */
  server: number;
  funnelIndex: number;
  funnelVersion: number;
  /** Home IP (uint32); mobile players sometimes log in from another. */
  homeIp: number;
  /** Probability of playing on a given day while not churned. */
  engagement: number;
  /** Difficulty multiplier: < 1 finds levels easier. */
  skill: number;
  /** Update lag in days (how long until the player installs a new build). */
  updateLag: number;
  payer: boolean;
  whale: boolean;
  /** Index into Population.clusters, or -1 for a normal player. */
  cluster: number;
}

export interface PopulationOptions {
  games: number;
  users: number;
  days: number;
  startMs: number;
  seed: number;
}

export class Population {
  readonly users: number;
  readonly days: number;
  readonly games: number;
  readonly startMs: number;
  readonly seed: number;
  /** dayStart[d] = index of the first account installed on day d; dayStart[days] = users. */
  readonly dayStart: Int32Array;
  readonly clusters: readonly BotCluster[];
  private readonly gameCdf: Float64Array;
  private readonly rng = new Rng(0);

  constructor(options: PopulationOptions) {
    this.users = options.users;
    this.days = options.days;
    this.games = options.games;
    this.startMs = options.startMs;
    this.seed = options.seed;
    this.dayStart = installSchedule(options.users, options.days);
    // Bigger catalogues have a hit and a long tail: game_1 gets the most players.
    this.gameCdf = cumulative(Array.from({ length: options.games }, (_, g) => 1 / Math.pow(g + 1, 0.8)));
    this.clusters = this.placeBotClusters();
  }

  /** Day (0-based) on which account `index` installs. */
  installDayOf(index: number): number {
    let lo = 0;
    let hi = this.days - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.dayStart[mid] as number) <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Index into `clusters` of the farm account `index` belongs to, or -1. */
  clusterOf(index: number): number {
    const clusters = this.clusters;
    let lo = 0;
    let hi = clusters.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = clusters[mid]!;
      if (index < c.first) hi = mid - 1;
      else if (index >= c.first + c.size) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** Fill `out` with the traits of account `index` (pure function of seed and index). */
  profile(index: number, out: Profile = emptyProfile()): Profile {
    const r = this.rng;
    r.reseed(this.seed, index, 0x9f0f11e);
    const installDay = this.installDayOf(index);
    out.index = index;
    out.userId = userIdFor(index);
    out.installDay = installDay;
    out.cluster = this.clusterOf(index);
    out.countryIndex = r.weighted(COUNTRY_CDF);
    out.game = r.weighted(this.gameCdf) + 1;
    const platformDraw = r.next();
    out.installSource = INSTALL_SOURCES[r.weighted(INSTALL_SOURCE_CDF)]!;
    out.funnelIndex = r.weighted(FUNNEL_CDF);
    // New level-design revisions ship over the period; a player keeps the one they installed with.
    out.funnelVersion = 1 + Math.min(2, Math.floor((installDay * 3) / Math.max(1, this.days)));
    // New players land on the newest servers; a few pick an older one.
    const newest = Math.min(SERVERS_PER_GAME - 1, Math.floor((installDay * SERVERS_PER_GAME) / Math.max(1, this.days)));
    out.server = 1 + Math.max(0, newest - (r.chance(0.3) ? r.int(3) : 0));
    out.homeIp = ((PLAYER_FIRST_OCTETS[r.int(PLAYER_FIRST_OCTETS.length)]! << 24) | (r.u32() & 0xffffff)) >>> 0;
    out.engagement = 0.3 + 0.65 * Math.pow(r.next(), 0.7);
    out.skill = 0.7 + 0.6 * r.next();
    out.updateLag = r.int(6);
    const payerDraw = r.next();
    const whaleDraw = r.next();
    const deviceDraw = r.u32();
    // Install time follows the players' daily rhythm, like their sessions.
    // Not in the last 10 minutes of the day, so that the install session fits before midnight.
    const installAt = sampleMsOfDay(r, COUNTRY_UTC_OFFSET[COUNTRY_CODES[out.countryIndex]!]);
    out.installMs = this.startMs + installDay * DAY_MS + Math.min(installAt, DAY_MS - 10 * 60_000);

    if (out.cluster >= 0) {
      const farm = this.clusters[out.cluster]!;
      out.game = farm.game;
      out.countryIndex = COUNTRY_CODES.indexOf(farm.country);
      out.platformIndex = 1; // Android emulators
      out.deviceModel = farm.deviceModel;
      out.os = DEVICES.Android.os[0]!;
      out.installSource = 'organic';
      out.funnelIndex = 0;
      out.homeIp = 0;
      out.engagement = 1;
      out.skill = 1;
      out.updateLag = 0;
      out.payer = farm.paying;
      out.whale = false;
    } else {
      const country = COUNTRY_CODES[out.countryIndex]!;
      const ios = IOS_SHARE[country] ?? 0.18;
      out.platformIndex = platformDraw < WEBGL_SHARE ? 2 : platformDraw < WEBGL_SHARE + ios ? 0 : 1;
      const devices = DEVICES[PLATFORMS[out.platformIndex]!];
      out.deviceModel = devices.models[deviceDraw % devices.models.length]!;
      out.os = devices.os[(deviceDraw >>> 8) % devices.os.length]!;
      out.payer = payerDraw < (PAYER_SHARE[country] ?? DEFAULT_PAYER_SHARE);
      out.whale = out.payer && whaleDraw < WHALE_SHARE_OF_PAYERS;
      if (out.payer) out.engagement = Math.min(0.97, out.engagement + 0.15);
    }
    out.country = COUNTRY_CODES[out.countryIndex]!;
    out.currency = COUNTRY_CURRENCY[out.country];
    out.utcOffset = COUNTRY_UTC_OFFSET[out.country];
    return out;
  }

  private placeBotClusters(): BotCluster[] {
    // ~1% of accounts in farms of 5–20 (mean 12.5): one farm per ~1,250 accounts, at least one
    // from 100 accounts on so that small data sets still contain something to detect.
    const count = this.users < 100 ? 0 : Math.max(1, Math.round((this.users * 0.01) / 12.5));
    const r = new Rng(this.seed, 0xb07fa4, this.users);
    const clusters: BotCluster[] = [];
    const segment = Math.floor(this.users / Math.max(1, count));
    for (let k = 0; k < count; k++) {
      const size = Math.min(r.range(5, 20), segment);
      const first = k * segment + r.int(segment - size + 1);
      const ipLow = permute32(k, hash32(this.seed, 0x1b)) & 0xffffff;
      clusters.push({
        first,
        size,
        game: r.weighted(this.gameCdf) + 1,
        ip: ipv4(((BOT_IP_FIRST_OCTET << 24) | ipLow) >>> 0),
        country: r.pick(BOT_COUNTRIES),
        deviceModel: r.pick(['SM-G973N', 'SM-N976N', 'SM-G988N']),
        paying: r.chance(0.2),
      });
    }
    return clusters;
  }
}

/**
 * Installs per day: a launch spike that settles into a steady flow with a weekly rhythm.
 * Returns prefix sums so that every day gets at least one install when users ≥ days.
 */
export function installSchedule(users: number, days: number): Int32Array {
  const weights = Array.from({ length: days }, (_, d) => 1 + 1.5 * Math.exp(-d / 3) + (d % 7 === 5 || d % 7 === 6 ? 0.25 : 0));
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (users * w) / total);
  const counts = exact.map(Math.floor);
  let left = users - counts.reduce((a, b) => a + b, 0);
  // Largest remainders get the leftover accounts (ties → earlier day), so the sum is exact.
  const order = exact.map((x, d) => ({ d, frac: x - Math.floor(x) })).sort((a, b) => b.frac - a.frac || a.d - b.d);
  for (let i = 0; left > 0; i++, left--) counts[order[i % days]!.d]! += 1;
  const start = new Int32Array(days + 1);
  for (let d = 0; d < days; d++) start[d + 1] = start[d]! + counts[d]!;
  return start;
}

export function emptyProfile(): Profile {
  return {
    index: 0,
    userId: '',
    game: 1,
    installDay: 0,
    installMs: 0,
    countryIndex: 0,
    country: 'TH',
    currency: 'THB',
    utcOffset: 0,
    platformIndex: 0,
    deviceModel: '',
    os: '',
    installSource: '',
    server: 1,
    funnelIndex: 0,
    funnelVersion: 1,
    homeIp: 0,
    engagement: 0,
    skill: 1,
    updateLag: 0,
    payer: false,
    whale: false,
    cluster: -1,
  };
}

/** Relative activity per local hour (0–23): a lunch bump and an evening peak. */
const LOCAL_HOUR_CDF = cumulative([
  2, 1.2, 0.8, 0.5, 0.4, 0.5, 1, 1.8, 2.5, 2.8, 3, 3.3, 4, 4, 3.6, 3.4, 3.6, 4.2, 5.2, 6.5, 7.2, 7, 5.5, 3.6,
]);

/** A UTC millisecond-of-day drawn from the daily rhythm of a player at `utcOffset` hours. */
export function sampleMsOfDay(r: Rng, utcOffset: number): number {
  const utcHour = (((r.weighted(LOCAL_HOUR_CDF) - utcOffset) % 24) + 24) % 24;
  return utcHour * HOUR_MS + r.int(HOUR_MS);
}
