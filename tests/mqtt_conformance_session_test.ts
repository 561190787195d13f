// Conformance of an open MqttClient session (MQTT 5.0 and 3.1.1) against a strict server over
// real loopback TCP: protocol errors, inbound QoS flows, server DISCONNECT.
import assert from "node:assert/strict";
import type { Packet } from "../core/codec/types.ts";
import {
  ConnectionClosedError,
  MqttClient,
  type MqttClientOptions,
  ProtocolViolationError,
} from "../core/mqtt/mod.ts";
import { type PeerConnection, StrictPeer } from "./mqtt_conformance_peer.ts";

const X = new TextEncoder().encode("x");

/** A client connected to `peer` (connection `index`), with what it reports. */
async function session(peer: StrictPeer, version: 4 | 5, options: Partial<MqttClientOptions> = {}) {
  const client = new MqttClient({
    host: "127.0.0.1",
    port: peer.port,
    clientId: "c",
    protocolVersion: version,
    reconnect: { initialDelay: 10, maxDelay: 10, jitter: 0 },
    ...options,
  });
  const errors: Error[] = [];
  const disconnects: { reason: Error | undefined; reasonCode?: number }[] = [];
  const messages: Packet[] = [];
  client.addEventListener("error", (e) => errors.push(e.detail));
  client.addEventListener("disconnect", (e) => disconnects.push(e.detail));
  client.addEventListener("message", (e) => messages.push(e.detail));
  const done = client.connect();
  done.catch(() => {});
  const conn = await peer.connection(peer.connections);
  await conn.accept();
  await done;
  return { client, conn, errors, disconnects, messages };
}

/** Marks `p` handled, so a failed assertion is reported instead of this rejection. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Accepts the reconnection and checks the client works on it. */
async function reconnected(peer: StrictPeer, index: number, client: MqttClient): Promise<void> {
  const conn = await peer.connection(index);
  await conn.accept();
  const p = client.publish("t", X, { qos: 1 });
  p.catch(() => {}); // a failed assertion must not surface as this rejection
  const pub = await conn.expect("publish");
  await conn.send({ type: "puback", packetId: pub.packetId! });
  await p;
}

/** The client's reaction to a protocol error: DISCONNECT `code` on MQTT 5, then close. */
async function expectViolation(conn: PeerConnection, code: number): Promise<void> {
  if (conn.version === 5) {
    const d = await conn.expect("disconnect");
    assert.equal(d.reasonCode, code);
  }
  await conn.expectClose();
}

const SERVER_MAY_NOT_SEND: [string, Packet, 4 | 5][] = [
  ["a second CONNACK", { type: "connack", sessionPresent: false, reasonCode: 0 }, 4],
  ["CONNECT", { type: "connect", protocolVersion: 5, clientId: "s", clean: true, keepalive: 0 }, 4],
  [
    "SUBSCRIBE",
    { type: "subscribe", packetId: 1, subscriptions: [{ topicFilter: "a", qos: 0 }] },
    4,
  ],
  ["UNSUBSCRIBE", { type: "unsubscribe", packetId: 1, topicFilters: ["a"] }, 4],
  ["PINGREQ", { type: "pingreq" }, 4],
  ["AUTH without an Authentication Method in CONNECT", { type: "auth", reasonCode: 0x18 }, 5],
];

for (const version of [5, 4] as const) {
  for (const [name, packet, since] of SERVER_MAY_NOT_SEND) {
    if (version < since) continue;
    Deno.test(`MqttClient treats ${name} from the server as a protocol error (level ${version})`, async () => {
      await using peer = new StrictPeer();
      const s = await session(peer, version);
      await using _ = s.client;
      await s.conn.send(
        packet.type === "connect" ? { ...packet, protocolVersion: version } : packet,
      );
      await expectViolation(s.conn, 0x82);
      assert.ok(s.errors[0] instanceof ProtocolViolationError, String(s.errors[0]));
      assert.equal(s.disconnects[0]?.reason, s.errors[0]);
      await reconnected(peer, 1, s.client);
    });
  }

  Deno.test(`MqttClient closes on a malformed packet and reconnects (level ${version})`, async () => {
    await using peer = new StrictPeer();
    const s = await session(peer, version);
    await using _ = s.client;
    await s.conn.send("36 05 00 01 74 00 78"); // PUBLISH with QoS 3
    // MQTT 5 also wants a DISCONNECT 0x81 first: see the strict variant below.
    if (version === 5) await s.conn.next().catch(() => {});
    await s.conn.expectClose();
    assert.equal(s.errors[0]?.name, "MqttDecodeError");
    await reconnected(peer, 1, s.client);
  });

  Deno.test(`MqttClient acknowledges inbound QoS 1 and QoS 2 in order, delivering once (level ${version})`, async () => {
    await using peer = new StrictPeer();
    const s = await session(peer, version);
    await using _ = s.client;
    const pub = (packetId: number, qos: 1 | 2, dup = false): Packet => ({
      type: "publish",
      topic: `in/${packetId}`,
      payload: X,
      qos,
      retain: false,
      dup,
      packetId,
    });
    // Several in one segment: the acknowledgements come in the order of the PUBLISHes [MQTT-4.6.0-2].
    await s.conn.send(pub(7, 1));
    await s.conn.send(pub(3, 2));
    await s.conn.send(pub(9, 1));
    assert.deepEqual(
      [await s.conn.next(), await s.conn.next(), await s.conn.next()].map((r) => [
        r.packet.type,
        (r.packet as { packetId: number }).packetId,
      ]),
      [["puback", 7], ["pubrec", 3], ["puback", 9]],
    );
    // A resent QoS 2 PUBLISH before PUBREL is acknowledged again, not delivered again [MQTT-4.3.3-9].
    await s.conn.send(pub(3, 2, true));
    assert.equal((await s.conn.expect("pubrec")).packetId, 3);
    await s.conn.send({ type: "pubrel", packetId: 3 });
    const comp = await s.conn.expect("pubcomp");
    assert.deepEqual([comp.packetId, comp.reasonCode ?? 0], [3, 0]);
    assert.deepEqual(s.messages.map((m) => m.type === "publish" && m.topic), [
      "in/7",
      "in/3",
      "in/9",
    ]);
  });

  Deno.test(`MqttClient answers a PUBREL or PUBREC for an unknown packet identifier (level ${version})`, async () => {
    await using peer = new StrictPeer();
    const s = await session(peer, version);
    await using _ = s.client;
    await s.conn.send({ type: "pubrel", packetId: 5 });
    const comp = await s.conn.expect("pubcomp"); // always answered [MQTT-4.3.3-11]
    assert.equal(comp.packetId, 5);
    assert.equal(comp.reasonCode ?? 0, version === 5 ? 0x92 : 0); // Packet Identifier not found
    if (version === 5) {
      await s.conn.send({ type: "pubrec", packetId: 6 });
      const rel = await s.conn.expect("pubrel");
      assert.deepEqual([rel.packetId, rel.reasonCode], [6, 0x92]);
    }
    assert.equal(s.client.state, "connected");
    assert.equal(s.errors.length, 0);
  });
}

Deno.test("MqttClient refuses an inbound Topic Alias with DISCONNECT 0x94 (it announced Topic Alias Maximum 0)", async () => {
  await using peer = new StrictPeer();
  const s = await session(peer, 5);
  await using _ = s.client;
  await s.conn.send("30 09 00 01 74 03 23 00 01 78 79"); // PUBLISH "t", Topic Alias 1
  await expectViolation(s.conn, 0x94);
  assert.ok(s.errors[0] instanceof ProtocolViolationError);
  assert.match(s.errors[0].message, /Topic Alias 1/);
  assert.equal(s.messages.length, 0);
  await reconnected(peer, 1, s.client);
});

Deno.test("MqttClient treats a SUBACK with the wrong number of codes as a protocol error", async () => {
  await using peer = new StrictPeer();
  const s = await session(peer, 5);
  await using _ = s.client;
  const sub = s.client.subscribe([{ topicFilter: "a", qos: 1 }, { topicFilter: "b", qos: 1 }]);
  const req = await s.conn.expect("subscribe");
  await s.conn.send({ type: "suback", packetId: req.packetId, reasonCodes: [1] });
  await assert.rejects(sub, ProtocolViolationError);
  await expectViolation(s.conn, 0x82);
  // The subscriptions are made again on the next connection.
  const conn = await peer.connection(1);
  await conn.accept();
  assert.deepEqual(
    (await conn.expect("subscribe")).subscriptions.map((x) => x.topicFilter),
    ["a", "b"],
  );
});

Deno.test("MqttClient treats an MQTT 5 UNSUBACK with the wrong number of codes as a protocol error", async () => {
  await using peer = new StrictPeer();
  const s = await session(peer, 5);
  await using _ = s.client;
  const unsub = handled(s.client.unsubscribe(["a", "b"]));
  const req = await s.conn.expect("unsubscribe");
  await s.conn.send({ type: "unsuback", packetId: req.packetId, reasonCodes: [0] });
  await assert.rejects(unsub, ProtocolViolationError);
  await expectViolation(s.conn, 0x82);
  await reconnected(peer, 1, s.client);
});

Deno.test("MqttClient reports a server DISCONNECT with its reason code and Server Reference, then reconnects", async () => {
  await using peer = new StrictPeer();
  const s = await session(peer, 5);
  await using _ = s.client;
  await s.conn.send({
    type: "disconnect",
    reasonCode: 0x9c,
    properties: { reasonString: "maintenance", serverReference: "other:1883" },
  });
  await s.conn.expectClose(); // nothing after a server DISCONNECT, no DISCONNECT back
  const d = s.disconnects[0]!;
  assert.equal(d.reasonCode, 0x9c);
  assert.ok(d.reason instanceof ConnectionClosedError);
  assert.equal(d.reason.reasonCode, 0x9c);
  assert.equal(d.reason.serverReference, "other:1883");
  assert.match(d.reason.message, /0x9C.*maintenance.*other:1883/i);
  await reconnected(peer, 1, s.client);
});

Deno.test("MqttClient.disconnect() sends DISCONNECT last and closes", async () => {
  for (const version of [5, 4] as const) {
    await using peer = new StrictPeer();
    const s = await session(peer, version);
    const p = s.client.publish("t", X, { qos: 1 });
    const pub = await s.conn.expect("publish");
    const closed = s.client.disconnect();
    await s.conn.send({ type: "puback", packetId: pub.packetId! });
    await p;
    const d = await s.conn.expect("disconnect");
    assert.equal(d.reasonCode ?? 0, 0);
    await s.conn.expectClose(); // [MQTT-3.14.4-1] [MQTT-3.14.4-2]
    await closed;
  }
});

for (const version of [5, 4] as const) {
  Deno.test(`MqttClient outbound packets: ids, DUP only on redelivery, SUBSCRIBE/UNSUBSCRIBE flags (level ${version})`, async () => {
    await using peer = new StrictPeer();
    const s = await session(peer, version);
    await using _ = s.client;
    const c = s.client;
    const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
    // QoS 0: no packet identifier [MQTT-2.2.1-2].
    await c.publish("t", X);
    assert.equal(
      hex((await s.conn.next()).bytes),
      version === 5 ? "30 05 00 01 74 00 78" : "30 04 00 01 74 78",
    );
    // SUBSCRIBE: flags 0b0010 [MQTT-3.8.1-1]; options: reserved bits 0, No Local and the other
    // MQTT 5 options only on level 5.
    const sub = handled(c.subscribe([
      { topicFilter: "a", qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2 },
    ]));
    const subBytes = (await s.conn.next()).bytes;
    const subId = subBytes[2]! << 8 | subBytes[3]!;
    assert.equal(hex(subBytes.subarray(0, 2)), version === 5 ? "82 07" : "82 06");
    assert.equal(subBytes[subBytes.length - 1], version === 5 ? 0x2d : 0x01);
    await s.conn.send({ type: "suback", packetId: subId, reasonCodes: [1] });
    await sub;
    const unsub = handled(c.unsubscribe(["z"]));
    const u = await s.conn.next();
    assert.equal(u.bytes[0], 0xa2); // [MQTT-3.10.1-1]
    await s.conn.send({
      type: "unsuback",
      packetId: (u.packet as { packetId: number }).packetId,
      ...(version === 5 ? { reasonCodes: [0x11] } : {}),
    });
    await unsub;
    // QoS 1: distinct non-zero identifiers, DUP 0 on first delivery [MQTT-2.2.1-3].
    const pending = [1, 2, 3].map(() => c.publish("t", X, { qos: 1 }));
    for (const p of pending) p.catch(() => {});
    const first = [];
    for (let i = 0; i < 3; i++) first.push(await s.conn.expect("publish"));
    assert.ok(first.every((p) => !p.dup && p.packetId! > 0));
    assert.equal(new Set(first.map((p) => p.packetId)).size, 3);
    // The connection drops: resubscription, then the same messages with DUP 1 and the same ids.
    s.conn.close();
    const conn = await peer.connection(1);
    await conn.accept();
    const again = await conn.expect("subscribe");
    assert.deepEqual(again.subscriptions.map((x) => x.topicFilter), ["a"]);
    await conn.send({ type: "suback", packetId: again.packetId, reasonCodes: [1] });
    const resent = [];
    for (let i = 0; i < 3; i++) resent.push(await conn.expect("publish"));
    assert.deepEqual(resent.map((p) => [p.packetId, p.dup]), first.map((p) => [p.packetId, true]));
    for (const p of resent) await conn.send({ type: "puback", packetId: p.packetId! });
    await Promise.all(pending);
    const next = handled(c.publish("t", X, { qos: 1 }));
    const fresh = await conn.expect("publish");
    assert.equal(fresh.dup, false);
    await conn.send({ type: "puback", packetId: fresh.packetId! });
    await next;
  });
}

Deno.test("MqttClient refuses what a client may not send before anything is sent", async () => {
  await using peer = new StrictPeer();
  const s = await session(peer, 5);
  await using _ = s.client;
  const c = s.client;
  // Topic Alias: the server's Topic Alias Maximum bounds it [MQTT-3.3.2-9]; this client sends none.
  await assert.rejects(c.publish("t", X, { properties: { topicAlias: 1 } }), {
    name: "TypeError",
    message:
      "Cannot publish: the topicAlias property is not supported (the full topic name is sent)",
  });
  await assert.rejects(
    c.publish("t", X, { properties: { subscriptionIdentifiers: [1] } }), // [MQTT-3.3.4-6]
    TypeError,
  );
  // A payload announced as UTF-8 must be well-formed UTF-8 (3.3.2.3.2).
  await assert.rejects(
    c.publish("t", new Uint8Array([0xff]), { properties: { payloadFormatIndicator: true } }),
    /not well-formed UTF-8/,
  );
  // Shared subscriptions: $share/{ShareName}/{filter} [MQTT-4.8.2-1] [MQTT-4.8.2-2].
  for (const f of ["$share//a", "$share/g", "$share/g/", "$share/+/a", "$share/#/a"]) {
    await assert.rejects(c.subscribe([{ topicFilter: f, qos: 0 }]), TypeError, f);
    await assert.rejects(c.unsubscribe([f]), TypeError, f);
  }
  await assert.rejects(
    c.subscribe([{ topicFilter: "$share/g/a", qos: 0, noLocal: true }]), // [MQTT-3.8.3-4]
    /No Local is not allowed on a shared subscription/,
  );
  await assert.rejects(
    c.subscribe([{ topicFilter: "a", qos: 0, retainHandling: 3 as 2 }]),
    RangeError,
  );
  // The next packet the server sees is the first valid request.
  const sub = handled(c.subscribe([{ topicFilter: "$share/g/a/#", qos: 1 }]));
  const req = await s.conn.expect("subscribe");
  assert.equal(req.subscriptions[0]!.topicFilter, "$share/g/a/#");
  await s.conn.send({ type: "suback", packetId: req.packetId, reasonCodes: [1] });
  assert.deepEqual(await sub, [1]);
});
