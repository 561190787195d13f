import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { connectClient } from "./emulator_helpers.ts";

const REQ = "v1/devices/me/rpc/request/";
const RES = "v1/devices/me/rpc/response/";
const device = { name: "d1", accessToken: "T1" };

Deno.test("Emulator.sendRpc() delivers two-way RPC with ids from 0 and resolves with the reply", async () => {
  await using tb = await startEmulator({ devices: [device] });
  for (const protocolVersion of [4, 5] as const) {
    const c = await connectClient(tb.port, { username: "T1", protocolVersion });
    await c.client.subscribeAsync(`${REQ}+`, { qos: 1 });
    const first = protocolVersion === 4 ? 0 : 1;
    const reply = tb.sendRpc("d1", "setValve", { open: true, level: 0.5 });
    const m = await c.message();
    assert.deepEqual([m.topic, m.payload, m.qos], [
      `${REQ}${first}`,
      '{"method":"setValve","params":{"open":true,"level":0.5}}',
      1,
    ]);
    await c.client.publishAsync(`${RES}${first}`, '{"ok":true}', { qos: 1 });
    assert.deepEqual(await reply, { ok: true });
    // A late or unknown reply is PUBACKed and ignored.
    await c.client.publishAsync(`${RES}${first}`, '{"late":1}', { qos: 1 });
    await c.end();
  }
});

Deno.test("Emulator.sendRpc() waits for an RPC subscription and times out without a reply", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const pending = tb.sendRpc("d1", "reboot", undefined, { timeout: 2000 });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  await c.client.subscribeAsync(`${REQ}+`, { qos: 0 });
  const m = await c.message();
  assert.deepEqual([m.topic, m.payload, m.qos], [`${REQ}0`, '{"method":"reboot","params":{}}', 0]);
  await c.client.publishAsync(`${RES}0`, "done", { qos: 1 });
  assert.equal(await pending, "done"); // a non-JSON reply comes back as the raw string

  const timeout = tb.sendRpc("d1", "slow", null, { timeout: 50 });
  assert.equal((await c.message()).payload, '{"method":"slow","params":null}');
  await assert.rejects(timeout, (e: DOMException) => e.name === "TimeoutError");
  await c.end();
});

Deno.test("Emulator.sendRpc() one-way resolves once written; abort rejects", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 4 });
  await c.client.subscribeAsync(`${REQ}+`, { qos: 1 });
  assert.equal(await tb.sendRpc("d1", "blink", { n: 3 }, { oneway: true }), undefined);
  assert.equal((await c.message()).topic, `${REQ}0`);
  const controller = new AbortController();
  const aborted = tb.sendRpc("d1", "x", {}, { signal: controller.signal });
  controller.abort(new Error("stop"));
  await assert.rejects(aborted, /stop/);
  await assert.rejects(
    tb.sendRpc("nobody", "x"),
    (e: unknown) => e instanceof TypeError && /Unknown device "nobody"/.test(e.message),
  );
  await c.end();
});

Deno.test("Emulator.onClientRpc() answers client-side RPC on the response topic", async () => {
  await using tb = await startEmulator({ devices: [device], clientRpcTimeout: 100 });
  const off = tb.onClientRpc(
    "getTime",
    (req) => ({ time: 42, params: req.params, from: req.device }),
  );
  tb.onClientRpc("fail", () => {
    throw new Error("no way");
  });
  tb.onClientRpc("later", () => Promise.resolve("ok"));
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  const call = async (id: number, body: string) => {
    await c.client.publishAsync(`${REQ}${id}`, body, { qos: 1 });
    const m = await c.message(`${RES}${id}`);
    assert.equal(m.qos, 1); // no subscription needed
    return m.payload;
  };
  assert.equal(
    await call(1, '{"method":"getTime","params":{"tz":"UTC"}}'),
    '{"time":42,"params":{"tz":"UTC"},"from":"d1"}',
  );
  assert.equal(await call(2, '{"method":"fail"}'), '{"error":"no way"}');
  assert.equal(await call(3, '{"method":"later","params":[]}'), '"ok"');
  assert.equal(await call(4, '{"method":"unhandled"}'), '{"error":"timeout"}');
  off();
  assert.equal(await call(5, '{"method":"getTime"}'), '{"error":"timeout"}');
  await c.end();
});

Deno.test("startEmulator() answers getSessionLimits itself on the v1 topic", async () => {
  await using tb = await startEmulator({
    devices: [device, { name: "gw", accessToken: "GW", gateway: true }],
    rateLimits: { messages: "200:1,6000:60" },
  });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 4 });
  await c.client.subscribeAsync(`${RES}+`, { qos: 1 });
  await c.client.publishAsync(`${REQ}7`, '{"method":"getSessionLimits","params":{}}', { qos: 1 });
  assert.equal(
    (await c.message(`${RES}7`)).payload,
    '{"maxPayloadSize":65536,"maxInflightMessages":100,"rateLimits":{"messages":"200:1,6000:60","telemetryMessages":null,"telemetryDataPoints":null}}',
  );
  await c.end();
  const gw = await connectClient(tb.port, { username: "GW", protocolVersion: 5 });
  await gw.client.publishAsync(`${REQ}1`, '{"method":"getSessionLimits"}', { qos: 1 });
  const limits = JSON.parse((await gw.message(`${RES}1`)).payload);
  assert.deepEqual(Object.keys(limits), [
    "maxPayloadSize",
    "maxInflightMessages",
    "rateLimits",
    "gatewayRateLimits",
  ]);
  await gw.end();
});

Deno.test("startEmulator() treats a client RPC without method or with a bad id as ThingsBoard does", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const c = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  await assert.rejects(
    c.client.publishAsync(`${REQ}1`, "[1]", { qos: 1 }),
    (e: Error & { code?: number }) => e.code === 0x99,
  );
  c.client.publish(`${REQ}2`, '{"params":1}', { qos: 1 });
  const d = await c.packet("disconnect");
  assert.equal(d.reasonCode, 0x8b);
  await c.closed;
  await c.end();
});

Deno.test("Emulator.sendRpc() re-sends an unanswered RPC to a session that subscribes again", async () => {
  await using tb = await startEmulator({ devices: [device] });
  const first = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  await first.client.subscribeAsync(`${REQ}+`, { qos: 1 });
  const reply = tb.sendRpc("d1", "configure", { a: 1 });
  assert.equal((await first.message()).topic, `${REQ}0`);
  await first.end(); // gone before replying
  const second = await connectClient(tb.port, { username: "T1", protocolVersion: 5 });
  await second.client.subscribeAsync(`${REQ}+`, { qos: 1 });
  const m = await second.message();
  assert.deepEqual([m.topic, m.payload], [`${REQ}0`, '{"method":"configure","params":{"a":1}}']);
  await second.client.publishAsync(`${RES}0`, '"applied"', { qos: 1 });
  assert.equal(await reply, "applied");
  await second.end();
});
