/**
 * Fidelity of RPC (server-side and client-side), `getSessionLimits` and claiming to ThingsBoard
 * (reference §1.4.5-§1.4.8, v2 short topics §1.3).
 */

import assert from "node:assert/strict";
import {
  emulator,
  Inbox,
  jsConnect,
  json,
  LEVELS,
  mqttName,
  pubackCode,
  rawDevice,
} from "./_emulator_fidelity.ts";

const FAMILIES = [
  ["v1", "v1/devices/me/rpc/request/", "v1/devices/me/rpc/response/"],
  ["v2", "v2/r/req/", "v2/r/res/"],
  ["v2 JSON", "v2/r/req/j/", "v2/r/res/j/"],
] as const;

for (const version of LEVELS) {
  const name = mqttName(version);

  for (const [family, req, res] of FAMILIES) {
    Deno.test(
      `emulator delivers server RPC on ${req}{id} (ids from 0, {method, params}, no id field) and takes the reply on ${res}{id} on ${name} (ThingsBoard ToDeviceRpcRequestMsg, ${family})`,
      async () => {
        await using tb = await emulator();
        const { c, device } = await rawDevice(tb, version);
        await using _c = c;
        assert.deepEqual(await c.subscribe([`${req}+`, 1]), [1]);
        const first = tb.sendRpc(device, "setValve", { open: true }, { timeout: 2000 });
        const r0 = await c.message(`${req}0`);
        assert.equal(r0.text, '{"method":"setValve","params":{"open":true}}');
        assert.equal(r0.qos, 1);
        assert.equal(pubackCode(await c.publish(`${res}0`, '{"done":true}')), 0);
        assert.deepEqual(await first, { done: true });
        // The reply is passed through unvalidated.
        const second = tb.sendRpc(device, "ping", undefined, { timeout: 2000 });
        const r1 = await c.message(`${req}1`);
        assert.deepEqual(json(r1), { method: "ping", params: {} });
        assert.equal(pubackCode(await c.publish(`${res}1`, "pong, not JSON")), 0);
        assert.equal(await second, "pong, not JSON");
      },
    );

    Deno.test(
      `emulator answers client-side RPC on ${req}{id} with ${res}{id} without a subscription on ${name} (ThingsBoard ToServerRpcResponseMsg, ${family})`,
      async () => {
        await using tb = await emulator({ clientRpcTimeout: 300 });
        const seen: unknown[] = [];
        tb.onClientRpc("getTime", (r) => {
          seen.push([r.method, r.params, r.requestId]);
          return { time: 123 };
        });
        tb.onClientRpc("fail", () => {
          throw new Error("no such thing");
        });
        const { c } = await rawDevice(tb, version);
        await using _c = c;
        const call = async (id: number, body: string) => {
          assert.equal(pubackCode(await c.publish(`${req}${id}`, body)), 0);
          return (await c.message(`${res}${id}`)).text;
        };
        assert.equal(await call(5, '{"method":"getTime","params":{"tz":"UTC"}}'), '{"time":123}');
        assert.equal(await call(6, '{"method":"getTime"}'), '{"time":123}');
        assert.deepEqual(seen, [["getTime", { tz: "UTC" }, 5], ["getTime", null, 6]]);
        assert.equal(await call(7, '{"method":"fail","params":{}}'), '{"error":"no such thing"}');
        const t0 = Date.now();
        assert.equal(await call(8, '{"method":"unknown","params":{}}'), '{"error":"timeout"}');
        assert.ok(Date.now() - t0 >= 250, "timeout reply after clientRpcTimeout");
      },
    );
  }

  Deno.test(
    `emulator sends a client-side RPC reply in the family of the most recent request on ${name} (ThingsBoard toServerRpcSubTopicType)`,
    async () => {
      await using tb = await emulator();
      let release = () => {};
      const gate = new Promise<void>((r) => release = r);
      tb.onClientRpc("slow", async () => {
        await gate;
        return { slow: true };
      });
      tb.onClientRpc("fast", () => ({ fast: true }));
      const { c } = await rawDevice(tb, version);
      await using _c = c;
      await c.publish("v2/r/req/1", '{"method":"slow","params":{}}');
      await c.publish("v1/devices/me/rpc/request/2", '{"method":"fast","params":{}}');
      assert.deepEqual(json(await c.message("v1/devices/me/rpc/response/2")), { fast: true });
      release();
      // The v2 call is answered on the v1 topic: the latest request used the v1 family.
      assert.deepEqual(json(await c.message("v1/devices/me/rpc/response/1")), { slow: true });
      await c.nothing((p) => p.cmd === "publish" && p.topic.startsWith("v2/"));
    },
  );

  Deno.test(
    `emulator does not route a device's own client-side RPC back to it as server RPC on ${name} (same rpc/request/ prefix, §1.3)`,
    async () => {
      await using tb = await emulator();
      tb.onClientRpc(() => ({ ok: true }));
      const { c } = await rawDevice(tb, version);
      await using _c = c;
      await c.subscribe(["v1/devices/me/rpc/request/+", 1], ["v1/devices/me/rpc/response/+", 1]);
      await c.publish("v1/devices/me/rpc/request/3", '{"method":"x","params":1}');
      assert.deepEqual(json(await c.message("v1/devices/me/rpc/response/3")), { ok: true });
      await c.nothing((p) =>
        p.cmd === "publish" && p.topic.startsWith("v1/devices/me/rpc/request")
      );
    },
  );

  Deno.test(
    `emulator sends server RPC only to a session subscribed to RPC, and delivers it when the device subscribes on ${name} (ThingsBoard persistent RPC)`,
    async () => {
      await using tb = await emulator();
      const { c, device } = await rawDevice(tb, version);
      await using _c = c;
      await c.subscribe(["v1/devices/me/attributes", 1]);
      const pending = tb.sendRpc(device, "reboot", { delay: 1 }, { timeout: 3000 });
      await c.nothing((p) => p.cmd === "publish");
      await c.subscribe(["v1/devices/me/rpc/request/+", 0]);
      const r = await c.message("v1/devices/me/rpc/request/0");
      assert.equal(r.qos, 0);
      await c.publish("v1/devices/me/rpc/response/0", '"ok"');
      assert.equal(await pending, "ok");
    },
  );

  Deno.test(
    `emulator ignores late server RPC replies on ${name} (ThingsBoard §1.4.5)`,
    async () => {
      await using tb = await emulator();
      const { c, device } = await rawDevice(tb, version);
      await using _c = c;
      await c.subscribe(["v1/devices/me/rpc/request/+", 1]);
      const err = await tb.sendRpc(device, "slow", {}, { timeout: 150 }).catch((e) => e);
      assert.equal((err as DOMException).name, "TimeoutError");
      await c.message("v1/devices/me/rpc/request/0");
      assert.equal(pubackCode(await c.publish("v1/devices/me/rpc/response/0", "{}")), 0);
      await c.ping();
    },
  );

  Deno.test(
    `emulator answers getSessionLimits on the v1 topic itself on ${name} (ThingsBoard onGetSessionLimitsRpc)`,
    async () => {
      await using tb = await emulator({
        rateLimits: { messages: "200:1,6000:60", telemetryDataPoints: "500:1" },
        enforceRateLimits: false,
      });
      let handled = 0;
      tb.onClientRpc(() => {
        handled++;
        return { from: "handler" };
      });
      const { c } = await rawDevice(tb, version);
      await using _c = c;
      await c.publish("v1/devices/me/rpc/request/1", '{"method":"getSessionLimits","params":{}}');
      assert.equal(
        (await c.message("v1/devices/me/rpc/response/1")).text,
        '{"maxPayloadSize":65536,"maxInflightMessages":100,"rateLimits":{"messages":"200:1,6000:60","telemetryMessages":null,"telemetryDataPoints":"500:1"}}',
      );
      assert.equal(handled, 0);
      // Not intercepted on the v2 topic: it is an ordinary client-side RPC there.
      await c.publish("v2/r/req/2", '{"method":"getSessionLimits","params":{}}');
      assert.deepEqual(json(await c.message("v2/r/res/2")), { from: "handler" });
      assert.equal(handled, 1);
      // Gateways also get gatewayRateLimits.
      const { c: gw } = await rawDevice(tb, version, { gateway: true });
      await using _gw = gw;
      await gw.publish("v1/devices/me/rpc/request/1", '{"method":"getSessionLimits"}');
      const limits = json(await gw.message("v1/devices/me/rpc/response/1")) as Record<
        string,
        unknown
      >;
      assert.deepEqual(Object.keys(limits), [
        "maxPayloadSize",
        "maxInflightMessages",
        "rateLimits",
        "gatewayRateLimits",
      ]);
    },
  );

  const CLAIMS: [string, string, { secretKey: string; durationMs: number }][] = [
    ["secret key and duration", '{"secretKey":"abc","durationMs":60000}', {
      secretKey: "abc",
      durationMs: 60000,
    }],
    ["an empty payload", "", { secretKey: "", durationMs: 0 }],
    ["only a secret key", '{"secretKey":"k"}', { secretKey: "k", durationMs: 0 }],
    ["an empty object", "{}", { secretKey: "", durationMs: 0 }],
  ];
  for (const [what, payload, expected] of CLAIMS) {
    Deno.test(
      `emulator records a claim with ${what} and answers only with a PUBACK on ${name} (ThingsBoard convertToClaimDeviceProto)`,
      async () => {
        await using tb = await emulator();
        const { c, device } = await rawDevice(tb, version);
        await using _c = c;
        assert.equal(pubackCode(await c.publish("v1/devices/me/claim", payload)), 0);
        const claim = tb.getClaims(device);
        assert.deepEqual({ secretKey: claim?.secretKey, durationMs: claim?.durationMs }, expected);
        await c.nothing((p) => p.cmd === "publish");
      },
    );
  }
}

/** [what the device does, reference, topic with a non-integer id, payload] */
const NON_INTEGER_IDS = [
  ["replying to server RPC", "§1.4.5 id must be int", "v1/devices/me/rpc/response/abc", "{}"],
  [
    "calling client-side RPC",
    "§7.7 the session dies",
    "v1/devices/me/rpc/request/1.5",
    '{"method":"m"}',
  ],
] as const;
for (const [what, ref, topic, payload] of NON_INTEGER_IDS) {
  Deno.test(
    `emulator closes an MQTT 3.1.1 session ${what} on a non-integer id (${ref})`,
    async () => {
      await using tb = await emulator();
      const { c } = await rawDevice(tb, 4);
      await using _c = c;
      await c.publish(topic, payload).catch(() => undefined);
      assert.ok(await c.closedWithin());
    },
  );
}

Deno.test("emulator server RPC round trip with an MQTT.js 5 device", async () => {
  await using tb = await emulator();
  const device = tb.createDevice({ name: "d", accessToken: "TOK" });
  const client = await jsConnect(tb, 5, { username: "TOK" });
  try {
    const inbox = new Inbox(client);
    await client.subscribeAsync("v1/devices/me/rpc/request/+", { qos: 1 });
    const reply = tb.sendRpc(device, "getState", { verbose: true }, { timeout: 2000 });
    const req = await inbox.next(/^v1\/devices\/me\/rpc\/request\//);
    const id = req.topic.split("/").at(-1);
    await client.publishAsync(`v1/devices/me/rpc/response/${id}`, '{"state":"on"}', { qos: 1 });
    assert.deepEqual(await reply, { state: "on" });
  } finally {
    await client.endAsync();
  }
});
