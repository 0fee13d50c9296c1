import type { Command } from 'commander';
import { resolvePaths } from '../../core/paths.js';
import { GamepipeError } from '../../core/errors.js';
import { ConnectionRegistry, WAREHOUSE } from '../../connections/registry.js';
import { TOKEN_ROLES, TokenStore, type TokenRole } from '../../auth/tokens.js';
import { printJson, printLine } from '../output.js';

/** Runs `fn` on the token store in WAREHOUSE, closing the connection after. */
export async function withTokens<T>(fn: (tokens: TokenStore) => Promise<T>): Promise<T> {
  const connections = new ConnectionRegistry(resolvePaths());
  try {
    return await fn(new TokenStore(connections.get(WAREHOUSE)));
  } finally {
    await connections.closeAll();
  }
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('API tokens for `gamepipe serve` (only their SHA-256 hashes are stored, in WAREHOUSE)');

  token
    .command('create')
    .description('create a token and print it alone on stdout (it is not shown again)')
    .requiredOption('--role <role>', `${TOKEN_ROLES.join(' | ')}: read the API, also start runs, or send events for one game`)
    .requiredOption('--name <name>', 'who or what uses it, e.g. "studio screen"')
    .option('--game <gameId>', 'the game an ingest token writes to (ingest tokens only)')
    .action(async (opts: { role: string; name: string; game?: string }) => {
      if (!(TOKEN_ROLES as readonly string[]).includes(opts.role)) {
        throw new GamepipeError(`--role "${opts.role}" is not one of ${TOKEN_ROLES.join(', ')}`);
      }
      const created = await withTokens((t) =>
        t.create({ name: opts.name, role: opts.role as TokenRole, ...(opts.game !== undefined ? { gameId: opts.game } : {}) }),
      );
      printLine(created.token);
      process.stderr.write(`created ${created.info.role} token ${created.info.tokenId} "${created.info.name}"; keep it secret, it is not shown again\n`);
    });

  token
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withTokens((t) => t.list());
      if (opts.json) return printJson(rows);
      if (rows.length === 0) return printLine('no tokens');
      for (const r of rows) {
        const state = r.revokedAt ? `revoked ${r.revokedAt.slice(0, 19)}` : 'active';
        printLine(
          [r.tokenId, r.role.padEnd(6), r.name.padEnd(24), (r.gameId ?? '').padEnd(12), `created ${r.createdAt.slice(0, 19)}`, state,
            r.lastUsedAt ? `last used ${r.lastUsedAt.slice(0, 19)}` : 'never used'].join('  '),
        );
      }
    });

  token
    .command('revoke')
    .description('revoke a token (by id, or by name when unique); its browser sessions end too')
    .argument('<idOrName>')
    .action(async (idOrName: string) => {
      const revoked = await withTokens((t) => t.revoke(idOrName));
      if (!revoked) throw new GamepipeError(`no active token "${idOrName}"`, { expected: 'an id or name from `gamepipe token list`' });
      printLine(`revoked ${idOrName}`);
    });
}
