/**
 * Independent checks of `TBGatewayMqttClient`'s outbound side: MQTT.js plays
 * ThingsBoard over a real Mosquitto and checks the exact topics, JSON and
 * QoS of device connect/disconnect, telemetry, attributes and claims, and
 * that bad input is refused before anything is sent; MQTT 5 and 3.1.1.
 * Written from ThingsBoard's gateway API and the public docs only.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  InvalidDeviceNameError,
  InvalidPayloadError,
  PayloadTooLargeError,
  TBGatewayMqttClient,
} from "../mod.ts";
import { bodies, delay, GW, until, V4, VARIANTS, withBroker } from "./_gateway_independent.ts";

/** Sends a marker and checks it is the only gateway message since `mark`: nothing else went out. */
async function assertNothingSentSince(
  peer: { gatewayTraffic(): { topic: string; json: unknown }[] },
  mark: number,
  sendMarker: () => Promise<void>,
  marker: unknown,
): Promise<void> {
  await sendMarker();
  await until(() => peer.gatewayTraffic().length > mark, "the marker");
  await delay(50);
  const after = peer.gatewayTraffic().slice(mark);
  assert.deepEqual(after.map((m) => m.json), [marker]);
}

for (const v of VARIANTS) {
  Deno.test(`TBGatewayMqttClient.connectDevice()/disconnectDevice() publish the exact bodies ${v.label}`, async () => {
    await withBroker(v, async ({ peer, connected }) => {
      const { gw, errors } = await connected();
      await gw.connectDevice("Thermometer 1", { type: "thermometer" });
      await gw.connectDevice("Valve 7");
      assert.deepEqual(gw.devices, ["Thermometer 1", "Valve 7"]);
      const connects = await peer.waitOn(GW.connect, 2);
      assert.deepEqual(connects.map((m) => m.text), [
        '{"device":"Thermometer 1","type":"thermometer"}',
        // Without a type ThingsBoard uses its "default" profile; the client leaves "type" out.
        '{"device":"Valve 7"}',
      ]);
      assert.deepEqual(connects.map((m) => m.qos), [1, 1]);

      await gw.disconnectDevice("Valve 7");
      const [disc] = await peer.waitOn(GW.disconnect, 1);
      assert.equal(disc!.text, '{"device":"Valve 7"}');
      assert.equal(disc!.qos, 1);
      assert.deepEqual(gw.devices, ["Thermometer 1"]);

      // Connecting a known device again (e.g. with a profile now) keeps one entry.
      await gw.connectDevice("Thermometer 1", { type: "thermo-2" });
      assert.deepEqual(gw.devices, ["Thermometer 1"]);
      await peer.waitOn(GW.connect, 3);
      assert.deepEqual(bodies(peer, GW.connect)[2], { device: "Thermometer 1", type: "thermo-2" });
      assert.deepEqual(errors, []);
    });
  });

  Deno.test(`TBGatewayMqttClient.sendTelemetry() wraps every shape in an array per device ${v.label}`, async () => {
    await withBroker(v, async ({ peer, connected }) => {
      const { gw, errors } = await connected();
      await gw.sendTelemetry("Dev A", { temperature: 21.5, on: true, mode: "auto" });
      await gw.sendTelemetry("Dev A", { ts: 1_700_000_000_000, values: { temperature: 22 } });
      await gw.sendTelemetry("Dev B", [
        { ts: 1_700_000_000_001, values: { rpm: 1200 } },
        { ts: 1_700_000_000_002, values: { rpm: 1300, nested: { a: [1, "x", null] } } },
      ]);
      // A device never connected: ThingsBoard creates it; the client does not refuse it.
      await gw.sendTelemetry("Never Connected", { x: 1 });
      const msgs = await peer.waitOn(GW.telemetry, 4);
      assert.deepEqual(msgs.map((m) => m.text), [
        '{"Dev A":[{"temperature":21.5,"on":true,"mode":"auto"}]}',
        '{"Dev A":[{"ts":1700000000000,"values":{"temperature":22}}]}',
        '{"Dev B":[{"ts":1700000000001,"values":{"rpm":1200}},' +
        '{"ts":1700000000002,"values":{"rpm":1300,"nested":{"a":[1,"x",null]}}}]}',
        '{"Never Connected":[{"x":1}]}',
      ]);
      assert.ok(msgs.every((m) => m.qos === 1));
      assert.deepEqual(gw.devices, [], "sending telemetry does not connect the device");
      assert.deepEqual(errors, []);
    });
  });

  Deno.test(`TBGatewayMqttClient.sendAttributes() publishes {"<device>":{…}} ${v.label}`, async () => {
    await withBroker(v, async ({ peer, connected }) => {
      const { gw, errors } = await connected();
      await gw.sendAttributes("Valve 7", { model: "V-200", firmware: "1.4.2", ports: 4 });
      await gw.sendAttributes('Névé "quoted" ✓', { ok: false });
      const msgs = await peer.waitOn(GW.attributes, 2);
      assert.deepEqual(msgs.map((m) => m.json), [
        { "Valve 7": { model: "V-200", firmware: "1.4.2", ports: 4 } },
        { 'Névé "quoted" ✓': { ok: false } },
      ]);
      assert.equal(msgs[0]!.text, '{"Valve 7":{"model":"V-200","firmware":"1.4.2","ports":4}}');
      assert.ok(msgs.every((m) => m.qos === 1));
      // On 3.1.1 the broker sends the attribute message back to the gateway (it subscribes
      // to v1/gateway/attributes): it must not surface as a malformed push.
      await delay(100);
      assert.deepEqual(errors, []);
    });
  });

  Deno.test(`TBGatewayMqttClient.claimDevice() publishes {"<device>":{secretKey,durationMs}} ${v.label}`, async () => {
    await withBroker(v, async ({ peer, connected }) => {
      const { gw, errors } = await connected();
      await gw.claimDevice("Dev A", "s3cr3t", { durationMs: 60_000 });
      await gw.claimDevice("Dev B", "only-secret");
      await gw.claimDevice("Dev C");
      const msgs = await peer.waitOn(GW.claim, 3);
      assert.deepEqual(msgs.map((m) => m.text), [
        '{"Dev A":{"secretKey":"s3cr3t","durationMs":60000}}',
        '{"Dev B":{"secretKey":"only-secret"}}',
        '{"Dev C":{}}',
      ]);
      assert.ok(msgs.every((m) => m.qos === 1));
      assert.deepEqual(errors, []);
    });
  });
}

for (const v of VARIANTS) {
  Deno.test(`TBGatewayMqttClient refuses bad input before sending anything ${v.label}`, async () => {
    await withBroker(v, async ({ peer, connected }) => {
      const { gw, errors } = await connected();
      const mark = peer.gatewayTraffic().length;
      // QoS 2 (ThingsBoard does not implement it) and QoS 0 on MQTT 5 (refused by ThingsBoard).
      // deno-lint-ignore no-explicit-any
      const q2 = { qos: 2 as any };
      await assert.rejects(() => gw.sendTelemetry("Dev A", { t: 1 }, q2), RangeError);
      await assert.rejects(() => gw.sendAttributes("Dev A", { t: 1 }, q2), RangeError);
      await assert.rejects(() => gw.connectDevice("Dev A", q2), RangeError);
      if (v.protocolVersion === 5) {
        await assert.rejects(() => gw.sendTelemetry("Dev A", { t: 1 }, { qos: 0 }), RangeError);
        await assert.rejects(() => gw.connectDevice("Dev A", { qos: 0 }), RangeError);
        await assert.rejects(() => gw.disconnectDevice("Dev A", { qos: 0 }), RangeError);
        await assert.rejects(() => gw.claimDevice("Dev A", "s", { qos: 0 }), RangeError);
        await assert.rejects(() => gw.sendRpcReply("Dev A", 1, {}, { qos: 0 }), RangeError);
      }
      assert.deepEqual(gw.devices, [], "a refused connectDevice() does not register the device");
      // Values JSON cannot carry.
      await assert.rejects(() => gw.sendTelemetry("Dev A", { t: NaN }), InvalidPayloadError);
      await assert.rejects(() => gw.sendTelemetry("Dev A", { t: Infinity }), InvalidPayloadError);
      await assert.rejects(
        () =>
          gw.sendTelemetry("Dev A", [{ ts: 1, values: { ok: 1 } }, { ts: 2, values: { t: NaN } }]),
        InvalidPayloadError,
      );
      await assert.rejects(() => gw.sendAttributes("Dev A", { t: -Infinity }), InvalidPayloadError);
      await assert.rejects(() => gw.sendRpcReply("Dev A", 1, { t: NaN }), InvalidPayloadError);
      // Device names ThingsBoard cannot take (an empty one closes the whole gateway connection).
      await assert.rejects(() => gw.sendTelemetry("", { t: 1 }), InvalidDeviceNameError);
      await assert.rejects(() => gw.sendAttributes("", { t: 1 }), InvalidDeviceNameError);
      await assert.rejects(() => gw.connectDevice(""), InvalidDeviceNameError);
      await assert.rejects(() => gw.disconnectDevice(""), InvalidDeviceNameError);
      await assert.rejects(() => gw.claimDevice("", "s"), InvalidDeviceNameError);
      await assert.rejects(() => gw.sendRpcReply("", 1, {}), InvalidDeviceNameError);
      await assert.rejects(
        () => gw.requestAttributes("", { sharedKeys: ["k"] }),
        InvalidDeviceNameError,
      );
      // deno-lint-ignore no-explicit-any
      await assert.rejects(() => gw.sendTelemetry(42 as any, { t: 1 }), InvalidDeviceNameError);
      assert.throws(() => gw.subscribeToAttributes("", () => {}), InvalidDeviceNameError);
      // Other bad arguments.
      await assert.rejects(() => gw.connectDevice("Dev A", { type: "" }), TypeError);
      await assert.rejects(() => gw.claimDevice("Dev A", "s", { durationMs: -1 }), TypeError);
      await assert.rejects(() => gw.claimDevice("Dev A", "s", { durationMs: 1.5 }), TypeError);
      await assert.rejects(() => gw.sendRpcReply("Dev A", -1, {}), TypeError);
      await assert.rejects(() => gw.sendRpcReply("Dev A", 1.5, {}), TypeError);
      await assert.rejects(() => gw.requestAttributes("Dev A", {}), TypeError);
      await assert.rejects(() => gw.requestAttributes("Dev A", { sharedKeys: [] }), TypeError);
      await assert.rejects(() => gw.requestAttributes("Dev A", { clientKeys: [""] }), TypeError);
      await assert.rejects(
        () => gw.requestAttributes("Dev A", { sharedKeys: ["k"], timeout: 0 }),
        RangeError,
      );
      // Oversize: the default limit is 65,536 bytes for the whole message.
      const big = "x".repeat(70_000);
      await assert.rejects(() => gw.sendTelemetry("Dev A", { big }), PayloadTooLargeError);
      await assert.rejects(() => gw.sendAttributes("Dev A", { big }), PayloadTooLargeError);
      await assert.rejects(() => gw.sendRpcReply("Dev A", 1, { big }), PayloadTooLargeError);
      await assert.rejects(() => gw.claimDevice("Dev A", big), PayloadTooLargeError);
      await assert.rejects(() => gw.connectDevice(big), PayloadTooLargeError);
      assert.deepEqual(gw.devices, []);

      await assertNothingSentSince(
        peer,
        mark,
        () => gw.sendTelemetry("Marker", { done: 1 }),
        { Marker: [{ done: 1 }] },
      );
      assert.deepEqual(errors, []);
    });
  });
}

Deno.test("TBGatewayMqttClient refuses oversize messages by the limit ThingsBoard reports", async () => {
  await withBroker(V4, async ({ peer, gateway }) => {
    peer.limits = {
      maxPayloadSize: 200,
      maxInflightMessages: 100,
      rateLimits: { messages: null, telemetryMessages: null, telemetryDataPoints: null },
      gatewayRateLimits: { messages: null, telemetryMessages: null, telemetryDataPoints: null },
    };
    const gw = gateway({ sessionLimits: true });
    const limits = new Promise((resolve) => gw.addEventListener("sessionlimits", resolve));
    await gw.connect();
    await limits;
    assert.equal(gw.maxPayloadSize, 200);
    const mark = peer.gatewayTraffic().length;
    await assert.rejects(
      () => gw.sendTelemetry("Dev A", { v: "y".repeat(200) }),
      PayloadTooLargeError,
    );
    await assertNothingSentSince(
      peer,
      mark,
      () => gw.sendTelemetry("Dev A", { v: "y".repeat(100) }),
      { "Dev A": [{ v: "y".repeat(100) }] },
    );
  });
});

Deno.test("new TBGatewayMqttClient() refuses QoS 2, and QoS 0 with MQTT 5", () => {
  const base = { host: "127.0.0.1", accessToken: "GW", engine: "ts" as const };
  // deno-lint-ignore no-explicit-any
  assert.throws(() => new TBGatewayMqttClient({ ...base, qos: 2 as any }), RangeError);
  assert.throws(() => new TBGatewayMqttClient({ ...base, qos: 0 }), RangeError);
  assert.throws(() => new TBGatewayMqttClient({ ...base, qos: 0, protocolVersion: 5 }), RangeError);
  // QoS 0 stays possible on MQTT 3.1.1.
  const gw = new TBGatewayMqttClient({ ...base, qos: 0, protocolVersion: 4 });
  assert.equal(gw.state, "disconnected");
});

Deno.test("TBGatewayMqttClient with QoS 0 on MQTT 3.1.1 publishes at QoS 0", async () => {
  await withBroker(V4, async ({ peer, connected }) => {
    const { gw, errors } = await connected({ qos: 0 });
    await gw.connectDevice("Dev A");
    await gw.sendTelemetry("Dev A", { t: 1 });
    await gw.sendTelemetry("Dev A", { t: 2 }, { qos: 1 });
    await peer.waitOn(GW.telemetry, 2);
    assert.deepEqual(peer.on(GW.connect).map((m) => m.qos), [0]);
    assert.deepEqual(peer.on(GW.telemetry).map((m) => [m.qos, m.json]), [
      [0, { "Dev A": [{ t: 1 }] }],
      [1, { "Dev A": [{ t: 2 }] }],
    ]);
    assert.deepEqual(errors, []);
  });
});
