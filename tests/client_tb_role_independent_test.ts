/**
 * An independent scenario suite: MQTT.js plays ThingsBoard's side of the
 * device MQTT API over a real Mosquitto broker, and every API row of
 * `TBDeviceMqttClient` is checked by the exact topics and JSON that reach
 * that peer, on MQTT 5 and 3.1.1 and with both engines.
 *
 * Written from the device API specification and the public docs only.
 *
 * @module
 */

import mqtt from "mqtt";
import type { MqttClient as MqttJsClient } from "mqtt";
import assert from "node:assert/strict";
import {
  type AttributeUpdate,
  ConnectionClosedError,
  InvalidAttributeKeyError,
  InvalidPayloadError,
  PayloadTooLargeError,
  ProvisionError,
  RpcError,
  type RpcRequest,
  TBDeviceMqttClient,
  type TBDeviceMqttClientOptions,
  TelemetryBatch,
} from "../mod.ts";
import { type Mosquitto, startMosquitto } from "./_mosquitto.ts";

// ---------------------------------------------------------------------------
// Helpers

const ME = "v1/devices/me";
const LIMITS_ID = 2_147_483_647;
const DEFAULT_LIMITS = {
  maxPayloadSize: 65_536,
  maxInflightMessages: 100,
  rateLimits: { messages: null, telemetryMessages: null, telemetryDataPoints: null },
};

interface Variant {
  protocolVersion: 4 | 5;
  engine: "ts" | "wasm";
  label: string;
}

const V5_WASM: Variant = { protocolVersion: 5, engine: "wasm", label: "[MQTT 5, wasm]" };
const V4_WASM: Variant = { protocolVersion: 4, engine: "wasm", label: "[MQTT 3.1.1, wasm]" };
const V5_TS: Variant = { protocolVersion: 5, engine: "ts", label: "[MQTT 5, ts]" };
const V4_TS: Variant = { protocolVersion: 4, engine: "ts", label: "[MQTT 3.1.1, ts]" };

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something other than `undefined`/`false`. */
async function until<T>(
  probe: () => T | undefined | false,
  what: string,
  timeout = 5000,
): Promise<T> {
  const end = Date.now() + timeout;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await delay(10);
  }
}

/** Awaits `p` but fails after `ms` (and clears its timer). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

let tokenCounter = 0;
const newToken = () => `TB_TOKEN_${Date.now().toString(36)}_${++tokenCounter}`;

/** A message the ThingsBoard-role peer received. */
interface Msg {
  topic: string;
  text: string;
  json: unknown;
  qos: number;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function idOf(topic: string, prefix: string): number | undefined {
  if (!topic.startsWith(prefix)) return undefined;
  const rest = topic.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

/** The MQTT.js side playing ThingsBoard on the broker. */
class TbPeer {
  readonly client: MqttJsClient;
  readonly received: Msg[] = [];
  /** The reply to `getSessionLimits`; `false` ignores the request. */
  limits: unknown = DEFAULT_LIMITS;
  /** Extra responders, run on every received message. */
  readonly responders: ((m: Msg) => void)[] = [];

  private constructor(client: MqttJsClient) {
    this.client = client;
    client.on("message", (topic, payload, packet) => {
      const text = new TextDecoder().decode(payload);
      const m: Msg = { topic, text, json: parse(text), qos: packet.qos };
      this.received.push(m);
      const id = idOf(topic, `${ME}/rpc/request/`);
      const method = (m.json as { method?: unknown } | undefined)?.method;
      if (id !== undefined && method === "getSessionLimits" && this.limits !== false) {
        this.publish(`${ME}/rpc/response/${id}`, this.limits).catch(() => {});
      }
      for (const r of this.responders) r(m);
    });
    client.on("error", () => {});
  }

  /** Connects and subscribes to everything a device sends (No Local: not our own messages). */
  static async start(
    port: number,
    options: { clientId?: string; persistent?: boolean } = {},
  ): Promise<TbPeer> {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      clientId: options.clientId ?? `tb-peer-${crypto.randomUUID().slice(0, 8)}`,
      clean: !options.persistent,
      ...(options.persistent ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      reconnectPeriod: options.persistent ? 100 : 0,
      connectTimeout: 5000,
      keepalive: 30,
    });
    const peer = new TbPeer(client);
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
    });
    await client.subscribeAsync({
      [`${ME}/#`]: { qos: 1, nl: true },
      "/provision/request": { qos: 1, nl: true },
    });
    return peer;
  }

  publish(topic: string, body: unknown, qos: 0 | 1 = 1): Promise<unknown> {
    const payload = typeof body === "string" ? body : JSON.stringify(body);
    return this.client.publishAsync(topic, payload, { qos });
  }

  /** What the device sent, without the background `getSessionLimits` requests. */
  traffic(): Msg[] {
    return this.received.filter((m) =>
      !(m.topic.startsWith(`${ME}/rpc/request/`) &&
        (m.json as { method?: unknown } | undefined)?.method === "getSessionLimits")
    );
  }

  on(topic: string): Msg[] {
    return this.traffic().filter((m) => m.topic === topic);
  }

  onPrefix(prefix: string): Msg[] {
    return this.traffic().filter((m) => m.topic.startsWith(prefix));
  }

  limitsRequests(): Msg[] {
    return this.received.filter((m) =>
      m.topic.startsWith(`${ME}/rpc/request/`) &&
      (m.json as { method?: unknown } | undefined)?.method === "getSessionLimits"
    );
  }

  waitOn(topic: string, count = 1, timeout = 5000): Promise<Msg[]> {
    return until(
      () => {
        const ms = this.on(topic);
        return ms.length >= count ? ms : undefined;
      },
      `${count} message(s) on ${topic} (have ${this.on(topic).length})`,
      timeout,
    );
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

interface Fixture {
  broker: Mosquitto;
  peer: TbPeer;
  token: string;
  options: TBDeviceMqttClientOptions;
  /** Creates a device client (closed by the fixture). */
  device(extra?: Partial<TBDeviceMqttClientOptions>): TBDeviceMqttClient;
}

/** Runs `fn` with a broker, a connected peer and a device-client factory; closes everything. */
async function withTb(variant: Variant, fn: (f: Fixture) => Promise<void>): Promise<void> {
  await using broker = await startMosquitto();
  const peer = await TbPeer.start(broker.port);
  const devices: TBDeviceMqttClient[] = [];
  const token = newToken();
  const options: TBDeviceMqttClientOptions = {
    host: "127.0.0.1",
    port: broker.port,
    accessToken: token,
    protocolVersion: variant.protocolVersion,
    engine: variant.engine,
    fallback: false,
    reconnect: { initialDelay: 100, maxDelay: 400 },
    connectTimeout: 3000,
    requestTimeout: 3000,
  };
  try {
    await fn({
      broker,
      peer,
      token,
      options,
      device(extra = {}) {
        const c = new TBDeviceMqttClient({ ...options, ...extra } as TBDeviceMqttClientOptions);
        devices.push(c);
        return c;
      },
    });
  } finally {
    for (const d of devices) await d.disconnect({ timeout: 1000 }).catch(() => {});
    await peer.close();
  }
}

/** A responder answering attribute requests from a store of client and shared attributes. */
function attributeStore(
  peer: TbPeer,
  store: { client: Record<string, unknown>; shared: Record<string, unknown> },
  ignore: (req: { clientKeys?: string; sharedKeys?: string }) => boolean = () => false,
): void {
  peer.responders.push((m) => {
    const id = idOf(m.topic, `${ME}/attributes/request/`);
    if (id === undefined) return;
    const req = m.json as { clientKeys?: string; sharedKeys?: string };
    if (ignore(req)) return;
    const pick = (scope: Record<string, unknown>, keys: string | undefined) => {
      if (keys === undefined) return undefined;
      const out: Record<string, unknown> = {};
      for (const k of keys.split(",")) if (k in scope) out[k] = scope[k];
      return Object.keys(out).length > 0 ? out : undefined;
    };
    const body: Record<string, unknown> = {};
    const c = pick(store.client, req.clientKeys);
    const s = pick(store.shared, req.sharedKeys);
    if (c) body.client = c;
    if (s) body.shared = s;
    peer.publish(`${ME}/attributes/response/${id}`, body).catch(() => {});
  });
}

function freeLoopbackPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function isTimeout(e: unknown): boolean {
  return e instanceof DOMException && e.name === "TimeoutError";
}

// ---------------------------------------------------------------------------
// The matrix

const FULL = [V5_WASM, V4_WASM, V4_TS];
const SUBSET = [V5_TS];

for (const v of [...FULL, ...SUBSET]) {
  const full = FULL.includes(v);

  Deno.test(`TBDeviceMqttClient.connect() ${v.label} sends the token as user name, reports state and events, asks getSessionLimits`, async () => {
    await withTb(v, async ({ broker, peer, token, device }) => {
      const client = device();
      const events: string[] = [];
      const disconnects: unknown[] = [];
      client.addEventListener("connect", () => events.push("connect"));
      client.addEventListener("disconnect", (e) => {
        events.push("disconnect");
        disconnects.push(e.detail.reason);
      });
      const limitsEvents: unknown[] = [];
      client.addEventListener("sessionlimits", (e) => limitsEvents.push(e.detail));
      assert.equal(client.state, "disconnected");
      assert.equal(client.connected, false);
      const connecting = client.connect({ timeout: 5000 });
      assert.equal(client.state, "connecting");
      const connack = await connecting;
      assert.equal(connack.type, "connack");
      assert.equal(connack.reasonCode, 0);
      assert.equal(client.state, "connected");
      assert.equal(client.connected, true);
      assert.equal(client.protocolVersion, v.protocolVersion);
      assert.deepEqual(events, ["connect"]);

      // The access token went as the MQTT user name (Mosquitto logs it).
      await until(() => broker.log().includes(`u'${token}'`), "the token in the broker log");
      const level = v.protocolVersion === 5 ? "p5" : "p2"; // Mosquitto calls 3.1.1 "p2"
      assert.match(broker.log(), new RegExp(`\\(${level}, c1, k\\d+, u'${token}'\\)`));

      // The background getSessionLimits on the top id.
      const [limitsReq] = await until(
        () => peer.limitsRequests().length ? peer.limitsRequests() : undefined,
        "getSessionLimits",
      );
      assert.equal(limitsReq!.topic, `${ME}/rpc/request/${LIMITS_ID}`);
      assert.equal(limitsReq!.text, '{"method":"getSessionLimits","params":{}}');
      assert.equal(limitsReq!.qos, 1);
      await until(() => limitsEvents.length === 1, "sessionlimits event");
      assert.deepEqual(client.sessionLimits, DEFAULT_LIMITS);
      assert.equal(client.maxPayloadSize, 65_536);

      await client.disconnect();
      assert.equal(client.state, "disconnected");
      assert.equal(client.connected, false);
      assert.deepEqual(events, ["connect", "disconnect"]);
      assert.equal(disconnects[0], undefined);

      // A second connect() resubscribes and asks again on the next id down.
      await client.connect();
      assert.equal(client.state, "connected");
      await until(() => peer.limitsRequests().length === 2, "second getSessionLimits");
      assert.equal(peer.limitsRequests()[1]!.topic, `${ME}/rpc/request/${LIMITS_ID - 1}`);
      // ... and the subscriptions are back: a shared attribute push arrives.
      const got: AttributeUpdate[] = [];
      client.subscribeToAllAttributes((u) => void got.push(u));
      await peer.publish(`${ME}/attributes`, { k: 1 });
      await until(() => got.length === 1, "attribute push after reconnect()");
      assert.deepEqual(events, ["connect", "disconnect", "connect"]);
      // Nothing else was sent by the device.
      assert.deepEqual(peer.traffic(), []);
    });
  });

  Deno.test(`TBDeviceMqttClient.connect() ${v.label} fails with typed errors when the server is away or stalled`, async () => {
    await withTb(v, async ({ broker, peer, device }) => {
      // A closed port.
      const away = device({ port: freeLoopbackPort(), reconnect: false });
      await assert.rejects(away.connect({ timeout: 2000 }), ConnectionClosedError);
      assert.equal(away.state, "disconnected");
      // A broker that accepts TCP but never answers.
      Deno.kill(broker.pid!, "SIGSTOP");
      try {
        const stalled = device({ reconnect: false });
        await assert.rejects(stalled.connect({ timeout: 300 }), isTimeout);
        assert.equal(stalled.connected, false);
        assert.equal(stalled.state, "disconnected");
      } finally {
        Deno.kill(broker.pid!, "SIGCONT");
      }
      // Sending during connect() waits for the connection instead of failing.
      const client = device();
      const connecting = client.connect();
      const early = client.sendTelemetry({ early: true });
      await connecting;
      await early;
      const [m] = await peer.waitOn(`${ME}/telemetry`);
      assert.equal(m!.text, '{"early":true}');
    });
  });

  Deno.test(`TBDeviceMqttClient.connect() ${v.label} works when the peer ignores getSessionLimits`, async () => {
    await withTb(v, async ({ peer, device }) => {
      peer.limits = false;
      const client = device();
      await client.connect();
      await until(() => peer.limitsRequests().length === 1, "getSessionLimits");
      await client.sendTelemetry({ a: 1 });
      await peer.waitOn(`${ME}/telemetry`);
      assert.equal(client.sessionLimits, undefined);
      assert.equal(client.maxPayloadSize, 65_536);
      await client.disconnect(); // must not leave the 10 s limits timer running
    });
  });

  Deno.test(`TBDeviceMqttClient.sendTelemetry() ${v.label} publishes every shape with exact topic, JSON and QoS`, async () => {
    await withTb(v, async ({ peer, device }) => {
      const client = device();
      await client.connect();
      const sent: [unknown, string][] = [];
      const send = async (data: Parameters<typeof client.sendTelemetry>[0], qos?: 0 | 1) => {
        await client.sendTelemetry(data, qos === undefined ? undefined : { qos });
        sent.push([data, String(qos ?? 1)]);
      };
      await send({ temperature: 21.5, humidity: 48, ok: true, label: 'a"b\\c\u00e9\u{1f600}' });
      await send({ ts: 1_700_000_000_000, values: { temperature: 22 } });
      await send([
        { ts: 1_700_000_000_001, values: { t: 1 } },
        { ts: 1_700_000_000_002, values: { t: 2, nested: { deep: [1, "x", false] } } },
      ]);
      await send([{ a: 1 }, { ts: 1_700_000_000_003, values: { b: 2 } }]);
      await send({
        p: 0.30000000000000004,
        q: 1e-7,
        r: 1.7976931348623157e308,
        s: 5e-324,
        u: 123456789.125,
        w: 1e21,
        x: -12.5e-10,
        y: 2 ** 53,
        z: -0,
      });
      await send({ qos0: 1 }, 0);
      await send({ qos1: 1 }, 1);
      const batch = new TelemetryBatch(["t", "h"]);
      batch.append(1_700_000_000_010, [1.5, 40]);
      batch.append(1_700_000_000_011, [2.5, 41]);
      await client.sendTelemetryBatch(batch);

      const got = await peer.waitOn(`${ME}/telemetry`, 8);
      assert.equal(got.length, 8);
      for (let i = 0; i < sent.length; i++) {
        const [data, qos] = sent[i]!;
        assert.equal(got[i]!.text, JSON.stringify(data), `message ${i}`);
        assert.equal(String(got[i]!.qos), qos, `QoS of message ${i}`);
      }
      assert.equal(
        got[7]!.text,
        '[{"ts":1700000000010,"values":{"t":1.5,"h":40}},{"ts":1700000000011,"values":{"t":2.5,"h":41}}]',
      );
      // A client whose default QoS is 0.
      const q0 = device({ qos: 0, accessToken: "OTHER_TOKEN" });
      await q0.connect();
      await q0.sendTelemetry({ viaQ0: true });
      const all = await peer.waitOn(`${ME}/telemetry`, 9);
      assert.equal(all[8]!.text, '{"viaQ0":true}');
      assert.equal(all[8]!.qos, 0);
      // Nothing on other topics.
      assert.deepEqual(
        peer.traffic().filter((m) => m.topic !== `${ME}/telemetry`).map((m) => m.topic),
        [],
      );
    });
  });

  Deno.test(`TBDeviceMqttClient.sendAttributes() ${v.label} publishes the object and never takes its own message for a shared-attribute push`, async () => {
    await withTb(v, async ({ peer, device }) => {
      const client = device();
      const pushes: AttributeUpdate[] = [];
      client.subscribeToAllAttributes((u) => void pushes.push(u));
      client.subscribeToAttribute("fw", (u) => void pushes.push(u));
      await client.connect();
      await client.sendAttributes({ fw: "1.2.0", count: 3, flags: { a: true }, list: [1, 2] });
      await client.sendAttributes({ fw: "1.2.1" }, { qos: 0 });
      const got = await peer.waitOn(`${ME}/attributes`, 2);
      assert.equal(got[0]!.text, '{"fw":"1.2.0","count":3,"flags":{"a":true},"list":[1,2]}');
      assert.equal(got[0]!.qos, 1);
      assert.equal(got[1]!.text, '{"fw":"1.2.1"}');
      assert.equal(got[1]!.qos, 0);
      // A real push after them: the callbacks see only that one.
      await peer.publish(`${ME}/attributes`, { target: 7 });
      await until(() => pushes.length >= 1, "the shared attribute push");
      await delay(100);
      assert.deepEqual(pushes, [{ values: { target: 7 }, deleted: [] }]);
    });
  });

  Deno.test(`TBDeviceMqttClient.requestAttributes() ${v.label} promise and callback forms, ids from 1, missing scopes, timeouts`, async () => {
    await withTb(v, async ({ peer, device }) => {
      attributeStore(
        peer,
        { client: { a: 1, b: "x", fw: "1.0" }, shared: { c: true, target: 21.5 } },
        (req) =>
          req.sharedKeys === "silent" ||
          (req.sharedKeys === undefined && req.clientKeys === undefined),
      );
      const client = device();
      await client.connect();
      const r1 = await client.requestAttributes({ clientKeys: ["a", "b"], sharedKeys: ["c"] });
      assert.deepEqual(r1, { client: { a: 1, b: "x" }, shared: { c: true } });
      const r2 = await client.requestAttributes({ sharedKeys: ["target", "unknown"] });
      assert.deepEqual(r2, { client: {}, shared: { target: 21.5 } });
      const r3 = await client.requestAttributes({ clientKeys: ["fw"] });
      assert.deepEqual(r3, { client: { fw: "1.0" }, shared: {} });

      // No keys: everything (neither key sent).
      const everything = client.requestAttributes();
      await until(() => peer.onPrefix(`${ME}/attributes/request/`).length === 4, "request 4");
      await peer.publish(`${ME}/attributes/response/4`, { client: { a: 1 }, shared: { c: true } });
      assert.deepEqual(await everything, { client: { a: 1 }, shared: { c: true } });

      // Callback form.
      const cb = Promise.withResolvers<[unknown, unknown]>();
      const ret = client.requestAttributes({ sharedKeys: ["c"] }, (r, e) => cb.resolve([r, e]));
      assert.equal(ret, undefined);
      assert.deepEqual(await within(cb.promise, 3000, "callback"), [
        { client: {}, shared: { c: true } },
        undefined,
      ]);

      // Two at once, answered by id.
      const [x, y] = await Promise.all([
        client.requestAttributes({ clientKeys: ["a"] }),
        client.requestAttributes({ sharedKeys: ["target"] }),
      ]);
      assert.deepEqual(x, { client: { a: 1 }, shared: {} });
      assert.deepEqual(y, { client: {}, shared: { target: 21.5 } });

      // Timeouts: promise and callback.
      await assert.rejects(
        client.requestAttributes({ sharedKeys: ["silent"], timeout: 200 }),
        isTimeout,
      );
      const cbTimeout = Promise.withResolvers<[unknown, unknown]>();
      client.requestAttributes(
        { sharedKeys: ["silent"], timeout: 200 },
        (r, e) => cbTimeout.resolve([r, e]),
      );
      const [tr, te] = await within(cbTimeout.promise, 3000, "timeout callback");
      assert.equal(tr, undefined);
      assert.ok(isTimeout(te), String(te));

      // Bad keys: refused before anything is sent (callback form too).
      await assert.rejects(
        client.requestAttributes({ sharedKeys: ["a,b"] }),
        InvalidAttributeKeyError,
      );
      const cbBad = Promise.withResolvers<[unknown, unknown]>();
      client.requestAttributes({ clientKeys: [""] }, (r, e) => cbBad.resolve([r, e]));
      const [, be] = await within(cbBad.promise, 3000, "bad-key callback");
      assert.ok(be instanceof InvalidAttributeKeyError);

      const reqs = peer.onPrefix(`${ME}/attributes/request/`);
      assert.deepEqual(
        reqs.map((m) => [m.topic, m.text]),
        [
          [`${ME}/attributes/request/1`, '{"clientKeys":"a,b","sharedKeys":"c"}'],
          [`${ME}/attributes/request/2`, '{"sharedKeys":"target,unknown"}'],
          [`${ME}/attributes/request/3`, '{"clientKeys":"fw"}'],
          [`${ME}/attributes/request/4`, "{}"],
          [`${ME}/attributes/request/5`, '{"sharedKeys":"c"}'],
          [`${ME}/attributes/request/6`, '{"clientKeys":"a"}'],
          [`${ME}/attributes/request/7`, '{"sharedKeys":"target"}'],
          [`${ME}/attributes/request/8`, '{"sharedKeys":"silent"}'],
          [`${ME}/attributes/request/9`, '{"sharedKeys":"silent"}'],
        ],
      );
      // A late answer to a timed-out request is dropped quietly.
      await peer.publish(`${ME}/attributes/response/8`, { shared: { silent: 1 } });
      const after = await client.requestAttributes({ sharedKeys: ["c"] });
      assert.deepEqual(after, { client: {}, shared: { c: true } });
    });
  });

  Deno.test(`TBDeviceMqttClient.subscribeToAttribute() ${v.label} per key, all keys, deletions and unsubscribe`, async () => {
    await withTb(v, async ({ peer, device }) => {
      const client = device();
      const target: AttributeUpdate[] = [];
      const mode: AttributeUpdate[] = [];
      const all: AttributeUpdate[] = [];
      const idTarget = client.subscribeToAttribute("target", (u) => void target.push(u));
      const idMode = client.subscribeToAttribute("mode", (u) => void mode.push(u));
      const idAll = client.subscribeToAllAttributes((u) => void all.push(u));
      const errors: Error[] = [];
      client.addEventListener("error", (e) => errors.push(e.detail));
      const idThrow = client.subscribeToAttribute("target", () => {
        throw new Error("callback broke");
      });
      assert.notEqual(idTarget, idMode);
      assert.notEqual(idMode, idAll);
      await client.connect();

      await peer.publish(`${ME}/attributes`, { target: 22.5, mode: "eco", other: 1 });
      await until(() => all.length === 1, "first push");
      assert.deepEqual(all[0], { values: { target: 22.5, mode: "eco", other: 1 }, deleted: [] });
      assert.deepEqual(target, [{ values: { target: 22.5 }, deleted: [] }]);
      assert.deepEqual(mode, [{ values: { mode: "eco" }, deleted: [] }]);
      // A throwing callback is reported and does not stop the others.
      await until(() => errors.length === 1, "error event of the throwing callback");
      assert.equal(errors[0]!.message, "callback broke");
      assert.equal(client.unsubscribeFromAttribute(idThrow), true);

      await peer.publish(`${ME}/attributes`, { deleted: ["mode"] });
      await until(() => all.length === 2, "deletion");
      assert.deepEqual(all[1], { values: {}, deleted: ["mode"] });
      assert.deepEqual(mode[1], { values: {}, deleted: ["mode"] });
      assert.equal(target.length, 1);

      await peer.publish(`${ME}/attributes`, { deleted: ["target", "x"] });
      await until(() => all.length === 3, "second deletion");
      assert.deepEqual(all[2], { values: {}, deleted: ["target", "x"] });
      assert.deepEqual(target[1], { values: {}, deleted: ["target"] });
      assert.equal(mode.length, 2);

      assert.equal(client.unsubscribeFromAttribute(idMode), true);
      assert.equal(client.unsubscribeFromAttribute(idMode), false);
      await peer.publish(`${ME}/attributes`, { mode: "comfort", target: 19 });
      await until(() => all.length === 4, "push after unsubscribe");
      assert.equal(mode.length, 2);
      assert.deepEqual(target[2], { values: { target: 19 }, deleted: [] });

      assert.equal(client.unsubscribeFromAttribute(idAll), true);
      await peer.publish(`${ME}/attributes`, { target: 20 });
      await until(() => target.length === 4, "push to the key only");
      assert.equal(all.length, 4);
      assert.equal(client.unsubscribeFromAttribute(idTarget), true);
      // The device published nothing of its own.
      assert.deepEqual(peer.traffic(), []);
    });
  });

  Deno.test(`TBDeviceMqttClient.setServerSideRpcRequestHandler() ${v.label} replies with a value, a Promise, an error, or later via sendRpcReply()`, async () => {
    await withTb(v, async ({ peer, device }) => {
      const client = device();
      const seen: RpcRequest[] = [];
      const errors: Error[] = [];
      client.addEventListener("error", (e) => errors.push(e.detail));
      client.setServerSideRpcRequestHandler((req) => {
        seen.push(req);
        switch (req.method) {
          case "echo":
            return { method: req.method, params: req.params };
          case "later":
            return delay(50).then(() => ({ late: req.params }));
          case "fail":
            throw new Error("boom");
          case "reject":
            return Promise.reject(new Error("nope"));
          case "scalar":
            return 42;
          case "unsendable":
            return { x: NaN };
          default:
            return undefined; // reply by hand
        }
      });
      await client.connect();
      const reqTopic = (id: number) => `${ME}/rpc/request/${id}`;
      await peer.publish(reqTopic(0), { method: "echo", params: { a: 1 } });
      await peer.publish(reqTopic(5), { method: "later", params: 7 });
      await peer.publish(reqTopic(6), { method: "fail", params: {} });
      await peer.publish(reqTopic(11), { method: "reject", params: {} });
      await peer.publish(reqTopic(12), { method: "scalar" });
      await peer.publish(reqTopic(13), { method: "unsendable" });
      await peer.publish(reqTopic(8), { method: "manual", params: { x: 1 } });
      await peer.publish(reqTopic(LIMITS_ID), { method: "echo" });
      const responses = await until(() => {
        const r = peer.onPrefix(`${ME}/rpc/response/`);
        return r.length >= 7 ? r : undefined;
      }, "7 RPC responses");
      const byTopic = new Map(responses.map((m) => [m.topic, m.text]));
      assert.equal(byTopic.get(`${ME}/rpc/response/0`), '{"method":"echo","params":{"a":1}}');
      assert.equal(byTopic.get(`${ME}/rpc/response/5`), '{"late":7}');
      assert.equal(byTopic.get(`${ME}/rpc/response/6`), '{"error":"boom"}');
      assert.equal(byTopic.get(`${ME}/rpc/response/11`), '{"error":"nope"}');
      assert.equal(byTopic.get(`${ME}/rpc/response/12`), "42");
      assert.equal(
        byTopic.get(`${ME}/rpc/response/${LIMITS_ID}`),
        '{"method":"echo","params":null}',
      );
      // A value JSON cannot carry: the server still gets an error reply, and it is reported.
      assert.match(byTopic.get(`${ME}/rpc/response/13`) ?? "", /^\{"error":".+"\}$/);
      await until(() => errors.some((e) => e instanceof InvalidPayloadError), "error event");
      assert.equal(byTopic.has(`${ME}/rpc/response/8`), false);
      assert.deepEqual(seen.find((r) => r.method === "manual"), {
        id: 8,
        method: "manual",
        params: { x: 1 },
      });
      await client.sendRpcReply(8, { done: true });
      await client.sendRpcReply("9", "ok", { qos: 0 });
      const all = await until(() => {
        const r = peer.onPrefix(`${ME}/rpc/response/`);
        return r.length >= 9 ? r : undefined;
      }, "manual replies");
      assert.equal(all.find((m) => m.topic === `${ME}/rpc/response/8`)?.text, '{"done":true}');
      const nine = all.find((m) => m.topic === `${ME}/rpc/response/9`);
      assert.equal(nine?.text, '"ok"');
      assert.equal(nine?.qos, 0);
      await assert.rejects(client.sendRpcReply(-1, {}), TypeError);
      await assert.rejects(client.sendRpcReply("x1", {}), TypeError);

      // Without a handler nothing is answered.
      client.setServerSideRpcRequestHandler(undefined);
      await peer.publish(reqTopic(20), { method: "echo" });
      await client.sendTelemetry({ marker: 1 }); // ordering fence
      await peer.waitOn(`${ME}/telemetry`);
      await delay(100);
      assert.equal(peer.on(`${ME}/rpc/response/20`).length, 0);
      // Exactly one response per request.
      assert.equal(peer.onPrefix(`${ME}/rpc/response/`).length, 9);
      assert.equal(seen.length, 8);
    });
  });

  Deno.test(`TBDeviceMqttClient.sendRpcCall() ${v.label} answers, error answers, timeouts, ids shared with server RPC`, async () => {
    await withTb(v, async ({ peer, device }) => {
      const hold = new Map<number, string>();
      peer.responders.push((m) => {
        const id = idOf(m.topic, `${ME}/rpc/request/`);
        const method = (m.json as { method?: string } | undefined)?.method;
        if (id === undefined || method === undefined || method === "getSessionLimits") return;
        const answer = (body: unknown) =>
          peer.publish(`${ME}/rpc/response/${id}`, body).catch(() => {});
        if (method === "getTime") {
          answer({ time: 123, echo: (m.json as { params: unknown }).params });
        } else if (method === "broken") answer({ error: "no such method" });
        else if (method === "text") answer("hello there");
        else if (method === "hold") hold.set(id, method);
      });
      const client = device();
      const handled: RpcRequest[] = [];
      client.setServerSideRpcRequestHandler((r) => {
        handled.push(r);
        return { mine: true };
      });
      await client.connect();
      await until(() => client.sessionLimits, "limits");

      assert.deepEqual(await client.sendRpcCall("getTime", { tz: "UTC" }), {
        time: 123,
        echo: { tz: "UTC" },
      });
      await assert.rejects(client.sendRpcCall("broken"), (e) => {
        assert.ok(e instanceof RpcError);
        assert.match(e.message, /no such method/);
        return true;
      });
      await assert.rejects(client.sendRpcCall("slow", null, { timeout: 200 }), isTimeout);
      assert.equal(await client.sendRpcCall("text", [1, 2]), "hello there");

      // A pending call with id 5 and a server RPC with the same id: neither takes the other.
      const pending = client.sendRpcCall("hold", {}, { timeout: 3000 });
      await until(() => hold.has(5), "the held call on id 5");
      await peer.publish(`${ME}/rpc/request/5`, { method: "serverSide", params: 1 });
      await until(() => peer.on(`${ME}/rpc/response/5`).length === 1, "device reply on id 5");
      await delay(150);
      await peer.publish(`${ME}/rpc/response/5`, { theirs: true });
      assert.deepEqual(await pending, { theirs: true });

      const reqs = peer.onPrefix(`${ME}/rpc/request/`);
      assert.deepEqual(reqs.map((m) => [m.topic, m.text]), [
        [`${ME}/rpc/request/1`, '{"method":"getTime","params":{"tz":"UTC"}}'],
        [`${ME}/rpc/request/2`, '{"method":"broken","params":{}}'],
        [`${ME}/rpc/request/3`, '{"method":"slow","params":null}'],
        [`${ME}/rpc/request/4`, '{"method":"text","params":[1,2]}'],
        [`${ME}/rpc/request/5`, '{"method":"hold","params":{}}'],
      ]);
      // The handler saw only the one real server RPC, never our own requests.
      assert.deepEqual(handled, [{ id: 5, method: "serverSide", params: 1 }]);
      assert.deepEqual(
        peer.onPrefix(`${ME}/rpc/response/`).map((m) => [m.topic, m.text]),
        [[`${ME}/rpc/response/5`, '{"mine":true}']],
      );
      // Refused before sending.
      await assert.rejects(client.sendRpcCall(""), TypeError);
      await assert.rejects(client.sendRpcCall("m", {}, { timeout: -1 }), RangeError);
      await assert.rejects(client.sendRpcCall("m", { f: () => 1 }), InvalidPayloadError);
      await delay(50);
      assert.equal(peer.onPrefix(`${ME}/rpc/request/`).length, 5);
    });
  });

  Deno.test(`TBDeviceMqttClient.claimDevice() ${v.label} publishes the claim request`, async () => {
    await withTb(v, async ({ peer, device }) => {
      const client = device();
      await client.connect();
      await client.claimDevice("s3cr3t", { durationMs: 60_000 });
      await client.claimDevice();
      await client.claimDevice("only-key");
      await client.claimDevice(undefined, { durationMs: 1000 });
      await assert.rejects(client.claimDevice("k", { durationMs: 0 }), TypeError);
      await assert.rejects(client.claimDevice("k", { durationMs: 1.5 }), TypeError);
      await assert.rejects(client.claimDevice(42 as unknown as string), TypeError);
      const got = await peer.waitOn(`${ME}/claim`, 4);
      await delay(50);
      assert.deepEqual(peer.on(`${ME}/claim`).map((m) => m.text), [
        '{"secretKey":"s3cr3t","durationMs":60000}',
        "{}",
        '{"secretKey":"only-key"}',
        '{"durationMs":1000}',
      ]);
      assert.equal(got[0]!.qos, 1);
    });
  });

  if (full) {
    Deno.test(`TBDeviceMqttClient.provision() ${v.label} success, NOT_FOUND and timeout over a provision-only session`, async () => {
      await withTb(v, async ({ broker, peer, options }) => {
        peer.responders.push((m) => {
          if (m.topic !== "/provision/request") return;
          const req = m.json as { provisionDeviceKey: string; deviceName?: string };
          if (req.provisionDeviceKey === "KEY") {
            peer.publish("/provision/response", {
              status: "SUCCESS",
              credentialsType: "ACCESS_TOKEN",
              credentialsValue: `issued-${req.deviceName}`,
            }).catch(() => {});
          } else if (req.provisionDeviceKey === "BAD") {
            peer.publish("/provision/response", {
              status: "NOT_FOUND",
              errorMsg: "Failed to provision device!",
            }).catch(() => {});
          }
        });
        const req = TBDeviceMqttClient.getProvisionRequest("KEY", "SECRET", {
          deviceName: "dev-1",
          accessToken: "wanted",
        });
        assert.deepEqual(req, {
          provisionDeviceKey: "KEY",
          provisionDeviceSecret: "SECRET",
          deviceName: "dev-1",
          credentialsType: "ACCESS_TOKEN",
          token: "wanted",
        });
        const popts = { protocolVersion: v.protocolVersion, engine: v.engine, timeout: 3000 };
        const creds = await TBDeviceMqttClient.provision("127.0.0.1", broker.port, req, popts);
        assert.deepEqual(creds, { credentialsType: "ACCESS_TOKEN", accessToken: "issued-dev-1" });
        const sent = await peer.waitOn("/provision/request");
        assert.equal(
          sent[0]!.text,
          '{"provisionDeviceKey":"KEY","provisionDeviceSecret":"SECRET","deviceName":"dev-1","credentialsType":"ACCESS_TOKEN","token":"wanted"}',
        );
        assert.match(broker.log(), /u'provision'\)/);

        const bad = TBDeviceMqttClient.getProvisionRequest("BAD", "S", { deviceName: "dev-2" });
        await assert.rejects(
          TBDeviceMqttClient.provision("127.0.0.1", broker.port, bad, popts),
          (e) => {
            assert.ok(e instanceof ProvisionError);
            assert.equal(e.status, "NOT_FOUND");
            assert.equal(e.errorMsg, "Failed to provision device!");
            return true;
          },
        );
        const silent = TBDeviceMqttClient.getProvisionRequest("NOBODY", "S");
        await assert.rejects(
          TBDeviceMqttClient.provision("127.0.0.1", broker.port, silent, {
            ...popts,
            timeout: 300,
          }),
          isTimeout,
        );
        assert.deepEqual(
          peer.on("/provision/request").map((m) =>
            (m.json as { provisionDeviceKey: string })
              .provisionDeviceKey
          ),
          ["KEY", "BAD", "NOBODY"],
        );

        // The issued token works for a device session.
        await using dev = new TBDeviceMqttClient({ ...options, accessToken: creds.accessToken });
        await dev.connect();
        await dev.sendTelemetry({ provisioned: true });
        await peer.waitOn(`${ME}/telemetry`);
        assert.match(broker.log(), /u'issued-dev-1'\)/);
      });
    });

    Deno.test(`TBDeviceMqttClient.waitForMsg() ${v.label} dispatch "poll" holds callbacks until checkForMsg()/waitForMsg()`, async () => {
      await withTb(v, async ({ peer, device }) => {
        attributeStore(peer, { client: {}, shared: { target: 5 } });
        const client = device({ dispatch: "poll" });
        const pushes: AttributeUpdate[] = [];
        const rpcs: RpcRequest[] = [];
        client.subscribeToAttribute("target", (u) => void pushes.push(u));
        client.setServerSideRpcRequestHandler((r) => {
          rpcs.push(r);
          return { ok: r.id };
        });
        await client.connect();
        assert.equal(client.checkForMsg(), 0);
        assert.equal(await client.waitForMsg({ timeout: 50 }), 0);

        let cbResult: unknown;
        client.requestAttributes({ sharedKeys: ["target"] }, (r) => cbResult = r);
        await peer.publish(`${ME}/attributes`, { target: 30 });
        await peer.publish(`${ME}/rpc/request/3`, { method: "ping" });
        // The promise form is not held by the poll.
        assert.deepEqual(await client.requestAttributes({ sharedKeys: ["target"] }), {
          client: {},
          shared: { target: 5 },
        });
        await delay(200);
        assert.deepEqual(pushes, []);
        assert.deepEqual(rpcs, []);
        assert.equal(cbResult, undefined);
        assert.equal(peer.onPrefix(`${ME}/rpc/response/`).length, 0);

        assert.equal(client.checkForMsg(), 3);
        assert.deepEqual(pushes, [{ values: { target: 30 }, deleted: [] }]);
        assert.deepEqual(rpcs, [{ id: 3, method: "ping", params: null }]);
        assert.deepEqual(cbResult, { client: {}, shared: { target: 5 } });
        const [reply] = await peer.waitOn(`${ME}/rpc/response/3`);
        assert.equal(reply!.text, '{"ok":3}');
        assert.equal(client.checkForMsg(), 0);

        // waitForMsg() wakes up for a message that arrives later.
        const waiting = client.waitForMsg({ timeout: 3000 });
        await delay(50);
        await peer.publish(`${ME}/attributes`, { target: 31 });
        assert.equal(await waiting, 1);
        assert.deepEqual(pushes[1], { values: { target: 31 }, deleted: [] });

        // ... and returns 0 when the client disconnects.
        const closing = client.waitForMsg({ timeout: 10_000 });
        await client.disconnect();
        assert.equal(await within(closing, 2000, "waitForMsg on disconnect"), 0);

        // A full inbox drops the oldest message.
        const small = device({ dispatch: "poll", pollQueueSize: 2, accessToken: "SMALL" });
        const seenSmall: AttributeUpdate[] = [];
        small.subscribeToAllAttributes((u) => void seenSmall.push(u));
        await small.connect();
        for (let i = 1; i <= 3; i++) await peer.publish(`${ME}/attributes`, { n: i });
        await small.sendTelemetry({ fence: 1 }); // the pushes have arrived once this is acked
        await delay(100);
        assert.equal(small.checkForMsg(), 2);
        assert.deepEqual(seenSmall.map((u) => u.values.n), [2, 3]);

        // The "auto" client refuses waitForMsg().
        const auto = device();
        await assert.rejects(auto.waitForMsg({ timeout: 10 }), TypeError);
        assert.equal(auto.checkForMsg(), 0);
      });
    });

    Deno.test(`TBDeviceMqttClient.disconnect() ${v.label} flushes in-flight and queued messages, fails pending requests`, async () => {
      await withTb(v, async ({ peer, device }) => {
        const client = device({ maxInflight: 10 });
        await client.connect();
        const N = 300;
        const sends: Promise<void>[] = [];
        for (let i = 0; i < N; i++) sends.push(client.sendTelemetry({ seq: i }, { qos: 1 }));
        sends.push(client.sendTelemetry({ seq: N }, { qos: 0 }));
        const pendingAttr = client.requestAttributes({ sharedKeys: ["nobody"], timeout: 10_000 });
        const pendingRpc = client.sendRpcCall("nobody", {}, { timeout: 10_000 });
        await client.disconnect();
        assert.equal(client.state, "disconnected");
        const settled = await Promise.allSettled(sends);
        assert.deepEqual(settled.filter((s) => s.status === "rejected"), []);
        await assert.rejects(pendingAttr, ConnectionClosedError);
        await assert.rejects(pendingRpc, ConnectionClosedError);
        const got = await peer.waitOn(`${ME}/telemetry`, N + 1);
        await delay(100);
        assert.deepEqual(
          peer.on(`${ME}/telemetry`).map((m) => (m.json as { seq: number }).seq),
          Array.from({ length: N + 1 }, (_, i) => i),
        );
        assert.equal(got.length, N + 1);
        // After disconnect(), sending waits for a connection (queued) or fails: not silently lost.
        await client.connect();
        await client.sendTelemetry({ seq: "again" });
        await peer.waitOn(`${ME}/telemetry`, N + 2);
      });
    });
  }

  Deno.test(`TBDeviceMqttClient.sendTelemetry() ${v.label} refuses QoS 2, bad values and oversize payloads before sending`, async () => {
    await withTb(v, async ({ peer, device, options }) => {
      assert.throws(
        () => new TBDeviceMqttClient({ ...options, qos: 2 as unknown as 0 }),
        RangeError,
      );
      const client = device();
      await client.connect();
      const qos2 = { qos: 2 as unknown as 0 };
      await assert.rejects(client.sendTelemetry({ a: 1 }, qos2), RangeError);
      await assert.rejects(client.sendAttributes({ a: 1 }, qos2), RangeError);
      await assert.rejects(client.claimDevice("k", qos2), RangeError);
      await assert.rejects(client.sendRpcReply(1, {}, qos2), RangeError);

      const bad: [unknown, string][] = [
        [{ t: NaN }, "t"],
        [{ t: Infinity }, "t"],
        [{ t: undefined }, "t"],
        [{ t: () => 1 }, "t"],
        [{ t: 1n }, "t"],
        [{ t: Symbol("s") }, "t"],
        [{ ts: 1, values: { x: -Infinity } }, "values.x"],
        [[{ ts: 1, values: { ok: 1 } }, { ts: 2, values: { f: NaN } }], "[1].values.f"],
        [{ deep: { deeper: [1, NaN] } }, "deep.deeper[1]"],
      ];
      for (const [data, key] of bad) {
        await assert.rejects(
          client.sendTelemetry(data as Record<string, number>),
          (e) => {
            assert.ok(e instanceof InvalidPayloadError, `${String(e)} for ${key}`);
            assert.equal(e.key, key);
            return true;
          },
        );
      }
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic.self = cyclic;
      await assert.rejects(client.sendTelemetry(cyclic as never), InvalidPayloadError);
      await assert.rejects(client.sendAttributes({ a: NaN }), InvalidPayloadError);
      await assert.rejects(client.sendRpcReply(1, { x: NaN }), InvalidPayloadError);
      await assert.rejects(client.sendRpcReply(1, undefined), InvalidPayloadError);
      for (const notTelemetry of [null, 5, "str", [1, 2], [[]]]) {
        await assert.rejects(
          client.sendTelemetry(notTelemetry as never),
          InvalidPayloadError,
          String(notTelemetry),
        );
      }

      // Size: the MQTT remaining length of the PUBLISH is bounded by 65,536.
      const topicLen = `${ME}/telemetry`.length;
      const overhead = 2 + topicLen + 2 + (v.protocolVersion === 5 ? 1 : 0) + '{"b":""}'.length;
      const fits = "x".repeat(65_536 - overhead);
      const tooBig = "x".repeat(65_536 - overhead + 1);
      await assert.rejects(client.sendTelemetry({ b: tooBig }), (e) => {
        assert.ok(e instanceof PayloadTooLargeError);
        assert.equal(e.size, 65_537);
        assert.equal(e.limit, 65_536);
        assert.match(e.message, /65537/);
        return true;
      });
      await assert.rejects(client.sendAttributes({ b: tooBig }), PayloadTooLargeError);
      await assert.rejects(
        client.sendRpcCall("big", { b: tooBig }, { timeout: 1000 }),
        PayloadTooLargeError,
      );
      await assert.rejects(client.sendRpcReply(3, { b: tooBig }), PayloadTooLargeError);

      // Nothing reached the peer; the next message is the first one it sees.
      await client.sendTelemetry({ b: fits });
      await client.sendTelemetry({ sentinel: 1 });
      const got = await peer.waitOn(`${ME}/telemetry`, 2);
      await delay(50);
      assert.equal(got[0]!.text.length, fits.length + 8);
      assert.equal(got[1]!.text, '{"sentinel":1}');
      assert.deepEqual(
        peer.traffic().map((m) => m.topic),
        [`${ME}/telemetry`, `${ME}/telemetry`],
      );
    });
  });
}

for (const v of [V5_WASM, V4_WASM]) {
  Deno.test(`TBDeviceMqttClient.getSessionLimits() ${v.label} applies the server's maxPayloadSize`, async () => {
    await withTb(v, async ({ peer, device }) => {
      peer.limits = { ...DEFAULT_LIMITS, maxPayloadSize: 1000 };
      const client = device();
      const seen = Promise.withResolvers<unknown>();
      client.addEventListener("sessionlimits", (e) => seen.resolve(e.detail));
      await client.connect();
      await within(seen.promise, 3000, "sessionlimits");
      assert.equal(client.maxPayloadSize, 1000);
      await assert.rejects(client.sendTelemetry({ b: "x".repeat(1000) }), (e) => {
        assert.ok(e instanceof PayloadTooLargeError);
        assert.equal(e.limit, 1000);
        assert.match(e.message, /1000 bytes/);
        return true;
      });
      await client.sendTelemetry({ b: "x".repeat(900) });
      const limits = await client.getSessionLimits({ timeout: 2000 });
      assert.equal(limits.maxPayloadSize, 1000);
      await peer.waitOn(`${ME}/telemetry`);
      assert.equal(peer.on(`${ME}/telemetry`).length, 1);
      assert.deepEqual(peer.limitsRequests().map((m) => m.topic), [
        `${ME}/rpc/request/${LIMITS_ID}`,
        `${ME}/rpc/request/${LIMITS_ID - 1}`,
      ]);
    });
  });

  Deno.test(`TBDeviceMqttClient.connect() ${v.label} survives a broker stop/restart: reconnects, resubscribes, loses no QoS 1 message`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tb_role_persist_" });
    try {
      // Broker persistence keeps the peer's session (and the messages queued for it) across
      // the restart, so that what the device delivers while the peer reconnects is not lost.
      await using broker = await startMosquitto({
        extra: ["persistence true", `persistence_location ${dir}/`],
      });
      const peer = await TbPeer.start(broker.port, {
        clientId: `tb-peer-${crypto.randomUUID().slice(0, 8)}`,
        persistent: true,
      });
      attributeStore(peer, { client: {}, shared: { target: 1 } });
      peer.responders.push((m) => {
        const id = idOf(m.topic, `${ME}/rpc/request/`);
        if (id !== undefined && (m.json as { method?: string }).method === "getTime") {
          peer.publish(`${ME}/rpc/response/${id}`, { time: id }).catch(() => {});
        }
      });
      const client = new TBDeviceMqttClient({
        host: "127.0.0.1",
        port: broker.port,
        accessToken: newToken(),
        protocolVersion: v.protocolVersion,
        engine: v.engine,
        fallback: false,
        reconnect: { initialDelay: 100, maxDelay: 300, jitter: 0 },
        maxInflight: 20,
      });
      const events: string[] = [];
      client.addEventListener("connect", () => events.push("connect"));
      client.addEventListener("disconnect", () => events.push("disconnect"));
      client.addEventListener("reconnecting", () => events.push("reconnecting"));
      const pushes: AttributeUpdate[] = [];
      client.subscribeToAttribute("target", (u) => void pushes.push(u));
      const everything: AttributeUpdate[] = [];
      client.subscribeToAllAttributes((u) => void everything.push(u));
      const rpcs: RpcRequest[] = [];
      client.setServerSideRpcRequestHandler((r) => {
        rpcs.push(r);
        return { pong: r.id };
      });
      try {
        await client.connect();
        await client.sendTelemetry({ seq: -1 });
        await peer.waitOn(`${ME}/telemetry`);

        const N = 100;
        const sends: Promise<void>[] = [];
        for (let i = 0; i < N / 2; i++) sends.push(client.sendTelemetry({ seq: i }));
        await broker.stop();
        await until(() => client.state === "reconnecting", "state reconnecting");
        for (let i = N / 2; i < N; i++) sends.push(client.sendTelemetry({ seq: i }));
        const attrSend = client.sendAttributes({ phase: "offline" });
        const offlineCall = client.sendRpcCall("getTime", { offline: true }, { timeout: 10_000 });
        const offlineAttrs = client.requestAttributes({ sharedKeys: ["target"], timeout: 10_000 });
        await until(() => events.includes("reconnecting"), "reconnecting event");
        await delay(300);
        await broker.start();

        const settled = await within(Promise.allSettled([...sends, attrSend]), 15_000, "sends");
        // Requests made while offline are sent after the reconnect and answered.
        assert.deepEqual(await offlineCall, { time: 1 });
        assert.deepEqual(await offlineAttrs, { client: {}, shared: { target: 1 } });
        assert.deepEqual(settled.filter((s) => s.status === "rejected"), []);
        assert.equal(client.state, "connected");

        const seqs = () =>
          peer.on(`${ME}/telemetry`).map((m) => (m.json as { seq: number }).seq).filter((s) =>
            s >= 0
          );
        await until(() => new Set(seqs()).size === N, "all telemetry at the peer", 10_000);
        await delay(300);
        const counts = new Map<number, number>();
        for (const s of seqs()) counts.set(s, (counts.get(s) ?? 0) + 1);
        for (let i = 0; i < N; i++) assert.ok(counts.has(i), `telemetry ${i} lost`);
        const dups = [...counts].filter(([, c]) => c > 1);
        // Only messages possibly in flight when the broker stopped may come twice.
        assert.ok(dups.every(([s, c]) => s < N / 2 && c === 2), `duplicates: ${dups}`);
        // Those queued while offline arrive once each, in order.
        const offline = seqs().filter((s) => s >= N / 2);
        assert.deepEqual(offline, Array.from({ length: N / 2 }, (_, i) => N / 2 + i));
        await until(() => peer.on(`${ME}/attributes`).length >= 1, "offline attributes");
        assert.equal(peer.on(`${ME}/attributes`)[0]!.text, '{"phase":"offline"}');

        // Resubscribed: pushes, server RPC, responses all work on the new connection.
        await until(() => peer.limitsRequests().length >= 2, "getSessionLimits after reconnect");
        assert.equal(peer.limitsRequests().at(-1)!.topic, `${ME}/rpc/request/${LIMITS_ID - 1}`);
        await peer.publish(`${ME}/attributes`, { target: 42 });
        await until(() => pushes.length === 1, "attribute push after restart");
        assert.deepEqual(pushes[0], { values: { target: 42 }, deleted: [] });
        assert.deepEqual(everything, [{ values: { target: 42 }, deleted: [] }]);
        await peer.publish(`${ME}/rpc/request/77`, { method: "ping", params: {} });
        const [reply] = await peer.waitOn(`${ME}/rpc/response/77`);
        assert.equal(reply!.text, '{"pong":77}');
        assert.deepEqual(await client.sendRpcCall("getTime", {}), { time: 2 });
        assert.deepEqual(
          peer.onPrefix(`${ME}/rpc/request/`).map((m) => [m.topic, m.text]),
          [
            [`${ME}/rpc/request/1`, '{"method":"getTime","params":{"offline":true}}'],
            [`${ME}/rpc/request/2`, '{"method":"getTime","params":{}}'],
          ],
        );
        assert.deepEqual(await client.requestAttributes({ sharedKeys: ["target"] }), {
          client: {},
          shared: { target: 1 },
        });
        assert.equal(rpcs.length, 1);
        assert.equal(events[0], "connect");
        assert.equal(events[1], "disconnect");
        assert.ok(events.includes("reconnecting"));
        assert.equal(events.filter((e) => e === "connect").length, 2);
        assert.equal(events.at(-1), "connect");
      } finally {
        await client.disconnect({ timeout: 1000 }).catch(() => {});
        await peer.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
