/** A studio's own event format → the envelope, declared in JSON (docs/events.md, "Event mappings"). */
export { EventMapper, stableHash, zonedToUtc, type MapResult } from './apply.js';
export { MAPPING_FAILURES, type MappingFailure } from './failures.js';
export { loadMapping, parseMapping } from './load.js';
export { mappingSchema, type Mapping } from './schema.js';
