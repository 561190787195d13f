import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import mqttPacket from "mqtt-packet";
import { connectClient, RawClient } from "./emulator_helpers.ts";

const device = { name: "d1", accessToken: "T1" };

Deno.test("startEmulator() closes only the connection that sends a malformed packet", async () => {
  await using tb = await startEmulator({ devices: [device, { name: "d2", accessToken: "T2" }] });
  const good = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });

  const garbage = await RawClient.open(tb.port, 4);
  await garbage.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02]));
  await garbage.waitClosed();
  assert.equal(garbage.received.length, 0);
  await garbage.close();

  const notConnect = await RawClient.open(tb.port, 4);
  await notConnect.send({ cmd: "pingreq" });
  await notConnect.waitClosed();
  await notConnect.close();

  // After CONNECT on v5: DISCONNECT 0x81 (malformed), then close.
  const v5 = await RawClient.open(tb.port, 5);
  await v5.connect({ username: "T2" });
  await v5.write(new Uint8Array([0x36, 0x00])); // PUBLISH with QoS 3
  await v5.waitClosed();
  assert.deepEqual(v5.received.slice(-3), [0xe0, 0x01, 0x81]);
  await v5.close();

  await good.client.publishAsync("v1/devices/me/telemetry", '{"alive":true}', { qos: 1 });
  assert.equal(tb.getLatestTelemetry("d1").alive?.value, true);
  assert.equal(tb.isConnected("d1"), true);
  await good.end();
});

Deno.test("startEmulator() serves 200 concurrent devices", async () => {
  const count = 200;
  const devices = Array.from(
    { length: count },
    (_, i) => ({ name: `dev-${i}`, accessToken: `TOK_${i}` }),
  );
  await using tb = await startEmulator({ devices });
  const clients = await Promise.all(devices.map(async (d, i) => {
    const raw = await RawClient.open(tb.port, i % 2 === 0 ? 4 : 5);
    const connack = await raw.connect({ username: d.accessToken, clientId: d.name });
    assert.equal(connack.cmd, "connack");
    return raw;
  }));
  assert.equal(tb.sessions.length, count);
  await Promise.all(clients.map(async (raw, i) => {
    await raw.send({
      cmd: "publish",
      topic: "v1/devices/me/telemetry",
      payload: `{"i":${i}}`,
      qos: 1,
      messageId: 1,
    });
    assert.equal((await raw.next()).cmd, "puback");
  }));
  for (let i = 0; i < count; i++) assert.equal(tb.getLatestTelemetry(`dev-${i}`).i?.value, i);
  await Promise.all(clients.map((c) => c.close()));
});

Deno.test("startEmulator() keeps serving others while a client does not read", async () => {
  await using tb = await startEmulator({ devices: [device, { name: "d2", accessToken: "T2" }] });
  // A client that connects and subscribes, then never reads.
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: tb.port });
  const connect = mqttPacket.generate({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clientId: "stuck",
    username: "T1",
    clean: true,
    keepalive: 0,
  });
  const subscribe = mqttPacket.generate({
    cmd: "subscribe",
    messageId: 1,
    subscriptions: [{ topic: "v1/devices/me/attributes", qos: 0 }],
  });
  await stuck.write(new Uint8Array([...connect, ...subscribe]));
  await tb.waitFor("subscribe", (e) => e.device === "d1", { since: 0 });

  const other = await connectClient(tb.port, { username: "T2", protocolVersion: 5 });
  let gone = false;
  const dropped = tb.waitFor("disconnect", (e) => e.device === "d1").finally(() => gone = true);
  const big = "x".repeat(60_000);
  for (let i = 0; i < 1000 && !gone; i++) {
    tb.setSharedAttributes("d1", { big, i });
    if (i % 100 === 0) {
      // Round trips of the other client complete meanwhile.
      await other.client.publishAsync("v1/devices/me/telemetry", `{"i":${i}}`, { qos: 1 });
    }
  }
  assert.equal((await dropped).reason, "slowClient");
  await other.client.publishAsync("v1/devices/me/telemetry", '{"done":1}', { qos: 1 });
  assert.equal(tb.getLatestTelemetry("d2").done?.value, 1);
  await other.end();
  stuck.close();
});

Deno.test("Emulator.close() disconnects clients (v5 0x8B), rejects pending waits and leaves nothing", async () => {
  const tb = await startEmulator({ devices: [device] });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  const rpc = assert.rejects(
    tb.sendRpc("d1", "never", {}, { timeout: 60_000 }),
    (e: DOMException) => e.name === "AbortError",
  );
  const wait = assert.rejects(
    tb.waitFor("claim", undefined, { timeout: 60_000 }),
    (e: DOMException) => e.name === "AbortError",
  );
  await tb.close();
  const d = await c.packet("disconnect");
  assert.equal(d.reasonCode, 0x8b);
  await c.closed;
  await c.end();
  await rpc;
  await wait;
  await tb.close(); // idempotent
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: tb.port }));
});

Deno.test("startEmulator() survives random bytes after CONNECT on many connections", async () => {
  await using tb = await startEmulator({ devices: [device] });
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  await Promise.all(Array.from({ length: 30 }, async (_, i) => {
    const raw = await RawClient.open(tb.port, i % 2 === 0 ? 4 : 5);
    await raw.connect({ username: "T1", clientId: `fuzz-${i}` });
    const bytes = Uint8Array.from(
      { length: 64 + Math.floor(random() * 512) },
      () => random() * 256,
    );
    try {
      await raw.write(bytes);
    } catch {
      // the server may already have closed this connection
    }
    await raw.close();
  }));
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  await c.client.publishAsync("v1/devices/me/telemetry", '{"ok":1}', { qos: 1 });
  assert.equal(tb.getLatestTelemetry("d1").ok?.value, 1);
  await c.end();
});
