import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { connectClient, RawClient } from "./emulator_helpers.ts";

const gateway = { name: "gw", accessToken: "GW", gateway: true };

Deno.test("startEmulator() lets a gateway connect sub-devices and post their data", async () => {
  await using tb = await startEmulator({ devices: [gateway] });
  const c = await connectClient(tb.port, { username: "GW", protocolVersion: 5 });
  await c.client.publishAsync("v1/gateway/connect", '{"device":"Sensor A","type":"thermo"}', {
    qos: 1,
  });
  assert.equal(tb.getDevice("Sensor A")?.profile, "thermo");
  assert.equal(tb.isConnected("Sensor A"), true);
  await c.client.publishAsync(
    "v1/gateway/telemetry",
    '{"Sensor A":[{"ts":1700000000000,"values":{"t":21}},{"h":"40"}],"Sensor B":[{"t":5}],"skip":{"x":1}}',
    { qos: 1 },
  );
  assert.equal(tb.getLatestTelemetry("Sensor A").t?.ts, 1700000000000);
  assert.equal(tb.getLatestTelemetry("Sensor A").h?.value, 40);
  assert.equal(tb.getLatestTelemetry("Sensor B").t?.value, 5); // created implicitly
  assert.equal(tb.getDevice("skip"), undefined); // not an array: skipped
  await c.client.publishAsync("v1/gateway/attributes", '{"Sensor A":{"fw":"1.2.3"}}', { qos: 1 });
  assert.deepEqual(tb.getClientAttributes("Sensor A"), { fw: "1.2.3" });
  await c.client.publishAsync(
    "v1/gateway/claim",
    '{"Sensor A":{"secretKey":"k","durationMs":1000}}',
    {
      qos: 1,
    },
  );
  assert.equal(tb.getClaims("Sensor A")?.secretKey, "k");
  // The gateway's own device API still works.
  await c.client.publishAsync("v1/devices/me/telemetry", '{"up":1}', { qos: 1 });
  assert.equal(tb.getLatestTelemetry("gw").up?.value, 1);
  await c.client.publishAsync("v1/gateway/disconnect", '{"device":"Sensor A"}', { qos: 1 });
  assert.equal(tb.isConnected("Sensor A"), false);
  assert.equal(tb.isConnected("Sensor B"), true);
  await c.end();
  await tb.waitFor("subDeviceDisconnect", (e) => e.device === "Sensor B", { since: 0 });
  assert.equal(tb.isConnected("Sensor B"), false);
});

Deno.test("startEmulator() sends sub-device attribute updates and RPC through the gateway", async () => {
  await using tb = await startEmulator({ devices: [gateway] });
  const c = await connectClient(tb.port, { username: "GW", protocolVersion: 4 });
  await c.client.publishAsync("v1/gateway/connect", '{"device":"A"}', { qos: 1 });
  tb.setSharedAttributes("A", { mode: "on" });
  const push = await c.message("v1/gateway/attributes");
  assert.deepEqual([push.payload, push.qos], ['{"device":"A","data":{"mode":"on"}}', 1]);
  const reply = tb.sendRpc("A", "toggle", { pin: 4 });
  assert.equal(
    (await c.message("v1/gateway/rpc")).payload,
    '{"device":"A","data":{"id":0,"method":"toggle","params":{"pin":4}}}',
  );
  await c.client.publishAsync("v1/gateway/rpc", '{"device":"A","id":0,"data":{"done":true}}', {
    qos: 1,
  });
  assert.deepEqual(await reply, { done: true });
  await c.end();
});

Deno.test("startEmulator() answers gateway attribute requests with value or values", async () => {
  await using tb = await startEmulator({ devices: [gateway, { name: "A" }] });
  tb.setSharedAttributes("A", { mode: "on", level: 3 });
  const c = await connectClient(tb.port, { username: "GW", protocolVersion: 5 });
  const ask = async (body: string) => {
    await c.client.publishAsync("v1/gateway/attributes/request", body, { qos: 1 });
    return (await c.message("v1/gateway/attributes/response")).payload;
  };
  assert.equal(
    await ask('{"id":1,"device":"A","client":false,"key":"mode"}'),
    '{"id":1,"device":"A","value":"on"}',
  );
  assert.equal(
    await ask('{"id":2,"device":"A","client":false,"keys":["mode","level"]}'),
    '{"id":2,"device":"A","values":{"mode":"on","level":3}}',
  );
  assert.equal(
    await ask('{"id":3,"device":"A","client":true,"keys":["mode"]}'),
    '{"id":3,"device":"A"}',
  );
  await c.end();
});

Deno.test("startEmulator() handles bad gateway messages like ThingsBoard", async () => {
  await using tb = await startEmulator({ devices: [gateway, { name: "plain", accessToken: "P" }] });
  const c = await RawClient.open(tb.port, 5);
  await c.connect({ username: "GW" });
  // Invalid JSON: PUBACK 0x99 on v5.
  await c.send({
    cmd: "publish",
    topic: "v1/gateway/telemetry",
    payload: "{x",
    qos: 1,
    messageId: 1,
  });
  assert.deepEqual([(await c.next()).reasonCode], [0x99]);
  // A sub-device value that does not parse: PUBACK 0x99.
  await c.send({
    cmd: "publish",
    topic: "v1/gateway/telemetry",
    payload: '{"A":[1]}',
    qos: 1,
    messageId: 2,
  });
  assert.deepEqual([(await c.next()).reasonCode], [0x99]);
  // Unknown gateway topic: 0x90.
  await c.send({ cmd: "publish", topic: "v1/gateway/nope", payload: "{}", qos: 1, messageId: 3 });
  assert.deepEqual([(await c.next()).reasonCode], [0x90]);
  // QoS 0 telemetry: v5 gateways get a device disconnect notice with reason 129.
  await c.send({
    cmd: "publish",
    topic: "v1/gateway/telemetry",
    payload: '{"A":[{"t":1}]}',
    qos: 0,
  });
  const notice = await c.next();
  assert.deepEqual([notice.topic, notice.payload.toString()], [
    "v1/gateway/disconnect",
    '{"device":"A","reason":129}',
  ]);
  // No device entries at all: PUBACK 0x83 and DISCONNECT 0x83.
  await c.send({
    cmd: "publish",
    topic: "v1/gateway/telemetry",
    payload: '{"A":{}}',
    qos: 1,
    messageId: 4,
  });
  assert.deepEqual([(await c.next()).reasonCode, (await c.next()).reasonCode], [0x83, 0x83]);
  await c.waitClosed();
  await c.close();
});
