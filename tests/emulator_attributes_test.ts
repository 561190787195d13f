import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { connectClient, RawClient } from "./emulator_helpers.ts";

const ATTRS = "v1/devices/me/attributes";
const device = { name: "d1", accessToken: "T1" };

Deno.test("startEmulator() stores client attributes (object only, nulls dropped)", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  await c.client.publishAsync(ATTRS, '{"fw":"1.0.2","n":null,"on":true,"v":"3"}', { qos: 1 });
  assert.deepEqual(tb.getClientAttributes("d1"), { fw: "1.0.2", on: true, v: 3 });
  assert.equal(tb.getAttributeEntries("d1", "client").fw?.type, "STRING");
  await assert.rejects(
    c.client.publishAsync(ATTRS, '[{"a":1}]', { qos: 1 }),
    (e: Error & { code?: number }) => e.code === 0x99,
  );
  await c.end();
});

Deno.test("startEmulator() answers attribute requests without a subscription, at QoS 1", async () => {
  await using tb = await startEmulator({ devices: [device] });
  tb.setSharedAttributes("d1", { target: 22.5, mode: "auto", level: 2 });
  for (const protocolVersion of [4, 5] as const) {
    const c = await connectClient(tb.port, { username: "T1", protocolVersion });
    await c.client.publishAsync(ATTRS, '{"fw":"1.0","rssi":-60}', { qos: 1 });
    const ask = async (id: number, body: string) => {
      await c.client.publishAsync(`${ATTRS}/request/${id}`, body, { qos: 1 });
      const m = await c.message(`${ATTRS}/response/${id}`);
      assert.equal(m.qos, 1);
      return m.payload;
    };
    // "1.0" is a numeric string: stored as DOUBLE and written back as 1.0.
    assert.equal(
      await ask(1, "{}"),
      '{"client":{"fw":1.0,"rssi":-60},"shared":{"target":22.5,"mode":"auto","level":2}}',
    );
    assert.equal(
      await ask(2, '{"clientKeys":"fw","sharedKeys":"mode,level"}'),
      '{"client":{"fw":1.0},"shared":{"mode":"auto","level":2}}',
    );
    assert.equal(await ask(3, '{"sharedKeys":"mode"}'), '{"shared":{"mode":"auto"}}');
    assert.equal(await ask(4, '{"clientKeys":"rssi"}'), '{"client":{"rssi":-60}}');
    // No trimming: " level" is not "level"; missing keys are simply absent.
    assert.equal(await ask(5, '{"sharedKeys":"mode, level"}'), '{"shared":{"mode":"auto"}}');
    assert.equal(await ask(6, '{"sharedKeys":"nope"}'), "{}");
    // A one-element array works like its string.
    assert.equal(await ask(7, '{"sharedKeys":["mode"]}'), '{"shared":{"mode":"auto"}}');
    await c.end();
  }
});

Deno.test("startEmulator() rejects malformed attribute requests like ThingsBoard", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  for (
    const [topic, body] of [
      [`${ATTRS}/request/abc`, "{}"],
      [`${ATTRS}/request/1`, ""],
      [`${ATTRS}/request/1`, '{"sharedKeys":["a","b"]}'],
    ] as const
  ) {
    await assert.rejects(
      c.client.publishAsync(topic, body, { qos: 1 }),
      (e: Error & { code?: number }) => e.code === 0x99,
      `${topic} ${body}`,
    );
  }
  await c.end();
  const v4 = await connectClient(tb.port, { username: "T1", protocolVersion: 4 });
  v4.client.publish(`${ATTRS}/request/x`, "{}", { qos: 1 });
  await v4.closed;
  await v4.end();
});

Deno.test("Emulator.setSharedAttributes() pushes only to sessions subscribed to attributes", async () => {
  await using tb = await startEmulator({ devices: [device, { name: "d2", accessToken: "T2" }] });
  const sub = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  const other = await connectClient(tb.port, { username: "T2", protocolVersion: 4 });
  await sub.client.subscribeAsync(ATTRS, { qos: 0 });
  tb.setSharedAttributes("d1", { mode: "eco", t: "21.0", skip: null });
  const m = await sub.message(ATTRS);
  assert.deepEqual([m.payload, m.qos], ['{"mode":"eco","t":21.0}', 0]);
  tb.deleteSharedAttributes("d1", ["mode", "t"]);
  assert.equal((await sub.message(ATTRS)).payload, '{"deleted":["mode","t"]}');
  assert.deepEqual(tb.getSharedAttributes("d1"), {});
  tb.setSharedAttributes("d2", { x: 1 }); // d2 is not subscribed
  assert.deepEqual(tb.getSharedAttributes("d2"), { x: 1 });
  // After UNSUBSCRIBE nothing is pushed any more.
  await sub.client.unsubscribeAsync(ATTRS);
  tb.setSharedAttributes("d1", { late: 1 });
  await sub.client.publishAsync(`${ATTRS}/request/1`, '{"sharedKeys":"late"}', { qos: 1 });
  assert.equal((await sub.message(`${ATTRS}/response/1`)).payload, '{"shared":{"late":1}}');
  assert.equal(sub.messages.length, 0);
  assert.equal(other.messages.length, 0);
  await sub.end();
  await other.end();
});

Deno.test("startEmulator() grants whitelisted filters at QoS <= 1 and refuses others (0x80 / 0x8F)", async () => {
  await using tb = await startEmulator({ devices: [device] });
  for (const [v, failure] of [[4, 0x80], [5, 0x8f]] as const) {
    const raw = await RawClient.open(tb.port, v);
    await raw.connect({ username: "T1" });
    await raw.send({
      cmd: "subscribe",
      messageId: 5,
      subscriptions: [
        { topic: "v1/devices/me/attributes", qos: 2 },
        { topic: "v1/devices/me/rpc/request/+", qos: 0 },
        { topic: "v2/fw/response/+", qos: 1 },
        { topic: "#", qos: 1 },
        { topic: "v1/devices/me/attributes/response/+", qos: 1 },
      ],
    });
    const suback = await raw.next();
    assert.equal(suback.messageId, 5);
    assert.deepEqual(suback.granted, [1, 0, failure, failure, 1]);
    // The connection stays usable.
    await raw.send({ cmd: "pingreq" });
    assert.equal((await raw.next()).cmd, "pingresp");
    await raw.close();
  }
});

Deno.test("startEmulator() answers UNSUBSCRIBE of an unknown filter with 0x11 on v5", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const raw = await RawClient.open(tb.port, 5);
  await raw.connect({ username: "T1" });
  await raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: ATTRS, qos: 1 }] });
  await raw.next();
  await raw.send({ cmd: "unsubscribe", messageId: 2, unsubscriptions: [ATTRS, "a/b", ATTRS] });
  const unsuback = await raw.next();
  assert.deepEqual([unsuback.cmd, unsuback.messageId], ["unsuback", 2]);
  assert.deepEqual(unsuback.granted, [0, 0x11, 0x11]);
  await raw.close();
  const v4 = await RawClient.open(tb.port, 4);
  await v4.connect({ username: "T1" });
  await v4.send({ cmd: "unsubscribe", messageId: 3, unsubscriptions: ["a/b"] });
  await v4.next();
  assert.deepEqual(v4.received.slice(-4), [0xb0, 0x02, 0x00, 0x03]);
  await v4.close();
});

Deno.test("startEmulator() records claims (empty payload allowed) and PUBACKs them", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  assert.equal(tb.getClaims("d1"), undefined);
  await c.client.publishAsync("v1/devices/me/claim", '{"secretKey":"s3cr3t","durationMs":60000}', {
    qos: 1,
  });
  assert.deepEqual(
    { ...tb.getClaims("d1"), ts: 0 },
    { secretKey: "s3cr3t", durationMs: 60000, ts: 0 },
  );
  await c.client.publishAsync("v1/devices/me/claim", "", { qos: 1 });
  assert.deepEqual({ ...tb.getClaims("d1"), ts: 0 }, { secretKey: "", durationMs: 0, ts: 0 });
  await c.end();
});
