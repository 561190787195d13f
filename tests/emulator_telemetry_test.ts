import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { connectClient, RawClient } from "./emulator_helpers.ts";

const TELEMETRY = "v1/devices/me/telemetry";
const device = { name: "d1", accessToken: "T1" };

Deno.test("startEmulator() stores telemetry with ThingsBoard's typing rules (3.1.1 and 5)", async () => {
  await using tb = await startEmulator({ devices: [device] });
  for (const protocolVersion of [4, 5] as const) {
    const c = await connectClient(tb.port, { username: "T1", protocolVersion });
    const before = Date.now();
    await c.client.publishAsync(
      TELEMETRY,
      '{"temp":"21.5","count":"7","n":null,"ok":true,"s":"abc","big":1e3,"d":2.0,"j":{"a":[1,2]}}',
      { qos: 1 },
    );
    const latest = tb.getLatestTelemetry("d1");
    assert.deepEqual(
      Object.fromEntries(Object.entries(latest).map(([k, e]) => [k, [e.type, e.value]])),
      {
        temp: ["DOUBLE", 21.5],
        count: ["LONG", 7],
        ok: ["BOOLEAN", true],
        s: ["STRING", "abc"],
        big: ["LONG", 1000],
        d: ["DOUBLE", 2],
        j: ["JSON", { a: [1, 2] }],
      },
    );
    assert.ok(latest.temp!.ts >= before && latest.temp!.ts <= Date.now());
    await c.end();
  }
  assert.equal(tb.getTelemetry("d1").temp?.length, 2);
});

Deno.test("startEmulator() uses ts only when both ts and values are present; arrays mix shapes", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  await c.client.publishAsync(
    TELEMETRY,
    '[{"ts":1700000000000,"values":{"a":1}},{"ts":1700000000001,"b":2},{"c":3}]',
    { qos: 1 },
  );
  const t = tb.getTelemetry("d1");
  assert.equal(t.a?.[0]?.ts, 1700000000000);
  assert.equal(t.b?.[0]?.value, 2);
  assert.notEqual(t.b?.[0]?.ts, 1700000000001); // "ts" without "values" is an ordinary key
  assert.equal(t.ts?.[0]?.value, 1700000000001);
  assert.equal(t.c?.[0]?.type, "LONG");
  // QoS 0 is stored too (observed through the event).
  const ev = tb.waitFor("telemetry", (e) => "q0" in e.values);
  await c.client.publishAsync(TELEMETRY, '{"q0":1}', { qos: 0 });
  assert.equal((await ev).values.q0?.[0]?.value, 1);
  await c.end();
});

Deno.test("startEmulator() closes a 3.1.1 connection on invalid JSON but PUBACKs 0x99 on 5", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const v4 = await connectClient(tb.port, { username: "T1", protocolVersion: 4 });
  const closed = tb.waitFor("disconnect");
  v4.client.publish(TELEMETRY, "{not json", { qos: 1 });
  await v4.closed;
  assert.equal((await closed).reason, "invalidPayload");
  await v4.end();

  const v5 = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  await assert.rejects(
    v5.client.publishAsync(TELEMETRY, "{not json", { qos: 1 }),
    (e: Error & { code?: number }) => e.code === 0x99,
  );
  for (const bad of ["[1,2]", '"text"', "", '{"ts":1,"values":3}']) {
    await assert.rejects(
      v5.client.publishAsync(TELEMETRY, bad, { qos: 1 }),
      (e: Error & { code?: number }) => e.code === 0x99,
      bad,
    );
  }
  await v5.client.publishAsync(TELEMETRY, '{"after":1}', { qos: 1 }); // the session stays
  assert.equal(tb.getLatestTelemetry("d1").after?.value, 1);
  await v5.end();
});

Deno.test("startEmulator() PUBACKs an unknown topic plainly on 3.1.1 and with 0x90 on 5", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const v4 = await RawClient.open(tb.port, 4);
  await v4.connect({ username: "T1" });
  await v4.send({
    cmd: "publish",
    topic: "v1/devices/me/telemetri",
    payload: "{}",
    qos: 1,
    messageId: 9,
  });
  const ack4 = await v4.next();
  assert.deepEqual([ack4.cmd, ack4.messageId], ["puback", 9]);
  assert.deepEqual(v4.received.slice(-4), [0x40, 0x02, 0x00, 0x09]);
  await v4.close();

  const v5 = await RawClient.open(tb.port, 5);
  await v5.connect({ username: "T1" });
  await v5.send({ cmd: "publish", topic: "unknown/topic", payload: "{}", qos: 1, messageId: 10 });
  const ack5 = await v5.next();
  assert.deepEqual([ack5.cmd, ack5.messageId, ack5.reasonCode], ["puback", 10, 0x90]);
  assert.deepEqual(v5.received.slice(-5), [0x40, 0x03, 0x00, 0x0a, 0x90]);
  // A successful v5 PUBACK omits the reason code, as netty writes it: 40 02 00 0B
  await v5.send({ cmd: "publish", topic: TELEMETRY, payload: '{"a":1}', qos: 1, messageId: 11 });
  await v5.next();
  assert.deepEqual(v5.received.slice(-4), [0x40, 0x02, 0x00, 0x0b]);
  await v5.close();
});

Deno.test("startEmulator() answers a QoS 2 PUBLISH with PUBACK, like ThingsBoard", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const raw = await RawClient.open(tb.port, 4);
  await raw.connect({ username: "T1" });
  await raw.send({ cmd: "publish", topic: TELEMETRY, payload: '{"q2":1}', qos: 2, messageId: 77 });
  const ack = await raw.next();
  assert.deepEqual([ack.cmd, ack.messageId], ["puback", 77]);
  assert.equal(tb.getLatestTelemetry("d1").q2?.value, 1);
  await raw.close();
});

Deno.test("startEmulator() sends no PUBACK for gateway topics of a non-gateway device", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const raw = await RawClient.open(tb.port, 5);
  await raw.connect({ username: "T1" });
  await raw.send({
    cmd: "publish",
    topic: "v1/gateway/telemetry",
    payload: "{}",
    qos: 1,
    messageId: 3,
  });
  await raw.send({ cmd: "pingreq" });
  assert.equal((await raw.next()).cmd, "pingresp");
  await raw.close();
});

/** A telemetry PUBLISH (QoS 1) whose remaining length is exactly `remaining`. */
function publishOfRemainingLength(remaining: number, version: 4 | 5) {
  // topic length + topic + packet id (+ empty properties on v5)
  const payloadLength = remaining - 2 - TELEMETRY.length - 2 - (version === 5 ? 1 : 0);
  const payload = `{"k":"${"x".repeat(payloadLength - 8)}"}`;
  assert.equal(payload.length, payloadLength);
  return { cmd: "publish", topic: TELEMETRY, payload, qos: 1, messageId: 1 };
}

Deno.test("startEmulator() closes the connection on a packet above 65,536 bytes (v5: DISCONNECT 0x81)", async () => {
  await using tb = await startEmulator({ devices: [device] });
  for (const v of [4, 5] as const) {
    const raw = await RawClient.open(tb.port, v);
    await raw.connect({ username: "T1" });
    await raw.send(publishOfRemainingLength(65_536, v));
    assert.equal((await raw.next()).cmd, "puback"); // the largest accepted packet
    const ev = tb.waitFor("disconnect", (e) => e.reason === "payloadTooLarge");
    await raw.send(publishOfRemainingLength(65_537, v));
    await raw.waitClosed();
    if (v === 5) {
      const d = raw.packets.at(-1);
      assert.deepEqual([d.cmd, d.reasonCode], ["disconnect", 0x81]);
    } else {
      assert.equal(raw.packets.length, 2); // CONNACK, PUBACK
    }
    await ev;
    await raw.close();
  }
});
