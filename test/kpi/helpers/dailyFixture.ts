import type { SilverRow } from './silverFixture.js';

/**
 * The hand-computed fixture of the daily pipeline: four days of silver events, small enough
 * to check every KPI by eye. Rates (reference/currency_rates.csv): USD 1, THB 0.0290,
 * VND 0.0000393.
 *
 * Players (game_a unless said):
 *   u1  s1 TH Android  registers D1 10:00, pays 100 THB (= 2.900000 USD) D1, 4.99 USD D2; active D1 D2 D4
 *   u2  s1 VN iOS      registers D1 09:00, views/clicks/orders gems_100 and pays 25,000 VND (0.982500)
 *                      D1, joins guild gd_1_0001 D1, leaves it D3; active D1 D3
 *   u3  s1→s2 US Android  existing player (no register), level 7; orders and pays 0.99 USD D1 (+ a
 *                      duplicate copy of the purchase), spends a booster and 90 diamonds; last events
 *                      of D1 on s2; pays 49.99 and orders gems_6500 (49.99) D2
 *   u4  game_b s1 US iOS  registers D1 15:00, gains an energy potion; active D1 D4
 *   u5  one invalid event D1: never counted
 *   u6  s1 PH WebGL    registers D2, orders gems_2500 and pays 19.99 USD D2; active D2 D3
 *   f1–f5  s2 VN Android  bot farm on IP 45.0.0.1: level 1 completed 3 times, account level 1, on D1
 *                      and D3; f5 also pays 1.00 USD on D1 (a PU farmer). f1 plays once on D2.
 *   f6  s2 VN Android  same IP on D1 but only 2 level-1 completions: not a farmer.
 */
export const D1 = '2024-05-01';
export const D2 = '2024-05-02';
export const D3 = '2024-05-03';
export const D4 = '2024-05-04';
export const DAYS = [D1, D2, D3, D4];

interface Player {
  game_id: string;
  user_id: string;
  server_id: string;
  country_code: string;
  platform: string;
}

const player = (user_id: string, server_id: string, country_code: string, platform: string, game_id = 'game_a'): Player => ({
  game_id,
  user_id,
  server_id,
  country_code,
  platform,
});

const U1 = player('u1', 's1', 'TH', 'Android');
const U2 = player('u2', 's1', 'VN', 'iOS');
const U3 = player('u3', 's1', 'US', 'Android');
const U4 = player('u4', 's1', 'US', 'iOS', 'game_b');
const U5 = player('u5', 's1', 'TH', 'Android');
const U6 = player('u6', 's1', 'PH', 'WebGL');
const farmer = (n: number) => player(`f${n}`, 's2', 'VN', 'Android');

type Extra = Omit<Partial<SilverRow>, 'event_name' | 'event_ts'>;

/** One event of a player in a session. */
function ev(p: Player, session: string, event_name: string, event_ts: string, extra: Extra = {}): SilverRow {
  return { ...p, session_id: session, event_name, event_ts, ...extra };
}

const shop = (offer_id: string, price: number, currency: string) => ({ offer_id, price, currency });

/** Farm session: login, three level-1 completions, logout (5 events). */
function farmSession(n: number, session: string, hour: string, completions = 3, logout = true): SilverRow[] {
  const f = farmer(n);
  const rows = [ev(f, session, 'login', `${hour}:00:00`, { level: 1, ip: '45.0.0.1' })];
  for (let i = 1; i <= completions; i++) rows.push(ev(f, session, 'level_complete', `${hour}:0${i}:00`, { level_id: 1 }));
  if (logout) rows.push(ev(f, session, 'logout', `${hour}:04:00`, { level: 1, ip: '45.0.0.1' }));
  return rows;
}

export function day1(): SilverRow[] {
  return [
    // u1: 7 events, max level 2 (logout), pays 100 THB
    ev(U1, 'a1', 'register', '10:00:00'),
    ev(U1, 'a1', 'login', '10:00:05', { level: 1, ip: '1.1.1.1' }),
    ev(U1, 'a1', 'level_complete', '10:02:00', { level_id: 1 }),
    ev(U1, 'a1', 'purchase', '10:05:00', { amount: 100, currency: 'THB', payment_channel: 'google_play', transaction_id: 't1' }),
    ev(U1, 'a1', 'currency_gain', '10:05:05', { currency: 'diamond', amount: 500, reason_id: 4 }),
    ev(U1, 'a1', 'item_gain', '10:06:00', { item_id: 'chest_common', quantity: 2, reason_id: 1 }),
    ev(U1, 'a1', 'logout', '10:10:00', { level: 2, ip: '1.1.1.1' }),
    // u2: 8 events; the shop funnel view → click → order, pays 25,000 VND, joins a guild
    ev(U2, 'b1', 'register', '09:00:00'),
    ev(U2, 'b1', 'login', '09:00:10', { level: 1, ip: '2.2.2.2' }),
    ev(U2, 'b1', 'store_view', '09:01:00', shop('offer_gems_100', 25000, 'VND')),
    ev(U2, 'b1', 'offer_click', '09:01:10', shop('offer_gems_100', 25000, 'VND')),
    ev(U2, 'b1', 'order', '09:01:20', shop('offer_gems_100', 25000, 'VND')),
    ev(U2, 'b1', 'purchase', '09:01:30', { amount: 25000, currency: 'VND', payment_channel: 'app_store', transaction_id: 't2', offer_id: 'offer_gems_100' }),
    ev(U2, 'b1', 'guild_join', '09:02:00', { guild_id: 'gd_1_0001', guild_name: 'Crimson Wolves' }),
    ev(U2, 'b1', 'store_view', '09:03:00', shop('offer_starter_pack', 120000, 'VND')),
    // u3: 9 valid events (+1 duplicate), level 7; s1 until 20:02, then s2
    ev(U3, 'c1', 'login', '20:00:00', { level: 7, ip: '3.3.3.3' }),
    ev(U3, 'c1', 'store_view', '20:01:00', shop('offer_gems_100', 0.99, 'USD')),
    ev(U3, 'c1', 'offer_click', '20:01:05', shop('offer_gems_100', 0.99, 'USD')),
    ev(U3, 'c1', 'order', '20:01:10', shop('offer_gems_100', 0.99, 'USD')),
    ev(U3, 'c1', 'purchase', '20:01:20', { amount: 0.99, currency: 'USD', payment_channel: 'google_play', transaction_id: 't3' }),
    ev(U3, 'c1', 'purchase', '20:01:20', { amount: 0.99, currency: 'USD', payment_channel: 'google_play', transaction_id: 't3', is_duplicate: true }),
    ev(U3, 'c1', 'currency_spend', '20:02:00', { currency: 'diamond', amount: 90, reason_id: 7 }),
    ev(U3, 'c1', 'item_spend', '20:02:00', { item_id: 'booster_hammer', quantity: 1, reason_id: 6 }),
    ev({ ...U3, server_id: 's2' }, 'c1', 'currency_gain', '20:03:00', { currency: 'gold', amount: 30, reason_id: 8 }),
    ev({ ...U3, server_id: 's2' }, 'c1', 'item_gain', '20:03:30', { item_id: 'mystery_box', quantity: 1, reason_id: 3 }),
    // u4 (game_b): 3 events
    ev(U4, 'd1', 'register', '15:00:00'),
    ev(U4, 'd1', 'login', '15:00:05', { level: 1, ip: '4.4.4.4' }),
    ev(U4, 'd1', 'item_gain', '15:01:00', { item_id: 'energy_potion', quantity: 1, reason_id: 2 }),
    // u5: invalid only
    ev(U5, 'e1', 'login', '16:00:00', { level: 3, ip: '5.5.5.5', is_valid: false, validation_errors: ['unknown_country'] }),
    // the farm at 01:00: f1–f4 5 events each, f5 6 (pays 1.00 USD), f6 3 (2 completions, no logout)
    ...farmSession(1, 'f1a', '01'),
    ...farmSession(2, 'f2a', '01'),
    ...farmSession(3, 'f3a', '01'),
    ...farmSession(4, 'f4a', '01'),
    ...farmSession(5, 'f5a', '01'),
    ev(farmer(5), 'f5a', 'purchase', '01:03:30', { amount: 1, currency: 'USD', payment_channel: 'google_play', transaction_id: 't5' }),
    ...farmSession(6, 'f6a', '01', 2, false),
  ];
}

export function day2(): SilverRow[] {
  return [
    // u1: 3 events, level 3, pays 4.99 USD (not new)
    ev(U1, 'a2', 'login', '11:00:00', { level: 2, ip: '1.1.1.1' }),
    ev(U1, 'a2', 'purchase', '11:05:00', { amount: 4.99, currency: 'USD', payment_channel: 'google_play', transaction_id: 't6' }),
    ev(U1, 'a2', 'logout', '11:10:00', { level: 3, ip: '1.1.1.1' }),
    // u3 on s2: 4 events, pays 49.99 and orders gems_6500 (a returning buyer)
    ev({ ...U3, server_id: 's2' }, 'c2', 'login', '21:00:00', { level: 7, ip: '3.3.3.3' }),
    ev({ ...U3, server_id: 's2' }, 'c2', 'purchase', '21:01:00', { amount: 49.99, currency: 'USD', payment_channel: 'google_play', transaction_id: 't7' }),
    ev({ ...U3, server_id: 's2' }, 'c2', 'store_view', '21:02:00', shop('offer_gems_6500', 49.99, 'USD')),
    ev({ ...U3, server_id: 's2' }, 'c2', 'order', '21:03:00', shop('offer_gems_6500', 49.99, 'USD')),
    // u6: registers, 6 events, orders gems_2500 and pays 19.99 (NRU, NPU, NNPU, new buyer)
    ev(U6, 'g2', 'register', '12:00:00'),
    ev(U6, 'g2', 'login', '12:00:05', { level: 1, ip: '6.6.6.6' }),
    ev(U6, 'g2', 'store_view', '12:09:00', shop('offer_gems_2500', 19.99, 'USD')),
    ev(U6, 'g2', 'offer_click', '12:09:30', shop('offer_gems_2500', 19.99, 'USD')),
    ev(U6, 'g2', 'order', '12:09:45', shop('offer_gems_2500', 19.99, 'USD')),
    ev(U6, 'g2', 'purchase', '12:10:00', { amount: 19.99, currency: 'USD', payment_channel: 'xsolla', transaction_id: 't8' }),
    // f1 alone: 1 completion, not detected today (still a known farmer)
    ...farmSession(1, 'f1b', '02', 1, false),
  ];
}

export function day3(): SilverRow[] {
  return [
    ev(U6, 'g3', 'login', '12:00:00', { level: 2, ip: '6.6.6.6' }),
    ev(U2, 'b3', 'login', '09:00:00', { level: 1, ip: '2.2.2.2' }),
    ev(U2, 'b3', 'guild_leave', '09:01:00', { guild_id: 'gd_1_0001', guild_name: 'Crimson Wolves' }),
    ...farmSession(1, 'f1c', '03'),
    ...farmSession(2, 'f2c', '03'),
    ...farmSession(3, 'f3c', '03'),
    ...farmSession(4, 'f4c', '03'),
    ...farmSession(5, 'f5c', '03'),
  ];
}

export function day4(): SilverRow[] {
  return [
    ev(U1, 'a4', 'login', '10:00:00', { level: 3, ip: '1.1.1.1' }),
    ev(U4, 'd4', 'login', '15:00:00', { level: 1, ip: '4.4.4.4' }),
  ];
}

/** A purchase of D2 that arrives late: u2 pays 50,000 VND (1.965000 USD) in a new session. */
export function latePurchase(): SilverRow {
  return ev(U2, 'b2', 'purchase', '08:00:00', { amount: 50000, currency: 'VND', payment_channel: 'app_store', transaction_id: 't9', event_id: `${D2}-late-1` });
}

export const FIXTURE: Record<string, () => SilverRow[]> = { [D1]: day1, [D2]: day2, [D3]: day3, [D4]: day4 };
