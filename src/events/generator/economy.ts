import { CURRENCIES, CURRENCY_CODES, type CurrencyCode } from '../catalog.js';
import { bytesOf } from './bytes.js';

/**
 * The games' shop and economy content: offers and their local prices, booster sets, guild
 * names. Pure data, so that prices and names are the same in every run.
 */

/** USD price points of the store tiers. */
export const USD_TIERS = [0.99, 4.99, 9.99, 19.99, 49.99, 99.99] as const;

/**
 * Local price of a USD tier, rounded the way stores show prices: .99 endings where the currency
 * has cents (4.99 USD → 179.99 THB), two significant figures where it has none (120,000 VND).
 */
export function localPrice(currency: CurrencyCode, usd: number): number {
  const spec = CURRENCIES[currency];
  const raw = usd / spec.usdPerUnit;
  if (spec.digits === 0) {
    const scale = Math.pow(10, Math.max(0, Math.floor(Math.log10(raw)) - 1));
    return Math.round(raw / scale) * scale;
  }
  const whole = raw < 10 ? Math.max(0.5, Math.round(raw * 2) / 2) : raw < 100 ? Math.round(raw) : Math.round(raw / 10) * 10;
  return (Math.round(whole * 100) - 1) / 100;
}

/** PRICES[currency][tier] */
export const PRICES: Readonly<Record<CurrencyCode, readonly number[]>> = Object.fromEntries(
  CURRENCY_CODES.map((c) => [c, USD_TIERS.map((usd) => localPrice(c, usd))]),
) as Record<CurrencyCode, number[]>;

export interface Offer {
  id: string;
  productId: string;
  tier: number;
  /** Diamonds credited on purchase. */
  diamonds: number;
}

export const OFFERS: readonly Offer[] = [
  { id: 'offer_gems_100', productId: 'gems_100', tier: 0, diamonds: 100 },
  { id: 'offer_starter_pack', productId: 'starter_pack', tier: 1, diamonds: 600 },
  { id: 'offer_gems_500', productId: 'gems_500', tier: 1, diamonds: 500 },
  { id: 'offer_gems_1200', productId: 'gems_1200', tier: 2, diamonds: 1200 },
  { id: 'offer_vip_month', productId: 'vip_month', tier: 2, diamonds: 1000 },
  { id: 'offer_gems_2500', productId: 'gems_2500', tier: 3, diamonds: 2500 },
  { id: 'offer_gems_6500', productId: 'gems_6500', tier: 4, diamonds: 6500 },
  { id: 'offer_gems_14000', productId: 'gems_14000', tier: 5, diamonds: 14000 },
];

/** Which offers each segment is shown (indices into OFFERS, repeated = more likely). */
export const FEATURED_FOR_NON_PAYER: readonly number[] = [0, 0, 0, 1, 1, 2, 3];
export const FEATURED_FOR_PAYER: readonly number[] = [0, 1, 1, 2, 3, 3, 4, 5];
export const FEATURED_FOR_WHALE: readonly number[] = [3, 4, 5, 5, 6, 6, 7, 7];

/** Booster sets as the `boosters` JSON (bytes) and the item_spend lines they cause. */
export interface BoosterSet {
  json: Uint8Array;
  items: ReadonlyArray<{ itemId: string; count: number }>;
}

function boosterSet(counts: Record<string, number>): BoosterSet {
  return {
    json: bytesOf(JSON.stringify(counts)),
    items: Object.entries(counts).map(([type, count]) => ({ itemId: `booster_${type}`, count })),
  };
}

export const NO_BOOSTERS = bytesOf('{}');
export const BOOSTER_SETS: readonly BoosterSet[] = [
  boosterSet({ hammer: 1 }),
  boosterSet({ extra_moves: 1 }),
  boosterSet({ color_bomb: 1 }),
  boosterSet({ shuffle: 1 }),
  boosterSet({ hammer: 1, extra_moves: 1 }),
  boosterSet({ color_bomb: 2 }),
  boosterSet({ extra_moves: 2, hammer: 1 }),
];

const GUILD_ADJECTIVES = [
  'Crimson', 'Silent', 'Golden', 'Iron', 'Shadow', 'Royal', 'Wild', 'Frozen',
  'Burning', 'Lucky', 'Mystic', 'Savage', 'Stormy', 'Hidden', 'Brave', 'Eternal',
];
const GUILD_NOUNS = [
  'Wolves', 'Dragons', 'Knights', 'Tigers', 'Ravens', 'Legends', 'Titans', 'Phoenix',
  'Vipers', 'Spartans', 'Samurai', 'Guardians', 'Outlaws', 'Lions', 'Hunters', 'Falcons',
];

export function guildIdFor(game: number, index: number): string {
  return `gd_${game}_${String(index + 1).padStart(4, '0')}`;
}

/** Deterministic display name; ASCII letters and spaces only (safe inside JSON strings). */
export function guildNameFor(index: number): string {
  const n = GUILD_ADJECTIVES.length * GUILD_NOUNS.length;
  const base = `${GUILD_ADJECTIVES[index % GUILD_ADJECTIVES.length]} ${GUILD_NOUNS[Math.floor(index / GUILD_ADJECTIVES.length) % GUILD_NOUNS.length]}`;
  return index < n ? base : `${base} ${toRoman(Math.floor(index / n) + 1)}`;
}

function toRoman(n: number): string {
  const table: Array<[number, string]> = [
    [1000, 'M'], [900, 'CM'], [500, 'D'], [400, 'CD'], [100, 'C'], [90, 'XC'],
    [50, 'L'], [40, 'XL'], [10, 'X'], [9, 'IX'], [5, 'V'], [4, 'IV'], [1, 'I'],
  ];
  let out = '';
  for (const [value, sym] of table) {
    while (n >= value) {
      out += sym;
      n -= value;
    }
  }
  return out;
}
