/**
 * `topicFamily: "v2"`: the device client on ThingsBoard's JSON-forced short
 * topics (`v2/t/j`, `v2/a/j`, `v2/a/req/j/{id}`, `v2/r/req/j/{id}`, …).
 * Against the emulator (every API row, both levels, both engines) and, to see
 * the topics on the wire, against Mosquitto with an MQTT.js peer playing
 * ThingsBoard.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TBDeviceMqttClient } from "../core/client/client.ts";
import type { AttributeUpdate } from "../core/client/attributes.ts";
import { ShortTopics, Topics } from "../core/client/topics.ts";
import { matrix, nextEvent, setup } from "./client_harness.ts";
import { startMosquitto } from "./_mosquitto.ts";
import { MqttJsPeer, type PeerOptions, until } from "./_mqttjs_peer.ts";

const LIMITS = { maxPayloadSize: 40_000, maxInflightMessages: 100 };

matrix("TBDeviceMqttClient topicFamily v2: every call works against the emulator", async (v) => {
  // A JSON device profile: the session-limits request (v1 only) may be turned on.
  await using s = await setup(v, { topicFamily: "v2", sessionLimits: true });
  const { tb, device, client } = s;
  const filters: string[] = [];
  tb.on((e) => {
    if (e.type === "subscribe" && e.reasonCode < 0x80) filters.push(e.topicFilter);
  });
  const limits = new Promise((resolve) => client.addEventListener("sessionlimits", resolve));
  await client.connect();
  await limits; // asked on the v1 RPC topic, the only one ThingsBoard answers it on
  assert.deepEqual(filters.toSorted(), [
    "v1/devices/me/rpc/response/+",
    "v2/a/j",
    "v2/a/res/j/+",
    "v2/r/req/j/+",
    "v2/r/res/j/+",
  ]);

  await client.sendTelemetry({ temperature: 21.5 });
  assert.equal(tb.getLatestTelemetry(device).temperature?.value, 21.5);
  await client.sendAttributes({ firmware: "v1.2" });
  assert.deepEqual(tb.getClientAttributes(device), { firmware: "v1.2" });

  tb.setSharedAttributes(device, { interval: 10 });
  assert.deepEqual(
    await client.requestAttributes({ clientKeys: ["firmware"], sharedKeys: ["interval"] }),
    { client: { firmware: "v1.2" }, shared: { interval: 10 } },
  );

  const updates: AttributeUpdate[] = [];
  client.subscribeToAllAttributes((u) => void updates.push(u));
  tb.setSharedAttributes(device, { interval: 20 });
  await until(() => updates.length === 1, "the attribute push on v2/a/j");
  assert.deepEqual(updates[0]?.values, { interval: 20 });

  client.setServerSideRpcRequestHandler((r) => ({ method: r.method, params: r.params }));
  assert.deepEqual(await tb.sendRpc(device, "setValve", { open: true }), {
    method: "setValve",
    params: { open: true },
  });

  tb.onClientRpc("getTime", () => ({ time: 1234 }));
  assert.deepEqual(await client.sendRpcCall("getTime", {}, { timeout: 3000 }), { time: 1234 });

  // The firmware keys are asked for on v2/a/req/j/{id}.
  const data = new Uint8Array(3000).map((_, i) => i);
  tb.assignOtaPackage(device, { title: "app", version: "2.0", data });
  const pkg = await client.updateFirmware({ chunkSize: 1024, onPackage: () => {} });
  assert.deepEqual(pkg?.data, data);

  await client.claimDevice("s3cr3t", { durationMs: 1000 });
  assert.equal(tb.getClaims(device)?.secretKey, "s3cr3t");
  assert.equal(client.connected, true);
});

matrix(
  "TBDeviceMqttClient topicFamily v2: subscriptions come back after a reconnect",
  async (v) => {
    await using s = await setup(v, { topicFamily: "v2" });
    const { tb, device, client } = s;
    const updates: AttributeUpdate[] = [];
    client.subscribeToAttribute("mode", (u) => void updates.push(u));
    client.setServerSideRpcRequestHandler(() => "pong");
    await client.connect();
    const back = nextEvent(client, "connect");
    assert.equal(tb.disconnect(device), true);
    await back;
    await until(() => tb.isConnected(device), "the reconnect");
    // Server-side RPC and attribute pushes only reach a session subscribed to them.
    assert.equal(await tb.sendRpc(device, "ping"), "pong");
    tb.setSharedAttributes(device, { mode: "eco" });
    await until(() => updates.length === 1, "the attribute push after the reconnect");
    assert.deepEqual(updates[0]?.values, { mode: "eco" });
  },
);

/** ThingsBoard's side on the broker, listening on both families. */
class Peer extends MqttJsPeer {
  static start(port: number): Promise<Peer> {
    const options: PeerOptions = { filters: ["v2/#", "v1/devices/me/#"], limits: LIMITS };
    return new Peer(port, options).started();
  }
}

for (const protocolVersion of [4, 5] as const) {
  const label = protocolVersion === 5 ? "MQTT 5" : "MQTT 3.1.1";
  Deno.test(`TBDeviceMqttClient topicFamily v2 uses the short JSON topics on the wire [${label}]`, async () => {
    await using broker = await startMosquitto();
    const peer = await Peer.start(broker.port);
    // ThingsBoard's role: answer attribute requests and client-side RPC on the short topics.
    peer.responders.push((m) => {
      if (m.topic.startsWith(ShortTopics.attributeRequest)) {
        const id = m.topic.slice(ShortTopics.attributeRequest.length);
        peer.publish(`${ShortTopics.attributeResponse}${id}`, { shared: { interval: 5 } });
      } else if (m.topic.startsWith(ShortTopics.rpcRequest)) {
        const id = m.topic.slice(ShortTopics.rpcRequest.length);
        peer.publish(`${ShortTopics.rpcResponse}${id}`, { pong: true });
      }
    });
    const client = new TBDeviceMqttClient({
      host: "127.0.0.1",
      port: broker.port,
      accessToken: "SHORT_TOPICS_TOKEN",
      protocolVersion,
      fallback: false,
      reconnect: false,
      topicFamily: "v2",
      sessionLimits: true,
    });
    try {
      const limits = new Promise((resolve) => client.addEventListener("sessionlimits", resolve));
      await client.connect();
      await limits;
      assert.equal(client.sessionLimits?.maxPayloadSize, LIMITS.maxPayloadSize);
      const updates: AttributeUpdate[] = [];
      client.subscribeToAllAttributes((u) => void updates.push(u));
      client.setServerSideRpcRequestHandler(() => "done");

      await client.sendTelemetry({ t: 1 });
      await client.sendAttributes({ own: 1 }); // comes back from a 3.1.1 broker: not an update
      assert.deepEqual(await client.requestAttributes({ sharedKeys: ["interval"] }), {
        client: {},
        shared: { interval: 5 },
      });
      assert.deepEqual(await client.sendRpcCall("ping", {}, { timeout: 3000 }), { pong: true });
      await peer.publish(ShortTopics.attributes, { interval: 6 });
      await peer.publish(`${ShortTopics.rpcRequest}7`, { method: "reset", params: {} });
      const [reply] = await peer.waitOn(`${ShortTopics.rpcResponse}7`);
      assert.equal(reply?.json, "done");
      await until(() => updates.length > 0, "the shared-attribute push");
      await client.sendTelemetry({ t: 2 }); // the echo of `own`, if any, arrived before this
      assert.deepEqual(updates.map((u) => u.values), [{ interval: 6 }]);

      const sent = peer.received.filter((m) => !m.topic.startsWith("v1/"));
      const shape = sent.map((m) => m.topic.replace(/\d+$/, "{id}"));
      assert.deepEqual(shape, [
        "v2/t/j",
        "v2/a/j",
        "v2/a/req/j/{id}",
        "v2/r/req/j/{id}",
        "v2/r/res/j/{id}",
        "v2/t/j",
      ]);
      // Only the session-limits call uses a v1 topic.
      const v1 = peer.received.filter((m) => m.topic.startsWith("v1/"));
      assert.deepEqual(v1.map((m) => m.topic.startsWith(Topics.rpcRequest)), [true]);
      assert.equal((v1[0]?.json as { method: string }).method, "getSessionLimits");
    } finally {
      await client.disconnect();
      await peer.close();
    }
  });
}

matrix("TBDeviceMqttClient topicFamily v2 sends nothing on v1 topics by default", async (v) => {
  // A Protobuf profile would read a v1 request as Protobuf: no session-limits request.
  await using s = await setup(v, { topicFamily: "v2" });
  const { tb, device, client } = s;
  const seen: string[] = [];
  tb.on((e) => {
    if (e.type === "subscribe") seen.push(e.topicFilter);
    if (e.type === "clientRpc") seen.push(`rpc ${e.method}`);
  });
  let limits = 0;
  client.addEventListener("sessionlimits", () => limits++);
  await client.connect();
  await client.sendTelemetry({ t: 1 });
  assert.equal(tb.getLatestTelemetry(device).t?.value, 1);
  assert.deepEqual(seen.toSorted(), ["v2/a/j", "v2/a/res/j/+", "v2/r/req/j/+", "v2/r/res/j/+"]);
  assert.equal(limits, 0);
  assert.equal(client.sessionLimits, undefined);
});

Deno.test("TBDeviceMqttClient topicFamily: an unknown family is a TypeError", () => {
  assert.throws(
    () => new TBDeviceMqttClient({ host: "127.0.0.1", topicFamily: "v3" as "v2" }),
    { name: "TypeError", message: /unknown topicFamily "v3"; use "v1" or "v2"/ },
  );
});
