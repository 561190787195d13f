import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { TBDeviceMqttClient } from "../core/client/client.ts";
import { connectClient } from "./emulator_helpers.ts";

const TELEMETRY = "v1/devices/me/telemetry";
const ATTRIBUTES = "v1/devices/me/attributes";
const device = { name: "d1", accessToken: "T1" };

Deno.test("startEmulator() drops a telemetry message over the limit and closes the session (v5 0x83, 3.1.1 close)", async () => {
  await using tb = await startEmulator({
    devices: [device],
    rateLimits: { telemetryMessages: "2:3600", messages: "100:1" },
  });
  for (const [protocolVersion, n] of [[5, 0], [4, 1]] as const) {
    const c = await connectClient(tb.port, { username: "T1", protocolVersion });
    const since = tb.lastSeq;
    // Two messages per device per hour, counted across both sessions: the first session uses both.
    if (n === 0) {
      await c.client.publishAsync(TELEMETRY, '{"n":0}', { qos: 1 });
      await c.client.publishAsync(TELEMETRY, '{"n":1}', { qos: 1 });
    }
    c.client.publish(TELEMETRY, `{"n":${2 + n}}`, { qos: 1 });
    const limited = await tb.waitFor("rateLimited", undefined, { since });
    assert.equal(limited.limit, "telemetryMessages");
    assert.equal(limited.topic, TELEMETRY);
    await c.closed;
    if (protocolVersion === 5) {
      const disconnect = c.packets.find((p) => p.cmd === "disconnect");
      assert.equal(disconnect?.reasonCode, 0x83);
    } else {
      assert.equal(c.packets.some((p) => p.cmd === "disconnect"), false, "3.1.1 has no DISCONNECT");
    }
    const gone = await tb.waitFor("disconnect", undefined, { since });
    assert.equal(gone.reason, "rateLimited");
    await c.end();
  }
  assert.deepEqual(tb.getTelemetry("d1").n?.map((e) => e.value), [0, 1]);
});

Deno.test("startEmulator() counts data points of telemetry and attributes, and other messages separately", async () => {
  await using tb = await startEmulator({
    devices: [device],
    rateLimits: { telemetryDataPoints: "5:3600", messages: "1:3600" },
  });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  await c.client.publishAsync(ATTRIBUTES, '{"a":1,"b":2,"skip":null}', { qos: 1 }); // 2 points
  await c.client.publishAsync(TELEMETRY, '[{"c":3},{"ts":1,"values":{"d":4}}]', { qos: 1 }); // 2
  // A claim uses the message limit, not the telemetry ones.
  await c.client.publishAsync("v1/devices/me/claim", '{"secretKey":"k"}', { qos: 1 });
  const since = tb.lastSeq;
  c.client.publish(TELEMETRY, '{"e":5,"f":6}', { qos: 1 }); // 2 more: 6 > 5
  const limited = await tb.waitFor("rateLimited", undefined, { since });
  assert.equal(limited.limit, "telemetryDataPoints");
  await c.closed;
  await c.end();
  assert.deepEqual(Object.keys(tb.getTelemetry("d1")).sort(), ["c", "d"]);
  assert.deepEqual(Object.keys(tb.getClientAttributes("d1")).sort(), ["a", "b"]);

  const c2 = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  const since2 = tb.lastSeq;
  c2.client.publish("v1/devices/me/claim", '{"secretKey":"k2"}', { qos: 1 }); // the 2nd message
  assert.equal((await tb.waitFor("rateLimited", undefined, { since: since2 })).limit, "messages");
  await c2.closed;
  await c2.end();
  assert.equal(tb.getClaims("d1")?.secretKey, "k");
});

Deno.test("startEmulator() only reports rate limits with enforceRateLimits: false, and refuses malformed ones", async () => {
  await using tb = await startEmulator({
    devices: [device],
    rateLimits: { telemetryMessages: "1:3600" },
    enforceRateLimits: false,
  });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  for (let i = 0; i < 3; i++) await c.client.publishAsync(TELEMETRY, `{"n":${i}}`, { qos: 1 });
  await c.end();
  assert.equal(tb.getTelemetry("d1").n?.length, 3);
  assert.equal(tb.events().some((e) => e.type === "rateLimited"), false);
  for (const bad of ["10", "10:0", "a:1", "5:1,", "-1:1"]) {
    await assert.rejects(
      startEmulator({ rateLimits: { messages: bad } }),
      (e) => e instanceof RangeError && e.message.includes("rateLimits.messages"),
      bad,
    );
  }
});

Deno.test("TBDeviceMqttClient stays within rate limits the emulator enforces; unpaced, it is disconnected", async () => {
  await using tb = await startEmulator({
    devices: [device],
    rateLimits: { telemetryMessages: "4:1" }, // used at 80 %: 3.2 messages a second
  });
  const send = (client: TBDeviceMqttClient, from: number) =>
    Promise.all(Array.from({ length: 6 }, (_, i) => client.sendTelemetry({ n: from + i })));

  {
    await using paced = new TBDeviceMqttClient({
      host: "127.0.0.1",
      port: tb.port,
      accessToken: "T1",
    });
    await paced.connect();
    await paced.getSessionLimits();
    await send(paced, 0);
  }
  assert.deepEqual(tb.getTelemetry("d1").n?.map((e) => e.value), [0, 1, 2, 3, 4, 5]);
  assert.equal(tb.events().some((e) => e.type === "rateLimited"), false);

  await new Promise((r) => setTimeout(r, 1300)); // the emulator's bucket is full again
  const since = tb.lastSeq;
  await using unpaced = new TBDeviceMqttClient({
    host: "127.0.0.1",
    port: tb.port,
    accessToken: "T1",
    sessionLimits: false,
    reconnect: false,
  });
  await unpaced.connect();
  await assert.rejects(send(unpaced, 10));
  assert.equal((await tb.waitFor("rateLimited", undefined, { since })).limit, "telemetryMessages");
});

Deno.test("TBDeviceMqttClient keeps pacing across a reconnect: the server's buckets are per device", async () => {
  await using tb = await startEmulator({
    devices: [device],
    rateLimits: { telemetryMessages: "5:2" }, // used at 80 %: 4 at once, then 2 a second
  });
  await using client = new TBDeviceMqttClient({
    host: "127.0.0.1",
    port: tb.port,
    accessToken: "T1",
    reconnect: { initialDelay: 10, maxDelay: 10, jitter: 0 },
  });
  await client.connect();
  await client.getSessionLimits();
  await Promise.all([0, 1, 2, 3].map((n) => client.sendTelemetry({ n }))); // the 4 at once
  const reconnected = new Promise((resolve) => client.addEventListener("connect", resolve));
  tb.disconnect("d1"); // a new connection, with the same limits asked for again
  await reconnected;
  await client.getSessionLimits();
  await Promise.all([4, 5].map((n) => client.sendTelemetry({ n }))); // must wait for tokens
  assert.deepEqual(tb.getTelemetry("d1").n?.map((e) => e.value), [0, 1, 2, 3, 4, 5]);
  assert.equal(tb.events().some((e) => e.type === "rateLimited"), false);
});

Deno.test("startEmulator() limits the traffic behind a gateway as a whole: PUBACK 0x97, then close", async () => {
  await using tb = await startEmulator({
    devices: [{ name: "gw", accessToken: "G", gateway: true }],
    rateLimits: { telemetryMessages: "3:3600" },
  });
  const c = await connectClient(tb.port, { username: "G", protocolVersion: 5 });
  const gw = "v1/gateway/telemetry";
  await c.client.publishAsync(gw, '{"A":[{"t":1}],"B":[{"t":1}]}', { qos: 1 }); // 2 messages
  await c.client.publishAsync(gw, '{"A":[{"t":2}]}', { qos: 1 }); // the 3rd
  // The gateway's own telemetry has its own (device) bucket.
  await c.client.publishAsync(TELEMETRY, '{"own":1}', { qos: 1 });
  const since = tb.lastSeq;
  c.client.publish(gw, '{"B":[{"t":3}]}', { qos: 1 });
  const limited = await tb.waitFor("rateLimited", undefined, { since });
  assert.equal(limited.device, "B");
  assert.equal(limited.limit, "telemetryMessages");
  await c.closed;
  const puback = c.packets.filter((p) => p.cmd === "puback").at(-1);
  assert.equal(puback?.reasonCode, 0x97);
  assert.equal(c.packets.some((p) => p.cmd === "disconnect"), false);
  await c.end();
  assert.deepEqual(tb.getTelemetry("A").t?.map((e) => e.value), [1, 2]);
  assert.deepEqual(tb.getTelemetry("B").t?.map((e) => e.value), [1]);
  assert.equal(tb.getTelemetry("gw").own?.length, 1);
});
