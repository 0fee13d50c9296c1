/** Real time: Kafka ingestion, the streaming quality service and per-minute KPIs (docs/streaming.md). */
export { DEFAULT_TOPICS, DEFAULT_GROUPS, parseKafkaUrl, parseRate, parseDuration, resolveBrokers } from './config.js';
export { KafkaTransport } from './kafka.js';
export { MemoryBroker } from './memory.js';
export { produceGenerated, generatedDays } from './generate.js';
export { runInProcessStream } from './inProcess.js';
export { startQualityService, startAggregateService, type QualityStats, type AggregateStats, type ServiceHandle } from './services.js';
export { MinuteAggregator } from './aggregate.js';
export { QualityProcessor, type EnrichedEvent, type DeadLetter } from './quality.js';
export { readRealtimeMinutes, type RealtimeMinutes } from './realtime.js';
export { ensureRealtimeTables } from './tables.js';
