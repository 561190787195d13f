/**
 * The OTA machinery behind {@linkcode TBDeviceMqttClient.updateFirmware} and
 * {@linkcode TBDeviceMqttClient.onFirmwareAssigned}: finding the assigned
 * package, checksum verification, `fw_state` reporting and the watcher of
 * pushed assignments (the chunk download is in `_ota_download.ts`).
 *
 * @module
 */

import { encodeJson, encodeTelemetry, type JsonObject } from "../payload.ts";
import { concat } from "../codec/_bytes.ts";
import { createHasher } from "./_checksum.ts";
import { ChunkDownloads, tooLargeError } from "./_ota_download.ts";
import { parseOtaInfo, prefixOf } from "./_ota_info.ts";
import { buildAttributeRequest } from "./attributes.ts";
import { OtaError } from "./errors.ts";
import type {
  FirmwareAssignedCallback,
  OtaPackage,
  OtaPackageInfo,
  OtaState,
  OtaType,
  UpdateFirmwareOptions,
} from "./ota.ts";
import { checkTimeout, waitFor } from "./requests.ts";
import type { Session } from "./session.ts";

const DEFAULT_CHUNK_SIZE = 16_384;
const DEFAULT_TIMEOUT = 10_000;
const DEFAULT_RETRIES = 3;
/** Largest package kept in memory unless `maxSize` says otherwise (64 MiB). */
const DEFAULT_MAX_SIZE = 64 * 1024 * 1024;

/** `WRITE_FAILED`: the user's sink failed. */
function sinkError(type: OtaType, what: string, cause: unknown): OtaError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new OtaError(
    "WRITE_FAILED",
    `Cannot update ${type}: the sink ${what}: ${reason}; fix where it writes (e.g. free disk space) and update again with a new sink`,
    { cause },
  );
}

/** Checks a package description given by the user. */
function checkPackage(info: OtaPackageInfo | undefined, type: OtaType): void {
  if (info === undefined) return;
  const what = `Cannot update ${type}: package`;
  if (typeof info !== "object" || info === null) throw new TypeError(`${what} must be an object`);
  if (info.type !== undefined && info.type !== type) {
    throw new TypeError(`${what} is of type "${String(info.type)}"`);
  }
  if (typeof info.title !== "string" || typeof info.version !== "string") {
    throw new TypeError(`${what} needs a string title and version`);
  }
  if (info.size !== undefined && !(Number.isSafeInteger(info.size) && info.size >= 0)) {
    throw new RangeError(`${what} size must be a non-negative integer, got ${String(info.size)}`);
  }
  if (info.checksum !== undefined && typeof info.checksum !== "string") {
    throw new TypeError(`${what} checksum must be a hex string`);
  }
}

interface Installed {
  title?: string | undefined;
  version?: string | undefined;
}

/** Firmware and software updates of one client. */
export class OtaManager {
  #s: Session;
  #chunks: ChunkDownloads;
  /** The last update of each type: the next one starts after it. */
  #running = new Map<OtaType, Promise<unknown>>();
  #installed = new Map<OtaType, Installed>();

  /**
   * Attaches to a session.
   *
   * @param session The client's session.
   */
  constructor(session: Session) {
    this.#s = session;
    this.#chunks = new ChunkDownloads(session);
  }

  /**
   * Runs one update.
   *
   * @param options See {@linkcode UpdateFirmwareOptions}.
   * @returns The package, or `undefined` when it is already installed.
   */
  update(options: UpdateFirmwareOptions): Promise<OtaPackage | undefined> {
    try {
      return this.#schedule(options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #schedule(options: UpdateFirmwareOptions): Promise<OtaPackage | undefined> {
    const type = options.type ?? options.package?.type ?? "firmware";
    if (type !== "firmware" && type !== "software") {
      throw new TypeError(`Cannot update: unknown type "${String(type)}"`);
    }
    checkPackage(options.package, type);
    const what = `Cannot update ${type}`;
    const timeout = checkTimeout(options.timeout ?? DEFAULT_TIMEOUT, what);
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) {
      throw new RangeError(`${what}: chunkSize must be a positive integer, got ${chunkSize}`);
    }
    if (chunkSize > this.#s.maxPayloadSize) {
      throw new RangeError(
        `${what}: chunkSize ${chunkSize} is larger than the server's maximum payload size ${this.#s.maxPayloadSize}; use a chunkSize of at most ${this.#s.maxPayloadSize}`,
      );
    }
    const retries = options.retries ?? DEFAULT_RETRIES;
    if (!Number.isSafeInteger(retries) || retries < 0) {
      throw new RangeError(`${what}: retries must be a non-negative integer, got ${retries}`);
    }
    const maxSize = options.maxSize ?? (options.sink ? Infinity : DEFAULT_MAX_SIZE);
    if (!(Number.isSafeInteger(maxSize) && maxSize >= 0) && maxSize !== Infinity) {
      throw new RangeError(
        `${what}: maxSize must be a non-negative integer (bytes), got ${String(maxSize)}`,
      );
    }
    if (options.sink !== undefined && !(options.sink instanceof WritableStream)) {
      throw new TypeError(`${what}: sink must be a WritableStream, e.g. an open file's writable`);
    }
    if (options.sink?.locked) {
      throw new TypeError(`${what}: sink is locked; pass a stream nobody is writing to`);
    }
    // Updates of one type run one after another (e.g. one from onFirmwareAssigned
    // while another is still installing); each then sees what the previous one installed.
    const previous = this.#running.get(type);
    const run = (async () => {
      if (previous) await waitFor(previous, options.signal);
      options.signal?.throwIfAborted();
      const installed = this.#rememberInstalled(type, options);
      const info = options.package ?? await this.#fetchInfo(type, timeout, options.signal);
      if (
        !options.force && info.version === installed.version &&
        (installed.title === undefined || info.title === installed.title)
      ) {
        this.#s.logger.info(`The assigned ${type} is installed`, { version: info.version });
        await this.#report(type, "UPDATED", installed);
        return undefined;
      }
      return await this.#run(info, installed, {
        ...options,
        timeout,
        chunkSize,
        retries,
        maxSize,
      });
    })();
    const settled = run.catch(() => {});
    this.#running.set(type, settled);
    settled.then(() => {
      if (this.#running.get(type) === settled) this.#running.delete(type);
    });
    return run;
  }

  #rememberInstalled(type: OtaType, options: UpdateFirmwareOptions): Installed {
    const installed = { ...this.#installed.get(type) };
    for (const key of ["currentTitle", "currentVersion"] as const) {
      const value = options[key];
      if (value !== undefined && typeof value !== "string") {
        throw new TypeError(`Cannot update ${type}: ${key} must be a string`);
      }
    }
    if (options.currentTitle !== undefined) installed.title = options.currentTitle;
    if (options.currentVersion !== undefined) installed.version = options.currentVersion;
    this.#installed.set(type, installed);
    return installed;
  }

  async #fetchInfo(type: OtaType, timeout: number, signal?: AbortSignal): Promise<OtaPackageInfo> {
    const p = prefixOf(type);
    const keys = ["title", "version", "size", "checksum", "checksum_algorithm", "tag", "url"];
    const body = encodeJson(
      buildAttributeRequest({ sharedKeys: keys.map((k) => `${p}_${k}`) }),
      "attribute request",
      this.#s.serializer,
    );
    const { shared } = await this.#s.request(
      this.#s.router.attributeRequests,
      `Cannot update ${type}: cannot request the ${p}_* attributes`,
      this.#s.options.topics.attributeRequest,
      body,
      { timeout, signal },
    );
    const info = parseOtaInfo(type, shared);
    if (!info) {
      throw new OtaError("NO_PACKAGE", `Cannot update ${type}: no package is assigned`);
    }
    return info;
  }

  async #run(
    info: OtaPackageInfo,
    installed: Installed,
    o: UpdateFirmwareOptions & {
      timeout: number;
      chunkSize: number;
      retries: number;
      maxSize: number;
    },
  ): Promise<OtaPackage> {
    const { type } = info;
    const writer = o.sink?.getWriter();
    const fail = async (error: unknown): Promise<never> => {
      await writer?.abort(error).catch(() => {}); // nothing to abort once closed
      const message = error instanceof Error ? error.message : String(error);
      await this.#report(type, "FAILED", installed, message);
      throw error;
    };
    try {
      if (info.size !== undefined && info.size > o.maxSize) {
        throw tooLargeError(type, info.size, o.maxSize);
      }
      if (info.url !== undefined && info.size === undefined) {
        throw new OtaError(
          "URL_PACKAGE",
          `Cannot update ${type}: the package is at a URL, not served over MQTT`,
        );
      }
      if (info.checksum !== undefined && info.checksumAlgorithm === undefined) {
        throw new OtaError(
          "UNSUPPORTED_ALGORITHM",
          `Cannot update ${type}: the checksum algorithm is missing or unsupported`,
        );
      }
    } catch (error) {
      return fail(error);
    }
    this.#s.logger.info(`Downloading ${type}`, { title: info.title, version: info.version });
    this.#report(type, "DOWNLOADING", installed);
    const parts: Uint8Array[] = [];
    let received = 0;
    try {
      const expected = info.checksum?.toLowerCase();
      const hasher = expected !== undefined ? createHasher(info.checksumAlgorithm!) : undefined;
      await this.#chunks.download(info, o, async (chunk) => {
        hasher?.update(chunk);
        if (!writer) return void parts.push(chunk);
        await writer.write(chunk).catch((cause) => {
          throw sinkError(type, `refused ${chunk.length} bytes at offset ${received}`, cause);
        });
        received += chunk.length;
      });
      this.#report(type, "DOWNLOADED", installed);
      if (hasher) {
        const actual = hasher.digest();
        if (actual !== expected) {
          throw new OtaError(
            "CHECKSUM_MISMATCH",
            `Cannot update ${type}: ${info.checksumAlgorithm} checksum is ${actual}, expected ${expected}`,
          );
        }
      } else {
        this.#s.logger.warn(`The ${type} has no checksum; not verified`, { title: info.title });
      }
      await writer?.close().catch((cause) => {
        throw sinkError(type, "could not be closed", cause);
      });
    } catch (error) {
      return fail(error);
    }
    const data = writer ? new Uint8Array(0) : concat(parts);
    const pkg: OtaPackage = { ...info, data };
    if (!o.onPackage) {
      await this.#report(type, "VERIFIED", installed);
      return pkg;
    }
    this.#report(type, "VERIFIED", installed);
    this.#report(type, "UPDATING", installed);
    try {
      await o.onPackage(pkg);
    } catch (cause) {
      return fail(
        new OtaError("APPLY_FAILED", `Cannot update ${type}: ${(cause as Error)?.message}`, {
          cause,
        }),
      );
    }
    const now = { title: info.title, version: info.version };
    this.#installed.set(type, now);
    await this.#report(type, "UPDATED", now);
    return pkg;
  }

  /**
   * Reports a state as telemetry; never rejects (failures are logged).
   * Publishes keep their order, so callers await only the last one.
   */
  #report(type: OtaType, state: OtaState, current: Installed, error?: string): Promise<void> {
    const p = prefixOf(type);
    const values: JsonObject = {};
    if (current.title !== undefined) values[`current_${p}_title`] = current.title;
    if (current.version !== undefined) values[`current_${p}_version`] = current.version;
    values[`${p}_state`] = state;
    if (error !== undefined) values[`${p}_error`] = error;
    try {
      const bytes = encodeTelemetry(values, this.#s.serializer);
      const n = Object.keys(values).length;
      return this.#s.publish(
        "telemetry",
        this.#s.options.telemetryTopic,
        bytes,
        this.#s.options.qos,
        undefined,
        () => n,
      )
        .catch((e: Error) =>
          this.#s.logger.warn(`Cannot report ${p}_state`, { state, error: e.message })
        );
    } catch (e) {
      this.#s.logger.warn(`Cannot report ${p}_state`, { state, error: (e as Error).message });
      return Promise.resolve();
    }
  }

  /**
   * Watches shared-attribute pushes for a newly assigned package.
   *
   * @param callback Receives the package.
   * @param type Firmware or software.
   * @returns The attribute subscription id.
   */
  watch(callback: FirmwareAssignedCallback, type: OtaType): number {
    const p = prefixOf(type);
    return this.#s.router.subscriptions.add(undefined, async ({ values }) => {
      if (!(`${p}_title` in values) && !(`${p}_version` in values)) return;
      let info = parseOtaInfo(type, values);
      if (!info || !(`${p}_checksum` in values)) {
        // A partial push: ask for the whole description.
        info = await this.#fetchInfo(type, DEFAULT_TIMEOUT).catch((error: Error) => {
          this.#s.logger.info(`Ignored a partial ${p}_* update`, { error: error.message });
          return undefined;
        });
        if (!info) return;
      }
      const installed = this.#installed.get(type);
      if (info.version === installed?.version && info.title === installed.title) return;
      await callback(info);
    });
  }
}
