import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, backend, type Workspace } from '../helpers/workspace.js';
import { aggregateLevelFunnel } from '../../src/funnel/aggregate.js';
import { levelMetrics, ratio, type LevelMetrics } from '../../src/funnel/metrics.js';
import type { FunnelFilters } from '../../src/funnel/params.js';
import { LevelFunnelService } from '../../src/funnel/service.js';
import { writeInstallIndex, writeSilverRows, type InstallRow, type SilverRow } from './helpers/silverFixture.js';

/**
 * Every definition of docs/metrics.md#level-funnel on a fixture small enough to compute by hand
 * (the numbers below are worked out in the comments), through both paths.
 */

const A = { user_id: 'A', platform: 'iOS', country_code: 'US', app_version: '1.0.0', level_funnel: 'live_v1', level_funnel_version: 1 };
const B = { user_id: 'B', platform: 'Android', country_code: 'TR', app_version: '1.0.0', level_funnel: 'live_v1', level_funnel_version: 1 };
const C = { user_id: 'C', platform: 'iOS', country_code: 'TR', app_version: '1.1.0', level_funnel: 'live_v1', level_funnel_version: 1 };
const g = { game_id: 'hand' };
const ev = (who: object, event_name: string, event_ts: string, level_id: number | null, extra: Partial<SilverRow> = {}): SilverRow =>
  ({ ...g, ...who, event_name, event_ts, level_id, ...extra }) as SilverRow;

const ROWS: SilverRow[] = [
  // 2024-05-01
  ev(A, 'level_start', '2024-05-01T10:00:00Z', 1),
  ev(A, 'level_complete', '2024-05-01T10:01:40Z', 1, { boosters: {} }), //             100 s, {} is no booster
  ev(A, 'level_start', '2024-05-01T10:05:00Z', 2),
  ev(A, 'level_failed', '2024-05-01T10:06:00Z', 2, { boosters: { hammer: 1 }, egp: 1 }), // 60 s, booster, EGP
  ev(A, 'level_start', '2024-05-01T10:10:00Z', 2),
  ev(A, 'level_complete', '2024-05-01T10:12:00Z', 2, { boosters: { hammer: 1 } }), // 120 s from the latest start, booster
  ev(B, 'level_start', '2024-05-01T11:00:00Z', 1),
  ev(B, 'level_failed', '2024-05-01T11:00:30Z', 1, { egp: 0 }), //                    30 s, egp 0 is no EGP
  ev(B, 'level_start', '2024-05-01T11:05:00Z', 1),
  ev(B, 'level_complete', '2024-05-01T11:06:00Z', 1), //                                60 s
  ev(C, 'level_complete', '2024-05-01T09:00:00Z', 1), //                                no start that day: no duration
  // 2024-05-02
  ev(B, 'level_start', '2024-05-02T08:00:00Z', 2), //                                   never ended
  ev(C, 'level_start', '2024-05-02T12:00:00Z', 1),
  ev(C, 'level_complete', '2024-05-02T12:00:00Z', 1), //                                0 s: not a duration
  ev(C, 'level_start', '2024-05-02T12:30:00Z', 2),
  ev(C, 'level_failed', '2024-05-02T12:31:00Z', 2, { boosters: { bomb: 0 }, egp: 2 }), // 60 s, booster (one entry), EGP
  ev(A, 'level_start', '2024-05-02T09:00:00Z', 3),
  ev(A, 'level_complete', '2024-05-02T09:03:00Z', 3), //                                180 s
  // never counted: invalid, duplicate, another game, not a level event
  ev(A, 'level_start', '2024-05-02T09:01:00Z', 1, { is_valid: false }),
  ev(B, 'level_complete', '2024-05-01T11:06:00Z', 1, { is_duplicate: true }),
  ev({ ...A, game_id: 'other' }, 'level_start', '2024-05-01T10:00:00Z', 1),
  ev(A, 'login', '2024-05-01T09:59:00Z', 1),
];

/**
 * The install index (src/ingest/installs.ts): A installed 2024-05-01; B 2024-05-02 (the minimum of
 * two committed ingestions; B's 05-01 register came in an ingestion that never committed); C never
 * registered, so C is in no install cohort.
 */
const INSTALLS: InstallRow[] = [
  { game_id: 'hand', user_id: 'A', install_ts: '2024-05-01T08:00:00Z', ingestion_id: 'i1' },
  { game_id: 'hand', user_id: 'B', install_ts: '2024-05-02T07:30:00Z', ingestion_id: 'i1' },
  { game_id: 'hand', user_id: 'B', install_ts: '2024-05-02T07:00:00Z', ingestion_id: 'i2' },
  { game_id: 'hand', user_id: 'B', install_ts: '2024-05-01T10:59:00Z', ingestion_id: 'never-committed' },
  { game_id: 'other', user_id: 'C', install_ts: '2024-04-01T00:00:00Z', ingestion_id: 'i1' },
];

type Expected = Partial<Record<keyof LevelMetrics, number | null>>;

const BOTH_DAYS: Expected[] = [
  {
    levelId: 1, starts: 4, completes: 4, fails: 1, startedPlayers: 3, completedPlayers: 3, nextLevelStartedPlayers: 3,
    churnStartComplete: 0, churnCompleteNext: 0, churnTotal: 0, boosterEvents: 0, boosterUsage: 0, egpEvents: 0, egpRate: 0,
    winRate: 80, failRate: 20, completionRate: 100, funnelRate: 100, apsRaw: 4 / 3, apsClean: 0.8,
    totalCompletionDuration: 160, completionsWithDuration: 2, meanCompletionDuration: 80,
    totalFailDuration: 30, failsWithDuration: 1, meanFailDuration: 30,
  },
  {
    levelId: 2, starts: 4, completes: 1, fails: 2, startedPlayers: 3, completedPlayers: 1, nextLevelStartedPlayers: 1,
    churnStartComplete: 200 / 3, churnCompleteNext: 0, churnTotal: 200 / 3, boosterEvents: 3, boosterUsage: 100, egpEvents: 2, egpRate: 100,
    winRate: 100 / 3, failRate: 200 / 3, completionRate: 100 / 3, funnelRate: 100 / 3, apsRaw: 4, apsClean: 1 / 3,
    totalCompletionDuration: 120, completionsWithDuration: 1, meanCompletionDuration: 120,
    totalFailDuration: 120, failsWithDuration: 2, meanFailDuration: 60,
  },
  {
    levelId: 3, starts: 1, completes: 1, fails: 0, startedPlayers: 1, completedPlayers: 1, nextLevelStartedPlayers: 0,
    churnStartComplete: 0, churnCompleteNext: 100, churnTotal: 100, boosterEvents: 0, boosterUsage: 0, egpEvents: 0, egpRate: null,
    winRate: 100, failRate: 0, completionRate: 100, funnelRate: 100 / 3, apsRaw: 1, apsClean: 1,
    totalCompletionDuration: 180, completionsWithDuration: 1, meanCompletionDuration: 180,
    totalFailDuration: 0, failsWithDuration: 0, meanFailDuration: null,
  },
];

function expectLevels(actual: LevelMetrics[], expected: Expected[]): void {
  expect(actual.map((l) => l.levelId)).toEqual(expected.map((l) => l.levelId));
  expected.forEach((exp, i) => {
    for (const [key, value] of Object.entries(exp)) {
      const got = actual[i]![key as keyof LevelMetrics];
      if (value === null) expect(got, `level ${exp.levelId} ${key}`).toBeNull();
      else expect(got as number, `level ${exp.levelId} ${key}`).toBeCloseTo(value, 9);
    }
  });
}

describe(`level funnel definitions on a hand-computed fixture (${backend})`, () => {
  let ws: Workspace;
  let service: LevelFunnelService;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    const days = await writeSilverRows(ws.paths.lake, ROWS);
    await writeInstallIndex(ws.paths.lake, INSTALLS, ['i1', 'i2']);
    const result = await aggregateLevelFunnel({ paths: ws.paths, connections: ws.connections }, { dates: days });
    expect(result.ok).toBe(true);
    expect(result.games).toEqual(['hand', 'other']);
    service = await LevelFunnelService.open(ws.paths, { threads: 2 });
  });

  afterAll(async () => {
    await service?.close();
    await ws?.close();
  });

  const q = (from: string, to: string, filters: FunnelFilters = {}) => ({ gameId: 'hand', from, to, filters });

  it.each(['fast', 'raw'] as const)('both days, no filter (%s)', async (method) => {
    const answer = await service.query(q('2024-05-01', '2024-05-02'), method);
    expectLevels(answer.levels, BOTH_DAYS);
    expect(answer.missingDays).toEqual([]);
  });

  it.each(['fast', 'raw'] as const)('platform=ios: egpRate and meanFailDuration null when there are no fails (%s)', async (method) => {
    const answer = await service.query(q('2024-05-01', '2024-05-02', { platform: ['ios'] }), method);
    expectLevels(answer.levels, [
      // A and C: level 1 starts A1 + C1, completes A1 + C2, no fails; durations: A's 100 s only
      { levelId: 1, starts: 2, completes: 3, fails: 0, startedPlayers: 2, completedPlayers: 2, nextLevelStartedPlayers: 2, egpRate: null,
        winRate: 100, failRate: 0, apsRaw: 1, apsClean: 1, churnCompleteNext: 0, meanCompletionDuration: 100, meanFailDuration: null },
      { levelId: 2, starts: 3, completes: 1, fails: 2, startedPlayers: 2, completedPlayers: 1, nextLevelStartedPlayers: 1, boosterUsage: 100,
        egpRate: 100, churnStartComplete: 50, completionRate: 50, funnelRate: 50, meanFailDuration: 60 },
      { levelId: 3, starts: 1, startedPlayers: 1, completedPlayers: 1, funnelRate: 50, churnCompleteNext: 100 },
    ]);
  });

  it.each(['fast', 'raw'] as const)('one day: a completion without a start gives negative churn, as defined (%s)', async (method) => {
    const answer = await service.query(q('2024-05-01', '2024-05-01'), method);
    expectLevels(answer.levels, [
      { levelId: 1, starts: 3, completes: 3, fails: 1, startedPlayers: 2, completedPlayers: 3, churnStartComplete: -50, completionRate: 150,
        nextLevelStartedPlayers: 1, churnCompleteNext: 200 / 3, churnTotal: 50, apsRaw: 1, funnelRate: 100 },
      { levelId: 2, starts: 2, completes: 1, fails: 1, startedPlayers: 1, completedPlayers: 1, nextLevelStartedPlayers: 0,
        churnCompleteNext: 100, funnelRate: 100 / 3, boosterUsage: 100, egpRate: 100, meanCompletionDuration: 120, meanFailDuration: 60 },
    ]);
  });

  it.each(['fast', 'raw'] as const)('filters match case-insensitively and take several values (%s)', async (method) => {
    const mixed = await service.query(q('2024-05-01', '2024-05-02', { country: ['tr', 'us'], levelFunnel: ['LIVE_V1'] }), method);
    expectLevels(mixed.levels, BOTH_DAYS);
    const none = await service.query(q('2024-05-01', '2024-05-02', { country: ['zz'] }), method);
    expect(none.levels).toEqual([]);
  });

  it.each(['fast', 'raw'] as const)('install cohort 2024-05-01: A only (%s)', async (method) => {
    const answer = await service.query({ ...q('2024-05-01', '2024-05-02'), install: { from: '2024-05-01', to: '2024-05-01' } }, method);
    expectLevels(answer.levels, [
      { levelId: 1, starts: 1, completes: 1, fails: 0, startedPlayers: 1, completedPlayers: 1, nextLevelStartedPlayers: 1, churnStartComplete: 0,
        churnCompleteNext: 0, boosterUsage: 0, egpRate: null, winRate: 100, completionRate: 100, funnelRate: 100, apsRaw: 1, apsClean: 1,
        meanCompletionDuration: 100, meanFailDuration: null },
      { levelId: 2, starts: 2, completes: 1, fails: 1, startedPlayers: 1, completedPlayers: 1, nextLevelStartedPlayers: 1, churnStartComplete: 0,
        boosterEvents: 2, boosterUsage: 100, egpEvents: 1, egpRate: 100, winRate: 50, failRate: 50, apsRaw: 2, apsClean: 0.5,
        meanCompletionDuration: 120, meanFailDuration: 60, funnelRate: 100 },
      { levelId: 3, starts: 1, completes: 1, startedPlayers: 1, completedPlayers: 1, nextLevelStartedPlayers: 0, churnCompleteNext: 100,
        churnTotal: 100, meanCompletionDuration: 180, funnelRate: 100 },
    ]);
    expect(answer.install).toEqual({ from: '2024-05-01', to: '2024-05-01' });
  });

  it.each(['fast', 'raw'] as const)('install cohort from 2024-05-02 (open end): B only, their earliest committed register (%s)', async (method) => {
    const answer = await service.query({ ...q('2024-05-01', '2024-05-02'), install: { from: '2024-05-02' } }, method);
    expectLevels(answer.levels, [
      { levelId: 1, starts: 2, completes: 1, fails: 1, startedPlayers: 1, completedPlayers: 1, nextLevelStartedPlayers: 1, winRate: 50,
        apsRaw: 2, apsClean: 0.5, meanCompletionDuration: 60, meanFailDuration: 30, egpRate: 0, boosterUsage: 0, funnelRate: 100 },
      { levelId: 2, starts: 1, completes: 0, fails: 0, startedPlayers: 1, completedPlayers: 0, nextLevelStartedPlayers: 0, churnStartComplete: 100,
        completionRate: 0, churnCompleteNext: null, winRate: null, funnelRate: 0, apsRaw: null },
    ]);
  });

  it.each(['fast', 'raw'] as const)('an install range before anyone installed is empty; C (no register) is never in a cohort (%s)', async (method) => {
    expect((await service.query({ ...q('2024-05-01', '2024-05-02'), install: { to: '2024-04-30' } }, method)).levels).toEqual([]);
    // to 2024-05-02: A and B, not C — level 1 loses C's complete (4 → 3) and C as a completer (3 → 2)
    const ab = await service.query({ ...q('2024-05-01', '2024-05-02'), install: { to: '2024-05-02' } }, method);
    expectLevels(ab.levels.slice(0, 1), [{ levelId: 1, starts: 3, completes: 2, fails: 1, startedPlayers: 2, completedPlayers: 2 }]);
  });

  it.each(['fast', 'raw'] as const)('funnel pairs select exact (funnel, version) pairs, case-insensitively (%s)', async (method) => {
    const range = q('2024-05-01', '2024-05-02');
    expectLevels((await service.query({ ...range, funnelPairs: [{ levelFunnel: 'LIVE_V1', levelFunnelVersion: 1 }] }, method)).levels, BOTH_DAYS);
    expectLevels((await service.query({ ...range, funnelPairs: [{ levelFunnel: 'live_v1', levelFunnelVersion: 2 }, { levelFunnel: 'Live_V1', levelFunnelVersion: 1 }] }, method)).levels, BOTH_DAYS);
    expect((await service.query({ ...range, funnelPairs: [{ levelFunnel: 'live_v1', levelFunnelVersion: 2 }, { levelFunnel: 'live_v2', levelFunnelVersion: 1 }] }, method)).levels).toEqual([]);
  });

  it.each(['fast', 'raw'] as const)('cumulativeAvgTime sums the mean completion times from the first level; levelLimit keeps the lowest levels (%s)', async (method) => {
    // means 80, 120, 180 s → 80, 200, 380
    const all = await service.query(q('2024-05-01', '2024-05-02'), method);
    expect(all.levels.map((l) => l.cumulativeAvgTime)).toEqual([80, 200, 380]);
    expect([all.levelLimit, all.totalLevels]).toEqual([100, 3]);
    const two = await service.query({ ...q('2024-05-01', '2024-05-02'), levelLimit: 2 }, method);
    expect(two.levels.map((l) => [l.levelId, l.nextLevelStartedPlayers])).toEqual([[1, 3], [2, 1]]);
    expect([two.levelLimit, two.totalLevels]).toEqual([2, 3]);
    // ios (A and C): means 100 (A), 120 (A), 180 (A) → 100, 220, 400
    const ios = await service.query(q('2024-05-01', '2024-05-02', { platform: ['ios'] }), method);
    expect(ios.levels.map((l) => l.cumulativeAvgTime)).toEqual([100, 220, 400]);
  });

  it('a day outside the data is reported as missing, not as zeros', async () => {
    const fast = await service.query(q('2024-04-30', '2024-05-01'), 'fast');
    expect(fast.missingDays).toEqual(['2024-04-30']);
    const raw = await service.query(q('2024-04-30', '2024-05-01'), 'raw');
    expect(raw.missingDays).toEqual(['2024-04-30']);
    expect(fast.levels).toEqual(raw.levels);
  });

  it('answers with every field named in the issue, camelCase', async () => {
    const answer = await service.query(q('2024-05-01', '2024-05-02'), 'fast');
    expect(Object.keys(answer.levels[0]!)).toEqual(expect.arrayContaining([
      'levelId', 'starts', 'completes', 'fails', 'startedPlayers', 'completedPlayers', 'nextLevelStartedPlayers',
      'churnStartComplete', 'churnCompleteNext', 'churnTotal', 'boosterUsage', 'egpRate', 'winRate', 'failRate',
      'completionRate', 'funnelRate', 'apsRaw', 'apsClean', 'meanCompletionDuration', 'meanFailDuration',
    ]));
  });
});

/**
 * Horizon churn by hand. The last day with a level event is 06-20, so a first start counts when
 * it is on or before 06-13. Level 1 (everyone iOS unless said):
 *   P1 first start 06-01, complete 06-03 (2 days)      → within 3 and 7
 *   P2 first start 06-01, complete 06-06 (5 days)      → within 7 only
 *   P3 first start 06-02, never completes              → neither
 *   P4 first start 06-02 (Android), complete 06-10 (8) → neither
 *   P5 complete 05-31 (before any start), first start 06-03, no complete after → neither
 *   P6 first start 06-14: after 06-13, not eligible
 *   P7 first start 05-30 (before the range), again 06-05 and complete 06-05: not eligible
 * Level 2: P1 first start 06-03, complete 06-07 (4 days) → within 7 only; P8 first start 06-20 (not eligible).
 */
const P = (id: string, platform = 'iOS') => ({ user_id: id, platform, country_code: 'US', app_version: '1.0.0', level_funnel: 'live_v1', level_funnel_version: 1 });
const CHURN_ROWS: SilverRow[] = [
  [P('P1'), 'level_start', '2024-06-01T10:00:00Z', 1], [P('P1'), 'level_complete', '2024-06-03T10:00:00Z', 1],
  [P('P2'), 'level_start', '2024-06-01T11:00:00Z', 1], [P('P2'), 'level_complete', '2024-06-06T09:00:00Z', 1],
  [P('P3'), 'level_start', '2024-06-02T12:00:00Z', 1], [P('P3'), 'level_failed', '2024-06-02T12:05:00Z', 1],
  [P('P4', 'Android'), 'level_start', '2024-06-02T13:00:00Z', 1], [P('P4', 'Android'), 'level_complete', '2024-06-10T13:00:00Z', 1],
  [P('P5'), 'level_complete', '2024-05-31T08:00:00Z', 1], [P('P5'), 'level_start', '2024-06-03T08:00:00Z', 1],
  [P('P6'), 'level_start', '2024-06-14T08:00:00Z', 1], [P('P6'), 'level_complete', '2024-06-14T08:10:00Z', 1],
  [P('P7'), 'level_start', '2024-05-30T08:00:00Z', 1], [P('P7'), 'level_start', '2024-06-05T08:00:00Z', 1], [P('P7'), 'level_complete', '2024-06-05T08:10:00Z', 1],
  [P('P1'), 'level_start', '2024-06-03T11:00:00Z', 2], [P('P1'), 'level_complete', '2024-06-07T11:00:00Z', 2],
  [P('P8'), 'level_start', '2024-06-20T08:00:00Z', 2],
].map(([who, name, ts, level]) => ({ game_id: 'churn', ...(who as object), event_name: name, event_ts: ts, level_id: level }) as SilverRow);

describe(`horizon churn on a hand-computed fixture (${backend})`, () => {
  let ws: Workspace;
  let service: LevelFunnelService;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    const days = await writeSilverRows(ws.paths.lake, CHURN_ROWS);
    expect((await aggregateLevelFunnel({ paths: ws.paths, connections: ws.connections }, { dates: days })).ok).toBe(true);
    service = await LevelFunnelService.open(ws.paths, { threads: 2 });
  });

  afterAll(async () => {
    await service?.close();
    await ws?.close();
  });

  const q = (from: string, to: string, filters: FunnelFilters = {}) => ({ gameId: 'churn', from, to, filters });

  it.each(['fast', 'raw'] as const)('06-01..06-20: level 1 5 eligible, 1 within 3 days, 2 within 7; level 2 1 eligible, within 7 only (%s)', async (method) => {
    expectLevels((await service.query(q('2024-06-01', '2024-06-20'), method)).levels, [
      { levelId: 1, horizonPlayers: 5, completedWithinD3: 1, completedWithinD7: 2, churnD3: 80, churnD7: 60 },
      { levelId: 2, horizonPlayers: 1, completedWithinD3: 0, completedWithinD7: 1, churnD3: 100, churnD7: 0 },
    ]);
  });

  it.each(['fast', 'raw'] as const)('filters apply to the first start: android is P4 alone (%s)', async (method) => {
    expectLevels((await service.query(q('2024-06-01', '2024-06-20', { platform: ['android'] }), method)).levels, [
      { levelId: 1, horizonPlayers: 1, completedWithinD3: 0, completedWithinD7: 0, churnD3: 100, churnD7: 100 },
    ]);
  });

  it.each(['fast', 'raw'] as const)('a short range counts its own first starts; none eligible is null (%s)', async (method) => {
    expectLevels((await service.query(q('2024-06-01', '2024-06-02'), method)).levels, [
      { levelId: 1, horizonPlayers: 4, completedWithinD3: 1, completedWithinD7: 2, churnD3: 75, churnD7: 50 },
    ]);
    expectLevels((await service.query(q('2024-06-10', '2024-06-20'), method)).levels, [
      { levelId: 1, horizonPlayers: 0, churnD3: null, churnD7: null },
      { levelId: 2, horizonPlayers: 0, churnD3: null, churnD7: null },
    ]);
  });
});

describe('ratios', () => {
  it('a zero denominator is null, never 0 or NaN', () => {
    expect(ratio(0, 0)).toBeNull();
    expect(ratio(5, 0, 100)).toBeNull();
    expect(ratio(0, 4, 100)).toBe(0);
    const [only] = levelMetrics([{ levelId: 7, starts: 2, completes: 0, fails: 0, startedPlayers: 2, completedPlayers: 0, boosterEvents: 0,
      egpEvents: 0, completionDurationUs: 0, completionsWithDuration: 0, failDurationUs: 0, failsWithDuration: 0,
      horizonPlayers: 0, completedWithinD3: 0, completedWithinD7: 0 }]);
    expect(only).toMatchObject({ churnD3: null, churnD7: null, churnCompleteNext: null, boosterUsage: null, egpRate: null, winRate: null, failRate: null, funnelRate: null,
      apsRaw: null, apsClean: null, meanCompletionDuration: null, meanFailDuration: null, churnStartComplete: 100, completionRate: 0 });
    for (const v of Object.values(only!)) expect(Number.isNaN(v)).toBe(false);
  });

  it('funnelRate is relative to the first level of the result; nextLevelStartedPlayers is 0 past the last level', () => {
    const base = { starts: 1, completes: 1, fails: 0, boosterEvents: 0, egpEvents: 0, completionDurationUs: 0, completionsWithDuration: 0, failDurationUs: 0, failsWithDuration: 0,
      horizonPlayers: 0, completedWithinD3: 0, completedWithinD7: 0 };
    const levels = levelMetrics([
      { ...base, levelId: 5, startedPlayers: 4, completedPlayers: 2 },
      { ...base, levelId: 3, startedPlayers: 10, completedPlayers: 8 },
    ]);
    expect(levels.map((l) => [l.levelId, l.funnelRate, l.nextLevelStartedPlayers])).toEqual([[3, 100, 0], [5, 25, 0]]);
  });
});
