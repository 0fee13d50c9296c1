import { CURRENCIES, REQUIRED_PROPERTIES, type EventName } from '../catalog.js';
import { EV, PLATFORM_VARIANTS, UNKNOWN_COUNTRIES, UNKNOWN_EVENT_NAMES, type Dictionaries, type EventRow } from './batch.js';
import { Rng } from './rng.js';
import { HOUR_MS } from './time.js';
import { DAY_MS } from '../../core/dates.js';

/**
 * Defect injection: with `dirtyRate` r, each generated event independently gets exactly one
 * defect with probability r (purchases: 10r, at most 0.5; the kind drawn among those that
 * apply to the event), so every defect is
 * counted exactly and a line has at most one reason to be rejected. Decisions come from their
 * own random stream: the clean content of a data set does not depend on r.
 *
 * `register` events only ever get duplicated: they anchor the install time that
 * `before_install` is recognised against.
 */

export type DefectCategory = 'invalid' | 'duplicate' | 'normalizable' | 'flagged' | 'late';

export interface DefectKindSpec {
  readonly kind: string;
  readonly category: DefectCategory;
  /** How a consumer recognises it in the output, without the manifest. */
  readonly rule: string;
}

export const DEFECT_KINDS = [
  {
    kind: 'duplicate',
    category: 'duplicate',
    rule: 'A line identical to an earlier line (same eventId, same bytes), later in the same day file. The first occurrence is the original and is clean.',
  },
  {
    kind: 'missing_field',
    category: 'invalid',
    rule: 'One required envelope field (eventId, eventName, timestamp, gameId or userId) is absent.',
  },
  {
    kind: 'missing_property',
    category: 'invalid',
    rule: "One of the event's required properties (catalog) is absent from `properties`.",
  },
  {
    kind: 'negative_amount',
    category: 'invalid',
    rule: 'purchase with properties.amount < 0.',
  },
  {
    kind: 'absurd_amount',
    category: 'invalid',
    rule: 'purchase whose amount is above 100,000 USD at the catalog reference rate (amountInUsd(amount, currency) > ABSURD_PURCHASE_USD). A raw `amount > 100000` test is wrong: 120000 VND is a 4.99 USD pack.',
  },
  {
    kind: 'unknown_country',
    category: 'invalid',
    rule: 'countryCode not in the catalog COUNTRIES (the generator uses XX and ZZ).',
  },
  {
    kind: 'mixed_case_platform',
    category: 'normalizable',
    rule: 'platform is iOS/Android/WebGL in another letter case (ios, ANDROID, Webgl…): valid after normalizePlatform().',
  },
  {
    kind: 'future_timestamp',
    category: 'invalid',
    rule: 'timestamp more than 1 day after the end of the generated period (manifest period.futureAfter); the generator puts them 10–30 years ahead.',
  },
  {
    kind: 'before_install',
    category: 'invalid',
    rule: "timestamp earlier than the same user's register event (1 s to 6 h earlier). Checked before late_arrival: such a timestamp may also fall on an earlier day.",
  },
  {
    kind: 'late_arrival',
    category: 'late',
    rule: "Valid event whose timestamp's UTC day is 1–3 days before the day of the file it is in (not before the user's register).",
  },
  {
    kind: 'unknown_event_name',
    category: 'flagged',
    rule: 'eventName not in the catalog (tutorial_step, ad_impression, push_open, level_restart): kept and flagged.',
  },
  {
    kind: 'malformed_json',
    category: 'invalid',
    rule: 'NDJSON line that is a truncated JSON object (does not parse). Only in NDJSON: Parquet output omits these events.',
  },
] as const satisfies readonly DefectKindSpec[];

export type DefectKind = (typeof DEFECT_KINDS)[number]['kind'];
export const DEFECT_NAMES: readonly DefectKind[] = DEFECT_KINDS.map((d) => d.kind);

/** Defect code stored in batches: index in DEFECT_KINDS + 1 (0 = clean). */
export const DEFECT = Object.fromEntries(DEFECT_KINDS.map((d, i) => [d.kind, i + 1])) as Readonly<Record<DefectKind, number>>;

export const MISSING_FIELD_CHOICES = ['eventId', 'eventName', 'timestamp', 'gameId', 'userId'] as const;

/** Relative weight of each kind among those that apply; amount defects concentrate on purchases. */
const WEIGHT: Readonly<Record<DefectKind, number>> = {
  duplicate: 1,
  missing_field: 1,
  missing_property: 1,
  negative_amount: 4,
  absurd_amount: 4,
  unknown_country: 1,
  mixed_case_platform: 1,
  future_timestamp: 1,
  before_install: 1,
  late_arrival: 1,
  unknown_event_name: 1,
  malformed_json: 1,
};

export interface DefectContext {
  /** The user's register (install) time. */
  registerMs: number;
  dayIndex: number;
}

export interface InjectedDefect {
  kind: number;
  /** For late_arrival: the day index of the file the row goes to. */
  lateDay: number;
  /** For missing_field / missing_property: what was removed. */
  removed: string;
}

export class DirtyInjector {
  readonly rng = new Rng(0);
  private readonly weights = new Float64Array(DEFECT_KINDS.length);
  private readonly unknownNameCodes: number[];
  private readonly unknownCountryCodes: number[];
  private readonly platformVariantCodes: number[][];
  private readonly purchaseRate: number;

  constructor(
    readonly rate: number,
    private readonly seed: number,
    private readonly dict: Dictionaries,
    /** Exclusive end of the generated period (epoch ms). */
    private readonly periodEndMs: number,
    private readonly lastDayIndex: number,
  ) {
    this.purchaseRate = Math.min(0.5, Math.max(rate, 10 * rate));
    this.unknownNameCodes = UNKNOWN_EVENT_NAMES.map((n) => dict.eventName.indexOf(n));
    this.unknownCountryCodes = UNKNOWN_COUNTRIES.map((c) => dict.countryCode.indexOf(c));
    this.platformVariantCodes = dict.platform.map((p) => {
      const variants = p !== null ? (PLATFORM_VARIANTS as Record<string, readonly string[] | undefined>)[p] : undefined;
      return variants ? variants.map((v) => dict.platform.indexOf(v)) : [];
    });
  }

  startDay(dayIndex: number): void {
    this.rng.reseed(this.seed, dayIndex, 0xd1e7);
  }

  /**
   * Whether the next event gets a defect (one draw per generated event). Purchases are hit
   * ten times as often (at most half of them), so that amount defects show up even in small
   * data sets.
   */
  hit(eventName: number): boolean {
    return this.rng.next() < (eventName === EV.purchase ? this.purchaseRate : this.rate);
  }

  /** Give `row` one defect (mutating it) and say which. */
  inject(row: EventRow, ctx: DefectContext): InjectedDefect {
    const r = this.rng;
    const nameCode = row.eventName;
    const name = (this.dict.eventName[nameCode] ?? '') as EventName;
    const w = this.weights;
    w.fill(0);
    w[DEFECT.duplicate - 1] = WEIGHT.duplicate;
    if (nameCode !== EV.register) {
      for (let k = 0; k < DEFECT_KINDS.length; k++) w[k] = WEIGHT[DEFECT_KINDS[k]!.kind];
      if (nameCode !== EV.purchase) {
        w[DEFECT.negative_amount - 1] = 0;
        w[DEFECT.absurd_amount - 1] = 0;
      }
      if ((REQUIRED_PROPERTIES[name]?.length ?? 0) === 0) w[DEFECT.missing_property - 1] = 0;
      if (ctx.dayIndex >= this.lastDayIndex) w[DEFECT.late_arrival - 1] = 0;
    }
    let total = 0;
    for (let k = 0; k < w.length; k++) total += w[k]!;
    let x = r.next() * total;
    let kind = 1;
    for (let k = 0; k < w.length; k++) {
      x -= w[k]!;
      if (x < 0) {
        kind = k + 1;
        break;
      }
    }
    const result: InjectedDefect = { kind, lateDay: ctx.dayIndex, removed: '' };
    row.defect = kind;
    switch (kind) {
      case DEFECT.missing_field: {
        const field = r.pick(MISSING_FIELD_CHOICES);
        result.removed = field;
        if (field === 'eventId') row.eventId = null;
        else if (field === 'eventName') row.eventName = 0;
        else if (field === 'timestamp') row.timestamp = Number.NaN;
        else if (field === 'gameId') row.gameId = 0;
        else row.userId = null;
        break;
      }
      case DEFECT.missing_property: {
        const props = JSON.parse(row.properties ?? '{}') as Record<string, unknown>;
        const prop = r.pick(REQUIRED_PROPERTIES[name]).name;
        delete props[prop];
        row.properties = JSON.stringify(props);
        result.removed = prop;
        break;
      }
      case DEFECT.negative_amount:
      case DEFECT.absurd_amount: {
        const props = JSON.parse(row.properties ?? '{}') as { amount: number; currency: keyof typeof CURRENCIES };
        if (kind === DEFECT.negative_amount) {
          props.amount = -props.amount;
        } else {
          const usd = r.range(200_000, 5_000_000);
          props.amount = Math.round(usd / CURRENCIES[props.currency].usdPerUnit);
        }
        row.properties = JSON.stringify(props);
        break;
      }
      case DEFECT.unknown_country:
        row.countryCode = r.pick(this.unknownCountryCodes);
        break;
      case DEFECT.mixed_case_platform:
        row.platform = r.pick(this.platformVariantCodes[row.platform]!);
        break;
      case DEFECT.future_timestamp:
        row.timestamp = this.periodEndMs + r.range(3650, 10950) * DAY_MS + r.int(DAY_MS);
        break;
      case DEFECT.before_install:
        row.timestamp = ctx.registerMs - r.range(1000, 6 * HOUR_MS);
        break;
      case DEFECT.late_arrival:
        result.lateDay = ctx.dayIndex + r.range(1, Math.min(3, this.lastDayIndex - ctx.dayIndex));
        break;
      case DEFECT.unknown_event_name:
        row.eventName = r.pick(this.unknownNameCodes);
        break;
      case DEFECT.malformed_json:
        row.malformedCut = 0.1 + 0.8 * r.next();
        break;
      default:
        // duplicate: the row itself stays as it is; the generator writes a second copy.
        break;
    }
    return result;
  }
}
