import type { FunnelPair, InstallRange } from './params.js';
import { sqlString } from '../sql/quote.js';

/** SQL conditions both query paths share for the filters that are not a single dimension. */

/** `(level_funnel = 'a' AND level_funnel_version = 1) OR …` over the given (folded or stored) names. */
export function funnelPairsSql(pairs: readonly FunnelPair[], column: (c: string) => string = (c) => c): string {
  return `(${pairs.map((p) => `(${column('level_funnel')} = ${sqlString(p.levelFunnel)} AND level_funnel_version = ${p.levelFunnelVersion})`).join(' OR ')})`;
}

/** The install-cohort condition on a DATE column (TRUE without one). */
export function installSql(install: InstallRange | undefined, column = 'install_ds'): string {
  if (!install) return 'TRUE';
  const parts = [`${column} IS NOT NULL`];
  if (install.from) parts.push(`${column} >= DATE ${sqlString(install.from)}`);
  if (install.to) parts.push(`${column} <= DATE ${sqlString(install.to)}`);
  return parts.join(' AND ');
}
