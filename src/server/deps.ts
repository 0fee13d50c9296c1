import type { GamepipePaths } from '../core/paths.js';
import type { ConnectionRegistry } from '../connections/registry.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { TokenStore } from '../auth/tokens.js';
import type { Collector } from '../collector/index.js';

/** What the HTTP app and its route plugins are given (app.ts builds the app, routes/ read these). */
export interface AppDeps {
  connections: ConnectionRegistry;
  /** The lake and home; the level funnel reads its per-player index from the lake. */
  paths?: GamepipePaths;
  scheduler?: Scheduler;
  /** The token store (default: api_tokens in WAREHOUSE). */
  tokens?: TokenStore;
  /** Reading without a token; actions still need an admin token. */
  publicRead?: boolean;
  /** Requests per minute and client address. */
  rateLimitPerMinute?: number;
  /** The HTTP collector: POST /v1/events with ingest keys (src/collector). */
  collector?: Collector;
}
