import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';
import { D1, D2, D3, D4, DAYS, FIXTURE, latePurchase } from './helpers/dailyFixture.js';
import { partitions, runDaily, snapshotTables, textRows } from './helpers/dailyRun.js';
import { writeSilverDay } from './helpers/silverFixture.js';

/**
 * The daily pipeline (pipelines/daily) on the hand-computed fixture of helpers/dailyFixture.ts:
 * four days of silver events, every serving table compared row by row with values computed by
 * hand (the arithmetic is in the comments). Then: re-running a day changes nothing, and a
 * late-arriving purchase changes exactly the partitions it affects.
 */
describe(`daily KPI pipeline on a hand-computed fixture (${backend})`, () => {
  let ws: Workspace;
  // offerMinViews=1 lets one view make an offer "underperforming" in a fixture this small.
  const vars = { offerMinViews: '1' };

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    for (const day of DAYS) await writeSilverDay(ws.paths.lake, day, FIXTURE[day]!());
    await runDaily(ws, DAYS, vars);
  });
  afterAll(() => ws.close());

  const rows = (table: string, columns: string[], where?: string) => textRows(ws, table, columns, where);

  it('active_users: one row per user and day, from every valid event type', async () => {
    // server, country, platform: the user's last event of the day (u3 moved from s1 to s2 at 20:03);
    // max_level: highest login/logout level; u5 (invalid only) and u3's duplicate purchase are ignored.
    expect(await rows('active_users', ['ds', 'game_id', 'user_id', 'server_id', 'max_level', 'country_code', 'platform', 'events', 'sessions'])).toEqual([
      [D1, 'game_a', 'f1', 's2', '1', 'VN', 'Android', '5', '1'],
      [D1, 'game_a', 'f2', 's2', '1', 'VN', 'Android', '5', '1'],
      [D1, 'game_a', 'f3', 's2', '1', 'VN', 'Android', '5', '1'],
      [D1, 'game_a', 'f4', 's2', '1', 'VN', 'Android', '5', '1'],
      [D1, 'game_a', 'f5', 's2', '1', 'VN', 'Android', '6', '1'],
      [D1, 'game_a', 'f6', 's2', '1', 'VN', 'Android', '3', '1'],
      [D1, 'game_a', 'u1', 's1', '2', 'TH', 'Android', '7', '1'],
      [D1, 'game_a', 'u2', 's1', '1', 'VN', 'iOS', '8', '1'],
      [D1, 'game_a', 'u3', 's2', '7', 'US', 'Android', '9', '1'],
      [D1, 'game_b', 'u4', 's1', '1', 'US', 'iOS', '3', '1'],
      [D2, 'game_a', 'f1', 's2', '1', 'VN', 'Android', '2', '1'],
      [D2, 'game_a', 'u1', 's1', '3', 'TH', 'Android', '3', '1'],
      [D2, 'game_a', 'u3', 's2', '7', 'US', 'Android', '4', '1'],
      [D2, 'game_a', 'u6', 's1', '1', 'PH', 'WebGL', '6', '1'],
      [D3, 'game_a', 'f1', 's2', '1', 'VN', 'Android', '5', '1'],
      [D3, 'game_a', 'f2', 's2', '1', 'VN', 'Android', '5', '1'],
      [D3, 'game_a', 'f3', 's2', '1', 'VN', 'Android', '5', '1'],
      [D3, 'game_a', 'f4', 's2', '1', 'VN', 'Android', '5', '1'],
      [D3, 'game_a', 'f5', 's2', '1', 'VN', 'Android', '5', '1'],
      [D3, 'game_a', 'u2', 's1', '1', 'VN', 'iOS', '2', '1'],
      [D3, 'game_a', 'u6', 's1', '2', 'PH', 'WebGL', '1', '1'],
      [D4, 'game_a', 'u1', 's1', '3', 'TH', 'Android', '1', '1'],
      [D4, 'game_b', 'u4', 's1', '1', 'US', 'iOS', '1', '1'],
    ]);
  });

  it('recharge: purchases converted at the currency_rates rate of the day', async () => {
    // 100 THB × 0.0290 = 2.900000; 25,000 VND × 0.0000393 = 0.982500; the duplicate of t3 is not counted
    expect(await rows('recharge', ['ds', 'game_id', 'user_id', 'server_id', 'payment_channel', 'currency', 'amount', 'amount_usd', 'purchases'])).toEqual([
      [D1, 'game_a', 'f5', 's2', 'google_play', 'USD', '1.0000', '1.000000', '1'],
      [D1, 'game_a', 'u1', 's1', 'google_play', 'THB', '100.0000', '2.900000', '1'],
      [D1, 'game_a', 'u2', 's1', 'app_store', 'VND', '25000.0000', '0.982500', '1'],
      [D1, 'game_a', 'u3', 's1', 'google_play', 'USD', '0.9900', '0.990000', '1'],
      [D2, 'game_a', 'u1', 's1', 'google_play', 'USD', '4.9900', '4.990000', '1'],
      [D2, 'game_a', 'u3', 's2', 'google_play', 'USD', '49.9900', '49.990000', '1'],
      [D2, 'game_a', 'u6', 's1', 'xsolla', 'USD', '19.9900', '19.990000', '1'],
    ]);
    expect((await rows('currency_rates', ['count(*)']))[0]).toEqual(['26']);
  });

  it('cumulative_revenue: yesterday + today, every payer carried every day, with the VIP tier', async () => {
    // D2: u1 2.90 + 4.99 = 7.89 (A); u3 0.99 + 49.99 = 50.98 (C: 50 ≤ x < 100); u6 19.99 (B: 10 ≤ x < 50)
    const carried = (ds: string) => [
      [ds, 'game_a', 'f5', '0.000000', '1.000000', 'A'],
      [ds, 'game_a', 'u1', '0.000000', '7.890000', 'A'],
      [ds, 'game_a', 'u2', '0.000000', '0.982500', 'A'],
      [ds, 'game_a', 'u3', '0.000000', '50.980000', 'C'],
      [ds, 'game_a', 'u6', '0.000000', '19.990000', 'B'],
    ];
    expect(await rows('cumulative_revenue', ['ds', 'game_id', 'user_id', 'daily_revenue_usd', 'total_revenue_usd', 'vip_tier'])).toEqual([
      [D1, 'game_a', 'f5', '1.000000', '1.000000', 'A'],
      [D1, 'game_a', 'u1', '2.900000', '2.900000', 'A'],
      [D1, 'game_a', 'u2', '0.982500', '0.982500', 'A'],
      [D1, 'game_a', 'u3', '0.990000', '0.990000', 'A'],
      [D2, 'game_a', 'f5', '0.000000', '1.000000', 'A'],
      [D2, 'game_a', 'u1', '4.990000', '7.890000', 'A'],
      [D2, 'game_a', 'u2', '0.000000', '0.982500', 'A'],
      [D2, 'game_a', 'u3', '49.990000', '50.980000', 'C'],
      [D2, 'game_a', 'u6', '19.990000', '19.990000', 'B'],
      ...carried(D3),
      ...carried(D4),
    ]);
  });

  it('user_firsts: first day seen, registration, first purchase and first order per user', async () => {
    expect(await rows('user_firsts', ['game_id', 'user_id', 'first_active_ds', 'register_ds', 'first_purchase_ds', 'first_order_ds', 'updated_ds'])).toEqual([
      ['game_a', 'f1', D1, null, null, null, D1],
      ['game_a', 'f2', D1, null, null, null, D1],
      ['game_a', 'f3', D1, null, null, null, D1],
      ['game_a', 'f4', D1, null, null, null, D1],
      ['game_a', 'f5', D1, null, D1, null, D1],
      ['game_a', 'f6', D1, null, null, null, D1],
      ['game_a', 'u1', D1, D1, D1, null, D1],
      ['game_a', 'u2', D1, D1, D1, D1, D1],
      ['game_a', 'u3', D1, null, D1, D1, D1],
      ['game_a', 'u6', D2, D2, D2, D2, D2],
      ['game_b', 'u4', D1, D1, null, null, D1],
    ]);
  });

  it('kpi_daily: DAU, NRU, PU, NPU, NNPU, revenue, ARPU, ARPPU', async () => {
    // D1 game_a: DAU 9 (u1 u2 u3 f1–f6), NRU 2 (u1 u2), PU 4 (u1 u2 u3 f5), all first purchases → NPU 4,
    //   NNPU 2 (u1 u2); revenue 2.9 + 0.9825 + 0.99 + 1.00 = 5.8725; ARPU 5.8725 / 9 = 0.6525; ARPPU 5.8725 / 4 = 1.468125
    // D2 game_a: DAU 4 (u1 u3 u6 f1), NRU 1 (u6), PU 3 (u1 u3 u6), NPU 1 (u6), NNPU 1; revenue 4.99 + 49.99 + 19.99
    //   = 74.97; ARPU 74.97 / 4 = 18.7425; ARPPU 74.97 / 3 = 24.99
    // D3 game_a: DAU 7 (u2 u6 f1–f5), nobody pays: ARPPU undefined (NULL)
    expect(await rows('kpi_daily', ['ds', 'game_id', 'dau', 'nru', 'pu', 'npu', 'nnpu', 'revenue_usd', 'arpu', 'arppu'])).toEqual([
      [D1, 'game_a', '9', '2', '4', '4', '2', '5.872500', '0.652500', '1.468125'],
      [D1, 'game_b', '1', '1', '0', '0', '0', '0.000000', '0.000000', null],
      [D2, 'game_a', '4', '1', '3', '1', '1', '74.970000', '18.742500', '24.990000'],
      [D3, 'game_a', '7', '0', '0', '0', '0', '0.000000', '0.000000', null],
      [D4, 'game_a', '1', '0', '0', '0', '0', '0.000000', '0.000000', null],
      [D4, 'game_b', '1', '0', '0', '0', '0', '0.000000', '0.000000', null],
    ]);
  });

  it('server_performance: each user on their server of the day', async () => {
    // D1 s1: u1 u2 (both new, both pay 2.9 + 0.9825 = 3.8825); s2: u3 f1–f6, paying u3 f5 = 0.99 + 1.00
    expect(await rows('server_performance', ['ds', 'game_id', 'server_id', 'dau', 'new_users', 'paying_users', 'revenue_usd'])).toEqual([
      [D1, 'game_a', 's1', '2', '2', '2', '3.882500'],
      [D1, 'game_a', 's2', '7', '0', '2', '1.990000'],
      [D1, 'game_b', 's1', '1', '1', '0', '0.000000'],
      [D2, 'game_a', 's1', '2', '1', '2', '24.980000'],
      [D2, 'game_a', 's2', '2', '0', '1', '49.990000'],
      [D3, 'game_a', 's1', '2', '0', '0', '0.000000'],
      [D3, 'game_a', 's2', '5', '0', '0', '0.000000'],
      [D4, 'game_a', 's1', '1', '0', '0', '0.000000'],
      [D4, 'game_b', 's1', '1', '0', '0', '0.000000'],
    ]);
  });

  it('daily_users_by_country_platform: adds up to DAU', async () => {
    expect(await rows('daily_users_by_country_platform', ['ds', 'game_id', 'country_code', 'platform', 'users'])).toEqual([
      [D1, 'game_a', 'TH', 'Android', '1'],
      [D1, 'game_a', 'US', 'Android', '1'],
      [D1, 'game_a', 'VN', 'Android', '6'],
      [D1, 'game_a', 'VN', 'iOS', '1'],
      [D1, 'game_b', 'US', 'iOS', '1'],
      [D2, 'game_a', 'PH', 'WebGL', '1'],
      [D2, 'game_a', 'TH', 'Android', '1'],
      [D2, 'game_a', 'US', 'Android', '1'],
      [D2, 'game_a', 'VN', 'Android', '1'],
      [D3, 'game_a', 'PH', 'WebGL', '1'],
      [D3, 'game_a', 'VN', 'Android', '5'],
      [D3, 'game_a', 'VN', 'iOS', '1'],
      [D4, 'game_a', 'TH', 'Android', '1'],
      [D4, 'game_b', 'US', 'iOS', '1'],
    ]);
  });

  it('item_flow and currency_flow: key items and diamonds by reason, country and VIP tier', async () => {
    // mystery_box is not a key item and gold is not tracked; u4 never paid → Free
    expect(await rows('item_flow', ['ds', 'game_id', 'direction', 'item_id', 'reason_id', 'reason_name', 'country_code', 'vip_tier', 'users', 'events', 'quantity'])).toEqual([
      [D1, 'game_a', 'gain', 'chest_common', '1', 'level_reward', 'TH', 'A', '1', '1', '2'],
      [D1, 'game_a', 'spend', 'booster_hammer', '6', 'booster_use', 'US', 'A', '1', '1', '1'],
      [D1, 'game_b', 'gain', 'energy_potion', '2', 'daily_login', 'US', 'Free', '1', '1', '1'],
    ]);
    expect(await rows('currency_flow', ['ds', 'game_id', 'direction', 'currency', 'reason_id', 'reason_name', 'country_code', 'vip_tier', 'users', 'events', 'amount'])).toEqual([
      [D1, 'game_a', 'gain', 'diamond', '4', 'iap_purchase', 'TH', 'A', '1', '1', '500'],
      [D1, 'game_a', 'spend', 'diamond', '7', 'egp_continue', 'US', 'A', '1', '1', '90'],
    ]);
  });

  it('guild_membership: the latest guild event per user', async () => {
    expect(await rows('guild_membership', ['game_id', 'user_id', 'guild_id', 'guild_name', 'status', "to_char(since_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"])).toEqual([
      ['game_a', 'u2', 'gd_1_0001', 'Crimson Wolves', 'left', `${D3} 09:01:00`],
    ]);
  });

  it('bot farmers: detections with evidence, the snapshot and their share per server', async () => {
    // D1: IP 45.0.0.1 used by f1–f6 (6 accounts), of which f1–f5 farm level 1 (3 completions, level 1);
    // f6 has 2 completions. f5 paid 1.00 → PU Farmer. D2: f1 alone with 1 completion → nothing.
    // D3: f1–f5 again (5 accounts on the IP).
    const detected = (ds: string, accounts: string) =>
      ['f1', 'f2', 'f3', 'f4', 'f5'].map((u) => [
        ds, u, '45.0.0.1', accounts, '5', '1', '3', '1',
        u === 'f5' && ds === D1 ? '6' : '5',
        u === 'f5' ? '1.000000' : '0.000000',
        u === 'f5' ? 'PU Farmer' : 'Non-PU Farmer',
      ]);
    expect(await rows('farmer_detections', ['ds', 'user_id', 'ip', 'accounts_on_ip', 'farming_accounts_on_ip', 'max_level', 'level1_completions', 'logins', 'events', 'total_revenue_usd', 'farmer_type'])).toEqual([
      ...detected(D1, '6'),
      ...detected(D3, '5'),
    ]);
    expect(await rows('farmers_snapshot', ['game_id', 'user_id', 'farmer_type', 'first_detected_ds', 'last_detected_ds', 'days_detected', 'ip', 'accounts_on_ip', 'level1_completions', 'total_revenue_usd'])).toEqual(
      ['f1', 'f2', 'f3', 'f4', 'f5'].map((u) => [
        'game_a', u, u === 'f5' ? 'PU Farmer' : 'Non-PU Farmer', D1, D3, '2', '45.0.0.1', '5', '3', u === 'f5' ? '1.000000' : '0.000000',
      ]),
    );
    // D1 s2: dau 7 (u3 f1–f6), farmers 5 (f6 is not one) → 5/7 = 0.714286; events u3 9 + f1–f4 20 + f5 6 + f6 3
    //   = 38, farmers' 26 → 0.684211; revenue 0.99 + 1.00 = 1.99, farmers' 1.00 → 0.502513
    // D2 s2: u3 (4 events, 49.99) and f1 (2 events): 1/2, 2/6 = 0.333333, 0/49.99
    // D3 s2: only farmers; no revenue → share undefined
    expect(await rows('farmers_performance', ['ds', 'game_id', 'server_id', 'dau', 'farmer_dau', 'pu_farmer_dau', 'farmer_dau_share', 'events', 'farmer_events', 'farmer_events_share', 'revenue_usd', 'farmer_revenue_usd', 'farmer_revenue_share'])).toEqual([
      [D1, 'game_a', 's1', '2', '0', '0', '0.000000', '15', '0', '0.000000', '3.882500', '0.000000', '0.000000'],
      [D1, 'game_a', 's2', '7', '5', '1', '0.714286', '38', '26', '0.684211', '1.990000', '1.000000', '0.502513'],
      [D1, 'game_b', 's1', '1', '0', '0', '0.000000', '3', '0', '0.000000', '0.000000', '0.000000', null],
      [D2, 'game_a', 's1', '2', '0', '0', '0.000000', '9', '0', '0.000000', '24.980000', '0.000000', '0.000000'],
      [D2, 'game_a', 's2', '2', '1', '0', '0.500000', '6', '2', '0.333333', '49.990000', '0.000000', '0.000000'],
      [D3, 'game_a', 's1', '2', '0', '0', '0.000000', '3', '0', '0.000000', '0.000000', '0.000000', null],
      [D3, 'game_a', 's2', '5', '5', '1', '1.000000', '25', '25', '1.000000', '0.000000', '0.000000', null],
      [D4, 'game_a', 's1', '1', '0', '0', '0.000000', '1', '0', '0.000000', '0.000000', '0.000000', null],
      [D4, 'game_b', 's1', '1', '0', '0', '0.000000', '1', '0', '0.000000', '0.000000', '0.000000', null],
    ]);
  });

  it('retention_cohorts: day-N retention computed on cohort day + N', async () => {
    // cohort D1: game_a {u1, u2}, game_b {u4}; cohort D2: {u6}
    // D2 (day 1 of D1): u1 back → 1/2; u4 not → 0/1.  D3 (day 1 of D2): u6 back → 1/1.
    // D4 (day 3 of D1): u1 back, u2 not → 1/2; u4 back → 1/1.
    expect(await rows('retention_cohorts', ['ds', 'cohort_ds', 'game_id', 'day_n', 'cohort_size', 'retained', 'rate'])).toEqual([
      [D2, D1, 'game_a', '1', '2', '1', '0.500000'],
      [D2, D1, 'game_b', '1', '1', '0', '0.000000'],
      [D3, D2, 'game_a', '1', '1', '1', '1.000000'],
      [D4, D1, 'game_a', '3', '2', '1', '0.500000'],
      [D4, D1, 'game_b', '3', '1', '1', '1.000000'],
    ]);
  });

  it('shop_daily: orders, GMV, buyers and growth against the day before', async () => {
    // D1 game_a: u2 orders 25,000 VND (0.9825), u3 0.99 → GMV 1.9725, average 0.98625, both first orders
    // D2 game_a: u3 49.99 (returning), u6 19.99 (new) → 69.98; growth (69.98 − 1.9725) / 1.9725 = 34.477820
    // D3: no orders → growth −1; D4: the day before had GMV 0 (game_a) or no row (game_b) → NULL
    expect(await rows('shop_daily', ['ds', 'game_id', 'orders', 'gmv_usd', 'avg_order_usd', 'buyers', 'new_buyers', 'returning_buyers', 'gmv_growth_vs_prev_day'])).toEqual([
      [D1, 'game_a', '2', '1.972500', '0.986250', '2', '2', '0', null],
      [D1, 'game_b', '0', '0.000000', null, '0', '0', '0', null],
      [D2, 'game_a', '2', '69.980000', '34.990000', '2', '1', '1', '34.477820'],
      [D3, 'game_a', '0', '0.000000', null, '0', '0', '0', '-1.000000'],
      [D4, 'game_a', '0', '0.000000', null, '0', '0', '0', null],
      [D4, 'game_b', '0', '0.000000', null, '0', '0', '0', null],
    ]);
  });

  it('offer_performance: views, clicks, orders, rates, ranks and flags', async () => {
    // D1: gems_100 viewed 2×, clicked 2×, ordered 2×; starter_pack viewed once. Game conversion 2 / 3:
    //   starter_pack (1 view ≥ offerMinViews 1, conversion 0 < 1/3) is underperforming.
    // D2: gems_6500 1 view 0 clicks 1 order (49.99), gems_2500 1/1/1 (19.99): tied on orders and conversion.
    expect(await rows('offer_performance', ['ds', 'offer_id', 'views', 'clicks', 'orders', 'gmv_usd', 'ctr', 'conversion', 'rank_by_gmv', 'rank_by_orders', 'rank_by_conversion', 'top_seller', 'underperforming'])).toEqual([
      [D1, 'offer_gems_100', '2', '2', '2', '1.972500', '1.000000', '1.000000', '1', '1', '1', 'true', 'false'],
      [D1, 'offer_starter_pack', '1', '0', '0', '0.000000', '0.000000', '0.000000', '2', '2', '2', 'false', 'true'],
      [D2, 'offer_gems_2500', '1', '1', '1', '19.990000', '1.000000', '1.000000', '2', '1', '1', 'true', 'false'],
      [D2, 'offer_gems_6500', '1', '0', '1', '49.990000', '0.000000', '1.000000', '1', '1', '1', 'true', 'false'],
    ]);
  });

  it('shop_funnel: sessions through view, click and order', async () => {
    // D1 game_a: 9 sessions (a1 b1 c1 f1a–f6a), b1 and c1 view, click and order: 2/9 = 0.222222
    // D2 game_a: 4 sessions (a2 c2 g2 f1b); views c2 g2, click g2, orders c2 g2
    expect(await rows('shop_funnel', ['ds', 'game_id', 'sessions', 'sessions_with_view', 'sessions_with_click', 'sessions_with_order', 'view_rate', 'click_rate', 'order_rate', 'session_conversion_rate', 'clicks_per_session', 'orders_per_session'])).toEqual([
      [D1, 'game_a', '9', '2', '2', '2', '0.222222', '1.000000', '1.000000', '0.222222', '0.222222', '0.222222'],
      [D1, 'game_b', '1', '0', '0', '0', '0.000000', null, null, '0.000000', '0.000000', '0.000000'],
      [D2, 'game_a', '4', '2', '1', '2', '0.500000', '0.500000', '2.000000', '0.500000', '0.250000', '0.500000'],
      [D3, 'game_a', '7', '0', '0', '0', '0.000000', null, null, '0.000000', '0.000000', '0.000000'],
      [D4, 'game_a', '1', '0', '0', '0', '0.000000', null, null, '0.000000', '0.000000', '0.000000'],
      [D4, 'game_b', '1', '0', '0', '0', '0.000000', null, null, '0.000000', '0.000000', '0.000000'],
    ]);
  });

  it('hourly_patterns: 24 UTC hours per game and day', async () => {
    const count = await rows('hourly_patterns', ['ds', 'game_id', 'count(*)'], 'true GROUP BY ds, game_id');
    expect(count).toEqual([[D1, 'game_a', '24'], [D1, 'game_b', '24'], [D2, 'game_a', '24'], [D3, 'game_a', '24'], [D4, 'game_a', '24'], [D4, 'game_b', '24']]);
    // D1 01h: the farm (f1–f4 20 + f5 6 + f6 3 = 29 events, f5 pays 1.00); 09h u2; 10h u1; 20h u3 (duplicate not counted)
    expect(await rows('hourly_patterns', ['ds', 'game_id', "lpad(hour::text, 2, '0')", 'events', 'purchases', 'revenue_usd', 'active_users'], 'events > 0')).toEqual([
      [D1, 'game_a', '01', '29', '1', '1.000000', '6'],
      [D1, 'game_a', '09', '8', '1', '0.982500', '1'],
      [D1, 'game_a', '10', '7', '1', '2.900000', '1'],
      [D1, 'game_a', '20', '9', '1', '0.990000', '1'],
      [D1, 'game_b', '15', '3', '0', '0.000000', '1'],
      [D2, 'game_a', '02', '2', '0', '0.000000', '1'],
      [D2, 'game_a', '11', '3', '1', '4.990000', '1'],
      [D2, 'game_a', '12', '6', '1', '19.990000', '1'],
      [D2, 'game_a', '21', '4', '1', '49.990000', '1'],
      [D3, 'game_a', '03', '25', '0', '0.000000', '5'],
      [D3, 'game_a', '09', '2', '0', '0.000000', '1'],
      [D3, 'game_a', '12', '1', '0', '0.000000', '1'],
      [D4, 'game_a', '10', '1', '0', '0.000000', '1'],
      [D4, 'game_b', '15', '1', '0', '0.000000', '1'],
    ]);
  });

  it('running a day again leaves every table identical', async () => {
    const before = await snapshotTables(ws);
    await runDaily(ws, [D2], vars);
    expect(await snapshotTables(ws)).toEqual(before);
  });

  it('a late-arriving purchase changes only the partitions it affects', async () => {
    const before = await partitions(ws, DAYS);
    // u2 pays 50,000 VND (1.965 USD) on D2, delivered after D2 ran: silver D2 is rebuilt with it.
    await writeSilverDay(ws.paths.lake, D2, [...FIXTURE[D2]!(), latePurchase()]);
    await runDaily(ws, DAYS, vars);
    const after = await partitions(ws, DAYS);
    const changed = [...after.keys()].filter((k) => JSON.stringify(after.get(k)) !== JSON.stringify(before.get(k))).sort();
    expect(changed).toEqual([
      // D2: u2 becomes active (DAU, servers, countries, farmers' shares, hours, sessions), pays, and
      // retains the D1 cohort; cumulative revenue carries the extra 1.965 into D3 and D4. Nothing of
      // D1 changes, no snapshot changes (u2 had paid and registered before).
      `active_users@${D2}`,
      `cumulative_revenue@${D2}`,
      `cumulative_revenue@${D3}`,
      `cumulative_revenue@${D4}`,
      `daily_users_by_country_platform@${D2}`,
      `farmers_performance@${D2}`,
      `hourly_patterns@${D2}`,
      `kpi_daily@${D2}`,
      `recharge@${D2}`,
      `retention_cohorts@${D2}`,
      `server_performance@${D2}`,
      `shop_funnel@${D2}`,
    ]);
    // DAU 5, PU 4 (u2 not new: NPU stays 1), revenue 74.97 + 1.965 = 76.935, ARPU 15.387, ARPPU 19.23375
    expect(await rows('kpi_daily', ['dau', 'nru', 'pu', 'npu', 'nnpu', 'revenue_usd', 'arpu', 'arppu'], `ds = '${D2}' AND game_id = 'game_a'`)).toEqual([
      ['5', '1', '4', '1', '1', '76.935000', '15.387000', '19.233750'],
    ]);
    expect(await rows('cumulative_revenue', ['ds', 'total_revenue_usd'], `user_id = 'u2'`)).toEqual([
      [D1, '0.982500'], [D2, '2.947500'], [D3, '2.947500'], [D4, '2.947500'],
    ]);
    expect(await rows('retention_cohorts', ['game_id', 'retained', 'rate'], `ds = '${D2}'`)).toEqual([
      ['game_a', '2', '1.000000'], ['game_b', '0', '0.000000'],
    ]);
  });
});
