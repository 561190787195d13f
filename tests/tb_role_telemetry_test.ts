/**
 * The independent ThingsBoard-role scenario suite, device publishes:
 * `sendTelemetry()` in every shape, its refusals before sending (QoS 2, bad
 * values, oversize payloads), and `claimDevice()`.
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
import {
  InvalidPayloadError,
  PayloadTooLargeError,
  TBDeviceMqttClient,
  TelemetryBatch,
} from "../mod.ts";
import { delay, FULL, ME, SUBSET, withTb } from "./_tb_role.ts";

for (const v of [...FULL, ...SUBSET]) {
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
}
