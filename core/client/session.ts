/**
 * The machinery behind {@linkcode TBDeviceMqttClient}: the MQTT connection,
 * the ThingsBoard subscriptions, session limits, size checks, echo
 * filtering, and request/response correlation. The client class is the
 * documented surface over it.
 *
 * @module
 */

import type { ConnackPacket } from "../codec/types.ts";
import {
  ConnectionClosedError,
  ConnectionRefusedError,
  type Logger,
  MqttClient,
  PayloadTooLargeError,
  SubscribeError,
} from "../mqtt/mod.ts";
import { timeoutError } from "../mqtt/_dom_errors.ts";
import { encodeJson, type JsonValue, type PayloadSerializer, type Telemetry } from "../payload.ts";
import { refusalMeaning } from "./_refusal.ts";
import { EchoFilter } from "./echo.ts";
import { InvalidMessageError, TooManyDataPointsError } from "./errors.ts";
import type { TBDeviceMqttClientEventMap } from "./events.ts";
import { checkSize, parseSessionLimits, publishSize, type SessionLimits } from "./limits.ts";
import {
  type ResolvedOptions,
  resolveEngine,
  resolveOptions,
  type TBDeviceMqttClientOptions,
} from "./options.ts";
import { checkTimeout, defaultTimers, type RequestTable, waitFor } from "./requests.ts";
import { countDataPoints, largestRequest, RateLimiter } from "./ratelimit.ts";
import { firstKey, type SplitLimits } from "./split.ts";
import { Router } from "./router.ts";
import { rpcResult } from "./rpc.ts";
import { Topics } from "./topics.ts";

/** A telemetry or attributes message sent before the limits in force were known. */
interface Unchecked {
  what: string;
  points: number;
  /** Aborts its publish (a queued message is dropped, an in-flight one not resent). */
  guard: AbortController;
}

/** Longest wait for the answer to the background `getSessionLimits`, ms. */
const LIMITS_TIMEOUT = 10_000;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Dispatches one of the client's events. */
export type Emit = <K extends keyof TBDeviceMqttClientEventMap>(
  type: K,
  detail: TBDeviceMqttClientEventMap[K]["detail"],
) => void;

/** Timeout and signal of one request. */
export interface WaitSpec {
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** One client's connection and bookkeeping. */
export class Session {
  /** The generic MQTT client. */
  readonly mqtt: MqttClient;
  /** Options with defaults. */
  readonly options: ResolvedOptions;
  /** Diagnostics. */
  readonly logger: Logger;
  /** JSON serializer of the engine. */
  readonly serializer: PayloadSerializer;
  /** Inbound routing, correlation tables, subscriptions, inbox. */
  readonly router: Router;
  /** Limits from the server, once known. */
  limits: SessionLimits | undefined;
  /** Largest message sent. */
  maxPayloadSize: number;
  #emit: Emit;
  #echo: EchoFilter;
  #usesToken: boolean;
  #connectTimeout: number;
  #now: () => number;
  #limiter: RateLimiter | undefined;
  /** Most data points one message may have (ThingsBoard's smallest telemetryDataPoints bucket). */
  #maxDataPoints = Infinity;
  /** Messages sent before the limits in force were known, until they settle. */
  #unchecked = new Set<Unchecked>();
  #sleeps = new Set<{ timer: unknown; fail(error: Error): void }>();
  /** The pending limits request: aborts it, and settles with it (whatever its outcome). */
  #limitsFetch: { controller: AbortController; settled: Promise<void> } | undefined;

  /**
   * Creates the session (nothing is connected yet).
   *
   * @param userOptions The client's options.
   * @param emit Dispatches the client's events.
   */
  constructor(userOptions: TBDeviceMqttClientOptions, emit: Emit) {
    const { tb, mqtt } = resolveOptions(userOptions);
    const engine = resolveEngine(tb.engine);
    this.options = tb;
    this.logger = tb.logger ?? silent;
    this.serializer = engine.serializer;
    this.maxPayloadSize = tb.maxPayloadSize;
    this.#emit = emit;
    this.#usesToken = userOptions.accessToken !== undefined;
    this.#connectTimeout = userOptions.connectTimeout ?? 10_000;
    this.mqtt = new MqttClient({
      ...mqtt,
      codec: engine.codec,
      // The limits request goes ahead of resent and queued messages: a message over them that
      // came first would get the session closed before ThingsBoard answered, every time.
      onSessionStart: () => {
        // Before the limits request, which a 3.1.1 broker may send back.
        this.#echo.connected(this.mqtt.protocolVersion === 4);
        this.#fetchLimits();
      },
    });
    this.router = new Router({
      logger: this.logger,
      report: (error) => emit("error", error),
      reply: (id, value) => this.sendJson("RPC reply", tb.topics.rpcResponse + id, value, tb.qos),
      topics: tb.topics,
      dispatch: tb.dispatch,
      pollQueueSize: tb.pollQueueSize,
      timers: tb.clock ?? defaultTimers,
    });
    const clock = tb.clock;
    this.#now = clock ? () => clock.now() : () => performance.now();
    this.#echo = new EchoFilter(this.#now);
    this.mqtt.addEventListener("message", (e) => {
      const packet = e.detail;
      // MQTT 5 subscriptions use No Local; on 3.1.1 a broker sends our own messages back.
      if (this.mqtt.protocolVersion === 4 && this.#echo.isEcho(packet.topic, packet.payload)) {
        this.logger.debug("Ignored the echo of our own message", { topic: packet.topic });
        return;
      }
      this.router.route(packet);
    });
    this.mqtt.addEventListener("disconnect", () => this.#echo.disconnected());
    for (const type of ["disconnect", "reconnecting", "error"] as const) {
      this.mqtt.addEventListener(type, (e) => emit(type, e.detail));
    }
    this.mqtt.addEventListener("connect", (e) => emit("connect", e.detail));
  }

  /** Messages remembered to recognize their 3.1.1 echo (none on MQTT 5). */
  get echoBacklog(): number {
    return this.#echo.size;
  }

  /**
   * Connects, subscribes, and starts fetching the session limits.
   *
   * @param options Timeout and signal.
   * @returns The CONNACK.
   */
  async connect(options: WaitSpec): Promise<ConnackPacket> {
    let connack: ConnackPacket;
    try {
      connack = await this.mqtt.connect(withDefined(options));
    } catch (error) {
      if (!(error instanceof ConnectionRefusedError)) throw error;
      const refused = new ConnectionRefusedError(
        error.protocolVersion === 5 ? error.reasonCode : error.returnCode,
        error.protocolVersion,
        refusalMeaning(error.reasonCode, this.#usesToken),
      );
      (refused as { cause?: unknown }).cause = error;
      throw refused;
    }
    // The SUBACK gets the same time as the CONNACK did.
    const timeout = options.timeout ?? this.#connectTimeout;
    const timers = this.options.clock ?? defaultTimers;
    const expiry = new AbortController();
    const timer = timers.setTimeout(() => {
      expiry.abort(timeoutError(`Cannot connect: no SUBACK within ${timeout} ms`));
    }, timeout);
    const signal = options.signal
      ? AbortSignal.any([options.signal, expiry.signal])
      : expiry.signal;
    try {
      await this.#subscribe(signal);
    } catch (error) {
      await this.mqtt.disconnect({ timeout: 0 }).catch(() => {});
      throw error;
    } finally {
      timers.clearTimeout(timer as number);
    }
    return connack;
  }

  async #subscribe(signal: AbortSignal): Promise<void> {
    const { topics, sessionLimits } = this.options;
    const filters = [...topics.subscriptions];
    // The session-limits call has only a v1 topic; its reply comes back there.
    if (sessionLimits && topics.rpcResponse !== Topics.rpcResponse) {
      filters.push(`${Topics.rpcResponse}+`);
    }
    let codes: number[];
    try {
      codes = await this.mqtt.subscribe(
        // No Local (MQTT 5): a broker must not send our own client attributes and RPC back.
        filters.map((topicFilter) => ({ topicFilter, qos: 1 as const, noLocal: true })),
        { signal },
      );
    } catch (error) {
      if (!(error instanceof SubscribeError)) throw error;
      codes = error.reasonCodes;
    }
    const failed = filters.filter((_, i) => (codes[i] ?? 0x80) >= 0x80);
    if (failed.length > 0) {
      this.logger.warn("ThingsBoard refused subscriptions", { topicFilters: failed });
      this.#emit("error", new SubscribeError(filters, codes, this.mqtt.protocolVersion));
    }
  }

  /**
   * Asks for the session limits in the background: at most one request at a
   * time (a reconnect replaces the previous one), never failing anything
   * but itself, and only logged (a plain broker never answers).
   */
  #fetchLimits(): void {
    if (!this.options.sessionLimits) return;
    this.#limitsFetch?.controller.abort();
    const controller = new AbortController();
    const timeout = Math.min(this.options.requestTimeout, LIMITS_TIMEOUT);
    const settled = this.getSessionLimits({ timeout, signal: controller.signal }).then(
      () => {},
      (error: Error) => {
        if (controller.signal.aborted || error instanceof ConnectionClosedError) {
          this.logger.debug("Stopped waiting for session limits", { error: error.message });
          return;
        }
        this.logger.info("No session limits from the server; keeping the defaults", {
          error: error.message,
          maxPayloadSize: this.maxPayloadSize,
        });
      },
    ).finally(() => {
      if (this.#limitsFetch === pending) this.#limitsFetch = undefined;
    });
    const pending = { controller, settled };
    this.#limitsFetch = pending;
  }

  /**
   * Asks for the session limits and applies them.
   *
   * @param options Timeout and signal.
   * @returns The limits.
   */
  async getSessionLimits(options: WaitSpec): Promise<SessionLimits> {
    const reply = await this.call("getSessionLimits", {}, options, true);
    let limits: SessionLimits;
    try {
      limits = parseSessionLimits(reply);
    } catch (e) {
      throw new InvalidMessageError(
        `Cannot parse session limits: ${(e as Error).message}`,
        Topics.rpcResponse,
      );
    }
    this.limits = limits;
    this.maxPayloadSize = limits.maxPayloadSize;
    this.#maxDataPoints = largestRequest(limits.rateLimits.telemetryDataPoints);
    for (const u of this.#unchecked) {
      if (u.points <= this.#maxDataPoints) continue;
      this.#unchecked.delete(u);
      this.logger.warn("Withdrew a message over the data point limit of one message", {
        what: u.what,
        dataPoints: u.points,
        limit: this.#maxDataPoints,
      });
      u.guard.abort(new TooManyDataPointsError(u.what, u.points, this.#maxDataPoints));
    }
    if (this.options.rateLimits) {
      // Asked again after every connect: unchanged limits keep their buckets (see RateLimiter).
      this.#limiter = new RateLimiter(limits.rateLimits, this.#now(), this.#limiter);
    }
    this.#emit("sessionlimits", limits);
    return limits;
  }

  /**
   * Disconnects and fails pending requests.
   *
   * @param options Flush timeout.
   */
  async disconnect(options: { timeout?: number }): Promise<void> {
    try {
      await this.mqtt.disconnect(withDefined(options));
    } finally {
      const closed = new ConnectionClosedError("Cannot send: the client disconnected");
      for (const sleep of [...this.#sleeps]) sleep.fail(closed);
      this.router.close(
        new ConnectionClosedError("Cannot complete request: the client disconnected"),
      );
    }
  }

  /**
   * Checks a QoS option.
   *
   * @param qos Per-call QoS, or undefined for the client's.
   * @returns 0 or 1.
   * @throws {RangeError} for anything else.
   */
  qos(qos: number | undefined): 0 | 1 {
    const q = qos ?? this.options.qos;
    if (q !== 0 && q !== 1) {
      throw new RangeError(
        `Cannot publish: QoS ${
          String(q)
        } is not supported (ThingsBoard implements QoS 0 and 1); use qos 0 or 1`,
      );
    }
    return q;
  }

  /**
   * Publishes serialized bytes after the size check.
   *
   * @param what What is sent, for errors.
   * @param topic Topic.
   * @param payload Bytes.
   * @param qos QoS.
   * @param signal Stops waiting (a queued message is dropped).
   * @param dataPoints Counts the data points of telemetry/attributes (for
   * rate limits; called only once limits apply); `undefined` for other messages.
   * @param immediate Hand it to the connection now, without waiting for the
   * rate limits (its token is still taken).
   */
  async publish(
    what: string,
    topic: string,
    payload: Uint8Array,
    qos: 0 | 1,
    signal?: AbortSignal,
    dataPoints?: () => number,
    immediate = false,
  ): Promise<void> {
    const size = publishSize(topic, payload.length, qos, this.mqtt.protocolVersion);
    checkSize(what, size, this.maxPayloadSize);
    const points = dataPoints && (this.#limiter || this.#maxDataPoints < Infinity || this.#unsure())
      ? dataPoints()
      : undefined;
    this.#checkDataPoints(what, points);
    const wait = this.#limiter?.reserve(points, this.#now()) ?? 0;
    if (wait > 0 && !immediate) {
      this.logger.debug("Pacing by ThingsBoard's rate limits", { topic, wait });
      await this.#sleep(wait, signal);
      // New limits may have come while it waited.
      this.#checkDataPoints(what, points);
    }
    let unchecked: Unchecked | undefined;
    if (points !== undefined && points > 0 && this.#unsure()) {
      // Withdrawn (not resent after a reconnect) if the limits turn out to forbid it.
      unchecked = { what, points, guard: new AbortController() };
      this.#unchecked.add(unchecked);
      const guard = unchecked.guard.signal;
      signal = signal ? AbortSignal.any([signal, guard]) : guard;
    }
    // Only a 3.1.1 connection echoes (MQTT 5 subscriptions use No Local); offline, the level
    // of the connection that will send the message is not known yet.
    const offline = !this.mqtt.connected;
    const sending = this.mqtt.publish(topic, payload, signal ? { qos, signal } : { qos });
    if (unchecked) {
      const done = () => this.#unchecked.delete(unchecked);
      sending.then(done, done);
    }
    const echoes = this.options.topics;
    if (
      (offline || this.mqtt.protocolVersion === 4) &&
      (topic === echoes.attributes || topic.startsWith(echoes.rpcRequest) ||
        topic.startsWith(echoes.rpcResponse))
    ) {
      // Its echo window starts at the PUBACK (QoS 0: once written), not now: a broker that
      // stalls before handling the message may still send it back after the window.
      this.#echo.track(topic, payload, offline, sending);
    }
    await sending;
  }

  /**
   * Whether the limits a message handed over now will meet are not known
   * yet: they are being asked for, or (offline) will be on the next
   * connection. A server that never answers leaves no request pending.
   */
  #unsure(): boolean {
    return this.options.sessionLimits && (this.#limitsFetch !== undefined || !this.mqtt.connected);
  }

  /** ThingsBoard closes the session for a message over the limit, again after every reconnect. */
  #checkDataPoints(what: string, points: number | undefined): void {
    if (points !== undefined && points > this.#maxDataPoints) {
      throw new TooManyDataPointsError(what, points, this.#maxDataPoints);
    }
  }

  /**
   * Waits until a pending limits request settled (answered, failed or
   * replaced), so that data is split by the limits in force.
   *
   * @param signal Stops waiting.
   */
  async #limitsSettled(signal?: AbortSignal): Promise<void> {
    while (this.#limitsFetch !== undefined) {
      const pending = this.#limitsFetch;
      signal?.throwIfAborted();
      await waitFor(pending.settled, signal);
      if (this.#limitsFetch === pending) return;
    }
  }

  /** What one telemetry or attributes message on `topic` may hold now. */
  #splitLimits(topic: string, qos: 0 | 1): SplitLimits {
    const version = this.mqtt.protocolVersion;
    let bytes = this.maxPayloadSize - publishSize(topic, 0, qos, version);
    // A longer payload may need a longer Remaining Length field.
    while (bytes > 0 && publishSize(topic, bytes, qos, version) > this.maxPayloadSize) bytes--;
    return { dataPoints: this.#maxDataPoints, bytes };
  }

  /**
   * Publishes validated data in as many messages as the limits in force
   * require (waiting for a pending limits request first), in order: all
   * parts are checked (size) before any is sent; resolves when every part
   * settled, rejects with the first failure.
   *
   * @param what `"telemetry"` or `"attributes"`.
   * @param topic Topic.
   * @param qos QoS.
   * @param signal Stops waiting.
   * @param split Splits the data within the given limits.
   */
  async publishSplit(
    what: string,
    topic: string,
    qos: 0 | 1,
    signal: AbortSignal | undefined,
    split: (limits: SplitLimits) => Telemetry[],
  ): Promise<void> {
    await this.#limitsSettled(signal);
    const parts = split(this.#splitLimits(topic, qos));
    const encoded = parts.map((part) => this.serializer(part));
    const version = this.mqtt.protocolVersion;
    for (const [i, bytes] of encoded.entries()) {
      const size = publishSize(topic, bytes.length, qos, version);
      if (size <= this.maxPayloadSize) continue;
      // Only a part of one value can be too large.
      const error = new PayloadTooLargeError(size, this.maxPayloadSize, what);
      error.message = `Cannot send ${what}: the value of "${firstKey(parts[i]!)}" alone makes a ` +
        `${size}-byte message, the limit is ${this.maxPayloadSize} bytes; send a smaller value`;
      throw error;
    }
    const sent = encoded.map((bytes, i) =>
      this.publish(what, topic, bytes, qos, signal, () => countDataPoints(parts[i]!))
    );
    const results = await Promise.allSettled(sent);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const timers = this.options.clock ?? defaultTimers;
    return new Promise<void>((resolve, reject) => {
      signal?.throwIfAborted();
      const entry = {
        timer: timers.setTimeout(() => done(), ms),
        fail: (error: Error) => done(error),
      };
      const onAbort = () => done(signal?.reason as Error);
      const done = (error?: Error) => {
        this.#sleeps.delete(entry);
        timers.clearTimeout(entry.timer as number);
        signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#sleeps.add(entry);
    });
  }

  /**
   * Validates, serializes and publishes a JSON value.
   *
   * @param what What is sent, for errors.
   * @param topic Topic.
   * @param value The value.
   * @param qos QoS.
   * @param signal Stops waiting.
   */
  sendJson(
    what: string,
    topic: string,
    value: unknown,
    qos: 0 | 1,
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      return this.publish(what, topic, encodeJson(value, what, this.serializer), qos, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Publishes a request on `prefix + id` and waits for the response with that id.
   *
   * @param table The correlation table.
   * @param what Message prefix for errors ("Cannot request attributes").
   * @param prefix Topic prefix.
   * @param payload Serialized request.
   * @param options Timeout and signal.
   * @param own The client's own request (an id of its own range, see {@linkcode RequestTable.allocateOwn}).
   * @returns The response.
   */
  request<T>(
    table: RequestTable<T>,
    what: string,
    prefix: string,
    payload: Uint8Array,
    options: WaitSpec,
    own = false,
  ): Promise<T> {
    const timeout = checkTimeout(options.timeout ?? this.options.requestTimeout, what);
    options.signal?.throwIfAborted();
    const id = own ? table.allocateOwn() : table.allocate();
    const response = table.wait(id, {
      timeout,
      signal: options.signal,
      what: `${what} (request ${id})`,
    });
    // The client's own request is not paced: it must reach the connection at once (see
    // `onSessionStart`), and it is one message per connection.
    this.publish(what, prefix + id, payload, this.options.qos, undefined, undefined, own)
      .catch((error) => table.reject(id, error));
    return response;
  }

  /**
   * Calls a client-side RPC.
   *
   * @param method Method.
   * @param params Params.
   * @param options Timeout and signal.
   * @param own The client's own call (`getSessionLimits`), with an id from the top of the range.
   * @returns The reply.
   */
  async call(
    method: string,
    params: unknown,
    options: WaitSpec,
    own = false,
  ): Promise<JsonValue> {
    if (typeof method !== "string" || method === "") {
      throw new TypeError("Cannot send RPC call: method must be a non-empty string");
    }
    const body = encodeJson({ method, params }, "RPC call", this.serializer);
    const reply = await this.request(
      this.router.rpcCalls,
      `Cannot complete RPC "${method}"`,
      // ThingsBoard answers getSessionLimits on the v1 topic only.
      own ? Topics.rpcRequest : this.options.topics.rpcRequest,
      body,
      options,
      own,
    );
    return rpcResult(method, reply);
  }
}

/** Drops `undefined` properties (for `exactOptionalPropertyTypes` targets). */
function withDefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}
