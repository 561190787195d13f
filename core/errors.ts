/**
 * Errors shared by the SDK's client, payload serialization and engines.
 *
 * @module
 */

/**
 * A value handed over by the user cannot be sent to ThingsBoard: `NaN`,
 * `±Infinity`, `undefined`, a function, a symbol, a `bigint`, a cycle, or a
 * value of the wrong shape. Thrown before anything is sent.
 *
 * @example
 * ```ts
 * import { InvalidPayloadError } from "@tbwasm/sdk";
 * const e = new InvalidPayloadError("Cannot send telemetry: value of \"temp\" is NaN", "temp");
 * console.log(e.key); // "temp"
 * ```
 */
export class InvalidPayloadError extends TypeError {
  /** Path of the offending key (`"temp"`, `"values.temp"`, `"[2].values.t"`), or `""` for the root. */
  readonly key: string;

  /**
   * Creates the error.
   *
   * @param message Message in std style, without trailing period.
   * @param key Path of the offending key.
   */
  constructor(message: string, key: string) {
    super(message);
    this.name = "InvalidPayloadError";
    this.key = key;
  }
}
