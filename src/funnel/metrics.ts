/**
 * The studio's level-funnel definitions (docs/metrics.md#level-funnel), in ONE place: both query
 * paths (raw over silver, fast over the index) compute the same per-level base numbers in SQL and
 * hand them to `levelMetrics`, so a ratio cannot be defined twice. A ratio whose denominator is
 * zero is null (never 0, never NaN).
 */

/** What each path computes per level for a date range and filter set. */
export interface LevelBase {
  levelId: number;
  starts: number;
  completes: number;
  fails: number;
  /** Distinct players with a level_start of this level. */
  startedPlayers: number;
  /** Distinct players with a level_complete of this level. */
  completedPlayers: number;
  /** Completes and fails whose boosters object has at least one entry. */
  boosterEvents: number;
  /** Fails with egp > 0. */
  egpEvents: number;
  /** Sum of completion durations > 0, in microseconds, and how many completions had one. */
  completionDurationUs: number;
  completionsWithDuration: number;
  failDurationUs: number;
  failsWithDuration: number;
  /** Players whose first-ever start of the level is in the range and ≥ HORIZON_DAYS before the last day with data. */
  horizonPlayers: number;
  /** Of those, how many completed the level within 3 / 7 days of that first start. */
  completedWithinD3: number;
  completedWithinD7: number;
}

/** Days after a first start that must have data for the horizon churn (the longer horizon). */
export const HORIZON_DAYS = 7;

/** One level of the answer: the base numbers and every derived metric (percentages are 0–100). */
export interface LevelMetrics {
  levelId: number;
  starts: number;
  completes: number;
  fails: number;
  startedPlayers: number;
  completedPlayers: number;
  /** startedPlayers of level + 1 under the same range and filters (0 when nobody started it). */
  nextLevelStartedPlayers: number;
  churnStartComplete: number | null;
  churnCompleteNext: number | null;
  churnTotal: number | null;
  boosterEvents: number;
  boosterUsage: number | null;
  egpEvents: number;
  egpRate: number | null;
  winRate: number | null;
  failRate: number | null;
  completionRate: number | null;
  funnelRate: number | null;
  apsRaw: number | null;
  apsClean: number | null;
  /** Seconds. */
  totalCompletionDuration: number;
  completionsWithDuration: number;
  meanCompletionDuration: number | null;
  totalFailDuration: number;
  failsWithDuration: number;
  meanFailDuration: number | null;
  horizonPlayers: number;
  completedWithinD3: number;
  completedWithinD7: number;
  /** Seconds: meanCompletionDuration summed over the listed levels up to this one (a level without one adds 0). */
  cumulativeAvgTime: number;
  /** (horizonPlayers − completedWithinD3) / horizonPlayers × 100; null when no player is eligible. */
  churnD3: number | null;
  churnD7: number | null;
}

/** num / den × scale, or null when den is 0. */
export function ratio(num: number, den: number, scale = 1): number | null {
  return den === 0 ? null : (num / den) * scale;
}

const pct = (num: number, den: number) => ratio(num, den, 100);

/** Levels in ascending order with every metric; funnelRate is relative to the first level listed. */
export function levelMetrics(bases: readonly LevelBase[]): LevelMetrics[] {
  const sorted = [...bases].sort((a, b) => a.levelId - b.levelId);
  const startedByLevel = new Map(sorted.map((b) => [b.levelId, b.startedPlayers]));
  const firstCompleted = sorted[0]?.completedPlayers ?? 0;
  let cumulativeUs = 0;
  return sorted.map((b) => {
    cumulativeUs += b.completionsWithDuration === 0 ? 0 : b.completionDurationUs / b.completionsWithDuration;
    const next = startedByLevel.get(b.levelId + 1) ?? 0;
    const ended = b.completes + b.fails;
    return {
      levelId: b.levelId,
      starts: b.starts,
      completes: b.completes,
      fails: b.fails,
      startedPlayers: b.startedPlayers,
      completedPlayers: b.completedPlayers,
      nextLevelStartedPlayers: next,
      churnStartComplete: pct(b.startedPlayers - b.completedPlayers, b.startedPlayers),
      churnCompleteNext: pct(b.completedPlayers - next, b.completedPlayers),
      churnTotal: pct(b.startedPlayers - next, b.startedPlayers),
      boosterEvents: b.boosterEvents,
      boosterUsage: pct(b.boosterEvents, ended),
      egpEvents: b.egpEvents,
      egpRate: pct(b.egpEvents, b.fails),
      winRate: pct(b.completes, ended),
      failRate: pct(b.fails, ended),
      completionRate: pct(b.completedPlayers, b.startedPlayers),
      funnelRate: pct(b.completedPlayers, firstCompleted),
      apsRaw: ratio(b.starts, b.completedPlayers),
      apsClean: ratio(b.completes, ended),
      totalCompletionDuration: b.completionDurationUs / 1e6,
      completionsWithDuration: b.completionsWithDuration,
      meanCompletionDuration: ratio(b.completionDurationUs, b.completionsWithDuration, 1e-6),
      totalFailDuration: b.failDurationUs / 1e6,
      failsWithDuration: b.failsWithDuration,
      meanFailDuration: ratio(b.failDurationUs, b.failsWithDuration, 1e-6),
      cumulativeAvgTime: cumulativeUs / 1e6,
      horizonPlayers: b.horizonPlayers,
      completedWithinD3: b.completedWithinD3,
      completedWithinD7: b.completedWithinD7,
      churnD3: pct(b.horizonPlayers - b.completedWithinD3, b.horizonPlayers),
      churnD7: pct(b.horizonPlayers - b.completedWithinD7, b.horizonPlayers),
    };
  });
}

/** The base-number fields, for comparisons of the two paths. */
export const BASE_FIELDS = [
  'starts', 'completes', 'fails', 'startedPlayers', 'completedPlayers', 'boosterEvents', 'egpEvents',
  'completionDurationUs', 'completionsWithDuration', 'failDurationUs', 'failsWithDuration',
  'horizonPlayers', 'completedWithinD3', 'completedWithinD7',
] as const satisfies readonly (keyof LevelBase)[];

/** Row (snake_case SQL columns, numbers or numeric strings) → LevelBase. */
export function baseFromRow(row: Record<string, unknown>): LevelBase {
  const n = (key: string) => {
    const v = row[key];
    const x = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : v === null || v === undefined ? 0 : Number(v);
    if (!Number.isFinite(x)) throw new Error(`level funnel: column ${key} is not a number: ${String(v)}`);
    return x;
  };
  return {
    levelId: n('level_id'),
    starts: n('starts'),
    completes: n('completes'),
    fails: n('fails'),
    startedPlayers: n('started_players'),
    completedPlayers: n('completed_players'),
    boosterEvents: n('booster_events'),
    egpEvents: n('egp_events'),
    completionDurationUs: n('completion_duration_us'),
    completionsWithDuration: n('completions_with_duration'),
    failDurationUs: n('fail_duration_us'),
    failsWithDuration: n('fails_with_duration'),
    horizonPlayers: n('horizon_players'),
    completedWithinD3: n('completed_within_d3'),
    completedWithinD7: n('completed_within_d7'),
  };
}
