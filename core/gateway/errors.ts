/**
 * Typed errors of the ThingsBoard gateway client.
 *
 * @module
 */

/**
 * A device name cannot be used with ThingsBoard's gateway API: it is not a
 * string or it is empty (ThingsBoard closes the gateway's whole connection
 * for an empty name). Thrown before anything is sent.
 *
 * @example
 * ```ts
 * import { InvalidDeviceNameError } from "@tbwasm/sdk/gateway";
 * const e = new InvalidDeviceNameError("Cannot send telemetry: device name must be a non-empty string", "");
 * console.log(e.device); // ""
 * ```
 */
export class InvalidDeviceNameError extends TypeError {
  /** The offending name, as given. */
  readonly device: unknown;

  /**
   * Creates the error.
   *
   * @param message Message in std style, without trailing period.
   * @param device The offending name.
   */
  constructor(message: string, device: unknown) {
    super(message);
    this.name = "InvalidDeviceNameError";
    this.device = device;
  }
}
