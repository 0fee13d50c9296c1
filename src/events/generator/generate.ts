import { BatchBuilder, buildDictionaries, appVersions, readRow, type EventBatch, type EventRow } from './batch.js';
import { Behaviour, guildsPerGame, type EventSink } from './behaviour.js';
import { DEFECT, DirtyInjector } from './dirty.js';
import { IdKeys } from './ids.js';
import { ManifestCollector, type GenerationSummary } from './manifest.js';
import { normalizeOptions, type GenerateOptions, type NormalizedOptions } from './options.js';
import { Population, type Profile } from './population.js';
import { permute32, Rng } from './rng.js';
import { PlayerState } from './state.js';
import { DAY_MS, formatDay } from '../../core/dates.js';

/**
 * The generator loop: day by day, every installed account that is still playing is simulated
 * and its events are appended to a columnar batch, which is yielded as soon as it holds
 * `batchSize` rows (and at the end of each day). Nothing grows with the number of events: the
 * only per-account memory is PlayerState (8 bytes) and the only carried rows are pending late
 * arrivals (at most three days of them).
 *
 * The iterator's return value is the ground truth (GenerationSummary) for manifest.json.
 */
export function* generateEvents(options: GenerateOptions): Generator<EventBatch, GenerationSummary, undefined> {
  const o = normalizeOptions(options);
  const gen = new GeneratorCore(o);
  for (let d = 0; d < o.days; d++) {
    const day = formatDay(o.startMs + d * DAY_MS);
    gen.startDay(d);
    const lastAccount = gen.population.dayStart[d + 1]!;
    for (let u = 0; u < lastAccount; u++) {
      gen.behaviour.simulate(u, d);
      if (gen.builder.size >= o.batchSize) yield gen.builder.take(day, d, false);
    }
    yield gen.builder.take(day, d, true);
  }
  return gen.collector.summary(gen.population.clusters);
}

class GeneratorCore implements EventSink {
  readonly population: Population;
  readonly builder: BatchBuilder;
  readonly behaviour: Behaviour;
  readonly collector: ManifestCollector;
  private readonly dirty: DirtyInjector | undefined;
  private readonly idRng = new Rng(0);
  private readonly eventKey: number;
  private eventCounter = 0;
  private readonly lateRows = new Map<number, EventRow[]>();
  private readonly duplicates: EventRow[] = [];

  // Current day / user-day / session context: the envelope fields of emitted events.
  private dayIndex = 0;
  private dayStartMs = 0;
  private dayEndMs = 0;
  private userId = '';
  private game = 0;
  private server = 0;
  private platform = 0;
  private country = 0;
  private version = 0;
  private funnel = 0;
  private funnelVersion = 0;
  private registerMs = 0;
  private sessionId = '';
  /** Row of the event being built. */
  private row = 0;

  constructor(private readonly o: NormalizedOptions) {
    this.population = new Population(o);
    const dict = buildDictionaries(o.games, o.days);
    this.builder = new BatchBuilder(dict, Math.min(o.batchSize + 1024, 1 << 20));
    this.collector = new ManifestCollector(o);
    this.eventKey = new IdKeys(o.seed).event;
    this.dirty =
      o.dirtyRate > 0 ? new DirtyInjector(o.dirtyRate, o.seed, dict, o.startMs + o.days * DAY_MS, o.days - 1) : undefined;
    this.behaviour = new Behaviour(this.population, new PlayerState(o.users), this, this.collector, {
      seed: o.seed,
      startMs: o.startMs,
      days: o.days,
      guildsPerGame: guildsPerGame(o.users, o.games),
      appVersionCount: appVersions(o.days).length,
    });
  }

  startDay(d: number): void {
    this.dayIndex = d;
    this.dayStartMs = this.o.startMs + d * DAY_MS;
    this.dayEndMs = this.dayStartMs + DAY_MS - 1;
    this.dirty?.startDay(d);
    // Late arrivals meant for this day's file go first.
    const late = this.lateRows.get(d);
    if (late) {
      for (const row of late) this.write(row);
      this.lateRows.delete(d);
    }
  }

  beginUserDay(p: Profile, dayIndex: number, appVersionCode: number): void {
    this.userId = p.userId;
    this.game = p.game;
    this.server = p.server;
    this.platform = p.platformIndex + 1;
    this.country = p.countryIndex + 1;
    this.version = appVersionCode;
    this.funnel = p.funnelIndex + 1;
    this.funnelVersion = p.funnelVersion;
    this.registerMs = p.installMs;
    this.idRng.reseed(this.o.seed, p.index, dayIndex, 0x1d5);
  }

  beginSession(sessionId: string): void {
    this.sessionId = sessionId;
  }

  begin(eventName: number, timestamp: number): void {
    if (!(timestamp >= this.dayStartMs && timestamp <= this.dayEndMs && timestamp >= this.registerMs)) {
      // Clean events stay on their day and after install: the ground truth depends on it.
      throw new Error(`generator bug: ${this.userId} event ${eventName} at ${timestamp} outside day ${this.dayIndex}`);
    }
    this.collector.generated[this.dayIndex]! += 1;
    this.collector.byName[eventName]! += 1;
    const b = this.builder;
    const i = b.nextRow();
    this.row = i;
    const idRng = this.idRng;
    const w = b.eventIdWords;
    const k = 4 * i;
    w[k] = permute32(this.eventCounter++, this.eventKey);
    w[k + 1] = idRng.u32();
    w[k + 2] = idRng.u32();
    w[k + 3] = idRng.u32();
    b.eventIdAbsent[i] = 0;
    b.eventName[i] = eventName;
    b.timestamp[i] = timestamp;
    b.gameId[i] = this.game;
    b.userId[i] = this.userId;
    b.sessionId[i] = this.sessionId;
    b.serverId[i] = this.server;
    b.platform[i] = this.platform;
    b.countryCode[i] = this.country;
    b.appVersion[i] = this.version;
    b.levelFunnel[i] = this.funnel;
    b.levelFunnelVersion[i] = this.funnelVersion;
    b.defect[i] = 0;
    b.openProps(i);
  }

  num(key: Uint8Array, value: number): void {
    this.builder.num(key, value);
  }

  str(key: Uint8Array, value: string): void {
    this.builder.str(key, value);
  }

  raw(key: Uint8Array, json: Uint8Array): void {
    this.builder.raw(key, json);
  }

  end(): void {
    const b = this.builder;
    b.closeProps(this.row);
    if (this.dirty !== undefined && this.dirty.hit(b.eventName[this.row]!)) this.injectDefect();
    else this.collector.clean[this.dayIndex]! += 1;
  }

  endUserDay(): void {
    // Redeliveries of today's duplicated events, after the user's other events.
    for (const row of this.duplicates) this.write(row);
    this.duplicates.length = 0;
  }

  /** Give the row just written a defect: rewrite it in place, move it (late), or copy it (duplicate). */
  private injectDefect(): void {
    const b = this.builder;
    const i = this.row;
    const row = readRow(b, i);
    const injected = this.dirty!.inject(row, { registerMs: this.registerMs, dayIndex: this.dayIndex });
    if (injected.removed !== '') this.collector.removed(this.dayIndex, injected.kind, injected.removed);
    if (injected.kind === DEFECT.duplicate) {
      // The original stays (clean); the redelivery follows after the user's other events.
      b.defect[i] = 0;
      this.collector.clean[this.dayIndex]! += 1;
      this.duplicates.push(row);
    } else if (injected.kind === DEFECT.late_arrival) {
      b.dropLastRow();
      const list = this.lateRows.get(injected.lateDay);
      if (list) list.push(row);
      else this.lateRows.set(injected.lateDay, [row]);
    } else {
      b.dropLastRow();
      this.write(row);
    }
  }

  /** Slow-path write of a whole row into today's batch, counted for today's file. */
  private write(row: EventRow): void {
    this.builder.writeRow(row);
    if (row.defect === 0) this.collector.clean[this.dayIndex]! += 1;
    else this.collector.defectRow(this.dayIndex, row.defect);
  }
}
