/** Reasons a source event cannot be mapped (names shared with ingestion's quarantine reasons). */
export type MappingFailure = 'not_an_object' | 'missing_timestamp' | 'invalid_timestamp' | 'missing_event_name' | 'unmapped_value';

export const MAPPING_FAILURES: Readonly<Record<MappingFailure, string>> = {
  not_an_object: 'the event is JSON but not an object',
  missing_timestamp: 'the event has no timestamp (absent or null), so no event day',
  invalid_timestamp: 'the timestamp is not a date-time in the format the mapping names',
  missing_event_name: 'the mapping found no event name',
  unmapped_value: 'a value is not in the mapping\'s value map and the rule says "otherwise": "error"',
};

