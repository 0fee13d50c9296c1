import { MATCH_RESULTS, type CurrencyCode } from '../catalog.js';
import { EV, propKey } from './batch.js';
import {
  BOOSTER_SETS,
  FEATURED_FOR_NON_PAYER,
  FEATURED_FOR_PAYER,
  FEATURED_FOR_WHALE,
  NO_BOOSTERS,
  OFFERS,
  PRICES,
  guildIdFor,
  guildNameFor,
  type BoosterSet,
  type Offer,
} from './economy.js';
import { IdKeys, ipv4, matchIdFor, sessionIdFor, transactionIdFor } from './ids.js';
import { emptyProfile, sampleMsOfDay, type Population, type Profile } from './population.js';
import { cumulative, Rng } from './rng.js';
import { PlayerState } from './state.js';
import { DAY_MS } from '../../core/dates.js';

/**
 * What one player does on one day: whether they come back (a decaying retention curve with
 * extra churn when stuck on a hard level), 1–4 sessions at their local peak hours, and inside a
 * session level attempts, PvP matches, economy moves and the shop funnel. Bot farmers log in
 * from their farm's IP many times a day, replay level 1 and farm items.
 *
 * Every user-day draws from its own stream keyed by (seed, user, day), so a user's events do
 * not depend on anyone else's.
 */

/**
 * Where behaviour sends events; the generator adds ids, envelope fields and defects.
 * An event is `begin(name, ts)`, its properties in order (`num`/`str`/`raw` with a key from
 * `K`), then `end()`: properties go straight into the batch's byte arena.
 */
export interface EventSink {
  /** Envelope fields shared by the user's events today. */
  beginUserDay(p: Profile, dayIndex: number, appVersionCode: number): void;
  beginSession(sessionId: string): void;
  begin(eventName: number, timestamp: number): void;
  num(key: Uint8Array, value: number): void;
  str(key: Uint8Array, value: string): void;
  /** A value that is already JSON (boosters). */
  raw(key: Uint8Array, json: Uint8Array): void;
  end(): void;
  /** Called after the user's last event of the day (flushes duplicates). */
  endUserDay(): void;
}

/** Encoded property keys. */
const K = {
  installSource: propKey('installSource'),
  os: propKey('os'),
  deviceModel: propKey('deviceModel'),
  level: propKey('level'),
  ip: propKey('ip'),
  sessionSeconds: propKey('sessionSeconds'),
  amount: propKey('amount'),
  currency: propKey('currency'),
  productId: propKey('productId'),
  paymentChannel: propKey('paymentChannel'),
  transactionId: propKey('transactionId'),
  offerId: propKey('offerId'),
  itemId: propKey('itemId'),
  quantity: propKey('quantity'),
  reasonId: propKey('reasonId'),
  levelId: propKey('levelId'),
  boosters: propKey('boosters'),
  egp: propKey('egp'),
  durationSeconds: propKey('durationSeconds'),
  matchId: propKey('matchId'),
  result: propKey('result'),
  guildId: propKey('guildId'),
  guildName: propKey('guildName'),
  price: propKey('price'),
} as const;

/** Ground truth the behaviour reports as it goes (manifest.json). */
export interface TruthRecorder {
  active(dayIndex: number): void;
  install(dayIndex: number, p: Profile): void;
  purchase(dayIndex: number, currency: CurrencyCode, amount: number, firstForUser: boolean): void;
}

export interface BehaviourOptions {
  seed: number;
  startMs: number;
  days: number;
  /** Guilds per game. */
  guildsPerGame: number;
  /** Number of app versions released over the period (`1.k.0` on day 7k). */
  appVersionCount: number;
}

/** Survival S(k) = (1 + k/0.5)^-0.6 → D1 ≈ 52%, D7 ≈ 20%, D30 ≈ 8.5% of accounts still playing. */
function hazardTable(days: number): Float64Array {
  const s = (k: number) => Math.pow(1 + k / 0.5, -0.6);
  const h = new Float64Array(days + 1);
  for (let k = 1; k <= days; k++) h[k] = 1 - s(k) / s(k - 1);
  return h;
}

const SESSIONS_CDF = cumulative([45, 30, 17, 8]);
const PAYER_SESSIONS_CDF = cumulative([25, 35, 25, 15]);
const RESULT_CDF = cumulative([47, 47, 6]);
const REWARD_ITEMS = ['chest_common', 'chest_common', 'chest_rare', 'hero_shard', 'energy_potion', 'skin_fragment'] as const;
const FARM_ITEMS = ['material_ore', 'material_wood', 'material_crystal', 'chest_common', 'energy_potion'] as const;
const CRAFT_ITEMS = ['material_ore', 'material_wood', 'material_crystal', 'hero_shard'] as const;
const MIN = 60_000;

export class Behaviour {
  private readonly rng = new Rng(0);
  private readonly profileScratch = emptyProfile();
  private readonly hazard: Float64Array;
  private readonly startDow: number;
  private sessionCounter = 0;
  private transactionCounter = 0;
  private matchCounter = 0;
  private readonly keys: IdKeys;

  // Per user-day scratch.
  private p: Profile = this.profileScratch;
  private u = 0;
  private d = 0;
  private t = 0;
  private ip = '';

  constructor(
    private readonly pop: Population,
    private readonly state: PlayerState,
    private readonly sink: EventSink,
    private readonly truth: TruthRecorder,
    private readonly options: BehaviourOptions,
  ) {
    this.hazard = hazardTable(options.days);
    this.startDow = new Date(options.startMs).getUTCDay();
    this.keys = new IdKeys(options.seed);
  }

  /** Simulate account `u` on day `d` (the account must be installed by then). */
  simulate(u: number, d: number): void {
    const state = this.state;
    if (state.isChurned(u)) return;
    const p = this.pop.profile(u, this.profileScratch);
    const r = this.rng;
    r.reseed(this.options.seed, u, d, 0xbe4a);
    const bot = p.cluster >= 0;
    const installDay = p.installDay === d;

    if (installDay) {
      state.level[u] = 1;
      this.truth.install(d, p);
    } else if (!bot) {
      let h = this.hazard[d - p.installDay]! + 0.04 * Math.min(state.failStreak[u]!, 5);
      if (p.payer) h *= 0.5;
      if (r.next() < h) {
        state.churn(u);
        return;
      }
      const dow = (this.startDow + d) % 7;
      const weekend = dow === 0 || dow === 6 ? 1.1 : 1;
      if (r.next() >= p.engagement * weekend) return;
    }

    this.truth.active(d);
    this.p = p;
    this.u = u;
    this.d = d;
    const installVersion = Math.floor(p.installDay / 7);
    const current = bot ? installVersion : Math.max(installVersion, Math.floor(Math.max(0, d - p.updateLag) / 7));
    this.sink.beginUserDay(p, d, 1 + Math.min(this.options.appVersionCount - 1, current));
    this.ip = bot ? this.pop.clusters[p.cluster]!.ip : ipv4(r.chance(0.2) ? (p.homeIp ^ (r.u32() & 0xffff)) >>> 0 : p.homeIp);

    const dayStart = this.options.startMs + d * DAY_MS;
    const dayEnd = dayStart + DAY_MS - 1;
    const sessions = bot ? r.range(3, 6) : 1 + r.weighted(p.payer ? PAYER_SESSIONS_CDF : SESSIONS_CDF);
    // Session starts at the player's local peak hours, in order, never overlapping.
    const starts: number[] = [];
    for (let i = 0; i < sessions; i++) starts.push(dayStart + sampleMsOfDay(r, p.utcOffset));
    starts.sort((a, b) => a - b);
    if (installDay) {
      starts[0] = p.installMs;
      for (let i = 1; i < starts.length; i++) if (starts[i]! < p.installMs) starts[i] = p.installMs + i * 20 * MIN;
      starts.sort((a, b) => a - b);
    }
    let free = installDay ? p.installMs : dayStart;
    for (let i = 0; i < starts.length; i++) {
      const start = Math.max(starts[i]!, free);
      // Leave room for a minimal session (init, login, rewards, a shop visit) before midnight.
      if (start > dayEnd - 5 * MIN) break;
      const length = bot ? r.logNormal(5 * MIN, 0.3) : Math.min(60 * MIN, Math.max(1.5 * MIN, r.logNormal(9 * MIN, 0.6)));
      const end = Math.min(dayEnd, start + Math.round(length));
      this.session(start, end, dayEnd, i === 0, installDay && i === 0, bot);
      free = this.t + r.range(10, 90) * MIN;
    }
    this.sink.endUserDay();
  }

  private session(start: number, end: number, dayEnd: number, firstToday: boolean, register: boolean, bot: boolean): void {
    const r = this.rng;
    const sink = this.sink;
    const p = this.p;
    const u = this.u;
    const state = this.state;
    this.t = start;
    sink.beginSession(sessionIdFor(this.sessionCounter++, this.keys, r));
    if (register) {
      sink.begin(EV.register, this.t);
      sink.str(K.installSource, p.installSource);
      sink.end();
      this.t += r.range(200, 1500);
    }
    sink.begin(EV.init, this.t);
    sink.str(K.os, p.os);
    sink.str(K.deviceModel, p.deviceModel);
    sink.end();
    this.t += r.range(800, 4000);
    const loginTs = this.t;
    sink.begin(EV.login, this.t);
    sink.num(K.level, state.level[u]!);
    sink.str(K.ip, this.ip);
    sink.end();
    this.step(1, 5);

    if (firstToday) this.dailyStart(bot);
    if (bot) this.farm(end);
    else this.play(end);

    // 5% of sessions are killed by the OS: no logout. Every event so far is at or before
    // min(t, dayEnd), so the logout there is the session's last event and stays on the day.
    if (this.t > dayEnd) this.t = dayEnd;
    if (r.next() < 0.95) {
      sink.begin(EV.logout, this.t);
      sink.num(K.level, state.level[u]!);
      sink.str(K.ip, this.ip);
      sink.num(K.sessionSeconds, Math.round((this.t - loginTs) / 1000));
      sink.end();
    }
  }

  private item(event: number, itemId: string, quantity: number, reasonId: number): void {
    const sink = this.sink;
    sink.begin(event, this.t);
    sink.str(K.itemId, itemId);
    sink.num(K.quantity, quantity);
    sink.num(K.reasonId, reasonId);
    sink.end();
  }

  private currency(event: number, currency: string, amount: number, reasonId: number): void {
    const sink = this.sink;
    sink.begin(event, this.t);
    sink.str(K.currency, currency);
    sink.num(K.amount, amount);
    sink.num(K.reasonId, reasonId);
    sink.end();
  }

  private levelEvent(event: number, level: number, boosters: Uint8Array, egp: number, duration: number): void {
    const sink = this.sink;
    sink.begin(event, this.t);
    sink.num(K.levelId, level);
    sink.raw(K.boosters, boosters);
    sink.num(K.egp, egp);
    if (duration >= 0) sink.num(K.durationSeconds, duration);
    sink.end();
  }

  private offerEvent(event: number, offer: Offer, price: number): void {
    const sink = this.sink;
    sink.begin(event, this.t);
    sink.str(K.offerId, offer.id);
    sink.num(K.price, price);
    sink.str(K.currency, this.p.currency);
    sink.end();
  }

  private guildEvent(event: number, index: number): void {
    const sink = this.sink;
    sink.begin(event, this.t);
    sink.str(K.guildId, guildIdFor(this.p.game, index));
    sink.str(K.guildName, guildNameFor(index));
    sink.end();
  }

  /** Advance the clock by a random number of seconds in [lo, hi]. */
  private step(lo: number, hi: number): void {
    this.t += this.rng.range(lo * 1000, hi * 1000);
  }

  private dailyStart(bot: boolean): void {
    const r = this.rng;
    this.currency(EV.currency_gain, 'gold', r.range(50, 150), 2);
    if (r.next() < 0.3) {
      this.step(0, 1);
      this.item(EV.item_gain, 'energy_potion', 1, 2);
    }
    this.step(1, 4);
    if (bot) {
      // PU farmers top up a little now and then.
      if (this.p.payer && r.next() < 0.15) this.shop(OFFERS[0]!, 1, 1, 1);
      return;
    }
    const u = this.u;
    const g = this.state.guild[u]!;
    if (g === 0 && this.state.level[u]! >= 5 && r.next() < 0.12) {
      const index = r.int(this.options.guildsPerGame);
      this.state.guild[u] = index + 1;
      this.guildEvent(EV.guild_join, index);
      this.step(2, 20);
    } else if (g !== 0 && r.next() < 0.015) {
      this.state.guild[u] = 0;
      this.guildEvent(EV.guild_leave, g - 1);
      this.step(2, 20);
    }
  }

  private play(end: number): void {
    const r = this.rng;
    const p = this.p;
    const u = this.u;
    const state = this.state;
    const shopChance = p.whale ? 0.15 : p.payer ? 0.07 : 0.04;
    for (;;) {
      const x = r.next();
      if (x < 0.62) {
        if (!this.level(end)) return;
        if (state.failStreak[u]! >= 4 && r.next() < 0.25) return; // rage quit
      } else if (x < 0.72 && state.level[u]! >= 5) {
        const duration = r.range(120, 480);
        if (this.t + duration * 1000 + 3000 > end) return;
        this.t += duration * 1000;
        const result = MATCH_RESULTS[r.weighted(RESULT_CDF)]!;
        const sink = this.sink;
        sink.begin(EV.match, this.t);
        sink.str(K.matchId, matchIdFor(this.matchCounter++, this.keys, r));
        sink.str(K.result, result);
        sink.num(K.durationSeconds, duration);
        sink.end();
        if (result === 'win') {
          this.step(0, 2);
          this.currency(EV.currency_gain, 'gold', 30, 8);
        }
      } else if (x < 0.72 + shopChance) {
        if (this.t + 2 * MIN > end) return;
        const featured = p.whale ? FEATURED_FOR_WHALE : p.payer ? FEATURED_FOR_PAYER : FEATURED_FOR_NON_PAYER;
        const offer = OFFERS[r.pick(featured)]!;
        if (p.whale) this.shop(offer, 0.7, 0.85, 0.85);
        else if (p.payer) this.shop(offer, 0.55, 0.7, 0.85);
        else this.shop(offer, 0.25, 0.12, 0);
      } else if (x < 0.88) {
        if (this.t + MIN > end) return;
        if (r.next() < 0.5) this.item(EV.item_spend, r.pick(CRAFT_ITEMS), r.range(1, 5), 10);
        else this.currency(EV.currency_spend, 'gold', r.range(1, 10) * 100, 11);
        this.step(5, 40);
      } else {
        // Browsing, chatting, collecting a quest reward now and then.
        this.step(10, 60);
        if (this.t > end) return;
        if (r.next() < 0.3) this.item(EV.item_gain, r.pick(REWARD_ITEMS), 1, 3);
      }
      this.step(2, 15);
      if (this.t > end) return;
    }
  }

  /** Probability of failing an attempt at `level` (before boosters and EGP). */
  private failProbability(level: number): number {
    let f = level === 1 ? 0.03 : Math.min(0.45, 0.12 + 0.004 * level);
    if (level % 10 === 0) f += 0.35; // wall levels
    else if (level % 5 === 0) f += 0.15;
    const funnel = this.p.funnelIndex; // live_v1, test_easy, test_hard
    if (funnel === 1) f *= 0.7;
    else if (funnel === 2) f *= 1.35;
    return f * this.p.skill;
  }

  /** One level attempt; false when it would not fit in the session. */
  private level(end: number): boolean {
    const r = this.rng;
    const p = this.p;
    const u = this.u;
    const state = this.state;
    const level = state.level[u]!;
    const streak = state.failStreak[u]!;
    const duration = Math.round(r.logNormal(95 * (1 + level / 200), 0.35));
    if (this.t + duration * 1000 + 5000 > end) return false;

    let boosters: BoosterSet | undefined;
    if (r.next() < Math.min(0.6, 0.12 + 0.08 * streak + (p.payer ? 0.1 : 0))) boosters = r.pick(BOOSTER_SETS);
    const boostersJson = boosters ? boosters.json : NO_BOOSTERS;
    this.levelEvent(EV.level_start, level, boostersJson, 0, -1);
    if (boosters) {
      for (const item of boosters.items) {
        this.t += r.range(100, 900);
        this.item(EV.item_spend, item.itemId, item.count, 6);
      }
    }
    const endTs = this.t + duration * 1000;
    let fail = r.next() < Math.max(0.02, this.failProbability(level) - (boosters ? 0.1 * boosters.items.length : 0));
    let egp = 0;
    if (fail) {
      // End-game purchase: buy a continue with diamonds when about to lose.
      const egpChance = p.whale ? 0.6 : p.payer ? 0.35 : 0.04;
      if (r.next() < egpChance) {
        egp = r.next() < 0.25 ? 2 : 1;
        this.t = endTs - r.range(2000, 8000);
        this.currency(EV.currency_spend, 'diamond', 90 * egp, 7);
        if (r.next() < 0.5) fail = false;
      }
    }
    this.t = endTs;
    if (fail) {
      this.levelEvent(EV.level_failed, level, boostersJson, egp, duration);
      state.failStreak[u] = Math.min(255, streak + 1);
      return true;
    }
    this.levelEvent(EV.level_complete, level, boostersJson, egp, duration);
    state.failStreak[u] = 0;
    state.level[u] = level + 1;
    this.step(0, 2);
    this.currency(EV.currency_gain, 'gold', 20 + level + r.int(30), 1);
    if (r.next() < 0.3) this.item(EV.item_gain, r.pick(REWARD_ITEMS), 1, 1);
    if (level % 10 === 0) this.currency(EV.currency_gain, 'diamond', 20, 3);
    return true;
  }

  /** Shop funnel: store_view → offer_click → order → purchase, each step with its probability. */
  private shop(offer: Offer, click: number, order: number, pay: number): void {
    const r = this.rng;
    const sink = this.sink;
    const p = this.p;
    const price = PRICES[p.currency][offer.tier]!;
    this.offerEvent(EV.store_view, offer, price);
    this.step(3, 20);
    if (r.next() >= click) return;
    this.offerEvent(EV.offer_click, offer, price);
    this.step(2, 10);
    if (r.next() >= order) return;
    this.offerEvent(EV.order, offer, price);
    this.step(5, 40);
    if (r.next() >= pay) return;
    const channel =
      p.platformIndex === 0
        ? 'app_store'
        : p.platformIndex === 2
          ? r.next() < 0.7
            ? 'xsolla'
            : 'paypal'
          : r.next() < 0.85
            ? 'google_play'
            : 'codashop';
    sink.begin(EV.purchase, this.t);
    sink.num(K.amount, price);
    sink.str(K.currency, p.currency);
    sink.str(K.productId, offer.productId);
    sink.str(K.paymentChannel, channel);
    sink.str(K.transactionId, transactionIdFor(this.transactionCounter++, this.keys, r, channel));
    sink.str(K.offerId, offer.id);
    sink.end();
    this.truth.purchase(this.d, p.currency, price, this.state.markPaid(this.u));
    this.step(1, 3);
    this.currency(EV.currency_gain, 'diamond', offer.diamonds, 4);
    this.step(2, 10);
  }

  /** Bot farming: replay level 1 and collect items, many times a day, never progressing. */
  private farm(end: number): void {
    const r = this.rng;
    for (;;) {
      const duration = r.range(40, 70);
      if (this.t + duration * 1000 + 20_000 > end) return;
      this.levelEvent(EV.level_start, 1, NO_BOOSTERS, 0, -1);
      this.t += duration * 1000;
      this.levelEvent(EV.level_complete, 1, NO_BOOSTERS, 0, duration);
      const drops = r.range(1, 2);
      for (let i = 0; i < drops; i++) {
        this.t += r.range(300, 2500);
        this.item(EV.item_gain, r.pick(FARM_ITEMS), r.range(1, 5), i === 0 ? 1 : 3);
      }
      if (r.next() < 0.5) {
        this.t += r.range(500, 2000);
        this.currency(EV.currency_gain, 'gold', r.range(20, 40), 1);
      }
      this.step(2, 8);
    }
  }
}

/** Guilds per game for a data set of `users` accounts over `games` games. */
export function guildsPerGame(users: number, games: number): number {
  return Math.max(4, Math.ceil(users / games / 50));
}

/** Every itemId the generator can emit; a test checks they are all in the catalog's ITEM_IDS. */
export const GENERATED_ITEM_IDS: readonly string[] = [
  ...new Set<string>([
    ...REWARD_ITEMS,
    ...FARM_ITEMS,
    ...CRAFT_ITEMS,
    'energy_potion',
    ...BOOSTER_SETS.flatMap((s) => s.items.map((i) => i.itemId)),
  ]),
];
