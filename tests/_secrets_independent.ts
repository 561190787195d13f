/**
 * Helpers of the independent "no secret is observable" suite: distinctive
 * secrets, their obvious encodings, a recorder of everything a caller can
 * observe (log lines with their fields, event details, rejections, string
 * forms of clients), and clients wired to such a recorder.
 *
 * @module
 */

import type { Logger } from "../core/mqtt/mod.ts";
import { MqttClient, TBDeviceMqttClient, TBGatewayMqttClient } from "../mod.ts";

/** Distinctive secrets; none of them may ever be observable. */
export const SECRET = {
  token: "TOKEN_SECRET_7f3a",
  password: "PASSWORD_SECRET_91bc",
  gatewayToken: "GATEWAY_TOKEN_SECRET_2c5e",
  provisionKey: "PROVISION_KEY_SECRET_5d2e",
  provisionSecret: "PROVISION_SECRET_SECRET_c4a8",
  wantedToken: "WANTED_TOKEN_SECRET_3b9d",
  wantedPassword: "WANTED_PASSWORD_SECRET_e61f",
  issuedToken: "ISSUED_TOKEN_SECRET_8a41",
  claimKey: "CLAIM_KEY_SECRET_d07b",
} as const;

/** Engines × protocol levels every path runs with. */
export const MATRIX: readonly { engine: "ts" | "wasm"; protocolVersion: 4 | 5 }[] = [
  { engine: "ts", protocolVersion: 5 },
  { engine: "ts", protocolVersion: 4 },
  { engine: "wasm", protocolVersion: 5 },
  { engine: "wasm", protocolVersion: 4 },
];

const enc = new TextEncoder();

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/**
 * The base64 text of `bytes` wherever they sit in a longer base64-encoded
 * buffer: one fully determined substring per alignment (0, 1, 2 bytes before).
 */
function base64Alignments(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const padded = new Uint8Array(k + bytes.length);
    padded.set(bytes, k);
    const text = base64(padded);
    const start = Math.ceil((8 * k) / 6);
    const end = Math.floor((8 * (k + bytes.length)) / 6);
    const part = text.slice(start, end);
    out.push(part, part.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return out;
}

/**
 * The forms in which `secret` could show up: itself, URL-encoded, base64
 * (every alignment, also base64url), hex (both cases), and its bytes as a
 * list (`Deno.inspect` / `Array.from` of a `Uint8Array`) or as the object
 * `JSON.stringify` makes of a `Uint8Array`.
 *
 * @param secret The secret, as text or bytes.
 * @returns Needles to look for.
 */
export function encodingsOf(secret: string | Uint8Array): string[] {
  const bytes = typeof secret === "string" ? enc.encode(secret) : secret;
  const out = new Set<string>();
  if (typeof secret === "string") {
    out.add(secret);
    out.add(encodeURIComponent(secret));
    out.add(JSON.stringify(secret).slice(1, -1));
  }
  for (const b of base64Alignments(bytes)) out.add(b);
  out.add(hex(bytes));
  out.add(hex(bytes).toUpperCase());
  out.add(Array.from(bytes).join(","));
  out.add(Array.from(bytes).join(", "));
  out.add(Array.from(bytes, (b, i) => `"${i}":${b}`).join(","));
  return [...out].filter((n) => n.length >= 8);
}

/** A named needle. */
export interface Needle {
  /** Which secret and which encoding. */
  label: string;
  /** The text searched for. */
  text: string;
}

/**
 * Needles for named secrets (every encoding of each).
 *
 * @param secrets Name → secret.
 * @returns The needles.
 */
export function needlesFor(secrets: Record<string, string | Uint8Array>): Needle[] {
  const out: Needle[] = [];
  for (const [name, secret] of Object.entries(secrets)) {
    for (const text of encodingsOf(secret)) out.push({ label: name, text });
  }
  return out;
}

/** The needles of every {@linkcode SECRET}. */
export const SECRET_NEEDLES: Needle[] = needlesFor(SECRET);

/** Where a needle was found. */
export interface Finding {
  needle: Needle;
  source: string;
  excerpt: string;
}

/**
 * Looks for every needle in every haystack.
 *
 * @param haystacks Source label → text.
 * @param needles Needles.
 * @returns What was found.
 */
export function findSecrets(
  haystacks: readonly { source: string; text: string }[],
  needles: readonly Needle[],
): Finding[] {
  const found: Finding[] = [];
  for (const h of haystacks) {
    // Also without white space: line-wrapped base64, byte lists printed over several lines.
    for (const text of [h.text, h.text.replace(/\s+/g, "")]) {
      const lower = text.toLowerCase();
      for (const n of needles) {
        // Hex is compared case-insensitively; everything else exactly.
        const at = /^[0-9a-f]+$/i.test(n.text) && n.text.length % 2 === 0
          ? lower.indexOf(n.text.toLowerCase())
          : text.indexOf(n.text);
        if (at >= 0) {
          found.push({
            needle: n,
            source: h.source,
            excerpt: text.slice(Math.max(0, at - 80), at + n.text.length + 80),
          });
        }
      }
    }
  }
  return found;
}

function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Uint8Array) return Array.from(v);
      if (v instanceof Error) return errorObject(v);
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[circular]";
        seen.add(v);
      }
      return v;
    }) ?? "undefined";
  } catch (e) {
    return `[unserializable: ${String(e)}]`;
  }
}

/** An error as a plain object: name, message, stack, cause and own properties. */
function errorObject(e: Error): Record<string, unknown> {
  const o: Record<string, unknown> = { name: e.name, message: e.message, stack: e.stack };
  for (const key of Object.getOwnPropertyNames(e)) {
    o[key] = (e as unknown as Record<string, unknown>)[key];
  }
  if ("cause" in e) o.cause = e.cause;
  if (e instanceof AggregateError) o.errors = e.errors;
  return o;
}

/**
 * Every text form of a value: `JSON.stringify` (errors expanded), deep
 * `Deno.inspect` (hidden properties too), `String()`, and for errors the
 * message, stack and own properties of each one in the cause chain.
 *
 * @param value Anything observable.
 * @returns The texts, joined.
 */
export function dump(value: unknown): string {
  const parts: string[] = [safeJson(value)];
  parts.push(Deno.inspect(value, { depth: 10, showHidden: true, iterableLimit: 10_000 }));
  try {
    parts.push(String(value));
  } catch {
    // an object without toString
  }
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number): void => {
    if (depth > 10 || v === null || typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    if (v instanceof Error) {
      parts.push(v.name, v.message, v.stack ?? "", String(v));
      if ("cause" in v) walk(v.cause, depth + 1);
      if (v instanceof AggregateError) { for (const e of v.errors) walk(e, depth + 1); }
    }
    for (const key of Object.getOwnPropertyNames(v)) {
      let inner: unknown;
      try {
        inner = (v as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      if (typeof inner === "string") parts.push(inner);
      else if (inner instanceof Uint8Array) parts.push(Array.from(inner).join(","));
      else walk(inner, depth + 1);
    }
  };
  walk(value, 0);
  return parts.join("\n");
}

/** Collects everything a user of a client can observe. */
export class Recorder {
  /** Everything recorded, by source. */
  readonly entries: { source: string; text: string }[] = [];
  /** Count of log calls per level. */
  readonly logCounts = { debug: 0, info: 0, warn: 0, error: 0 };
  /** Count of events per type. */
  readonly eventCounts: Record<string, number> = {};
  /** Rejections recorded. */
  readonly errors: unknown[] = [];

  /** A logger that records every call, at every level, with its fields. */
  readonly logger: Logger = {
    debug: (msg, data) => this.#log("debug", msg, data),
    info: (msg, data) => this.#log("info", msg, data),
    warn: (msg, data) => this.#log("warn", msg, data),
    error: (msg, data) => this.#log("error", msg, data),
  };

  #log(level: keyof Recorder["logCounts"], msg: string, data?: Record<string, unknown>): void {
    this.logCounts[level]++;
    this.entries.push({
      source: `log.${level}`,
      text: `${msg}\n${safeJson(data)}\n${dump(data)}`,
    });
  }

  /**
   * Records every event of `types` dispatched by `target`.
   *
   * @param target The client.
   * @param types Event names.
   * @param label Prefix of the source label.
   */
  listen(target: EventTarget, types: readonly string[], label = "event"): void {
    for (const type of types) {
      target.addEventListener(type, (e) => {
        this.eventCounts[type] = (this.eventCounts[type] ?? 0) + 1;
        const detail = (e as CustomEvent).detail;
        this.entries.push({ source: `${label}.${type}`, text: dump(detail) });
      });
    }
  }

  /**
   * Records a value (an error, a result, a client).
   *
   * @param source Label.
   * @param value The value.
   */
  add(source: string, value: unknown): void {
    this.entries.push({ source, text: dump(value) });
  }

  /**
   * Awaits `promise`, which must reject, and records the error.
   *
   * @param source Label.
   * @param promise The promise.
   * @returns The error.
   */
  async rejection(source: string, promise: Promise<unknown>): Promise<unknown> {
    try {
      await promise;
    } catch (e) {
      this.errors.push(e);
      this.add(`rejection.${source}`, e);
      return e;
    }
    throw new Error(`${source}: expected a rejection, got a result`);
  }

  /**
   * Records the synchronous throw of `fn`, which must throw.
   *
   * @param source Label.
   * @param fn The call.
   * @returns The error.
   */
  thrown(source: string, fn: () => unknown): unknown {
    try {
      fn();
    } catch (e) {
      this.errors.push(e);
      this.add(`throw.${source}`, e);
      return e;
    }
    throw new Error(`${source}: expected a throw`);
  }

  /**
   * Records `String(x)`, `Deno.inspect(x, {depth: 5})` and `JSON.stringify(x)` of a client.
   *
   * @param source Label.
   * @param client The client.
   */
  client(source: string, client: object): void {
    this.entries.push({
      source: `client.${source}`,
      text: [
        String(client),
        Deno.inspect(client, { depth: 5 }),
        Deno.inspect(client, { depth: 5, showHidden: true }),
        safeJson(client),
      ].join("\n"),
    });
  }

  /**
   * Throws when any needle occurs in anything recorded.
   *
   * @param needles Needles (default: every {@linkcode SECRET}).
   */
  assertClean(needles: readonly Needle[] = SECRET_NEEDLES): void {
    const found = findSecrets(this.entries, needles);
    if (found.length === 0) return;
    const lines = found.slice(0, 10).map((f) =>
      `- ${f.needle.label} (as ${JSON.stringify(f.needle.text)}) in ${f.source}: …${f.excerpt}…`
    );
    throw new Error(`Secret observable (${found.length} finding(s)):\n${lines.join("\n")}`);
  }

  /** All recorded text (for positive checks). */
  get text(): string {
    return this.entries.map((e) => e.text).join("\n");
  }
}

/** Event types of the device client (and the generic MQTT client, plus `message`). */
export const DEVICE_EVENTS = ["connect", "disconnect", "reconnecting", "error", "sessionlimits"];
/** Event types of the gateway client. */
export const GATEWAY_EVENTS = [...DEVICE_EVENTS, "devicedisconnect", "deviceannounce"];
/** Event types of the generic MQTT client. */
export const MQTT_EVENTS = ["connect", "disconnect", "reconnecting", "error", "message"];

/** Has `rec` record every event of `types` that `client` dispatches; returns `client`. */
function recorded<C extends EventTarget>(
  rec: Recorder,
  client: C,
  types: readonly string[],
  label?: string,
): C {
  rec.listen(client, types, label);
  return client;
}

/**
 * A device client that logs to `rec` and whose events `rec` records.
 *
 * @param rec The recorder.
 * @param options Client options (the logger is `rec`'s).
 * @returns The client.
 */
export function deviceClient(
  rec: Recorder,
  options: ConstructorParameters<typeof TBDeviceMqttClient>[0],
): TBDeviceMqttClient {
  return recorded(rec, new TBDeviceMqttClient({ ...options, logger: rec.logger }), DEVICE_EVENTS);
}

/**
 * A gateway client that logs to `rec` and whose events `rec` records.
 *
 * @param rec The recorder.
 * @param options Client options (the logger is `rec`'s).
 * @param label Prefix of the event source labels.
 * @returns The client.
 */
export function gatewayClient(
  rec: Recorder,
  options: ConstructorParameters<typeof TBGatewayMqttClient>[0],
  label?: string,
): TBGatewayMqttClient {
  return recorded(
    rec,
    new TBGatewayMqttClient({ ...options, logger: rec.logger }),
    GATEWAY_EVENTS,
    label,
  );
}

/**
 * A generic MQTT client that logs to `rec` and whose events `rec` records.
 *
 * @param rec The recorder.
 * @param options Client options (the logger is `rec`'s).
 * @param label Prefix of the event source labels.
 * @returns The client.
 */
export function mqttClient(
  rec: Recorder,
  options: ConstructorParameters<typeof MqttClient>[0],
  label?: string,
): MqttClient {
  return recorded(rec, new MqttClient({ ...options, logger: rec.logger }), MQTT_EVENTS, label);
}

/**
 * Connects `client`, which must fail: records the rejection (as
 * `rejection.connect`), hands it to `check`, records the client (as
 * `client.after`) and disconnects it.
 *
 * @param rec The recorder.
 * @param client The client.
 * @param check Assertions on the error.
 */
export async function failedConnect(
  rec: Recorder,
  client: { connect(): Promise<unknown>; disconnect(): Promise<void> },
  check?: (e: unknown) => void,
): Promise<void> {
  const e = await rec.rejection("connect", client.connect());
  check?.(e);
  rec.client("after", client);
  await client.disconnect();
}
