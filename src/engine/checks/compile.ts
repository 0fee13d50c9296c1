import type { ErrorContext } from '../../core/errors.js';
import { renderPlaceholders } from '../../layout/render.js';
import type { Vars } from '../../layout/vars.js';
import type { Check } from '../../layout/checks.js';

/**
 * Renders `{var}` placeholders in the SQL of checks (`reconcile.left/right`, `expression.sql`),
 * like the transform's, so a check can compare with the same partition the job reads:
 * `SELECT sum(amount) FROM main_data WHERE ds = DATE '{logDate}'`. An unknown placeholder is an
 * error naming `$.checks[i].…`. (`$output`, the job's result, is replaced later by runChecks.)
 */
export function compileChecks(checks: readonly Check[], vars: Vars, where: Pick<ErrorContext, 'file' | 'job'>): Check[] {
  return checks.map((check, i) => {
    const at = (key: string) => ({ ...where, jsonPath: `$.checks[${i}].${key}` });
    switch (check.type) {
      case 'reconcile':
        return {
          ...check,
          left: renderPlaceholders(check.left, vars, at('left')),
          right: renderPlaceholders(check.right, vars, at('right')),
        };
      case 'expression':
        return { ...check, sql: renderPlaceholders(check.sql, vars, at('sql')) };
      default:
        return check;
    }
  });
}
