import { createHash, randomBytes } from 'node:crypto';
import type { PgAdapter } from '../connections/adapter.js';
import { GamepipeError } from '../core/errors.js';

/**
 * API tokens (`api_tokens` in WAREHOUSE). A token is shown once, when created; only its
 * SHA-256 hash is stored, so a leaked table lets nobody in. Roles:
 * - `read`: every read endpoint and page;
 * - `admin`: reading, plus actions (start a run or a backfill, retry a job);
 * - `ingest`: writes events for one game (`game_id`) and reads nothing.
 */
export const TOKEN_ROLES = ['read', 'admin', 'ingest'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** What a verified token (or a session signed in with one) is allowed to be. */
export interface Principal {
  tokenId: string;
  name: string;
  role: TokenRole;
  /** The one game an ingest key writes to; null for read and admin tokens. */
  gameId: string | null;
}

export interface TokenInfo extends Principal {
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface CreatedToken {
  /** The secret itself: printed once, never stored. */
  token: string;
  info: TokenInfo;
}

/** `gp_` + 43 base64url characters (256 random bits). */
const TOKEN_PATTERN = /^gp_[A-Za-z0-9_-]{43}$/;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,99}$/;
/** last_used_at is refreshed at most this often per token, so reads do not all become writes. */
const LAST_USED_GRANULARITY = "interval '1 minute'";

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const ts = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const SELECT_INFO = `SELECT id, name, role, game_id, ${ts('created_at')} AS created_at, ${ts('revoked_at')} AS revoked_at,
  ${ts('last_used_at')} AS last_used_at FROM api_tokens`;

interface TokenRow {
  id: string;
  name: string;
  role: TokenRole;
  game_id: string | null;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

const toInfo = (r: TokenRow): TokenInfo => ({
  tokenId: r.id,
  name: r.name,
  role: r.role,
  gameId: r.game_id,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
});

export class TokenStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly adapter: PgAdapter) {}

  /** Creates api_tokens (and api_sessions, the browser sessions signed in with a token) once. */
  ensureTables(): Promise<void> {
    this.ready ??= this.adapter
      .withSession(async (s) => {
        await s.query(`CREATE TABLE IF NOT EXISTS api_tokens (
          id text PRIMARY KEY,
          name text NOT NULL,
          role text NOT NULL CHECK (role IN ('read', 'admin', 'ingest')),
          game_id text,
          token_sha256 text NOT NULL UNIQUE,
          created_at timestamptz NOT NULL DEFAULT now(),
          revoked_at timestamptz,
          last_used_at timestamptz,
          CHECK ((role = 'ingest') = (game_id IS NOT NULL))
        )`);
        await s.query(`CREATE TABLE IF NOT EXISTS api_sessions (
          session_sha256 text PRIMARY KEY,
          token_id text NOT NULL REFERENCES api_tokens (id),
          created_at timestamptz NOT NULL DEFAULT now(),
          expires_at timestamptz NOT NULL
        )`);
      })
      .catch((err: unknown) => {
        this.ready = undefined;
        throw err;
      });
    return this.ready;
  }

  async create(input: { name: string; role: TokenRole; gameId?: string }): Promise<CreatedToken> {
    if (!NAME_PATTERN.test(input.name)) {
      throw new GamepipeError(`token name "${input.name}" is not allowed`, { expected: 'letters, digits, space, . _ @ - (1–100 characters)' });
    }
    if (!(TOKEN_ROLES as readonly string[]).includes(input.role)) {
      throw new GamepipeError(`token role "${input.role}" is not one of ${TOKEN_ROLES.join(', ')}`);
    }
    if (input.role === 'ingest' && !input.gameId) {
      throw new GamepipeError('an ingest token needs the game it writes to', { expected: '--game GAME_ID' });
    }
    if (input.role !== 'ingest' && input.gameId) {
      throw new GamepipeError(`a ${input.role} token is not scoped to a game`, { expected: '--game only with --role ingest' });
    }
    await this.ensureTables();
    const token = `gp_${randomBytes(32).toString('base64url')}`;
    const id = `tok_${randomBytes(6).toString('hex')}`;
    const res = await this.adapter.withSession((s) =>
      s.query<TokenRow>(
        `INSERT INTO api_tokens (id, name, role, game_id, token_sha256) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, name, role, game_id, ${ts('created_at')} AS created_at, NULL::text AS revoked_at, NULL::text AS last_used_at`,
        [id, input.name, input.role, input.gameId ?? null, hashToken(token)],
      ),
    );
    return { token, info: toInfo(res.rows[0]!) };
  }

  async list(): Promise<TokenInfo[]> {
    await this.ensureTables();
    const res = await this.adapter.withSession((s) => s.query<TokenRow>(`${SELECT_INFO} ORDER BY created_at, id`));
    return res.rows.map(toInfo);
  }

  /** Revokes a token by id (or by its unique name); its sessions end with it. False if none matched or already revoked. */
  async revoke(idOrName: string): Promise<boolean> {
    await this.ensureTables();
    return this.adapter.transaction(async (s) => {
      const matches = await s.query<{ id: string }>(`SELECT id FROM api_tokens WHERE id = $1 OR name = $1`, [idOrName]);
      if (matches.rows.length > 1) {
        throw new GamepipeError(`${matches.rows.length} tokens are named "${idOrName}"`, { expected: 'the token id (tok_…), as `gamepipe token list` shows' });
      }
      const id = matches.rows[0]?.id;
      if (!id) return false;
      const res = await s.query(`UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
      await s.query(`DELETE FROM api_sessions WHERE token_id = $1`, [id]);
      return res.rowCount > 0;
    });
  }

  /** The principal of a live token, or null for an unknown, malformed or revoked one. */
  async verify(token: string): Promise<Principal | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    await this.ensureTables();
    const res = await this.adapter.withSession((s) =>
      s.query<TokenRow>(
        `WITH live AS (SELECT id, name, role, game_id FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL),
         touched AS (UPDATE api_tokens SET last_used_at = now()
           WHERE id IN (SELECT id FROM live) AND (last_used_at IS NULL OR last_used_at < now() - ${LAST_USED_GRANULARITY}))
         SELECT id, name, role, game_id FROM live`,
        [hashToken(token)],
      ),
    );
    const row = res.rows[0];
    return row ? { tokenId: row.id, name: row.name, role: row.role, gameId: row.game_id } : null;
  }

  /** Opens a browser session for a verified token; returns the session secret (the cookie's value). */
  async openSession(principal: Principal, ttlSeconds: number): Promise<string> {
    await this.ensureTables();
    const secret = randomBytes(32).toString('base64url');
    await this.adapter.withSession(async (s) => {
      await s.query(`DELETE FROM api_sessions WHERE expires_at < now()`);
      await s.query(`INSERT INTO api_sessions (session_sha256, token_id, expires_at) VALUES ($1, $2, now() + $3 * interval '1 second')`, [
        hashToken(secret),
        principal.tokenId,
        ttlSeconds,
      ]);
    });
    return secret;
  }

  /** The principal behind a session cookie, while neither the session expired nor its token was revoked. */
  async verifySession(secret: string): Promise<Principal | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
    await this.ensureTables();
    const res = await this.adapter.withSession((s) =>
      s.query<TokenRow>(
        `SELECT t.id, t.name, t.role, t.game_id FROM api_sessions s JOIN api_tokens t ON t.id = s.token_id
         WHERE s.session_sha256 = $1 AND s.expires_at > now() AND t.revoked_at IS NULL`,
        [hashToken(secret)],
      ),
    );
    const row = res.rows[0];
    return row ? { tokenId: row.id, name: row.name, role: row.role, gameId: row.game_id } : null;
  }

  async closeSession(secret: string): Promise<void> {
    await this.ensureTables();
    await this.adapter.withSession((s) => s.query(`DELETE FROM api_sessions WHERE session_sha256 = $1`, [hashToken(secret)]));
  }
}
