import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/auth/tokens.js';
import { backend, createWorkspace, type Workspace } from '../helpers/workspace.js';
import { gamepipe } from '../helpers/cli.js';

describe(`token store (${backend})`, () => {
  let ws: Workspace;
  let store: TokenStore;

  beforeAll(async () => {
    ws = await createWorkspace(['WAREHOUSE']);
    store = new TokenStore(ws.connections.get('WAREHOUSE'));
  });
  afterAll(async () => ws?.close());

  it('stores only the SHA-256 of a new token and verifies it to its role', async () => {
    const { token, info } = await store.create({ name: 'screen', role: 'read' });
    expect(token).toMatch(/^gp_[A-Za-z0-9_-]{43}$/);
    const rows = await ws.query<Record<string, unknown>>(`SELECT * FROM api_tokens WHERE id = '${info.tokenId}'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_sha256).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(token.slice(3));
    expect(await store.verify(token)).toEqual({ tokenId: info.tokenId, name: 'screen', role: 'read', gameId: null });
    const listed = (await store.list()).find((t) => t.tokenId === info.tokenId)!;
    expect(listed.lastUsedAt).not.toBeNull();
  });

  it('refuses unknown, malformed and revoked tokens', async () => {
    const { token, info } = await store.create({ name: 'temp', role: 'admin' });
    expect(await store.verify(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeNull();
    expect(await store.verify("gp_' OR 1=1 --")).toBeNull();
    expect(await store.revoke(info.tokenId)).toBe(true);
    expect(await store.revoke(info.tokenId)).toBe(false);
    expect(await store.verify(token)).toBeNull();
    expect((await store.list()).find((t) => t.tokenId === info.tokenId)!.revokedAt).not.toBeNull();
  });

  it('scopes ingest tokens to one game, and only ingest tokens', async () => {
    const { token } = await store.create({ name: 'game server', role: 'ingest', gameId: 'g1' });
    expect(await store.verify(token)).toMatchObject({ role: 'ingest', gameId: 'g1' });
    await expect(store.create({ name: 'no game', role: 'ingest' })).rejects.toThrow(/needs the game/);
    await expect(store.create({ name: 'reader', role: 'read', gameId: 'g1' })).rejects.toThrow(/not scoped to a game/);
    await expect(store.create({ name: "x'; DROP TABLE api_tokens; --", role: 'read' })).rejects.toThrow(/token name/);
  });

  it('sessions end when their token is revoked', async () => {
    const { token, info } = await store.create({ name: 'browser', role: 'read' });
    const principal = (await store.verify(token))!;
    const session = await store.openSession(principal, 3600);
    expect(await store.verifySession(session)).toEqual(principal);
    await store.revoke(info.tokenId);
    expect(await store.verifySession(session)).toBeNull();
  });

  it('gamepipe token create prints the token alone; list shows no secret; revoke revokes', () => {
    const created = gamepipe(['token', 'create', '--role', 'admin', '--name', 'ops'], { cwd: ws.dir, env: ws.env });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^gp_[A-Za-z0-9_-]{43}\n$/);
    const secret = created.stdout.trim();
    const listed = gamepipe(['token', 'list', '--json'], { cwd: ws.dir, env: ws.env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).not.toContain(secret.slice(3));
    const ops = (JSON.parse(listed.stdout) as { tokenId: string; name: string; role: string; revokedAt: string | null }[]).find((t) => t.name === 'ops')!;
    expect(ops).toMatchObject({ role: 'admin', revokedAt: null });
    const revoked = gamepipe(['token', 'revoke', ops.tokenId], { cwd: ws.dir, env: ws.env });
    expect(revoked.code, revoked.stderr).toBe(0);
    const again = gamepipe(['token', 'revoke', ops.tokenId], { cwd: ws.dir, env: ws.env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no active token/);
    const bad = gamepipe(['token', 'create', '--role', 'owner', '--name', 'x'], { cwd: ws.dir, env: ws.env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--role "owner" is not one of read, admin, ingest/);
  });
});
