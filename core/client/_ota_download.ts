/**
 * The chunk download of OTA packages: requests on
 * `v2/{fw|sw}/request/{requestId}/chunk/{n}` (payload: the chunk size in
 * ASCII), binary responses on `v2/{fw|sw}/response/{requestId}/chunk/{n}`
 * (never JSON-parsed), errors on `v2/fw/error`; a timeout and retries per
 * chunk, and an immediate re-request after a reconnect.
 *
 * @module
 */

import type { PublishPacket } from "../codec/types.ts";
import { SubscribeError } from "../mqtt/mod.ts";
import { prefixOf } from "./_ota_info.ts";
import { OtaError } from "./errors.ts";
import type { OtaPackageInfo, OtaProgress, OtaType } from "./ota.ts";
import { defaultTimers, RequestTable } from "./requests.ts";
import type { OtaRoute } from "./router.ts";
import type { Session } from "./session.ts";
import { MAX_REQUEST_ID } from "./topics.ts";

const CHUNK_RESPONSE = /^v2\/(fw|sw)\/response\/(\d{1,10})\/chunk\/(\d{1,10})$/;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const isTimeout = (e: unknown) => e instanceof DOMException && e.name === "TimeoutError";

interface Download {
  type: OtaType;
  chunks: RequestTable<Uint8Array>;
  /** Drops chunk requests still queued (offline) once the download ends. */
  stop: AbortController;
  /** Sends the request of the chunk being waited for (again, after a reconnect). */
  request: (() => void) | undefined;
}

/** How one download runs. */
export interface DownloadOptions {
  /** Bytes per chunk. */
  chunkSize: number;
  /** Per-chunk timeout, ms. */
  timeout: number;
  /** Re-requests of a chunk after a timeout. */
  retries: number;
  /** Aborts the download. */
  signal?: AbortSignal | undefined;
  /** Called after every chunk. */
  onProgress?: ((progress: OtaProgress) => void) | undefined;
  /** Largest package accepted, bytes. */
  maxSize: number;
}

/**
 * `TOO_LARGE`: a package of `size` bytes (or, without a size, one that grew
 * past the limit while downloading) is larger than `maxSize`.
 */
export function tooLargeError(type: OtaType, size: number | undefined, maxSize: number): OtaError {
  const what = size === undefined ? "grew past" : `has ${size} bytes, over`;
  return new OtaError(
    "TOO_LARGE",
    `Cannot update ${type}: the package ${what} the limit of ${maxSize} bytes; raise maxSize or stream it to a sink`,
  );
}

/** The running downloads of one client, by request id. */
export class ChunkDownloads implements OtaRoute {
  #s: Session;
  #nextRequestId = 1;
  #downloads = new Map<number, Download>();
  #subscribed = new Set<OtaType>();

  /**
   * Attaches to a session: OTA messages are routed here.
   *
   * @param session The client's session.
   */
  constructor(session: Session) {
    this.#s = session;
    session.router.ota = this;
    // A chunk request (QoS 0) sent as the connection dropped is lost: ask again at once.
    session.mqtt.addEventListener("connect", () => {
      for (const d of this.#downloads.values()) d.request?.();
    });
  }

  /**
   * Handles `v2/fw/…` and `v2/sw/…` messages: chunks (binary, never parsed)
   * and errors.
   *
   * @param packet The message.
   */
  route(packet: PublishPacket): void {
    const { topic } = packet;
    if (topic === "v2/fw/error" || topic === "v2/sw/error") {
      // ThingsBoard sends software errors on v2/fw/error too, without a request id.
      const text = decoder.decode(packet.payload);
      this.#s.logger.warn("ThingsBoard refused an OTA chunk request", { error: text });
      for (const d of this.#downloads.values()) {
        d.chunks.rejectAll(
          new OtaError(
            "SERVER_ERROR",
            `Cannot download ${d.type}: the server answered "${text}"`,
            { serverError: text },
          ),
        );
      }
      return;
    }
    const m = CHUNK_RESPONSE.exec(topic);
    const d = m ? this.#downloads.get(Number(m[2])) : undefined;
    if (!m || !d || prefixOf(d.type) !== m[1] || !d.chunks.resolve(Number(m[3]), packet.payload)) {
      this.#s.logger.debug("Ignored a late or unknown OTA message", { topic });
    }
  }

  /**
   * Fails running downloads (the client is closing).
   *
   * @param error The reason.
   */
  close(error: Error): void {
    for (const d of this.#downloads.values()) d.chunks.rejectAll(error);
  }

  /**
   * Downloads a package in chunks with a fresh request id, handing each
   * chunk to `consume` in order (awaited before the next is asked for).
   *
   * @param info The package.
   * @param o Chunk size, timeout, retries, size limit, signal, progress callback.
   * @param consume Receives every chunk.
   */
  async download(
    info: OtaPackageInfo,
    o: DownloadOptions,
    consume: (chunk: Uint8Array) => void | Promise<void>,
  ): Promise<void> {
    const { type, size } = info; // a `size` over `o.maxSize` was refused before (OtaManager)
    await this.#subscribe(type, o);
    const requestId = this.#allocateRequestId();
    const download: Download = {
      type,
      chunks: new RequestTable(this.#s.options.clock ?? defaultTimers),
      stop: new AbortController(),
      request: undefined,
    };
    this.#downloads.set(requestId, download);
    let received = 0;
    try {
      for (let index = 0; size === undefined || received < size; index++) {
        const chunk = await this.#fetchChunk(download, requestId, index, o);
        const expected = size === undefined ? undefined : Math.min(o.chunkSize, size - received);
        if (
          (expected !== undefined && chunk.length !== expected) || chunk.length > o.chunkSize
        ) {
          throw new OtaError(
            "SIZE_MISMATCH",
            `Cannot update ${type}: chunk ${index} has ${chunk.length} bytes, expected ${
              expected ?? `at most ${o.chunkSize}`
            }`,
          );
        }
        received += chunk.length;
        if (received > o.maxSize) throw tooLargeError(type, undefined, o.maxSize);
        await consume(chunk);
        o.onProgress?.({ received, total: size });
        if (size === undefined && chunk.length < o.chunkSize) break;
      }
    } finally {
      this.#downloads.delete(requestId);
      download.stop.abort();
    }
  }

  async #fetchChunk(
    d: Download,
    requestId: number,
    index: number,
    o: DownloadOptions,
  ): Promise<Uint8Array> {
    const p = prefixOf(d.type);
    const topic = `v2/${p}/request/${requestId}/chunk/${index}`;
    const payload = encoder.encode(String(o.chunkSize));
    const stop = o.signal ? AbortSignal.any([o.signal, d.stop.signal]) : d.stop.signal;
    for (let attempt = 0;; attempt++) {
      const what = `Cannot download ${d.type} chunk ${index}`;
      const response = d.chunks.wait(index, { timeout: o.timeout, signal: o.signal, what });
      // QoS 0: a lost request is asked again after a reconnect or the timeout; a QoS 1 one
      // would be re-sent after a reconnect even when stale (or when the server closed the
      // session because of it).
      d.request = () => {
        this.#s.publish(`${d.type} chunk request`, topic, payload, 0, stop)
          .catch((error) => d.chunks.reject(index, error));
      };
      d.request();
      try {
        return await response;
      } catch (error) {
        if (!isTimeout(error)) throw error;
        if (attempt >= o.retries) {
          throw new OtaError(
            "TIMEOUT",
            `${what}: no response within ${o.timeout} ms after ${attempt + 1} attempts`,
            { cause: error },
          );
        }
        this.#s.logger.warn("OTA chunk did not arrive in time; asking again", {
          requestId,
          chunk: index,
          attempt: attempt + 1,
        });
      }
    }
  }

  /**
   * Subscribes once per client to the chunk responses and errors of `type`.
   * ThingsBoard sends them without a subscription (and accepts these
   * filters); a plain broker between device and server needs them. Waits at
   * most one chunk timeout for the SUBACK (offline, the MQTT client sends the
   * subscription on the next connection); a refusal is only logged.
   */
  async #subscribe(type: OtaType, o: DownloadOptions): Promise<void> {
    if (this.#subscribed.has(type)) return;
    const p = prefixOf(type);
    const filters = [`v2/${p}/response/+/chunk/+`, "v2/fw/error"];
    if (type === "software") filters.push("v2/sw/error");
    const timers = this.#s.options.clock ?? defaultTimers;
    let timer: unknown;
    const expired = new Promise<void>((resolve) => timer = timers.setTimeout(resolve, o.timeout));
    const subscribed = this.#s.mqtt.subscribe(
      filters.map((topicFilter) => ({ topicFilter, qos: 1 as const, noLocal: true })),
      o.signal ? { signal: o.signal } : {},
    ).then(
      () => void this.#subscribed.add(type),
      (error: Error) => {
        if (error instanceof SubscribeError) this.#subscribed.add(type);
        this.#s.logger.info("No OTA subscriptions; ThingsBoard answers without them", {
          topicFilters: filters,
          error: error.message,
        });
      },
    );
    try {
      await Promise.race([subscribed, expired]);
    } finally {
      timers.clearTimeout(timer);
    }
    o.signal?.throwIfAborted();
  }

  #allocateRequestId(): number {
    for (;;) {
      const id = this.#nextRequestId;
      this.#nextRequestId = id >= MAX_REQUEST_ID ? 1 : id + 1;
      if (!this.#downloads.has(id)) return id;
    }
  }
}
