import type { Command } from 'commander';
import { loadProjectConfig } from '../../config/projectConfig.js';
import { resolvePaths } from '../../core/paths.js';
import { logger } from '../../core/logger.js';
import { ConnectionRegistry, WAREHOUSE } from '../../connections/registry.js';
import { withPipelineSchedules } from '../../scheduler/pipelineSchedules.js';
import { warehouseSchedules } from '../../warehouse/schedule.js';
import { pipelineRunner } from '../../scheduler/runScheduled.js';
import { ScheduleState } from '../../scheduler/scheduleState.js';
import { Scheduler } from '../../scheduler/scheduler.js';
import { openCollector } from '../../collector/index.js';
import { resolveBrokers } from '../../stream/config.js';
import { buildApp } from '../../server/app.js';
import { todayUtc } from '../../core/dates.js';
import { printLine } from '../output.js';
import { runInProcessStream } from '../../stream/inProcess.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('host the scheduler (schedules in gamepipe.config.json, plus the shipped pipelines\' own, e.g. the level funnel at 02:00 UTC) and the HTTP API')
    .option('--port <n>', 'HTTP port', (v: string) => Number(v), 8080)
    .option('--host <host>', 'HTTP host (loopback unless told otherwise)', '127.0.0.1')
    .option('--no-scheduler', 'serve the API only')
    .option('--public-read', 'let anyone read the API and dashboard without a token (actions still need an admin token)')
    .option('--rate-limit <n>', 'requests per minute and client address', (v: string) => Number(v), 1200)
    .option('--live-demo [eventsPerSecond]', "run the in-process stream on generated events of today (the Live page's demo)", (v: string) => Number(v))
    .option('--no-collector', 'do not accept events on POST /v1/events')
    .option('--brokers <list>', 'Kafka brokers for collected events (default GAMEPIPE_KAFKA_BROKERS; none: events go to bronze)')
    .action(
      async (opts: {
        port: number;
        host: string;
        scheduler: boolean;
        publicRead?: boolean;
        rateLimit: number;
        liveDemo?: number | true;
        collector: boolean;
        brokers?: string;
      }) => {
      const paths = resolvePaths();
      const config = loadProjectConfig();
      const connections = new ConnectionRegistry(paths, process.env, config);
      const ctx = { paths, connections };
      const schedules = warehouseSchedules(withPipelineSchedules(config.schedules), process.env, paths, config);
      const scheduler = opts.scheduler
        ? new Scheduler(schedules, new ScheduleState(connections.get(WAREHOUSE)), pipelineRunner(ctx))
        : undefined;
      const collector = opts.collector ? await openCollector({ paths, config: config.collector, brokers: resolveBrokers(opts.brokers) }) : undefined;
      const app = await buildApp({
        connections,
        paths,
        ...(collector ? { collector } : {}),
        ...(scheduler ? { scheduler } : {}),
        ...(opts.publicRead ? { publicRead: true } : {}),
        rateLimitPerMinute: opts.rateLimit,
      });
      const address = await app.listen({ port: opts.port, host: opts.host });
      printLine(`gamepipe serving ${address}/api (${schedules.length} schedule${schedules.length === 1 ? '' : 's'})`);
      printLine(`  dashboard: ${address}/ (sign in with a token from \`npx gamepipe token create --role read --name me\`${opts.publicRead ? '; reading is public' : ''})`);
      if (opts.liveDemo !== undefined) {
        const rate = opts.liveDemo === true ? 50 : opts.liveDemo;
        const start = todayUtc();
        printLine(`  live demo: streaming generated events of ${start} at ${rate}/s through the in-process stream`);
        void runInProcessStream({ warehouse: connections.get(WAREHOUSE), generate: { games: 2, users: 300, days: 1, start, seed: 7, dirtyRate: 0.02 }, rate }).then(
          (r) => logger.info({ produced: r.produced }, 'live demo stream finished'),
          (err: unknown) => logger.error({ err }, 'live demo stream failed'),
        );
      }
      if (scheduler) {
        await scheduler.start();
        for (const s of scheduler.nextRuns()) printLine(`  schedule ${s.schedule}: next run ${s.next}`);
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      logger.info('stopping');
      await scheduler?.stop();
      await app.close();
      await collector?.close();
      await connections.closeAll();
      // The live demo's stream has no end of its own: leave it with the process.
      if (opts.liveDemo !== undefined) process.exit(0);
    });
}
