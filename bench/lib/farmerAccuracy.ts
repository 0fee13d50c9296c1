/**
 * How well bot-farmer detection (farmers_snapshot of the daily pipeline) matches a ground
 * truth, such as the generator's manifest (`population.botFarmers.userIds`). Accounts are
 * compared by (game_id, user_id) when both sides give a game, else by user_id.
 *
 * Recall is measured against the farm accounts that could have been seen: when `eligible` is
 * given (e.g. the accounts active in the processed days), farm accounts outside it are left out,
 * since no detector finds an account that never played.
 */
export interface FarmerAccount {
  gameId?: string;
  userId: string;
}

export interface FarmerAccuracy {
  detected: number;
  /** Ground-truth farm accounts counted for recall (eligible ones only, when given). */
  truth: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** TP / detected (1 when nothing was detected). */
  precision: number;
  /** TP / truth (1 when there is nothing to find). */
  recall: number;
  f1: number;
  /** A few misclassified accounts, for the report. */
  sampleFalsePositives: string[];
  sampleFalseNegatives: string[];
}

const SAMPLE = 5;

function keyOf(a: FarmerAccount, withGame: boolean): string {
  return withGame ? `${a.gameId}/${a.userId}` : a.userId;
}

export function evaluateFarmerDetection(input: {
  detected: FarmerAccount[];
  truth: FarmerAccount[];
  /** Accounts that could have been detected (active in the period); all truth accounts when absent. */
  eligible?: FarmerAccount[];
}): FarmerAccuracy {
  const all = [...input.detected, ...input.truth, ...(input.eligible ?? [])];
  const withGame = all.length > 0 && all.every((a) => a.gameId !== undefined);
  const detected = new Set(input.detected.map((a) => keyOf(a, withGame)));
  const eligible = input.eligible ? new Set(input.eligible.map((a) => keyOf(a, withGame))) : null;
  const truthAll = new Set(input.truth.map((a) => keyOf(a, withGame)));
  const truth = new Set([...truthAll].filter((k) => eligible === null || eligible.has(k)));

  const tp = [...detected].filter((k) => truthAll.has(k));
  const fp = [...detected].filter((k) => !truthAll.has(k));
  const fn = [...truth].filter((k) => !detected.has(k));
  const truePositivesInTruth = [...truth].filter((k) => detected.has(k)).length;
  const precision = detected.size === 0 ? 1 : tp.length / detected.size;
  const recall = truth.size === 0 ? 1 : truePositivesInTruth / truth.size;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    detected: detected.size,
    truth: truth.size,
    truePositives: tp.length,
    falsePositives: fp.length,
    falseNegatives: fn.length,
    precision,
    recall,
    f1,
    sampleFalsePositives: fp.sort().slice(0, SAMPLE),
    sampleFalseNegatives: fn.sort().slice(0, SAMPLE),
  };
}

/** Ground truth from a generator manifest (`population.botFarmers.clusters`). */
export function farmersFromManifest(manifest: {
  population: { botFarmers: { clusters: Array<{ gameId: string; userIds: string[] }> } };
}): FarmerAccount[] {
  return manifest.population.botFarmers.clusters.flatMap((c) => c.userIds.map((userId) => ({ gameId: c.gameId, userId })));
}

/** One line for reports: `precision 1.0000 (220/220), recall 1.0000 (220/220), F1 1.0000`. */
export function formatFarmerAccuracy(a: FarmerAccuracy): string {
  return (
    `precision ${a.precision.toFixed(4)} (${a.truePositives}/${a.detected}), ` +
    `recall ${a.recall.toFixed(4)} (${a.truth - a.falseNegatives}/${a.truth}), F1 ${a.f1.toFixed(4)}` +
    (a.sampleFalsePositives.length ? `; false positives e.g. ${a.sampleFalsePositives.join(', ')}` : '') +
    (a.sampleFalseNegatives.length ? `; missed e.g. ${a.sampleFalseNegatives.join(', ')}` : '')
  );
}
