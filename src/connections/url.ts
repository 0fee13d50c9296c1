/** PostgreSQL connection URLs. */

/** The URL with its password replaced by `***` (for logs and messages); `fallback` if it does not parse. */
export function hidePassword(url: string, fallback = url): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return fallback;
  }
}

/** The URL with `search_path` set to one schema (libpq `options`), so unqualified tables live there. */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}
