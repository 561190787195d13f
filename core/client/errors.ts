/**
 * Typed errors of the ThingsBoard device client.
 *
 * @module
 */

/**
 * An attribute key cannot be requested: ThingsBoard receives the keys as one
 * comma-separated string and splits it on `","`, so a key containing a comma
 * (or an empty key) would ask for something else. Thrown before anything is
 * sent.
 *
 * @example
 * ```ts
 * import { InvalidAttributeKeyError } from "@tbwasm/sdk";
 * const e = new InvalidAttributeKeyError("Cannot request attributes: key \"a,b\" contains a comma", "a,b");
 * console.log(e.key); // "a,b"
 * ```
 */
export class InvalidAttributeKeyError extends TypeError {
  /** The offending key. */
  readonly key: string;

  /**
   * Creates the error.
   *
   * @param message Message in std style, without trailing period.
   * @param key The offending key.
   */
  constructor(message: string, key: string) {
    super(message);
    this.name = "InvalidAttributeKeyError";
    this.key = key;
  }
}

/**
 * A telemetry or attributes message has more data points than ThingsBoard's
 * `telemetryDataPoints` rate limit admits in one message (the capacity of
 * its smallest bucket). ThingsBoard would close the session for it after
 * every reconnect, so it is refused before anything is sent; send the values
 * in smaller messages (`{ split: true }` does it).
 *
 * @example
 * ```ts
 * import { TooManyDataPointsError } from "@tbwasm/sdk";
 * const e = new TooManyDataPointsError("telemetry", 30, 20);
 * console.log(e.dataPoints, e.limit); // 30 20
 * ```
 */
export class TooManyDataPointsError extends RangeError {
  /** Data points in the message. */
  readonly dataPoints: number;
  /** Most data points one message may have. */
  readonly limit: number;

  /**
   * Creates the error.
   *
   * @param what What was refused (`"telemetry"`, `"attributes"`).
   * @param dataPoints Data points in the message.
   * @param limit Most data points one message may have.
   */
  constructor(what: string, dataPoints: number, limit: number) {
    super(
      `Cannot send ${what}: the message has ${dataPoints} data points, ThingsBoard's ` +
        `telemetryDataPoints rate limit admits at most ${limit} in one message; ` +
        `send them in messages of at most ${limit}, or pass { split: true }`,
    );
    this.name = "TooManyDataPointsError";
    this.dataPoints = dataPoints;
    this.limit = limit;
  }
}

/**
 * ThingsBoard answered a client-side RPC with an error object
 * (`{"error":"..."}`), e.g. `"timeout"` when no rule chain replied in time.
 *
 * @example
 * ```ts
 * import { RpcError } from "@tbwasm/sdk";
 * const e = new RpcError("getTime", "timeout");
 * console.log(e.message); // Cannot complete RPC "getTime": the server answered "timeout"
 * ```
 */
export class RpcError extends Error {
  /** The RPC method that was called. */
  readonly method: string;
  /** The server's `error` text. */
  readonly error: string;

  /**
   * Creates the error.
   *
   * @param method The RPC method.
   * @param error The server's `error` text.
   */
  constructor(method: string, error: string) {
    super(`Cannot complete RPC "${method}": the server answered "${error}"`);
    this.name = "RpcError";
    this.method = method;
    this.error = error;
  }
}

/**
 * ThingsBoard refused a provisioning request. `status` is ThingsBoard's
 * (`"NOT_FOUND"` for an unknown key or secret, `"FAILURE"` e.g. when the
 * device already exists) and `errorMsg` its explanation.
 *
 * @example
 * ```ts
 * import { ProvisionError } from "@tbwasm/sdk";
 * const e = new ProvisionError("NOT_FOUND", "Provision data was not found!");
 * console.log(e.status, e.errorMsg);
 * ```
 */
export class ProvisionError extends Error {
  /** ThingsBoard's status, e.g. `"NOT_FOUND"` or `"FAILURE"`. */
  readonly status: string;
  /** ThingsBoard's `errorMsg`, when it sent one. */
  readonly errorMsg: string | undefined;

  /**
   * Creates the error.
   *
   * @param status ThingsBoard's status.
   * @param errorMsg ThingsBoard's `errorMsg`.
   * @param options Standard error options (`cause`).
   */
  constructor(status: string, errorMsg?: string, options?: ErrorOptions) {
    super(
      `Cannot provision device: the server answered ${status}` + (errorMsg ? ` (${errorMsg})` : ""),
      options,
    );
    this.name = "ProvisionError";
    this.status = status;
    this.errorMsg = errorMsg;
  }
}

/**
 * A message from the server is not what ThingsBoard sends on its topic (not
 * JSON, or JSON of the wrong shape). It is dropped; the client keeps running.
 * Reported through the `error` event, or as the rejection of the request it
 * answers.
 *
 * @example
 * ```ts
 * import { InvalidMessageError } from "@tbwasm/sdk";
 * const e = new InvalidMessageError("Cannot parse attribute update: not JSON", "v1/devices/me/attributes");
 * console.log(e.topic);
 * ```
 */
export class InvalidMessageError extends SyntaxError {
  /** Topic the message arrived on. */
  readonly topic: string;

  /**
   * Creates the error.
   *
   * @param message Message in std style, without trailing period.
   * @param topic Topic the message arrived on.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, topic: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidMessageError";
    this.topic = topic;
  }
}

/**
 * Why a firmware or software update failed ({@linkcode OtaError.code}):
 * - `NO_PACKAGE`: no package is assigned (no `fw_title`/`fw_version`).
 * - `URL_PACKAGE`: the package is a URL to download from, not served over MQTT.
 * - `UNSUPPORTED_ALGORITHM`: an unknown `fw_checksum_algorithm`.
 * - `SERVER_ERROR`: ThingsBoard published an error on `v2/fw/error` (e.g.
 *   `PAYLOAD_TOO_LARGE`, `NOT_FOUND`) and closed the session.
 * - `TIMEOUT`: a chunk did not arrive after every retry.
 * - `SIZE_MISMATCH`: a chunk was not as long as `fw_size` implies (the package changed?).
 * - `TOO_LARGE`: the package is larger than `maxSize` (said by `fw_size`, or found while
 *   downloading a package without one).
 * - `WRITE_FAILED`: the `sink` refused a chunk (e.g. the disk is full).
 * - `CHECKSUM_MISMATCH`: the downloaded bytes do not match `fw_checksum`.
 * - `APPLY_FAILED`: the `onPackage` callback threw.
 *
 * @example
 * ```ts
 * import type { OtaErrorCode } from "@tbwasm/sdk";
 * const retryable = (code: OtaErrorCode) => code === "TIMEOUT" || code === "SERVER_ERROR";
 * ```
 */
export type OtaErrorCode =
  | "NO_PACKAGE"
  | "URL_PACKAGE"
  | "UNSUPPORTED_ALGORITHM"
  | "SERVER_ERROR"
  | "TIMEOUT"
  | "SIZE_MISMATCH"
  | "TOO_LARGE"
  | "WRITE_FAILED"
  | "CHECKSUM_MISMATCH"
  | "APPLY_FAILED";

/**
 * A firmware or software update failed; `code` says why and, for
 * `SERVER_ERROR`, `serverError` holds ThingsBoard's text. The failure was
 * also reported to ThingsBoard as `fw_state: "FAILED"` with `fw_error`
 * (`sw_…` for software).
 *
 * @example
 * ```ts
 * import { OtaError } from "@tbwasm/sdk";
 * const e = new OtaError("SERVER_ERROR", 'Cannot download firmware: the server answered "NOT_FOUND"', {
 *   serverError: "NOT_FOUND",
 * });
 * console.log(e.code, e.serverError); // SERVER_ERROR NOT_FOUND
 * ```
 */
export class OtaError extends Error {
  /** Why the update failed. */
  readonly code: OtaErrorCode;
  /** ThingsBoard's error text from `v2/fw/error`, for `SERVER_ERROR`. */
  readonly serverError: string | undefined;

  /**
   * Creates the error.
   *
   * @param code Why the update failed.
   * @param message Message in std style, without trailing period.
   * @param options `cause`, and `serverError` for `SERVER_ERROR`.
   */
  constructor(
    code: OtaErrorCode,
    message: string,
    options: ErrorOptions & { serverError?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "OtaError";
    this.code = code;
    this.serverError = options.serverError;
  }
}
