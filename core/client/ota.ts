/**
 * Types of firmware and software updates (OTA) over ThingsBoard's MQTT API:
 * packages, states, options of {@linkcode TBDeviceMqttClient.updateFirmware}
 * and {@linkcode TBDeviceMqttClient.onFirmwareAssigned}.
 *
 * @module
 */

/**
 * Kind of package: `"firmware"` (attributes `fw_*`, topics `v2/fw/…`) or
 * `"software"` (`sw_*`, `v2/sw/…`).
 *
 * @example
 * ```ts
 * import type { OtaType } from "@tbwasm/sdk";
 * const type: OtaType = "software";
 * ```
 */
export type OtaType = "firmware" | "software";

/**
 * Progress states the device reports as telemetry `fw_state` (or `sw_state`),
 * ThingsBoard's `OtaPackageUpdateStatus` after `QUEUED`/`INITIATED`.
 *
 * @example
 * ```ts
 * import type { OtaState } from "@tbwasm/sdk";
 * const done = (s: OtaState) => s === "UPDATED" || s === "FAILED";
 * ```
 */
export type OtaState =
  | "DOWNLOADING"
  | "DOWNLOADED"
  | "VERIFIED"
  | "UPDATING"
  | "UPDATED"
  | "FAILED";

/**
 * The checksum algorithms ThingsBoard offers for OTA packages, by the names
 * it stores in `fw_checksum_algorithm` / `sw_checksum_algorithm`.
 *
 * @example
 * ```ts
 * import type { ChecksumAlgorithm } from "@tbwasm/sdk";
 * const algorithm: ChecksumAlgorithm = "MURMUR3_128";
 * ```
 */
export type ChecksumAlgorithm =
  | "MD5"
  | "SHA256"
  | "SHA384"
  | "SHA512"
  | "CRC32"
  | "MURMUR3_32"
  | "MURMUR3_128";

/**
 * A package assigned to the device, as its shared attributes describe it
 * (`fw_title`, `fw_version`, `fw_size`, `fw_checksum`,
 * `fw_checksum_algorithm`, `fw_tag`, `fw_url`).
 *
 * @example
 * ```ts
 * import type { OtaPackageInfo } from "@tbwasm/sdk";
 * const info: OtaPackageInfo = {
 *   type: "firmware",
 *   title: "thermostat",
 *   version: "1.2.0",
 *   size: 102_400,
 *   checksumAlgorithm: "SHA256",
 *   checksum: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
 * };
 * ```
 */
export interface OtaPackageInfo {
  /** Firmware or software. */
  type: OtaType;
  /** Package title. */
  title: string;
  /** Package version. */
  version: string;
  /** Size in bytes; `undefined` when ThingsBoard did not say (then chunks are read until a short one). */
  size?: number | undefined;
  /** Expected checksum, lower-case hex; `undefined` skips verification. */
  checksum?: string | undefined;
  /** Algorithm of `checksum`. */
  checksumAlgorithm?: ChecksumAlgorithm | undefined;
  /** Optional tag. */
  tag?: string | undefined;
  /** Download URL, for packages ThingsBoard only links to (not served over MQTT). */
  url?: string | undefined;
}

/**
 * A downloaded and verified package.
 *
 * @example
 * ```ts
 * import type { OtaPackage } from "@tbwasm/sdk";
 * const save = (pkg: OtaPackage) => Deno.writeFile(`${pkg.title}-${pkg.version}.bin`, pkg.data);
 * ```
 */
export interface OtaPackage extends OtaPackageInfo {
  /**
   * The package bytes; empty when they were written to
   * {@linkcode UpdateFirmwareOptions.sink} instead.
   */
  data: Uint8Array;
}

/**
 * Download progress passed to {@linkcode UpdateFirmwareOptions.onProgress}.
 *
 * @example
 * ```ts
 * import type { OtaProgress } from "@tbwasm/sdk";
 * const show = ({ received, total }: OtaProgress) => console.log(`${received}/${total ?? "?"}`);
 * ```
 */
export interface OtaProgress {
  /** Bytes received so far. */
  received: number;
  /** Package size, when known. */
  total: number | undefined;
}

/**
 * Options of {@linkcode TBDeviceMqttClient.updateFirmware}.
 *
 * @example
 * ```ts
 * import type { UpdateFirmwareOptions } from "@tbwasm/sdk";
 * const options: UpdateFirmwareOptions = {
 *   currentTitle: "thermostat",
 *   currentVersion: "1.1.0",
 *   chunkSize: 32_768,
 *   onPackage: async (pkg) => await Deno.writeFile("/tmp/fw.bin", pkg.data),
 * };
 * ```
 */
export interface UpdateFirmwareOptions {
  /** Firmware or software. @default {"firmware"} */
  type?: OtaType;
  /**
   * Title of the installed package; remembered by the client (as is the
   * package an update installs).
   * @default {the last one given or installed}
   */
  currentTitle?: string;
  /** Version of the installed package; remembered like `currentTitle`. @default {the last one given or installed} */
  currentVersion?: string;
  /** Download even when the assigned package is the installed one. @default {false} */
  force?: boolean;
  /**
   * The assigned package, e.g. from {@linkcode TBDeviceMqttClient.onFirmwareAssigned};
   * skips asking ThingsBoard for the `fw_*` attributes.
   * @default {asked with an attribute request}
   */
  package?: OtaPackageInfo;
  /**
   * Bytes per chunk (positive integer, at most the server's maximum payload
   * size, which ThingsBoard enforces by closing the session).
   * @default {16384}
   */
  chunkSize?: number;
  /** Milliseconds to wait for each chunk (and the attribute response). @default {10000} */
  timeout?: number;
  /** How many times a chunk that did not arrive in time is requested again. @default {3} */
  retries?: number;
  /**
   * Largest package accepted, in bytes. A package whose `fw_size` is larger
   * is refused before anything is downloaded; one without `fw_size` is
   * stopped as soon as it grows past it. Either way the update fails with
   * `OtaError` `TOO_LARGE`.
   * @default {67108864 (64 MiB), or no limit with a `sink`}
   */
  maxSize?: number;
  /**
   * Where the bytes go, chunk by chunk as they arrive, instead of memory
   * (e.g. `(await Deno.open(path, { write: true, create: true, truncate: true })).writable`).
   * Writes are awaited, so a slow sink slows the download. The stream is
   * closed once the checksum matched, before `onPackage` runs, and aborted
   * with the error when the update fails (then its bytes must not be used);
   * it is left alone when the assigned package is already installed. The
   * package's `data` is then empty.
   * @default {the package is kept in memory}
   */
  sink?: WritableStream<Uint8Array>;
  /** Aborts the update (reported to ThingsBoard as `FAILED`). */
  signal?: AbortSignal;
  /** Called after every chunk. */
  onProgress?: (progress: OtaProgress) => void;
  /**
   * Installs the verified package. When given, the client reports `UPDATING`,
   * awaits it, then reports `UPDATED` (or `FAILED` when it throws). Without
   * it, the update stops at `VERIFIED` and the device reports `UPDATED`
   * itself, e.g. by calling `updateFirmware()` with the new
   * `currentVersion` after a reboot.
   */
  onPackage?: (pkg: OtaPackage) => void | Promise<void>;
}

/**
 * Receives a newly assigned package pushed by ThingsBoard
 * ({@linkcode TBDeviceMqttClient.onFirmwareAssigned}).
 *
 * @example
 * ```ts
 * import type { FirmwareAssignedCallback } from "@tbwasm/sdk";
 * const cb: FirmwareAssignedCallback = (info) => console.log(`${info.title} ${info.version} assigned`);
 * ```
 */
export type FirmwareAssignedCallback = (info: OtaPackageInfo) => void | Promise<void>;
