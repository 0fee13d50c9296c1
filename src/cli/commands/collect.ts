import type { Command } from 'commander';
import { TokenStore } from '../../auth/tokens.js';
import { buildCollectorApp, openCollector } from '../../collector/index.js';
import { loadProjectConfig } from '../../config/projectConfig.js';
import { resolvePaths } from '../../core/paths.js';
import { logger } from '../../core/logger.js';
import { ConnectionRegistry, WAREHOUSE } from '../../connections/registry.js';
import { resolveBrokers } from '../../stream/config.js';
import { printLine } from '../output.js';

export function registerCollect(program: Command): void {
  program
    .command('collect')
    .description('run the HTTP collector alone (POST /v1/events with ingest keys), e.g. several behind a load balancer')
    .option('--port <n>', 'HTTP port', (v: string) => Number(v), 8081)
    .option('--host <host>', 'HTTP host (loopback unless told otherwise)', '127.0.0.1')
    .option('--brokers <list>', 'Kafka brokers: acknowledge once in events-raw (default GAMEPIPE_KAFKA_BROKERS; none: bronze)')
    .action(async (opts: { port: number; host: string; brokers?: string }) => {
      const paths = resolvePaths();
      const config = loadProjectConfig();
      const connections = new ConnectionRegistry(paths, process.env, config);
      const brokers = resolveBrokers(opts.brokers);
      const collector = await openCollector({ paths, config: config.collector, brokers });
      const app = await buildCollectorApp(collector, new TokenStore(connections.get(WAREHOUSE)));
      const address = await app.listen({ port: opts.port, host: opts.host });
      printLine(`gamepipe collecting on ${address}/v1/events → ${brokers ? `Kafka ${brokers.join(',')} (events-raw)` : `bronze under ${paths.lake}`}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      logger.info('stopping');
      await app.close();
      await collector.close();
      await connections.closeAll();
    });
}
