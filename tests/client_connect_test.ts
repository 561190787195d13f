import assert from "node:assert/strict";
import { ConnectionRefusedError, PayloadTooLargeError } from "../core/mqtt/mod.ts";
import { TBDeviceMqttClient } from "../core/client/client.ts";
import { DEVICE_SUBSCRIPTIONS } from "../core/client/topics.ts";
import { matrix, nextEvent, setup } from "./client_harness.ts";

matrix(
  "TBDeviceMqttClient.connect() authenticates with the token and subscribes to the four device topics",
  async (v) => {
    await using s = await setup(v);
    const { tb, client } = s;
    const connected = tb.waitFor("connect", (e) => e.device === "d1");
    const connectEvent = nextEvent(client, "connect");
    assert.equal(client.state, "disconnected");
    assert.equal(client.connected, false);
    const connack = await client.connect({ timeout: 5000 });
    assert.equal(connack.reasonCode, 0);
    assert.equal(client.connected, true);
    assert.equal(client.state, "connected");
    assert.equal(client.protocolVersion, v.protocolVersion);
    assert.equal((await connected).protocolVersion, v.protocolVersion);
    assert.equal((await connectEvent).detail.reasonCode, 0);
    const session = tb.sessions.find((x) => x.device === "d1");
    assert.ok(session);
    assert.deepEqual([...session.subscriptions.keys()].sort(), [...DEVICE_SUBSCRIPTIONS].sort());
    for (const qos of session.subscriptions.values()) assert.equal(qos, 1);
  },
);

matrix(
  "TBDeviceMqttClient.connect() throws ConnectionRefusedError for a bad token without printing it",
  async (v) => {
    await using s = await setup(v);
    const client = s.newClient({ accessToken: "WRONG_SECRET_TOKEN", reconnect: false });
    await assert.rejects(client.connect({ timeout: 5000 }), (e: unknown) => {
      assert.ok(e instanceof ConnectionRefusedError, String(e));
      assert.match(e.message, /access token not accepted by ThingsBoard/);
      assert.doesNotMatch(e.message, /WRONG_SECRET_TOKEN/);
      // On MQTT 5 ThingsBoard follows the CONNACK with a DISCONNECT carrying 0x86 (a code DISCONNECT
      // may not carry); the refusal must still be reported on level 5, without a fallback.
      assert.equal(e.protocolVersion, v.protocolVersion);
      if (v.protocolVersion === 5) assert.equal(e.reasonCode, 0x86);
      else assert.equal(e.returnCode, 5);
      return true;
    });
    assert.equal(client.connected, false);
    assert.equal(client.state, "disconnected");
    for (const entry of s.entries) {
      assert.doesNotMatch(JSON.stringify(entry), /WRONG_SECRET_TOKEN|D1_TOKEN_SECRET/);
    }
  },
);

matrix(
  "TBDeviceMqttClient.disconnect() ends the session and emits disconnect; await using disposes",
  async (v) => {
    await using s = await setup(v);
    const { tb } = s;
    const closed = tb.waitFor("disconnect", (e) => e.device === "d1");
    let mark = 0;
    {
      await using client = s.newClient();
      await client.connect();
      assert.equal(tb.isConnected("d1"), true);
      const gone = nextEvent(client, "disconnect");
      await client.disconnect();
      assert.equal((await gone).detail.reason, undefined);
      assert.equal(client.connected, false);
      assert.equal(client.state, "disconnected");
      assert.equal((await closed).reason, "client");
      await client.connect();
      assert.equal(tb.isConnected("d1"), true, "a disconnected client can connect again");
      mark = tb.lastSeq;
    }
    const e = await tb.waitFor("disconnect", (e) => e.device === "d1", { since: mark });
    assert.equal(e.reason, "client", "await using disconnected the client");
    assert.equal(tb.isConnected("d1"), false);
  },
);

matrix(
  "TBDeviceMqttClient.getSessionLimits() learns maxPayloadSize and larger payloads are refused before sending",
  async (v) => {
    await using s = await setup(v, { sessionLimits: false }, {
      maxPayloadSize: 2048,
      maxInflightMessages: 7,
    });
    const { tb, client } = s;
    await client.connect();
    assert.equal(client.maxPayloadSize, 65_536);
    const event = nextEvent(client, "sessionlimits");
    const limits = await client.getSessionLimits({ timeout: 5000 });
    assert.equal(limits.maxPayloadSize, 2048);
    assert.equal(limits.maxInflightMessages, 7);
    assert.deepEqual((await event).detail, limits);
    assert.equal(client.maxPayloadSize, 2048);
    assert.deepEqual(client.sessionLimits, limits);

    await assert.rejects(client.sendTelemetry({ big: "x".repeat(3000) }), (e: unknown) => {
      assert.ok(e instanceof PayloadTooLargeError);
      assert.ok(e.size > 3000);
      assert.equal(e.limit, 2048);
      assert.match(
        e.message,
        new RegExp(
          `^Cannot send telemetry: the packet is ${e.size} bytes, the limit is 2048 bytes(;|$)`,
        ),
      );
      return true;
    });
    await assert.rejects(client.sendAttributes({ big: "x".repeat(3000) }), PayloadTooLargeError);
    // The emulator saw nothing: the next message is the first one it stores.
    await client.sendTelemetry({ small: 1 });
    assert.deepEqual(Object.keys(tb.getTelemetry("d1")), ["small"]);
    assert.deepEqual(tb.getClientAttributes("d1"), {});
    assert.equal(tb.sessions.length, 1, "the connection stayed up");
  },
);

matrix("TBDeviceMqttClient.connect() asks for session limits in the background", async (v) => {
  await using s = await setup(v, {}, { maxPayloadSize: 4096 });
  const { client } = s;
  const event = nextEvent(client, "sessionlimits");
  await client.connect();
  assert.equal((await event).detail.maxPayloadSize, 4096);
  assert.equal(client.maxPayloadSize, 4096);
});

Deno.test("TBDeviceMqttClient.connect() falls back to MQTT 3.1.1 when the server refuses 5", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 5 }, {}, { mqtt311Only: true });
  const { tb, client } = s;
  const connected = tb.waitFor("connect", (e) => e.device === "d1");
  await client.connect();
  assert.equal(client.protocolVersion, 4);
  assert.equal((await connected).protocolVersion, 4);
  await client.sendTelemetry({ t: 1 });
  assert.equal(tb.getLatestTelemetry("d1").t?.value, 1);
});

Deno.test("TBDeviceMqttClient constructor refuses bad options before connecting", () => {
  assert.throws(() => new TBDeviceMqttClient({ host: "" }), /host must be a non-empty string/);
  assert.throws(
    () => new TBDeviceMqttClient({ host: "127.0.0.1", accessToken: "a", username: "b" }),
    /give accessToken or username, not both/,
  );
  assert.throws(() => new TBDeviceMqttClient({ host: "127.0.0.1", qos: 2 as never }), RangeError);
  assert.throws(
    () => new TBDeviceMqttClient({ host: "127.0.0.1", qos: 2 as never }),
    /QoS 2 is not supported .*; use qos 0 or 1$/,
  );
  assert.throws(
    () => new TBDeviceMqttClient({ host: "127.0.0.1", engine: "c" as never }),
    /unknown engine "c"; use "ts" or "wasm"$/,
  );
  assert.throws(
    () => new TBDeviceMqttClient({ host: "127.0.0.1", dispatch: "x" as never }),
    /unknown dispatch "x"; use "auto" or "poll"$/,
  );
  assert.throws(() => new TBDeviceMqttClient({ host: "127.0.0.1", requestTimeout: 0 }), RangeError);
});

matrix("TBDeviceMqttClient events report a server-side disconnect and the reconnect", async (v) => {
  await using s = await setup(v);
  const { tb, client } = s;
  await client.connect();
  const disconnected = nextEvent(client, "disconnect");
  const reconnecting = nextEvent(client, "reconnecting");
  const reconnected = nextEvent(client, "connect");
  assert.equal(tb.disconnect("d1", { reasonCode: 0x98 }), true);
  const d = await disconnected;
  assert.ok(d.detail.reason instanceof Error);
  if (v.protocolVersion === 5) assert.equal(d.detail.reasonCode, 0x98);
  assert.equal((await reconnecting).detail.attempt, 1);
  await reconnected;
  assert.equal(client.connected, true);
});
