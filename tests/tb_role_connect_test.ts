/**
 * The independent ThingsBoard-role scenario suite, connection: `connect()`
 * and `disconnect()`, their state and events, failures with typed errors,
 * and the session limits (`getSessionLimits`).
 *
 * MQTT.js plays ThingsBoard's side of the device MQTT API over a real
 * Mosquitto broker (`_tb_role.ts`), and each API row of `TBDeviceMqttClient`
 * is checked by the exact topics and JSON that reach that peer, on MQTT 5 and
 * 3.1.1 and with both engines. Written from the device API specification and
 * the public docs only.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type AttributeUpdate, ConnectionClosedError, PayloadTooLargeError } from "../mod.ts";
import {
  DEFAULT_LIMITS,
  delay,
  freeLoopbackPort,
  FULL,
  isTimeout,
  LIMITS_ID,
  ME,
  SUBSET,
  until,
  V4_WASM,
  V5_WASM,
  within,
  withTb,
} from "./_tb_role.ts";

for (const v of [...FULL, ...SUBSET]) {
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
}

for (const v of FULL) {
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
}
