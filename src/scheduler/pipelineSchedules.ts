import fs from 'node:fs';
import path from 'node:path';
import { scheduleSchema, type Schedule } from '../config/projectConfig.js';
import { loadPipeline, PIPELINE_FILE, SHIPPED_PIPELINES } from '../pipeline/definition.js';

/**
 * The schedules `gamepipe serve` fires: the configured ones (gamepipe.config.json), plus the
 * default schedule a shipped pipeline declares in its pipeline.json (`schedule`, e.g. the level
 * funnel at 02:00 UTC), unless the configuration already schedules that pipeline (to change
 * its time or vars).
 */
export function withPipelineSchedules(configured: Schedule[], root = SHIPPED_PIPELINES): Schedule[] {
  const scheduled = new Set(configured.map((s) => s.pipeline));
  const defaults: Schedule[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory() || !fs.existsSync(path.join(root, entry.name, PIPELINE_FILE))) continue;
    const def = loadPipeline(path.join(root, entry.name));
    if (def.settings.schedule && !scheduled.has(def.name)) {
      const own = Array.isArray(def.settings.schedule) ? def.settings.schedule : [def.settings.schedule];
      for (const schedule of own) defaults.push(scheduleSchema.parse({ ...schedule, pipeline: def.name }));
    }
  }
  return [...configured, ...defaults];
}
