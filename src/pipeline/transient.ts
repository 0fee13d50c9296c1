/**
 * Errors worth retrying: the connection dropped, a lock wait timed out, a deadlock or a
 * serialization failure was detected, the server was restarting. Anything else (bad SQL,
 * bad data, a failed check) fails at once: retrying would only repeat it.
 */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', '40001', '40P01', '55P03', '57P01', '57P02', '57P03', '53300']);
const TRANSIENT_TEXT = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|Connection terminated|lock timeout|deadlock detected|could not serialize access|too many clients|the database system is (starting up|shutting down)|server closed the connection/i;

export function isTransientError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || code.startsWith('08'))) return true;
    if (e instanceof Error && TRANSIENT_TEXT.test(e.message)) return true;
  }
  return false;
}
