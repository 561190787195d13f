/**
 * Fidelity of PUBLISH/SUBSCRIBE handling to ThingsBoard (reference §1.2 QoS, §1.3 topics and
 * subscribe whitelist, §1.5 error behaviour, §1.6 limits).
 */

import assert from "node:assert/strict";
import {
  emulator,
  jsConnect,
  json,
  LEVELS,
  mqttName,
  pubackCode,
  rawDevice,
} from "./_emulator_fidelity.ts";

for (const version of LEVELS) {
  const name = mqttName(version);
  const failure = version === 5 ? 0x8f : 0x80;

  Deno.test(
    `emulator grants SUBSCRIBE QoS 2 as QoS 1 and QoS 0/1 as asked on ${name} (ThingsBoard getMinSupportedQos)`,
    async () => {
      await using tb = await emulator();
      const { c } = await rawDevice(tb, version);
      await using _c = c;
      assert.deepEqual(
        await c.subscribe(
          ["v1/devices/me/attributes", 2],
          ["v1/devices/me/rpc/request/+", 0],
          ["v1/devices/me/attributes/response/+", 1],
        ),
        [1, 0, 1],
      );
    },
  );

  Deno.test(
    `emulator answers a QoS 2 PUBLISH with a PUBACK (no PUBREC) on ${name} (ThingsBoard MTH.ack)`,
    async () => {
      await using tb = await emulator();
      const { c, device } = await rawDevice(tb, version);
      await using _c = c;
      const ack = await c.publish("v1/devices/me/telemetry", '{"q2":1}', 2);
      assert.equal(ack?.cmd, "puback");
      assert.equal(pubackCode(ack), 0);
      assert.equal(tb.getLatestTelemetry(device).q2?.value, 1);
      await c.nothing((p) => p.cmd === "pubrec" || p.cmd === "pubcomp");
    },
  );

  Deno.test(
    `emulator publishes with the QoS of the first matching subscription, else QoS 1, on ${name} (ThingsBoard getQoSForTopic)`,
    async () => {
      await using tb = await emulator();
      const { c, device } = await rawDevice(tb, version);
      await using _c = c;
      await c.subscribe(["v1/devices/me/attributes", 0]);
      tb.setSharedAttributes(device, { a: 1 });
      const push = await c.message("v1/devices/me/attributes");
      assert.equal(push.qos, 0);
      // Attribute response without any subscription: QoS 1 with a packet id (must be PUBACKed).
      await c.publish("v1/devices/me/attributes/request/7", "{}");
      const res = await c.message("v1/devices/me/attributes/response/7");
      assert.equal(res.qos, 1);
      assert.ok(res.messageId > 0);
      await c.subscribe(["v1/devices/me/attributes/response/+", 0]);
      await c.publish("v1/devices/me/attributes/request/8", "{}");
      assert.equal((await c.message("v1/devices/me/attributes/response/8")).qos, 0);
    },
  );

  const UNKNOWN = ["v1/devices/me/telemetr", "v1/devices/me", "v1/devices/other/telemetry", "x"];
  for (const topic of UNKNOWN) {
    Deno.test(
      `emulator answers a PUBLISH to unknown topic "${topic}" with ${
        version === 5 ? "PUBACK 0x90" : "a plain PUBACK"
      } on ${name} and keeps the session (ThingsBoard processDevicePublish)`,
      async () => {
        await using tb = await emulator();
        const { c, device } = await rawDevice(tb, version);
        await using _c = c;
        const ack = await c.publish(topic, '{"lost":1}');
        assert.equal(pubackCode(ack), version === 5 ? 0x90 : 0);
        if (version === 4) assert.equal(ack!.reasonCode ?? 0, 0);
        await c.ping();
        assert.deepEqual(tb.getTelemetry(device), {});
        assert.deepEqual(tb.getClientAttributes(device), {});
      },
    );
  }

  // Reference §1.4.1-§1.4.3 and §1.5 "Payload fails JSON/validation".
  const INVALID: [string, string, string][] = [
    ["telemetry", "v1/devices/me/telemetry", "{not json"],
    ["telemetry", "v1/devices/me/telemetry", "5"],
    ["telemetry", "v1/devices/me/telemetry", '"text"'],
    ["telemetry", "v1/devices/me/telemetry", "[1,2]"],
    ["attributes", "v1/devices/me/attributes", "{not json"],
    ["attributes", "v1/devices/me/attributes", '[{"a":1}]'],
    ["attribute request", "v1/devices/me/attributes/request/1", ""],
    ["attribute request", "v1/devices/me/attributes/request/1", "[]"],
    ["attribute request", "v1/devices/me/attributes/request/abc", "{}"],
    ["v2 telemetry", "v2/t", "{not json"],
  ];
  for (const [what, topic, payload] of INVALID) {
    Deno.test(
      `emulator rejects ${what} payload ${JSON.stringify(payload)} on ${topic} with ${
        version === 5 ? "PUBACK 0x99, session kept" : "a TCP close"
      } on ${name} (ThingsBoard sendResponseForAdaptorErrorOrCloseContext)`,
      async () => {
        await using tb = await emulator();
        const { c, device } = await rawDevice(tb, version);
        await using _c = c;
        if (version === 5) {
          assert.equal(pubackCode(await c.publish(topic, payload)), 0x99);
          await c.ping();
        } else {
          await c.publish(topic, payload).then(
            (p) => assert.fail(`expected a close, got ${JSON.stringify(p)}`),
            () => {},
          );
          assert.ok(await c.closedWithin());
          assert.equal(c.pending.length, 0, "no PUBACK or response before the close");
        }
        assert.deepEqual(tb.getTelemetry(device), {});
      },
    );
  }

  Deno.test(
    `emulator closes a connection whose PUBLISH exceeds 65,536 bytes${
      version === 5 ? " after DISCONNECT 0x81" : ""
    } on ${name}, and accepts one below (ThingsBoard netty.max_payload_size)`,
    async () => {
      await using tb = await emulator();
      const { c, device } = await rawDevice(tb, version);
      await using _c = c;
      const ok = `{"big":"${"x".repeat(60_000)}"}`;
      assert.equal(pubackCode(await c.publish("v1/devices/me/telemetry", ok)), 0);
      assert.equal((tb.getLatestTelemetry(device).big?.value as string).length, 60_000);
      const tooBig = `{"huge":"${"x".repeat(70_000)}"}`;
      await c.publish("v1/devices/me/telemetry", tooBig).catch(() => undefined);
      assert.ok(await c.closedWithin(), "connection closed");
      const tail = [...c.received].slice(-3);
      if (version === 5) assert.deepEqual(tail, [0xe0, 0x01, 0x81]);
      else assert.notEqual(tail.at(-3), 0xe0);
      assert.equal(tb.getLatestTelemetry(device).huge, undefined);
    },
  );

  Deno.test(
    `emulator fails non-whitelisted SUBSCRIBE filters one by one with 0x${
      failure.toString(16)
    } on ${name} and keeps the connection (ThingsBoard processSubscribe)`,
    async () => {
      await using tb = await emulator();
      const { c, device } = await rawDevice(tb, version);
      await using _c = c;
      const granted = await c.subscribe(
        ["v1/devices/me/attributes", 1],
        ["v2/fw/response/+", 1],
        ["v1/devices/me/#", 1],
        ["v1/devices/me/rpc/request/+", 1],
        ["#", 0],
        ["v1/devices/me/telemetry", 1],
        ["v1/devices/me/attributes/response/#", 1],
      );
      assert.deepEqual(granted, [1, failure, failure, 1, failure, failure, failure]);
      await c.ping();
      tb.setSharedAttributes(device, { still: "subscribed" });
      assert.deepEqual(json(await c.message("v1/devices/me/attributes")), { still: "subscribed" });
    },
  );

  const WHITELIST = [
    "v1/devices/me/attributes",
    "v1/devices/me/attributes/response/+",
    "v1/devices/me/rpc/request/+",
    "v1/devices/me/rpc/response/+",
    "v2/a",
    "v2/a/res/+",
    "v2/r/req/+",
    "v2/r/res/+",
    "v2/a/j",
    "v2/a/res/j/+",
    "v2/r/req/j/+",
    "v2/r/res/j/+",
    "v1/gateway/attributes",
    "v1/gateway/rpc",
    "v1/gateway/attributes/response",
    "v2/fw/response/+/chunk/+",
    "v2/fw/error",
    "v2/sw/response/+/chunk/+",
    "v2/sw/error",
  ];
  Deno.test(
    `emulator grants every whitelisted filter of §1.3 on ${name} (ThingsBoard processSubscribe)`,
    async () => {
      await using tb = await emulator();
      const { c } = await rawDevice(tb, version, { gateway: true });
      await using _c = c;
      const granted = await c.subscribe(...WHITELIST.map((f) => [f, 1] as [string, number]));
      assert.deepEqual(granted, WHITELIST.map(() => 1));
    },
  );

  Deno.test(
    `emulator answers UNSUBSCRIBE of a filter never subscribed with ${
      version === 5 ? "0x11" : "an UNSUBACK without codes"
    } on ${name} (ThingsBoard processUnsubscribe)`,
    async () => {
      await using tb = await emulator();
      const { c } = await rawDevice(tb, version);
      await using _c = c;
      await c.subscribe(["v1/devices/me/attributes", 1]);
      const ack = await c.unsubscribe("v1/devices/me/attributes", "v1/devices/me/rpc/request/+");
      if (version === 5) assert.deepEqual(ack.granted, [0x00, 0x11]);
      else assert.equal(ack.granted, undefined);
    },
  );

  Deno.test(
    `emulator closes a device over its telemetry rate limit${
      version === 5 ? " with DISCONNECT 0x83" : ""
    } on ${name} (ThingsBoard DTS.checkLimits)`,
    async () => {
      await using tb = await emulator({ rateLimits: { telemetryMessages: "1:60" } });
      const { c, device } = await rawDevice(tb, version);
      await using _c = c;
      assert.equal(pubackCode(await c.publish("v1/devices/me/telemetry", '{"n":1}')), 0);
      await c.publish("v1/devices/me/telemetry", '{"n":2}').catch(() => undefined);
      if (version === 5) assert.equal((await c.nextOf("disconnect")).reasonCode, 0x83);
      assert.ok(await c.closedWithin());
      assert.equal(tb.getLatestTelemetry(device).n?.value, 1);
    },
  );
}

Deno.test(
  "emulator PUBACK reason codes reach an MQTT.js 5 client (0x90 unknown topic, 0x99 bad payload)",
  async () => {
    await using tb = await emulator();
    tb.createDevice({ name: "d", accessToken: "TOK" });
    const client = await jsConnect(tb, 5, { username: "TOK" });
    try {
      const codeOf = (topic: string, payload: string) =>
        client.publishAsync(topic, payload, { qos: 1 }).then(
          () => 0,
          (e: { code?: number }) => e.code,
        );
      assert.equal(await codeOf("v1/devices/me/unknown", "{}"), 0x90);
      assert.equal(await codeOf("v1/devices/me/telemetry", "{oops"), 0x99);
      assert.equal(await codeOf("v1/devices/me/telemetry", '{"ok":true}'), 0);
    } finally {
      await client.endAsync();
    }
  },
);
