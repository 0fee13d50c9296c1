import type { Command } from 'commander';
import { GamepipeError } from '../../core/errors.js';
import { DEFAULT_ALLOWED_LATENESS_MS, DEFAULT_DEDUP_WINDOW, DEFAULT_GROUPS, DEFAULT_TOPICS, checkTopicName, parseDuration, parsePositiveInt } from '../../stream/config.js';
import type { AggregateCommandOptions, QualityCommandOptions, StreamCommandOptions } from './streamActions.js';

// The stream modules (and the Kafka client) load only when a stream command runs.
const actions = () => import('./streamActions.js');

const int = (option: string, max?: number) => (v: string) => parsePositiveInt(v, option, max);
const duration = (option: string) => (v: string) => parseDuration(v, option);
const topic = (option: string) => (v: string) => checkTopicName(v, option);
const fraction = (v: string) => {
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0 || x > 0.5) throw new GamepipeError(`--dirty ${JSON.stringify(v)}`, { expected: 'a fraction from 0 to 0.5, e.g. 0.02' });
  return x;
};
const seed = (v: string) => {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new GamepipeError(`--seed ${JSON.stringify(v)}`, { expected: 'an integer from 0 to 4294967295' });
  return x;
};

/** Options every stream service takes. */
function serviceOptions(cmd: Command): Command {
  return cmd
    .option('--brokers <host:port,…>', 'Kafka brokers (default $GAMEPIPE_KAFKA_BROKERS)')
    .option('--partitions <n>', 'partitions for topics created when absent (default 4)', int('--partitions', 10_000))
    .option('--max-batch <n>', 'records per batch (default 1000)', int('--max-batch', 1_000_000))
    .option('--idle-exit <duration>', 'exit after this long without a record, e.g. 30s (default: run until stopped)', duration('--idle-exit'))
    .option('--session-timeout <duration>', 'Kafka group session timeout: how soon a dead instance\'s partitions move (default 10s)', duration('--session-timeout'))
    .option('--instance-id <id>', 'static group membership: a restart with the same id takes its partitions back at once')
    .option('--json', 'print the final statistics as JSON');
}

export function registerStream(program: Command): void {
  const stream = program
    .command('stream')
    .description(
      'real time: events-raw → quality → events-enriched → per-minute KPIs (rt_* tables in WAREHOUSE). ' +
        'Without Kafka configured, runs generator → quality → aggregate in-process (demo); with --brokers, both services until stopped',
    )
    .option('--brokers <host:port,…>', 'Kafka brokers (default $GAMEPIPE_KAFKA_BROKERS; none: in-process demo)')
    .option('--games <n>', 'demo: games (default 2)', int('--games', 1000))
    .option('--users <n>', 'demo: users (default 200)', int('--users'))
    .option('--days <n>', 'demo: days (default 1)', int('--days', 3650))
    .option('--start <date>', 'demo: first day YYYY-MM-DD (default today, UTC)')
    .option('--seed <n>', 'demo: random seed (default 1)', seed)
    .option('--dirty <fraction>', 'demo: share of events with an injected defect (default 0.02)', fraction)
    .option('--rate <n/s>', 'demo: events per second from the generator (default: as fast as possible)')
    .option('--allowed-lateness <duration>', `how late an event may arrive and still count in its minute (default ${DEFAULT_ALLOWED_LATENESS_MS / 60_000}m)`, duration('--allowed-lateness'))
    .option('--partitions <n>', 'partitions for topics created when absent (default 4)', int('--partitions', 10_000))
    .option('--max-batch <n>', 'records per batch (default 1000)', int('--max-batch', 1_000_000))
    .option('--json', 'print the results as JSON')
    .action(async (opts: StreamCommandOptions) => {
      await (await actions()).streamCommandAction(opts);
    });

  serviceOptions(
    stream
      .command('quality')
      .description(
        `consumer group on ${DEFAULT_TOPICS.raw}: the silver quality rules and normalization per event; valid → ${DEFAULT_TOPICS.enriched}, ` +
          `invalid → ${DEFAULT_TOPICS.dlq} with the reasons, duplicate eventIds dropped`,
      )
      .option('--group <id>', `consumer group (default ${DEFAULT_GROUPS.quality})`)
      .option('--input <topic>', `raw events topic (default ${DEFAULT_TOPICS.raw})`, topic('--input'))
      .option('--output <topic>', `valid events topic (default ${DEFAULT_TOPICS.enriched})`, topic('--output'))
      .option('--dlq <topic>', `invalid events topic (default ${DEFAULT_TOPICS.dlq})`, topic('--dlq'))
      .option('--dedup-window <n>', `event ids remembered per partition (default ${DEFAULT_DEDUP_WINDOW.toLocaleString('en-US')})`, int('--dedup-window')),
  ).action(async (_opts: unknown, cmd: Command) => {
    // Options shared with `stream` (--brokers, --partitions, --max-batch, --json) may be parsed by it.
    await (await actions()).streamQualityCommandAction(cmd.optsWithGlobals<QualityCommandOptions>());
  });

  serviceOptions(
    stream
      .command('aggregate')
      .description(
        `consumer group on ${DEFAULT_TOPICS.enriched}: tumbling 1-minute event-time windows → rt_minute_kpis and rt_minute_revenue_by_country, ` +
          'offsets stored with the totals in one transaction (a crash neither loses nor double counts); late events → rt_late_events',
      )
      .option('--group <id>', `consumer group (default ${DEFAULT_GROUPS.aggregate})`)
      .option('--input <topic>', `enriched events topic (default ${DEFAULT_TOPICS.enriched})`, topic('--input'))
      .option('--allowed-lateness <duration>', `default ${DEFAULT_ALLOWED_LATENESS_MS / 60_000}m`, duration('--allowed-lateness'))
      .option('--state-retention <duration>', 'event time to keep counted event ids and window users (default 24h)', duration('--state-retention'))
      .option('--rates <csv>', 'exchange rates currency,usd_per_unit,valid_from (default: WAREHOUSE.currency_rates, else reference/currency_rates.csv)'),
  ).action(async (_opts: unknown, cmd: Command) => {
    await (await actions()).streamAggregateCommandAction(cmd.optsWithGlobals<AggregateCommandOptions>());
  });
}
