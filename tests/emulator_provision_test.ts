import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { connectClient, RawClient } from "./emulator_helpers.ts";

const profiles = [
  {
    name: "open",
    provisionKey: "KEY_A",
    provisionSecret: "SECRET_A",
    strategy: "allowCreateNewDevices",
  },
  {
    name: "closed",
    provisionKey: "KEY_B",
    provisionSecret: "SECRET_B",
    strategy: "checkPreProvisionedDevices",
  },
] as const;

async function provision(port: number, request: unknown, protocolVersion: 4 | 5 = 4) {
  const c = await connectClient(port, { clientId: "provision", protocolVersion });
  await c.client.subscribeAsync("/provision/response", { qos: 1 });
  await c.client.publishAsync("/provision/request", JSON.stringify(request), { qos: 1 });
  const m = await c.message("/provision/response");
  await c.end();
  return m.payload;
}

Deno.test("startEmulator() provisions a new device with an access token and lets it connect", async () => {
  await using tb = await startEmulator({ profiles: [...profiles] });
  const payload = await provision(tb.port, {
    deviceName: "sensor-1",
    provisionDeviceKey: "KEY_A",
    provisionDeviceSecret: "SECRET_A",
    credentialsType: "ACCESS_TOKEN",
    token: "SENSOR_1_TOKEN",
  });
  assert.equal(
    payload,
    '{"credentialsValue":"SENSOR_1_TOKEN","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}',
  );
  const d = tb.getDevice("sensor-1");
  assert.deepEqual([d?.profile, d?.provisioned, d?.accessToken], ["open", true, "SENSOR_1_TOKEN"]);
  const c = await connectClient(tb.port, { username: "SENSOR_1_TOKEN" });
  await c.end();
  // Provisioning the same name again fails (thingsboard#8385).
  assert.equal(
    await provision(tb.port, {
      deviceName: "sensor-1",
      provisionDeviceKey: "KEY_A",
      provisionDeviceSecret: "SECRET_A",
    }),
    '{"errorMsg":"Failed to provision device!","status":"FAILURE"}',
  );
});

Deno.test("startEmulator() provisions generated names/tokens and MQTT_BASIC credentials", async () => {
  await using tb = await startEmulator({ profiles: [...profiles] });
  const generated = JSON.parse(
    await provision(tb.port, { provisionDeviceKey: "KEY_A", provisionDeviceSecret: "SECRET_A" }, 5),
  );
  assert.equal(generated.status, "SUCCESS");
  assert.match(generated.credentialsValue, /^[A-Za-z0-9]{20}$/);
  assert.equal(tb.devices.length, 1);
  assert.match(tb.devices[0]!.name, /^[A-Za-z0-9]{20}$/);

  const basic = await provision(tb.port, {
    deviceName: "basic-1",
    provisionDeviceKey: "KEY_A",
    provisionDeviceSecret: "SECRET_A",
    credentialsType: "MQTT_BASIC",
    clientId: "basic-client",
    username: "basic-user",
    password: "basic-pass",
  });
  assert.equal(
    basic,
    '{"credentialsValue":{"clientId":"basic-client","userName":"basic-user","password":"basic-pass"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}',
  );
  const c = await connectClient(tb.port, {
    clientId: "basic-client",
    username: "basic-user",
    password: "basic-pass",
  });
  assert.equal(tb.isConnected("basic-1"), true);
  await c.end();
});

Deno.test("startEmulator() answers NOT_FOUND and FAILURE with ThingsBoard's exact JSON", async () => {
  await using tb = await startEmulator({
    profiles: [...profiles],
    devices: [{ name: "pre-1", accessToken: "PRE_1", profile: "closed" }, { name: "other" }],
  });
  const notFound = '{"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}';
  const failure = '{"errorMsg":"Failed to provision device!","status":"FAILURE"}';
  const req = (deviceName: string, key: string, secret: string) => ({
    deviceName,
    provisionDeviceKey: key,
    provisionDeviceSecret: secret,
  });
  assert.equal(await provision(tb.port, req("x", "KEY_A", "wrong")), notFound);
  assert.equal(await provision(tb.port, req("x", "NOKEY", "SECRET_A")), notFound);
  assert.equal(await provision(tb.port, req("x", "", "")), notFound);
  assert.equal(await provision(tb.port, req("   ", "KEY_A", "SECRET_A")), failure);
  assert.equal(await provision(tb.port, req("missing", "KEY_B", "SECRET_B")), failure);
  assert.equal(await provision(tb.port, req("other", "KEY_B", "SECRET_B")), failure);
  // Pre-provisioned device: its existing credentials, once.
  assert.equal(
    await provision(tb.port, req("pre-1", "KEY_B", "SECRET_B")),
    '{"credentialsValue":"PRE_1","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}',
  );
  assert.equal(await provision(tb.port, req("pre-1", "KEY_B", "SECRET_B")), failure);
});

Deno.test("startEmulator() limits a provision session to the provisioning topics", async () => {
  await using tb = await startEmulator({ profiles: [...profiles], provisionSessionTimeout: 50 });
  const v5 = await RawClient.open(tb.port, 5);
  await v5.connect({ clientId: "provision" });
  await v5.send({
    cmd: "subscribe",
    messageId: 1,
    subscriptions: [{ topic: "/provision/response", qos: 1 }, {
      topic: "v1/devices/me/attributes",
      qos: 1,
    }],
  });
  assert.deepEqual((await v5.next()).granted, [1, 0x8f]);
  // A request without key/secret: PUBACK 0x83 and DISCONNECT 0x83.
  await v5.send({
    cmd: "publish",
    topic: "/provision/request",
    payload: '{"deviceName":"a"}',
    qos: 1,
    messageId: 2,
  });
  const ack = await v5.next();
  assert.deepEqual([ack.cmd, ack.reasonCode], ["puback", 0x83]);
  assert.deepEqual([(await v5.next()).reasonCode], [0x83]);
  await v5.waitClosed();
  await v5.close();

  const other = await RawClient.open(tb.port, 5);
  await other.connect({ username: "provision" });
  await other.send({
    cmd: "publish",
    topic: "v1/devices/me/telemetry",
    payload: "{}",
    qos: 1,
    messageId: 3,
  });
  assert.deepEqual([(await other.next()).reasonCode, (await other.next()).reasonCode], [
    0x90,
    0x90,
  ]);
  await other.waitClosed();
  await other.close();

  // After a response the server closes the session by itself (here after 50 ms).
  const c = await RawClient.open(tb.port, 4);
  await c.connect({ clientId: "provision" });
  await c.send({
    cmd: "publish",
    topic: "/provision/request",
    payload: '{"provisionDeviceKey":"KEY_A","provisionDeviceSecret":"SECRET_A","deviceName":"z"}',
    qos: 1,
    messageId: 4,
  });
  assert.equal((await c.next()).cmd, "puback");
  const response = await c.next();
  assert.deepEqual([response.topic, response.qos], ["/provision/response", 1]);
  await c.waitClosed();
  await c.close();
});
