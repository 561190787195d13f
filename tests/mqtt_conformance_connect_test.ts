// Conformance of MqttClient's connection establishment (MQTT 5.0 and 3.1.1), against a strict
// server over real loopback TCP, or a scripted transport where "nothing was sent" must be exact.
import assert from "node:assert/strict";
import {
  ConnectionRefusedError,
  MqttClient,
  type MqttClientOptions,
  PayloadTooLargeError,
  ProtocolViolationError,
} from "../core/mqtt/mod.ts";
import { FakeClock, FakeNetwork, settle, toHex } from "./_fake_transport.ts";
import { StrictPeer } from "./mqtt_conformance_peer.ts";

const X = new TextEncoder().encode("x");

function client(peer: StrictPeer, options: Partial<MqttClientOptions> = {}): MqttClient {
  return new MqttClient({
    host: "127.0.0.1",
    port: peer.port,
    clientId: "c",
    reconnect: { initialDelay: 10, maxDelay: 10, jitter: 0 },
    ...options,
  });
}

for (const version of [5, 4] as const) {
  Deno.test(`MqttClient CONNECT is well-formed on level ${version} (flags, name, level, keepalive, properties)`, async () => {
    await using peer = new StrictPeer();
    await using c = client(peer, { protocolVersion: version, username: "u", password: "p" });
    const done = c.connect();
    done.catch(() => {}); // a failed assertion must not surface as this rejection
    const conn = await peer.connection(0);
    const { packet, bytes } = await conn.next();
    // 10 len "MQTT" level, flags c2: username, password, Clean Start; reserved bit 0 [MQTT-3.1.2-3],
    // no will [MQTT-3.1.2-11..15]; keepalive 60; v5: empty property block (Receive Maximum,
    // Maximum Packet Size and Topic Alias Maximum at their defaults).
    const head = version === 5 ? "10 14" : "10 13";
    const props = version === 5 ? " 00" : "";
    assert.equal(
      toHex(bytes),
      `${head} 00 04 4d 51 54 54 0${version} c2 00 3c${props} 00 01 63 00 01 75 00 01 70`,
    );
    assert.equal(packet.type, "connect");
    await conn.send(version === 5 ? "20 03 00 00 00" : "20 02 00 00");
    await done;
    assert.equal(c.protocolVersion, version);
  });
}

Deno.test("MqttClient with an empty client id accepts the Assigned Client Identifier and keeps working", async () => {
  await using peer = new StrictPeer();
  await using c = client(peer, { clientId: "" });
  const done = c.connect();
  done.catch(() => {}); // a failed assertion must not surface as this rejection
  const conn = await peer.connection(0);
  const connect = await conn.accept({
    type: "connack",
    sessionPresent: false,
    reasonCode: 0,
    properties: { assignedClientIdentifier: "auto-1" },
  });
  assert.equal(connect.clientId, "");
  assert.equal(connect.clean, true); // [MQTT-3.1.3-8]: a zero-length id needs Clean Start
  assert.equal((await done).properties?.assignedClientIdentifier, "auto-1");
  const p = c.publish("t", X, { qos: 1 });
  const pub = await conn.expect("publish");
  await conn.send({ type: "puback", packetId: pub.packetId! });
  assert.equal((await p).packetId, pub.packetId);
});

Deno.test("MqttClient sends nothing but CONNECT before the CONNACK arrives", async () => {
  // Scripted transport: "nothing more was written" is exact here, with no wait.
  const net = new FakeNetwork();
  const clock = new FakeClock();
  const c = new MqttClient({
    host: "h",
    clientId: "c",
    keepalive: 5,
    transport: net.factory,
    clock,
  });
  c.publishNoWait("t", X, { qos: 1 });
  const sub = c.subscribe([{ topicFilter: "s", qos: 1 }]);
  const done = c.connect();
  done.catch(() => {}); // a failed assertion must not surface as this rejection
  const t = await net.connection(0);
  await t.expect("10 0e 00 04 4d 51 54 54 05 02 00 05 00 00 01 63");
  await clock.advance(9_000); // no PINGREQ either: keepalive starts with the session
  await t.expectNothing();
  t.respond("20 03 00 00 00");
  await done;
  await t.expect("82 07 00 01 00 00 01 73 01 32 07 00 01 74 00 02 00 78");
  t.respond("90 04 00 01 00 01 40 02 00 02");
  assert.deepEqual(await sub, [1]);
  await c.disconnect();
  assert.equal(clock.pending, 0);
});

for (const version of [5, 4] as const) {
  Deno.test(`MqttClient closes on Session Present 1 after a clean start (level ${version}) [MQTT-3.2.2-4]`, async () => {
    await using peer = new StrictPeer();
    await using c = client(peer, { protocolVersion: version });
    const done = c.connect().catch((e) => e);
    const conn = await peer.connection(0);
    await conn.accept(version === 5 ? "20 03 01 00 00" : "20 02 01 00");
    if (version === 5) assert.equal((await conn.expect("disconnect")).reasonCode, 0x82);
    await conn.expectClose();
    const e = await done;
    assert.ok(e instanceof ProtocolViolationError, String(e));
    assert.match(e.message, /Session Present 1/);
    assert.equal(c.state, "disconnected");
    assert.equal(peer.connections, 1); // not a reason to fall back to 3.1.1
  });
}

for (const version of [5, 4] as const) {
  Deno.test(`MqttClient treats a first packet other than CONNACK as a protocol error (level ${version}) [MQTT-3.2.0-1]`, async () => {
    await using peer = new StrictPeer();
    await using c = client(peer, { protocolVersion: version });
    const done = c.connect().catch((e) => e);
    const conn = await peer.connection(0);
    await conn.expect("connect");
    await conn.send(version === 5 ? "30 05 00 01 74 00 78" : "30 04 00 01 74 78"); // PUBLISH
    if (version === 5) assert.equal((await conn.expect("disconnect")).reasonCode, 0x82);
    await conn.expectClose();
    const e = await done;
    assert.ok(e instanceof ProtocolViolationError, String(e));
    assert.match(e.message, /expected CONNACK, received PUBLISH/);
    assert.equal(peer.connections, 1);
  });
}

Deno.test("MqttClient does not fall back to 3.1.1 when an MQTT 5 CONNACK is malformed", async () => {
  await using peer = new StrictPeer();
  await using c = client(peer);
  const done = c.connect().catch((e) => e);
  const conn = await peer.connection(0);
  await conn.expect("connect");
  await conn.send("20 06 00 00 03 21 00 00"); // Receive Maximum 0 is a protocol error
  await conn.next().catch(() => {}); // MQTT 5 DISCONNECT 0x81, once the connection can send it
  await conn.expectClose();
  const e = await done;
  assert.ok(e instanceof ProtocolViolationError, String(e));
  assert.match(e.message, /receiveMaximum must not be 0/);
  assert.equal(peer.connections, 1);
});

Deno.test("MqttClient reports a CONNACK refusal and closes the connection", async () => {
  await using peer = new StrictPeer();
  await using c = client(peer);
  const done = c.connect().catch((e) => e);
  const conn = await peer.connection(0);
  await conn.accept("20 03 00 87 00");
  await conn.expectClose();
  const e = await done;
  assert.ok(e instanceof ConnectionRefusedError);
  assert.equal(e.reasonCode, 0x87);
});

Deno.test("MqttClient reports the Server Reference of a CONNACK 0x9D server moved", async () => {
  await using peer = new StrictPeer();
  await using c = client(peer);
  const done = c.connect().catch((e) => e);
  const conn = await peer.connection(0);
  await conn.accept({
    type: "connack",
    sessionPresent: false,
    reasonCode: 0x9d,
    properties: { serverReference: "mqtt2.example:1883", reasonString: "moved" },
  });
  await conn.expectClose();
  const e = await done;
  assert.ok(e instanceof ConnectionRefusedError);
  assert.equal(e.reasonCode, 0x9d);
  assert.match(e.message, /0x9D.*: moved; server reference: mqtt2\.example:1883$/i);
  assert.equal(peer.connections, 1);
});

Deno.test("new MqttClient() refuses a password without user name on 3.1.1 [MQTT-3.1.2-22]", () => {
  assert.throws(
    () => new MqttClient({ host: "h", protocolVersion: 4, password: "p" }),
    (e: unknown) => e instanceof TypeError && /password only with a username/.test(e.message),
  );
  // MQTT 5 allows it.
  assert.equal(new MqttClient({ host: "h", password: "p" }).state, "disconnected");
});

Deno.test("MqttClient never sends a SUBSCRIBE larger than the server's Maximum Packet Size", async () => {
  await using peer = new StrictPeer();
  await using c = client(peer);
  const done = c.connect();
  done.catch(() => {}); // a failed assertion must not surface as this rejection
  const conn = await peer.connection(0);
  await conn.accept("20 08 00 00 05 27 00 00 00 20"); // Maximum Packet Size 32
  await done;
  const long = "a".repeat(40);
  const e = await c.subscribe([{ topicFilter: long, qos: 1 }]).catch((e) => e);
  assert.ok(e instanceof PayloadTooLargeError, String(e));
  assert.match(e.message, /^Cannot send SUBSCRIBE: the packet is 48 bytes, the limit is 32 bytes/);
  await assert.rejects(c.unsubscribe([long]), PayloadTooLargeError);
  await assert.rejects(c.publish("t", new Uint8Array(30)), PayloadTooLargeError);
  // What fits still goes out, and is the next thing the server sees.
  const sub = c.subscribe([{ topicFilter: "ok", qos: 1 }]);
  const s = await conn.expect("subscribe");
  assert.deepEqual(s.subscriptions.map((x) => x.topicFilter), ["ok"]);
  await conn.send({ type: "suback", packetId: s.packetId, reasonCodes: [1] });
  assert.deepEqual(await sub, [1]);
  await settle();
});

Deno.test("new MqttClient() refuses CONNECT strings that are not well-formed UTF-8 or too long", () => {
  const bad: [Partial<MqttClientOptions>, RegExp][] = [
    [{ clientId: "a\u0000b" }, /clientId must be well-formed/], // [MQTT-1.5.4-2]
    [{ username: "tok\ud800" }, /username must be well-formed/], // [MQTT-1.5.4-1]
    [{ clientId: "x".repeat(70_000) }, /clientId must be at most 65535/],
    [{ password: new Uint8Array(70_000) }, /password must be at most 65535/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => new MqttClient({ host: "h", ...options }), (e: unknown) => {
      assert.ok(e instanceof TypeError || e instanceof RangeError);
      assert.match(e.message, /^Cannot create MQTT client: /);
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /tok/); // never the credential itself
      return true;
    });
  }
});

Deno.test("MqttClient retries with 3.1.1 when a server answers MQTT 5 with a 3.1.1 CONNACK", async () => {
  await using peer = new StrictPeer();
  await using c = client(peer);
  const done = c.connect();
  done.catch(() => {});
  const first = await peer.connection(0);
  assert.equal((await first.accept("20 02 00 00")).protocolVersion, 5);
  await first.expectClose();
  const second = await peer.connection(1);
  assert.equal((await second.accept()).protocolVersion, 4);
  await done;
  assert.equal(c.protocolVersion, 4);
});
