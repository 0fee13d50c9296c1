/**
 * The level funnel (docs/metrics.md#level-funnel): daily pre-aggregation of level events
 * (pipelines/funnel, with a per-game query index keyed by game alone), and one query service with two
 * paths — raw over silver (the reference) and fast over the pre-aggregates — returning the same
 * per-level metrics.
 */
export { aggregateLevelFunnel, listGamesWithLevelEvents, rebuildFunnelIndex, FUNNEL_PIPELINE_NAME, type AggregateResult, type GameLevelEvents } from './aggregate.js';
export { levelMetrics, ratio, BASE_FIELDS, type LevelBase, type LevelMetrics } from './metrics.js';
export { parseFunnelQuery, parseMethod, DIMENSIONS, FILTER_NAMES, type FunnelQuery, type FunnelFilters, type FunnelMethod } from './params.js';
export { LevelFunnelService, FunnelNotAggregatedError, type FunnelAnswer } from './service.js';
