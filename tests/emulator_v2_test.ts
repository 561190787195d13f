import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { connectClient } from "./emulator_helpers.ts";

const device = { name: "d1", accessToken: "T1" };

Deno.test("startEmulator() speaks the v2 short topics (v2/t, v2/a, v2/a/req, v2/r)", async () => {
  await using tb = await startEmulator({ devices: [device], clientRpcTimeout: 50 });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  await c.client.publishAsync("v2/t", '{"a":1}', { qos: 1 });
  await c.client.publishAsync("v2/t/j", '{"b":2}', { qos: 1 });
  await c.client.publishAsync("v2/a", '{"c":3}', { qos: 1 });
  assert.deepEqual(Object.keys(tb.getLatestTelemetry("d1")), ["a", "b"]);
  assert.deepEqual(tb.getClientAttributes("d1"), { c: 3 });

  // Attribute pushes and RPC follow the family that was subscribed.
  await c.client.subscribeAsync(["v2/a/j", "v2/r/req/+"], { qos: 1 });
  tb.setSharedAttributes("d1", { s: "x" });
  assert.equal((await c.message("v2/a/j")).payload, '{"s":"x"}');
  const reply = tb.sendRpc("d1", "m", { p: 1 });
  const req = await c.message();
  assert.deepEqual([req.topic, req.payload], ["v2/r/req/0", '{"method":"m","params":{"p":1}}']);
  await c.client.publishAsync("v2/r/res/0", "42", { qos: 1 });
  assert.equal(await reply, 42);

  // Responses go to the family of the request.
  await c.client.publishAsync("v2/a/req/5", '{"sharedKeys":"s"}', { qos: 1 });
  assert.equal((await c.message("v2/a/res/5")).payload, '{"shared":{"s":"x"}}');
  await c.client.publishAsync("v2/r/req/j/6", '{"method":"x"}', { qos: 1 });
  assert.equal((await c.message("v2/r/res/j/6")).payload, '{"error":"timeout"}');
  // getSessionLimits is only answered by the server on the v1 topic.
  await c.client.publishAsync("v2/r/req/7", '{"method":"getSessionLimits"}', { qos: 1 });
  assert.equal((await c.message("v2/r/res/7")).payload, '{"error":"timeout"}');
  // Protobuf topics are not supported: the payload is rejected.
  await assert.rejects(
    c.client.publishAsync("v2/t/p", '{"a":1}', { qos: 1 }),
    (e: Error & { code?: number }) => e.code === 0x99,
  );
  await c.end();
});

Deno.test("Emulator.waitFor() and on() observe events; events() keeps history", async () => {
  const seen: string[] = [];
  await using tb = await startEmulator({
    devices: [device],
    onEvent: (e) => seen.push(e.type),
  });
  const types: string[] = [];
  const off = tb.on((e) => types.push(e.type));
  const mark = tb.lastSeq;
  const c = await connectClient(tb.port, { username: "T1" });
  const connect = await tb.waitFor("connect", (e) => e.device === "d1", { since: mark });
  assert.equal(connect.protocolVersion, 4);
  const telemetry = tb.waitFor("telemetry");
  await c.client.publishAsync("v1/devices/me/telemetry", '{"t":1}', { qos: 1 });
  assert.deepEqual((await telemetry).values.t?.map((e) => e.value), [1]);
  off();
  await c.end();
  await tb.waitFor("disconnect", undefined, { since: mark });
  assert.deepEqual(types, ["connect", "telemetry"]);
  assert.deepEqual(seen.slice(0, 3), ["listening", "connect", "telemetry"]);
  assert.equal(tb.events()[0]?.type, "listening");
  assert.ok(!JSON.stringify(tb.events()).includes("T1"), "no token in events");
  await assert.rejects(
    tb.waitFor("claim", undefined, { timeout: 10 }),
    (e: DOMException) => e.name === "TimeoutError",
  );
});

Deno.test("Emulator.createDevice() validates names and credentials", async () => {
  await using tb = await startEmulator();
  const d = tb.createDevice({ name: "a" });
  assert.match(d.accessToken ?? "", /^[A-Za-z0-9]{20}$/);
  const invalid = (pattern: RegExp) => (e: unknown) =>
    e instanceof TypeError && pattern.test(e.message);
  assert.throws(() => tb.createDevice({ name: "a" }), invalid(/device named "a" already exists/));
  assert.throws(() => tb.createDevice({ name: "" }), invalid(/name must be a non-empty string/));
  assert.throws(
    () => tb.createDevice({ name: "b", accessToken: d.accessToken! }),
    invalid(/credentials are already in use/),
  );
  assert.throws(
    () => tb.createDevice({ name: "c", credentials: {} }),
    invalid(/client id and user name are empty/),
  );
  assert.throws(
    () => tb.createDevice({ name: "c", credentials: { clientId: "x", password: "p" } }),
    invalid(/Password cannot be specified along with client id/),
  );
  assert.throws(
    () => tb.getTelemetry("nope"),
    invalid(/^Unknown device "nope": create it with createDevice\(\) first$/),
  );
  tb.deleteDevice("a");
  assert.equal(tb.getDevice("a"), undefined);
});
