import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { connectClient, RawClient } from "./emulator_helpers.ts";

Deno.test("startEmulator() accepts an access token on MQTT 3.1.1 and 5", async () => {
  await using tb = await startEmulator({ devices: [{ name: "d1", accessToken: "TOKEN_1" }] });
  for (const protocolVersion of [4, 5] as const) {
    const raw = await RawClient.open(tb.port, protocolVersion);
    const connack = await raw.connect({ username: "TOKEN_1", password: "pswd" });
    assert.equal(connack.cmd, "connack");
    assert.equal(protocolVersion === 5 ? connack.reasonCode : connack.returnCode, 0);
    assert.equal(connack.sessionPresent, false);
    assert.equal(tb.isConnected("d1"), true);
    const ev = tb.waitFor("disconnect");
    await raw.close();
    assert.equal((await ev).reason, "connectionLost");
  }
});

Deno.test("startEmulator() refuses an unknown token: CONNACK 5 on 3.1.1, 0x86 + DISCONNECT on 5", async () => {
  await using tb = await startEmulator();
  const v4 = await RawClient.open(tb.port, 4);
  const c4 = await v4.connect({ username: "NOPE" });
  assert.equal(c4.returnCode, 5);
  await v4.waitClosed();
  assert.equal(v4.packets.length, 1);
  await v4.close();

  const v5 = await RawClient.open(tb.port, 5);
  const c5 = await v5.connect({ username: "NOPE" });
  assert.equal(c5.reasonCode, 0x86);
  await v5.waitClosed();
  // CONNACK 0x86, then (as ThingsBoard does) DISCONNECT 0x86, which mqtt-packet cannot parse.
  assert.deepEqual(v5.received, [0x20, 0x03, 0x00, 0x86, 0x00, 0xe0, 0x01, 0x86]);
  await v5.close();
  const refused = tb.events().filter((e) => e.type === "connectRefused");
  assert.deepEqual(refused.map((e) => e.type === "connectRefused" && e.reasonCode), [5, 0x86]);
});

Deno.test("startEmulator() picks ThingsBoard's refusal codes by what the CONNECT carries", async () => {
  await using tb = await startEmulator();
  const cases: [Record<string, unknown>, number, number][] = [
    [{ username: "u", password: "p" }, 5, 0x86],
    [{ clientId: "unknown-client" }, 2, 0x85],
    [{ clientId: "" }, 5, 0x87],
  ];
  for (const [fields, rc4, rc5] of cases) {
    for (const v of [4, 5] as const) {
      const raw = await RawClient.open(tb.port, v);
      const connack = await raw.connect(fields);
      assert.equal(v === 5 ? connack.reasonCode : connack.returnCode, v === 5 ? rc5 : rc4);
      await raw.waitClosed();
      await raw.close();
    }
  }
});

Deno.test("startEmulator() answers a v5 password without user name with 0x86", async () => {
  await using tb = await startEmulator();
  const raw = await RawClient.open(tb.port, 5);
  // CONNECT v5, flags: password + clean start, client id "x", password "p"
  await raw.write(
    new Uint8Array([
      0x10,
      0x11,
      0x00,
      0x04,
      0x4d,
      0x51,
      0x54,
      0x54,
      0x05,
      0x42,
      0x00,
      0x00,
      0x00,
      0x00,
      0x01,
      0x78,
      0x00,
      0x01,
      0x70,
    ]),
  );
  await raw.waitClosed();
  assert.deepEqual(raw.received, [0x20, 0x03, 0x00, 0x86, 0x00, 0xe0, 0x01, 0x86]);
  await raw.close();
});

Deno.test("startEmulator() authenticates MQTT basic credentials like ThingsBoard", async () => {
  await using tb = await startEmulator({
    devices: [
      { name: "by-client-id", credentials: { clientId: "cid-1" } },
      { name: "by-user", credentials: { userName: "user-2", password: "pw-2" } },
      { name: "by-all", credentials: { clientId: "cid-3", userName: "user-3", password: "pw-3" } },
    ],
  });
  const ok = async (fields: Record<string, unknown>, device: string) => {
    const raw = await RawClient.open(tb.port, 5);
    const connack = await raw.connect(fields);
    assert.equal(connack.reasonCode, 0, JSON.stringify(fields));
    assert.equal(
      tb.sessions.find((s) => s.clientId === (fields.clientId ?? "raw"))?.device,
      device,
    );
    await raw.close();
  };
  const refused = async (fields: Record<string, unknown>) => {
    const raw = await RawClient.open(tb.port, 5);
    const connack = await raw.connect(fields);
    assert.notEqual(connack.reasonCode, 0, JSON.stringify(fields));
    await raw.close();
  };
  await ok({ clientId: "cid-1" }, "by-client-id");
  await ok({ clientId: "any", username: "user-2", password: "pw-2" }, "by-user");
  await ok({ clientId: "cid-3", username: "user-3", password: "pw-3" }, "by-all");
  await refused({ clientId: "any", username: "user-2", password: "wrong" });
  await refused({ clientId: "other", username: "user-3", password: "pw-3" });
  await refused({ clientId: "cid-3", username: "user-3", password: "bad" });
});

Deno.test("startEmulator() lets a second connection take over: v5 DISCONNECT 0x8E, 3.1.1 close", async () => {
  await using tb = await startEmulator({ devices: [{ name: "d1", accessToken: "T" }] });
  for (const v of [5, 4] as const) {
    const first = await RawClient.open(tb.port, v);
    await first.connect({ username: "T", clientId: "first" });
    const taken = tb.waitFor("disconnect", (e) => e.reason === "takenOver");
    const second = await connectClient(tb.port, { username: "T", protocolVersion: v });
    await first.waitClosed();
    if (v === 5) {
      const d = first.packets.at(-1);
      assert.equal(d.cmd, "disconnect");
      assert.equal(d.reasonCode, 0x8e);
    } else {
      assert.equal(first.packets.length, 1); // only the CONNACK
    }
    assert.equal((await taken).reasonCode, v === 5 ? 0x8e : undefined);
    assert.equal(tb.isConnected("d1"), true);
    assert.equal(tb.sessions.filter((s) => s.device === "d1").length, 1);
    await second.end();
    await first.close();
  }
});

Deno.test("startEmulator() with mqtt311Only refuses level 5 with 3.1.1 return code 1", async () => {
  await using tb = await startEmulator({
    mqtt311Only: true,
    devices: [{ name: "d1", accessToken: "T" }],
  });
  const raw = await RawClient.open(tb.port, 4);
  await raw.send({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 5,
    clientId: "x",
    username: "T",
    clean: true,
    keepalive: 0,
  });
  await raw.waitClosed();
  // The answer is a 3.1.1 CONNACK "unacceptable protocol version": 20 02 00 01
  assert.deepEqual(raw.received, [0x20, 0x02, 0x00, 0x01]);
  await raw.close();
  // MQTT 3.1.1 still works, and mqtt.js sees "unacceptable protocol version" on 5.
  const ok = await connectClient(tb.port, { username: "T", protocolVersion: 4 });
  await ok.end();
  await assert.rejects(connectClient(tb.port, { username: "T", protocolVersion: 5 }), /protocol/i);
});

Deno.test("startEmulator() opens a provision-only session for clientId or username 'provision'", async () => {
  await using tb = await startEmulator();
  for (const fields of [{ clientId: "provision" }, { username: "provision" }]) {
    const raw = await RawClient.open(tb.port, 4);
    const connack = await raw.connect(fields);
    assert.equal(connack.returnCode, 0);
    assert.equal(tb.sessions.at(-1)?.kind, "provision");
    await raw.close();
  }
});

Deno.test("startEmulator() answers PINGREQ and echoes sessionPresent = !clean", async () => {
  await using tb = await startEmulator({ devices: [{ name: "d1", accessToken: "T" }] });
  const raw = await RawClient.open(tb.port, 4);
  const connack = await raw.connect({ username: "T", clean: false, clientId: "keep" });
  assert.equal(connack.sessionPresent, true);
  await raw.send({ cmd: "pingreq" });
  assert.equal((await raw.next()).cmd, "pingresp");
  await raw.close();
});

Deno.test("Emulator.disconnect() closes a device session with the given v5 reason", async () => {
  await using tb = await startEmulator({ devices: [{ name: "d1", accessToken: "T" }] });
  const c = await connectClient(tb.port, { username: "T", protocolVersion: 5 });
  assert.equal(tb.disconnect("d1", { reasonCode: 0x98 }), true);
  const d = await c.packet("disconnect");
  assert.equal(d.reasonCode, 0x98);
  await c.closed;
  await c.end();
  assert.equal(tb.disconnect("d1"), false);
});

Deno.test("startEmulator() closes a silent device session after inactivityTimeout (v5 0xA0)", async () => {
  await using tb = await startEmulator({
    devices: [{ name: "d1", accessToken: "T" }],
    inactivityTimeout: 30,
  });
  const raw = await RawClient.open(tb.port, 5);
  await raw.connect({ username: "T", keepalive: 1 });
  await raw.waitClosed();
  assert.deepEqual(raw.received.slice(-3), [0xe0, 0x01, 0xa0]);
  const ev = tb.events().findLast((e) => e.type === "disconnect");
  assert.equal(ev?.type === "disconnect" && ev.reason, "inactivity");
  await raw.close();
});

Deno.test("startEmulator() accepts MQTT 3.1 (MQIsdp, level 3)", async () => {
  await using tb = await startEmulator({ devices: [{ name: "d1", accessToken: "T" }] });
  const c = await connectClient(tb.port, {
    username: "T",
    protocolId: "MQIsdp",
    protocolVersion: 3,
  });
  await c.client.publishAsync("v1/devices/me/telemetry", '{"v3":1}', { qos: 1 });
  assert.equal(tb.getLatestTelemetry("d1").v3?.value, 1);
  assert.equal(tb.sessions[0]?.protocolVersion, 3);
  await c.end();
});
