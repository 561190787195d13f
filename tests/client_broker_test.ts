/**
 * The device client against a plain MQTT broker (Mosquitto) with a test
 * peer playing ThingsBoard's role. Unlike ThingsBoard, a broker echoes the
 * device's own client attributes and client-side RPC back to it, because the
 * device subscribes to the topics it publishes on.
 */

import assert from "node:assert/strict";
import { MqttClient, type PublishPacket, SubscribeError } from "../core/mqtt/mod.ts";
import { InvalidMessageError } from "../core/client/errors.ts";
import { type Packet, tsCodec } from "../core/codec/mod.ts";
import type { AttributeUpdate } from "../core/client/attributes.ts";
import type { RpcRequest } from "../core/client/rpc.ts";
import { mosquittoPath, startMosquitto } from "./_mosquitto.ts";
import { matrix, recordingLogger, type Variant } from "./client_harness.ts";
import { TBDeviceMqttClient } from "../core/client/client.ts";
import type { TBDeviceMqttClientOptions } from "../core/client/options.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const haveMosquitto = mosquittoPath() !== undefined;

/** A peer on the broker that answers like ThingsBoard would. */
async function thingsBoardPeer(port: number) {
  const peer = new MqttClient({ host: "127.0.0.1", port, clientId: "tb-role", reconnect: false });
  const inbox: PublishPacket[] = [];
  const waiters: Array<() => void> = [];
  peer.addEventListener("message", (e) => {
    inbox.push(e.detail);
    for (const w of waiters.splice(0)) w();
  });
  await peer.connect();
  await peer.subscribe([
    { topicFilter: "v1/devices/me/rpc/request/+", qos: 1, noLocal: true },
    { topicFilter: "v1/devices/me/rpc/response/+", qos: 1, noLocal: true },
    { topicFilter: "v1/devices/me/attributes", qos: 1, noLocal: true },
  ]);
  return {
    peer,
    /** Waits for the next message on a topic matching `test`. */
    async next(test: (topic: string) => boolean): Promise<PublishPacket> {
      for (;;) {
        const i = inbox.findIndex((p) => test(p.topic));
        if (i >= 0) return inbox.splice(i, 1)[0]!;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    publish(topic: string, value: unknown) {
      return peer.publish(topic, encoder.encode(JSON.stringify(value)), { qos: 1 });
    },
  };
}

/** A device client on 127.0.0.1:`port` for variant `v`, without session limits. */
function deviceClient(
  v: Variant,
  port: number,
  extra: Partial<TBDeviceMqttClientOptions> = {},
): TBDeviceMqttClient {
  return new TBDeviceMqttClient({
    host: "127.0.0.1",
    port,
    accessToken: "T",
    protocolVersion: v.protocolVersion,
    engine: v.engine,
    sessionLimits: false,
    ...extra,
  });
}

function brokerTest(name: string, fn: Parameters<typeof matrix>[1]): void {
  if (haveMosquitto) matrix(name, fn);
  else Deno.test({ name, ignore: true, fn() {} });
}

brokerTest(
  "TBDeviceMqttClient.sendRpcCall() over a broker gets the peer's reply, not its own echo",
  async (v) => {
    await using broker = await startMosquitto();
    const tb = await thingsBoardPeer(broker.port);
    const { logger } = recordingLogger();
    await using client = deviceClient(v, broker.port, { logger });
    const handled: RpcRequest[] = [];
    client.setServerSideRpcRequestHandler((r) => {
      handled.push(r);
      return { from: "device handler" };
    });
    await client.connect();
    const call = client.sendRpcCall("getTime", { tz: "UTC" }, { timeout: 5000 });
    const request = await tb.next((t) => t.startsWith("v1/devices/me/rpc/request/"));
    assert.deepEqual(JSON.parse(decoder.decode(request.payload)), {
      method: "getTime",
      params: { tz: "UTC" },
    });
    const id = request.topic.split("/").pop();
    await tb.publish(`v1/devices/me/rpc/response/${id}`, { time: 1700 });
    assert.deepEqual(await call, { time: 1700 });
    assert.deepEqual(handled, [], "the device's own request never reached its server-RPC handler");

    // And a real server-side RPC from the peer is handled and answered once.
    await tb.publish("v1/devices/me/rpc/request/77", { method: "ping", params: { n: 1 } });
    const reply = await tb.next((t) => t === "v1/devices/me/rpc/response/77");
    assert.deepEqual(JSON.parse(decoder.decode(reply.payload)), { from: "device handler" });
    assert.deepEqual(handled, [{ id: 77, method: "ping", params: { n: 1 } }]);
    await tb.peer.disconnect();
  },
);

brokerTest(
  "TBDeviceMqttClient attribute callbacks over a broker see the peer's pushes, not the device's own attributes",
  async (v) => {
    await using broker = await startMosquitto();
    const tb = await thingsBoardPeer(broker.port);
    await using client = deviceClient(v, broker.port);
    const updates: AttributeUpdate[] = [];
    const got = Promise.withResolvers<void>();
    client.subscribeToAllAttributes((u) => {
      updates.push(u);
      got.resolve();
    });
    await client.connect();
    await client.sendAttributes({ fw: "v1" });
    const posted = await tb.next((t) => t === "v1/devices/me/attributes");
    assert.deepEqual(JSON.parse(decoder.decode(posted.payload)), { fw: "v1" });
    await tb.publish("v1/devices/me/attributes", { targetTemp: 21, deleted: ["old"] });
    await got.promise;
    assert.deepEqual(updates, [{ values: { targetTemp: 21 }, deleted: ["old"] }]);
    await tb.peer.disconnect();
  },
);

/**
 * A scripted MQTT server on a real socket: accepts CONNECT, answers SUBSCRIBE with `suback`
 * codes (or not at all), PUBACKs QoS 1 PUBLISHes and records their topics.
 */
function scriptedServer(suback: (filters: string[], version: 4 | 5) => number[] | undefined) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const published: string[] = [];
  const serve = async (conn: Deno.Conn) => {
    const decoder = tsCodec.createDecoder();
    let version: 4 | 5 = 4;
    const send = (p: Packet) => conn.write(tsCodec.encode(p, { protocolVersion: version }));
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return;
        for (const p of decoder.push(buf.slice(0, n))) {
          if (p.type === "connect") {
            version = p.protocolVersion === 5 ? 5 : 4;
            await send({ type: "connack", sessionPresent: false, reasonCode: 0 });
          } else if (p.type === "subscribe") {
            const codes = suback(p.subscriptions.map((x) => x.topicFilter), version);
            if (codes) await send({ type: "suback", packetId: p.packetId, reasonCodes: codes });
          } else if (p.type === "publish") {
            published.push(p.topic);
            if (p.qos === 1) await send({ type: "puback", packetId: p.packetId! });
          } else if (p.type === "pingreq") {
            await send({ type: "pingresp" });
          } else if (p.type === "disconnect") {
            return;
          }
        }
      }
    } catch {
      // the client went away
    } finally {
      conn.close();
    }
  };
  const serving: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) serving.push(serve(conn));
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    published,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await Promise.all(serving);
    },
  };
}

matrix(
  "TBDeviceMqttClient.connect() reports a refused subscription per topic and keeps working",
  async (v) => {
    const refused = "v1/devices/me/rpc/response/+";
    await using server = scriptedServer((filters, version) =>
      filters.map((f) => f === refused ? (version === 5 ? 0x8f : 0x80) : 1)
    );
    await using client = deviceClient(v, server.port);
    const errors: Error[] = [];
    client.addEventListener("error", (e) => errors.push(e.detail));
    await client.connect();
    assert.equal(client.connected, true);
    assert.equal(errors.length, 1);
    const error = errors[0];
    assert.ok(error instanceof SubscribeError, String(error));
    assert.deepEqual(error.failedTopicFilters, [refused]);
    assert.equal(error.reasonCode, v.protocolVersion === 5 ? 0x8f : 0x80);
    await client.sendTelemetry({ still: "working" });
    assert.deepEqual(server.published, ["v1/devices/me/telemetry"]);
  },
);

brokerTest(
  "TBDeviceMqttClient drops an invalid message, reports it, and keeps dispatching",
  async (v) => {
    await using broker = await startMosquitto();
    const tb = await thingsBoardPeer(broker.port);
    await using client = deviceClient(v, broker.port);
    const updates: AttributeUpdate[] = [];
    const got = Promise.withResolvers<void>();
    client.subscribeToAllAttributes((u) => {
      updates.push(u);
      got.resolve();
    });
    const invalid = Promise.withResolvers<Error>();
    client.addEventListener("error", (e) => invalid.resolve(e.detail));
    await client.connect();
    await tb.peer.publish("v1/devices/me/attributes", encoder.encode("{not json"), { qos: 1 });
    await tb.peer.publish("v1/devices/me/rpc/request/3", encoder.encode('{"params":1}'), {
      qos: 1,
    });
    const error = await invalid.promise;
    assert.ok(error instanceof InvalidMessageError);
    assert.equal(error.topic, "v1/devices/me/attributes");
    // An answer nobody asked for is ignored.
    await tb.publish("v1/devices/me/attributes/response/999", { client: {} });
    await tb.publish("v1/devices/me/attributes", { ok: 1 });
    await got.promise;
    assert.deepEqual(updates, [{ values: { ok: 1 }, deleted: [] }]);
    assert.equal(client.connected, true);
    await tb.peer.disconnect();
  },
);

brokerTest(
  "TBDeviceMqttClient.sendRpcCall() delivers a reply that is not JSON as text",
  async (v) => {
    await using broker = await startMosquitto();
    const tb = await thingsBoardPeer(broker.port);
    await using client = deviceClient(v, broker.port);
    await client.connect();
    const call = client.sendRpcCall("version");
    const request = await tb.next((t) => t.startsWith("v1/devices/me/rpc/request/"));
    const id = request.topic.split("/").pop();
    await tb.peer.publish(`v1/devices/me/rpc/response/${id}`, encoder.encode("v2.1 build 7"), {
      qos: 1,
    });
    assert.equal(await call, "v2.1 build 7");
    await tb.peer.disconnect();
  },
);

matrix("TBDeviceMqttClient.connect() times out when the SUBACK never comes", async (v) => {
  await using server = scriptedServer(() => undefined);
  await using client = deviceClient(v, server.port);
  await assert.rejects(
    client.connect({ timeout: 100 }),
    (e: unknown) =>
      e instanceof DOMException && e.name === "TimeoutError" &&
      /no SUBACK within 100 ms/.test(e.message),
  );
  assert.equal(client.state, "disconnected");
});

matrix(
  "TBDeviceMqttClient publishes to a device profile's custom telemetry and attributes topics",
  async (v) => {
    await using server = scriptedServer((filters) => filters.map(() => 1));
    await using client = deviceClient(v, server.port, {
      telemetryTopic: "sensors/d1/telemetry",
      attributesTopic: "sensors/d1/attributes",
    });
    await client.connect();
    await client.sendTelemetry({ t: 1 });
    await client.sendAttributes({ a: 1 });
    assert.deepEqual(server.published, ["sensors/d1/telemetry", "sensors/d1/attributes"]);
    assert.throws(
      () => new TBDeviceMqttClient({ host: "127.0.0.1", telemetryTopic: "sensors/+/t" }),
      /telemetryTopic must be a topic name without wildcards/,
    );
  },
);
