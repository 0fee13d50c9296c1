import type { Command } from 'commander';
import { GamepipeError } from '../../core/errors.js';
import { printJson, printLine } from '../output.js';
import { withTokens } from './token.js';

/**
 * Ingest keys: API tokens with role `ingest`, scoped to one game, in the same store as every
 * token (api_tokens in WAREHOUSE, SHA-256 only). A key may only POST /v1/events for its game.
 */
export function registerKey(program: Command): void {
  const key = program.command('key').description('ingest keys for POST /v1/events: write-only, one game each (tokens with role ingest)');

  key
    .command('create')
    .description('create an ingest key for a game and print it alone on stdout (it is not shown again)')
    .requiredOption('--game <gameId>', 'the game the key writes events for')
    .option('--name <name>', 'who sends with it, e.g. "game-server-eu1" (default: ingest-<game>)')
    .action(async (opts: { game: string; name?: string }) => {
      const created = await withTokens((t) => t.create({ name: opts.name ?? `ingest-${opts.game}`, role: 'ingest', gameId: opts.game }));
      printLine(created.token);
      process.stderr.write(`created ingest key ${created.info.tokenId} "${created.info.name}" for game ${opts.game}; keep it secret, it is not shown again\n`);
    });

  key
    .command('list')
    .description('list ingest keys (never their secrets)')
    .option('--game <gameId>', 'only the keys of this game')
    .option('--json', 'machine-readable output')
    .action(async (opts: { game?: string; json?: boolean }) => {
      const rows = (await withTokens((t) => t.list())).filter((r) => r.role === 'ingest' && (opts.game === undefined || r.gameId === opts.game));
      if (opts.json) return printJson(rows);
      if (rows.length === 0) return printLine('no ingest keys');
      for (const r of rows) {
        const state = r.revokedAt ? `revoked ${r.revokedAt.slice(0, 19)}` : 'active';
        printLine([r.tokenId, (r.gameId ?? '').padEnd(12), r.name.padEnd(24), `created ${r.createdAt.slice(0, 19)}`, state].join('  '));
      }
    });

  key
    .command('revoke')
    .description('revoke an ingest key (by id, or by name when unique); the collector refuses it from then on')
    .argument('<idOrName>')
    .action(async (idOrName: string) => {
      const revoked = await withTokens(async (t) => {
        const match = (await t.list()).filter((r) => r.tokenId === idOrName || r.name === idOrName);
        if (match.length > 0 && match.every((r) => r.role !== 'ingest')) {
          throw new GamepipeError(`"${idOrName}" is a ${match[0]!.role} token, not an ingest key`, { expected: 'gamepipe token revoke for other tokens' });
        }
        return t.revoke(idOrName);
      });
      if (!revoked) throw new GamepipeError(`no active ingest key "${idOrName}"`, { expected: 'an id or name from `gamepipe key list`' });
      printLine(`revoked ${idOrName}`);
    });
}
