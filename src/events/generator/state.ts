/**
 * What changes about a player from day to day: progression, churn, guild. Fixed-width typed
 * arrays, 8 bytes per account whatever the number of events or days; traits that never change
 * are recomputed from the seed instead (population.ts).
 */
export class PlayerState {
  /** Current level (1-based); 0 = not installed yet. */
  readonly level: Uint16Array;
  readonly flags: Uint8Array;
  /** Consecutive failed attempts (frustration: drives session quits and churn). */
  readonly failStreak: Uint8Array;
  /** Guild index + 1 in the player's game, 0 = none. */
  readonly guild: Int32Array;

  static readonly CHURNED = 1;
  static readonly HAS_PAID = 2;

  constructor(users: number) {
    this.level = new Uint16Array(users);
    this.flags = new Uint8Array(users);
    this.failStreak = new Uint8Array(users);
    this.guild = new Int32Array(users);
  }

  isChurned(u: number): boolean {
    return (this.flags[u]! & PlayerState.CHURNED) !== 0;
  }

  churn(u: number): void {
    this.flags[u]! |= PlayerState.CHURNED;
  }

  /** Marks the first purchase; true when this is the account's first. */
  markPaid(u: number): boolean {
    const first = (this.flags[u]! & PlayerState.HAS_PAID) === 0;
    this.flags[u]! |= PlayerState.HAS_PAID;
    return first;
  }
}
