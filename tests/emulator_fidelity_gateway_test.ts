/**
 * Fidelity of the gateway API to ThingsBoard (reference §1.4.11): sub-device connect, telemetry
 * (arrays only), attributes, attribute requests (`value`/`values`), pushes, RPC and claims; and
 * one-session-per-device / device deletion (§1.5).
 */

import assert from "node:assert/strict";
import { emulator, json, LEVELS, mqttName, pubackCode, rawDevice } from "./_emulator_fidelity.ts";

const TS = 1_700_000_000_000;

for (const version of LEVELS) {
  const name = mqttName(version);

  Deno.test(
    `emulator creates gateway sub-devices on first use and stores their telemetry (arrays only) and attributes on ${name} (ThingsBoard AGSH)`,
    async () => {
      await using tb = await emulator();
      const { c } = await rawDevice(tb, version, { gateway: true });
      await using _c = c;
      assert.equal(pubackCode(await c.publish("v1/gateway/connect", '{"device":"A"}')), 0);
      assert.ok(tb.getDevice("A"));
      const telemetry = JSON.stringify({
        A: [{ ts: TS, values: { t: 1 } }, { u: "2" }],
        B: { notAnArray: 1 },
        C: [{ v: null, w: true }],
      });
      assert.equal(pubackCode(await c.publish("v1/gateway/telemetry", telemetry)), 0);
      const a = tb.getTelemetry("A");
      assert.equal(a.t?.[0]?.ts, TS);
      assert.equal(a.u?.[0]?.value, 2);
      assert.equal(tb.getDevice("B"), undefined, "non-array entry skipped");
      assert.deepEqual(Object.keys(tb.getTelemetry("C")), ["w"]);
      assert.equal(
        pubackCode(await c.publish("v1/gateway/attributes", '{"A":{"model":"X1","n":"5"}}')),
        0,
      );
      assert.deepEqual(tb.getClientAttributes("A"), { model: "X1", n: 5 });
    },
  );

  Deno.test(
    `emulator answers gateway attribute requests with "value" for one key and "values" otherwise on ${name} (ThingsBoard getJsonObjectForGateway)`,
    async () => {
      await using tb = await emulator();
      const { c } = await rawDevice(tb, version, { gateway: true });
      await using _c = c;
      await c.publish("v1/gateway/connect", '{"device":"A"}');
      tb.setSharedAttributes("A", { s1: 1, s2: "two" });
      await c.publish("v1/gateway/attributes", '{"A":{"c1":true}}');
      const ask = async (body: unknown) => {
        assert.equal(
          pubackCode(await c.publish("v1/gateway/attributes/request", JSON.stringify(body))),
          0,
        );
        return json(await c.message("v1/gateway/attributes/response"));
      };
      assert.deepEqual(await ask({ id: 1, device: "A", client: false, key: "s1" }), {
        id: 1,
        device: "A",
        value: 1,
      });
      assert.deepEqual(await ask({ id: 2, device: "A", client: false, keys: ["s1", "s2"] }), {
        id: 2,
        device: "A",
        values: { s1: 1, s2: "two" },
      });
      assert.deepEqual(await ask({ id: 3, device: "A", client: true, keys: ["c1"] }), {
        id: 3,
        device: "A",
        value: true,
      });
      assert.deepEqual(await ask({ id: 4, device: "A", client: false, keys: ["nope"] }), {
        id: 4,
        device: "A",
      });
    },
  );

  Deno.test(
    `emulator pushes sub-device attributes and RPC through the gateway as {"device","data"} on ${name} (ThingsBoard toGatewayJson)`,
    async () => {
      await using tb = await emulator();
      const { c } = await rawDevice(tb, version, { gateway: true });
      await using _c = c;
      await c.subscribe(["v1/gateway/attributes", 1], ["v1/gateway/rpc", 1]);
      await c.publish("v1/gateway/connect", '{"device":"A","type":"meters"}');
      assert.equal(tb.getDevice("A")?.profile, "meters");
      tb.setSharedAttributes("A", { level: 3 });
      assert.deepEqual(json(await c.message("v1/gateway/attributes")), {
        device: "A",
        data: { level: 3 },
      });
      tb.deleteSharedAttributes("A", ["level"]);
      assert.deepEqual(json(await c.message("v1/gateway/attributes")), {
        device: "A",
        data: { deleted: ["level"] },
      });
      const reply = tb.sendRpc("A", "toggle", { on: true }, { timeout: 2000 });
      assert.deepEqual(json(await c.message("v1/gateway/rpc")), {
        device: "A",
        data: { id: 0, method: "toggle", params: { on: true } },
      });
      await c.publish("v1/gateway/rpc", '{"device":"A","id":0,"data":{"done":1}}');
      assert.deepEqual(await reply, { done: 1 });
      await c.publish("v1/gateway/claim", '{"A":{"secretKey":"s","durationMs":5000}}');
      assert.equal(tb.getClaims("A")?.secretKey, "s");
      assert.equal(tb.getClaims("A")?.durationMs, 5000);
    },
  );

  if (version === 5) {
    Deno.test(
      "emulator answers a QoS 0 gateway telemetry message on MQTT 5 with a v1/gateway/disconnect notice, reason 129 (ThingsBoard AGSH)",
      async () => {
        await using tb = await emulator();
        const { c } = await rawDevice(tb, 5, { gateway: true });
        await using _c = c;
        await c.publish("v1/gateway/telemetry", '{"A":[{"x":1}]}', 0);
        assert.deepEqual(json(await c.message("v1/gateway/disconnect")), {
          device: "A",
          reason: 129,
        });
        assert.equal(tb.getLatestTelemetry("A").x?.value, 1);
      },
    );
  }

  Deno.test(
    `emulator closes a deleted device's session${
      version === 5 ? " with DISCONNECT 0x98" : ""
    } on ${name} (ThingsBoard §1.5 device deleted)`,
    async () => {
      await using tb = await emulator();
      const { c, device } = await rawDevice(tb, version);
      await using _c = c;
      tb.deleteDevice(device);
      if (version === 5) assert.equal((await c.nextOf("disconnect")).reasonCode, 0x98);
      assert.ok(await c.closedWithin());
    },
  );
}
