/**
 * Exponential reconnect backoff with jitter.
 *
 * @module
 */

/**
 * Reconnect timing.
 *
 * @example
 * ```ts
 * import type { ReconnectOptions } from "./backoff.ts";
 * const r: ReconnectOptions = { initialDelay: 500, maxDelay: 30_000 };
 * ```
 */
export interface ReconnectOptions {
  /**
   * Delay before the first reconnect attempt, in milliseconds.
   * @default {1000}
   */
  initialDelay?: number;
  /**
   * Upper bound of the delay, in milliseconds.
   * @default {60000}
   */
  maxDelay?: number;
  /**
   * Growth factor per failed attempt.
   * @default {2}
   */
  factor?: number;
  /**
   * Fraction of the delay that is randomized (0..1): the delay is drawn
   * uniformly from `[d * (1 - jitter), d]`.
   * @default {0.5}
   */
  jitter?: number;
}

/**
 * Computes reconnect delays: `initialDelay * factor^(attempt - 1)`, capped at
 * `maxDelay`, then reduced by a random fraction up to `jitter` so that many
 * devices cut off together do not reconnect together.
 *
 * @example
 * ```ts
 * import { Backoff } from "./backoff.ts";
 * const b = new Backoff({ initialDelay: 100, jitter: 0 });
 * b.next(); // 100
 * b.next(); // 200
 * b.reset();
 * b.next(); // 100
 * ```
 */
export class Backoff {
  #initial: number;
  #max: number;
  #factor: number;
  #jitter: number;
  #random: () => number;
  #attempt = 0;

  /**
   * Creates a backoff sequence.
   *
   * @param options Timing; see {@linkcode ReconnectOptions}.
   * @param random Source of uniform numbers in [0, 1) (injectable for tests).
   * @throws {RangeError} If an option is negative, `factor < 1` or `jitter` is outside 0..1.
   */
  constructor(options: ReconnectOptions = {}, random: () => number = Math.random) {
    this.#initial = options.initialDelay ?? 1000;
    this.#max = options.maxDelay ?? 60_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.5;
    this.#random = random;
    if (!(this.#initial >= 0) || !(this.#max >= 0)) {
      throw new RangeError("Cannot configure reconnect: delays must be non-negative numbers");
    }
    if (!(this.#factor >= 1)) {
      throw new RangeError("Cannot configure reconnect: factor must be >= 1");
    }
    if (!(this.#jitter >= 0 && this.#jitter <= 1)) {
      throw new RangeError("Cannot configure reconnect: jitter must be between 0 and 1");
    }
  }

  /** Number of delays handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /**
   * Returns the delay before the next attempt and counts the attempt.
   *
   * @returns Delay in milliseconds.
   */
  next(): number {
    const exp = this.#initial * Math.pow(this.#factor, this.#attempt);
    this.#attempt++;
    const base = Math.min(this.#max, exp);
    return Math.round(base * (1 - this.#jitter * this.#random()));
  }

  /** Starts the sequence again (after a successful connection). */
  reset(): void {
    this.#attempt = 0;
  }
}
