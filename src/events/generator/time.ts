/** Sub-day steps of the generator's clock (days: src/core/dates.ts). */

export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;
