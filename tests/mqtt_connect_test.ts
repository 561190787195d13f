import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  ConnectionRefusedError,
  MqttClient,
  type MqttClientOptions,
} from "../core/mqtt/mod.ts";
import { fakeClient, settle } from "./_fake_transport.ts";

const CONNECT_V5 = "10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 63";
const CONNECT_V4 = "10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 63";

/** A client on a fake network with the default reconnect options. */
function setup(options: Partial<MqttClientOptions> = {}) {
  return fakeClient({ host: "broker", reconnect: true, ...options });
}

Deno.test("MqttClient.connect() sends MQTT 5 CONNECT and resolves with the CONNACK", async () => {
  const { net, clock, client } = setup();
  const states: string[] = [client.state];
  client.addEventListener("connect", () => states.push(client.state));
  const p = client.connect();
  assert.equal(client.state, "connecting");
  const t = await net.connection(0);
  assert.deepEqual([t.options.host, t.options.port], ["broker", 1883]);
  await t.expect(CONNECT_V5);
  t.respond("20 03 00 00 00");
  const connack = await p;
  assert.deepEqual([connack.reasonCode, connack.sessionPresent], [0, false]);
  assert.deepEqual(states, ["disconnected", "connected"]);
  assert.equal(client.connected, true);
  assert.equal(client.protocolVersion, 5);
  assert.equal(await client.connect(), connack); // already connected
  await client.disconnect();
  assert.equal(client.state, "disconnected");
  assert.equal(t.closed, true);
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient.connect() sends credentials and keeps them out of refusal errors", async () => {
  const logged: string[] = [];
  const log = (msg: string, data?: Record<string, unknown>) =>
    logged.push(msg + JSON.stringify(data ?? {}));
  const logger = { debug: log, info: log, warn: log, error: log };
  const { net, clock, client } = setup({
    protocolVersion: 4,
    username: "tok",
    password: "pw",
    logger,
  });
  const p = client.connect();
  const t = await net.connection(0);
  await t.expect("10 16 00 04 4d 51 54 54 04 c2 00 3c 00 01 63 00 03 74 6f 6b 00 02 70 77");
  t.respond("20 02 00 05");
  const e = await p.catch((e) => e);
  assert.ok(e instanceof ConnectionRefusedError);
  assert.equal(e.returnCode, 5);
  assert.equal(e.reasonCode, 0x87);
  assert.match(e.message, /5 not authorized/);
  assert.doesNotMatch(e.message + String(e.stack) + logged.join(), /tok|pw/);
  assert.equal(client.state, "disconnected");
  assert.equal(client.lastError, e);
  assert.equal(t.closed, true);
  assert.equal(net.connections.length, 1); // a refusal of the first connect() is not retried
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient.connect() refused on MQTT 5 reports the reason code without fallback", async () => {
  const { net, client } = setup();
  const p = client.connect();
  const t = await net.connection(0);
  await t.expect(CONNECT_V5);
  t.respond("20 03 00 86 00");
  const e = await p.catch((e) => e);
  assert.ok(e instanceof ConnectionRefusedError);
  assert.deepEqual([e.reasonCode, e.returnCode, e.protocolVersion], [0x86, 4, 5]);
  assert.match(e.message, /0x86 bad user name or password/);
  assert.equal(net.connections.length, 1);
});

Deno.test("MqttClient.connect() reports ThingsBoard's CONNACK 0x86 followed by DISCONNECT 0x86 in one read", async () => {
  // ThingsBoard sends DISCONNECT with a CONNACK-only reason code, which the
  // decoder rejects; the refusal decoded before it must still win, with no fallback.
  const { net, client } = setup();
  const p = client.connect();
  const t = await net.connection(0);
  await t.expect(CONNECT_V5);
  t.respond("20 03 00 86 00 e0 02 86 00");
  const e = await p.catch((e) => e);
  assert.ok(e instanceof ConnectionRefusedError, String(e));
  assert.deepEqual([e.reasonCode, e.protocolVersion], [0x86, 5]);
  assert.equal(net.connections.length, 1);
});

for (
  const [name, reply] of [
    [
      "a 3.1.1 CONNACK with return code 1",
      (t: { respond(s: string): void }) => t.respond("20 02 00 01"),
    ],
    [
      "CONNACK 0x84 unsupported protocol version",
      (t: { respond(s: string): void }) => t.respond("20 03 00 84 00"),
    ],
    ["closing the connection without CONNACK", (t: { end(): void }) => t.end()],
  ] as const
) {
  Deno.test(`MqttClient.connect() falls back to MQTT 3.1.1 after ${name}`, async () => {
    const { net, clock, client } = setup();
    const p = client.connect();
    const t0 = await net.connection(0);
    await t0.expect(CONNECT_V5);
    // deno-lint-ignore no-explicit-any
    reply(t0 as any);
    const t1 = await net.connection(1);
    assert.equal(t0.closed, true);
    await t1.expect(CONNECT_V4);
    t1.respond("20 02 00 00");
    await p;
    assert.equal(client.protocolVersion, 4);
    // 3.1.1 encoding from now on: PUBLISH without properties
    const pub = client.publish("t", new TextEncoder().encode("x"), { qos: 1 });
    await t1.expect("32 06 00 01 74 00 01 78");
    t1.respond("40 02 00 01");
    assert.deepEqual(await pub, { packetId: 1, reasonCode: 0 });
    await client.disconnect();
    await t1.expect("e0 00");
    assert.equal(clock.pending, 0);
  });
}

Deno.test("MqttClient.connect() with fallback: false reports the refusal of level 5", async () => {
  const { net, client } = setup({ fallback: false });
  const p = client.connect();
  const t = await net.connection(0);
  await t.expect(CONNECT_V5);
  t.respond("20 02 00 01");
  const e = await p.catch((e) => e);
  assert.ok(e instanceof ConnectionRefusedError);
  assert.equal(e.returnCode, 1);
  assert.match(e.message, /unacceptable protocol version/);
  assert.equal(net.connections.length, 1);
});

Deno.test("MqttClient.connect() times out without CONNACK and closes the socket", async () => {
  const { net, clock, client } = setup({ connectTimeout: 5000 });
  const p = client.connect();
  const t = await net.connection(0);
  await t.expect(CONNECT_V5);
  const result = p.catch((e) => e);
  await clock.advance(4999);
  assert.equal(t.closed, false);
  await clock.advance(1);
  const e = await result;
  assert.ok(e instanceof DOMException);
  assert.equal(e.name, "TimeoutError");
  assert.match(e.message, /no CONNACK within 5000 ms/);
  assert.equal(t.closed, true);
  assert.equal(client.state, "disconnected");
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient.connect() timeout also covers a transport that never connects", async () => {
  const { net, clock, client } = setup();
  net.hang();
  const result = client.connect({ timeout: 300 }).catch((e) => e);
  await clock.advance(300);
  const e = await result;
  assert.equal(e.name, "TimeoutError");
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient.connect() stops when its AbortSignal aborts", async () => {
  const { net, clock, client } = setup();
  const ac = new AbortController();
  const p = client.connect({ signal: ac.signal }).catch((e) => e);
  const t = await net.connection(0);
  await t.expect(CONNECT_V5);
  ac.abort();
  const e = await p;
  assert.ok(e instanceof DOMException);
  assert.equal(e.name, "AbortError");
  assert.equal(t.closed, true);
  assert.equal(client.state, "disconnected");
  assert.equal(clock.pending, 0);
  const already = await client.connect({ signal: AbortSignal.abort() }).catch((e) => e);
  assert.equal(already.name, "AbortError");
  assert.equal(net.connections.length, 1);
});

Deno.test("MqttClient.connect() reports an unreachable server as ConnectionClosedError", async () => {
  const { net, clock, client } = setup({ port: 1999 });
  net.failNext(new Deno.errors.ConnectionRefused("Connection refused (os error 111)"));
  const e = await client.connect().catch((e) => e);
  assert.ok(e instanceof ConnectionClosedError);
  assert.match(e.message, /^Cannot connect to broker:1999: Connection refused/);
  assert.ok(e.cause instanceof Deno.errors.ConnectionRefused);
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient.disconnect() during connect() aborts the attempt", async () => {
  const { net, clock, client } = setup();
  const p = client.connect().catch((e) => e);
  const t = await net.connection(0);
  await client.disconnect();
  const e = await p;
  assert.ok(e instanceof ConnectionClosedError);
  assert.equal(t.closed, true);
  assert.equal(client.state, "disconnected");
  await settle();
  assert.equal(clock.pending, 0);
});

Deno.test("new MqttClient() rejects invalid options with typed errors", () => {
  const refused = (options: MqttClientOptions, type: typeof Error, message: RegExp) =>
    assert.throws(
      () => new MqttClient(options),
      (e) => e instanceof type && message.test(e.message),
    );
  refused({ host: "" }, TypeError, /^Cannot create MQTT client: host must be a non-empty string$/);
  refused({ host: "h", port: 70000 }, RangeError, /port 70000 is not an integer in 1\.\.65535$/);
  refused({ host: "h", keepalive: -1 }, RangeError, /keepalive -1 is not an integer in 0\.\./);
  refused({ host: "h", maxInflight: 65536 }, RangeError, /maxInflight 65536 is not an integer/);
  // deno-lint-ignore no-explicit-any
  refused({ host: "h", protocolVersion: 3 as any }, RangeError, /protocolVersion 3 is not 4 or 5/);
  refused({ host: "h", queue: { maxSize: -1 } }, RangeError, /maxSize -1 is not a non-negative/);
  assert.equal(new MqttClient({ host: "h", tls: true }).state, "disconnected");
});
