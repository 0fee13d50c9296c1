/** Data quality: the rules, bronze → silver, and the daily report (see docs/quality.md). */
export {
  QUALITY_RULES,
  RULE_NAMES,
  ERROR_RULES,
  WARNING_RULES,
  checkEvent,
  ruleByName,
  type QualityRule,
  type RuleInput,
  type RuleSeverity,
  type EventVerdict,
} from './rules.js';
export { typeEvent, ENVELOPE_COLUMNS, PROPERTY_COLUMNS, type TypedEvent, type RawEvent } from './columns.js';
export { buildSilverDay, SILVER_EVENTS_LAYOUT, QUALITY_DAILY_LAYOUT, type SilverSummary } from './silver.js';
export { computeQualityReport, readQualityReport, formatQualityReport, type QualityReport } from './report.js';
