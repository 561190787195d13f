/**
 * Conformance against an independent strict MQTT peer: `MqttClient` within
 * the limits a server sets in CONNACK: Receive Maximum, Maximum Packet Size,
 * Maximum QoS, Retain Available, Topic Alias Maximum and Server Keep Alive.
 *
 * The suite is independent: the peer (`_strict_peer.ts`) plays the server
 * over real loopback TCP, parses with `mqtt-packet` and writes with
 * `mqtt-packet`'s `generate` (or raw bytes for deliberately malformed
 * packets); every test ends with the peer's automatic checks
 * (`assertClean`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type MqttClient, PayloadTooLargeError } from "../core/mqtt/mod.ts";
import { type ConnackReply, type PeerConn, type StrictPeer, textOf } from "./_strict_peer.ts";
import { enc, FAST, run, type Seen, settle, until } from "./_strict_peer_run.ts";

/** A CONNACK reply that accepts (MQTT 5) and sets the server limits `properties`. */
const acceptWith = (properties: Record<string, unknown>) => (): ConnackReply => ({
  cmd: "connack",
  reasonCode: 0,
  sessionPresent: false,
  properties,
});

/** Answers each QoS 1 PUBLISH with its PUBACK `ms` late. */
function pubackAfter(conn: PeerConn, ms: number): void {
  conn.autoPuback = (p) => {
    setTimeout(() => conn.puback(p.messageId!), ms);
    return false;
  };
}

/**
 * Connects, leaves one QoS 1 PUBLISH on the first connection unacknowledged,
 * closes that connection and waits until the client has seen it go; returns
 * the settled publish (its rejection reason, if any).
 */
async function holdAndDrop(
  peer: StrictPeer,
  c: MqttClient,
  seen: Seen,
  topic: string,
  payload: Uint8Array,
): Promise<{ held: Promise<unknown> }> {
  await c.connect();
  const conn0 = await peer.nextConn();
  conn0.autoPuback = false;
  const held = settle(c.publish(topic, payload, { qos: 1 }));
  await conn0.waitFor((p) => p.cmd === "publish");
  conn0.close();
  await until(() => seen.disconnects.length === 1);
  return { held };
}

// ---------------------------------------------------------------- server limits

Deno.test("MqttClient never has more unacknowledged QoS 1 PUBLISH than the CONNACK Receive Maximum [MQTT-3.3.4-7]", async () => {
  await run({ maxInflight: 20 }, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    pubackAfter(conn, 15);
    for (let i = 0; i < 12; i++) c.publishNoWait("rm", enc(`${i}`), { qos: 1 });
    await c.flush({ timeout: 3000 });
    const pubs = conn.all("publish");
    assert.deepEqual(pubs.map(textOf), [...Array(12).keys()].map(String));
    assert.equal(conn.maxUnacked, 2);
    peer.assertClean();
  }, (conn) => conn.connack = acceptWith({ receiveMaximum: 2 }));
});

Deno.test("MqttClient resends within a Receive Maximum lowered by the new CONNACK after reconnect [MQTT-3.3.4-7]", async () => {
  await run({}, async (peer, c) => {
    await c.connect();
    const conn0 = await peer.nextConn();
    conn0.autoPuback = false;
    const all = [0, 1, 2, 3, 4, 5].map((i) => c.publish("rm2", enc(`${i}`), { qos: 1 }));
    await conn0.waitCount((p) => p.cmd === "publish", 6);
    conn0.close();
    const conn1 = await peer.nextConn();
    await Promise.all(all);
    const pubs = conn1.all("publish");
    assert.deepEqual(pubs.map(textOf), ["0", "1", "2", "3", "4", "5"]);
    assert.ok(pubs.every((p) => p.dup));
    assert.equal(conn1.maxUnacked, 2);
    peer.assertClean();
  }, (conn, i) => {
    if (i === 1) {
      conn.connack = acceptWith({ receiveMaximum: 2 });
      pubackAfter(conn, 10);
    }
  });
});

Deno.test("MqttClient respects the CONNACK Maximum Packet Size [MQTT-3.2.2-15] (server side of [MQTT-3.1.2-24])", async () => {
  await run({}, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    assert.equal(c.maxPacketSize, 128);
    // 1 + 1 + (2 + 3) + 2 + 1 + 118 = 128 bytes: fits exactly; one more byte does not.
    await c.publish("t/x", new Uint8Array(118), { qos: 1 });
    await assert.rejects(c.publish("t/x", new Uint8Array(119), { qos: 1 }), PayloadTooLargeError);
    assert.throws(() => c.publishNoWait("t/x", new Uint8Array(500)), PayloadTooLargeError);
    await assert.rejects(
      c.subscribe([{ topicFilter: "f/".repeat(70), qos: 1 }]),
      PayloadTooLargeError,
    );
    await assert.rejects(c.unsubscribe(["u/".repeat(70)]), PayloadTooLargeError);
    await c.publish("t/y", enc("small"), { qos: 0 });
    await conn.waitFor((p) => p.topic === "t/y");
    assert.equal(conn.all("publish").length, 2);
    assert.equal(conn.packets.find((r) => r.p.topic === "t/x")!.raw.length, 128);
    peer.assertClean();
  }, (conn) => conn.connack = acceptWith({ maximumPacketSize: 128 }));
});

Deno.test("MqttClient does not send a message queued offline that exceeds the new server's Maximum Packet Size [MQTT-3.2.2-15]", async () => {
  await run({ reconnect: { ...FAST, initialDelay: 150 } }, async (peer, c, seen) => {
    const { held: inflight } = await holdAndDrop(
      peer,
      c,
      seen,
      "big/inflight",
      new Uint8Array(300),
    );
    const queued = settle(c.publish("big/queued", new Uint8Array(300), { qos: 1 }));
    const small = c.publish("small", enc("s"), { qos: 1 });
    const conn1 = await peer.nextConn();
    assert.ok((await inflight) instanceof PayloadTooLargeError, "resend refused");
    assert.ok((await queued) instanceof PayloadTooLargeError, "queued message refused");
    await small;
    assert.deepEqual(conn1.all("publish").map((p) => p.topic), ["small"]);
    peer.assertClean();
  }, (conn, i) => {
    if (i === 1) conn.connack = acceptWith({ maximumPacketSize: 100 });
  });
});

Deno.test("MqttClient respects Maximum QoS 0 and Retain Available 0 from CONNACK [MQTT-3.2.2-11] [MQTT-3.2.2-14]", async () => {
  await run({ reconnect: { ...FAST, initialDelay: 100 } }, async (peer, c, seen) => {
    const { held } = await holdAndDrop(peer, c, seen, "q/held", enc("h"));
    const conn1 = await peer.nextConn();
    await until(() => c.state === "connected");
    assert.ok((await held) instanceof RangeError, "the resend may not exceed the new Maximum QoS");
    await assert.rejects(c.publish("q/1", enc("x"), { qos: 1 }), RangeError);
    await assert.rejects(c.publish("q/r", enc("x"), { retain: true }), RangeError);
    await c.publish("q/0", enc("y"), { qos: 0 });
    await conn1.waitFor((p) => p.topic === "q/0");
    assert.ok(conn1.all("publish").every((p) => p.qos === 0 && !p.retain));
    peer.assertClean();
  }, (conn, i) => {
    if (i === 1) conn.connack = acceptWith({ maximumQoS: 0, retainAvailable: false });
  });
});

Deno.test("MqttClient sends no Topic Alias when CONNACK has no Topic Alias Maximum [MQTT-3.2.2-18]", async () => {
  await run({}, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    for (let i = 0; i < 5; i++) await c.publish("same/topic/every/time", enc(`${i}`), { qos: 1 });
    assert.throws(
      () => c.publishNoWait("a", enc("x"), { properties: { topicAlias: 1 } }),
      TypeError,
    );
    assert.ok(conn.all("publish").every((p) => p.properties?.topicAlias === undefined));
    assert.ok(conn.all("publish").every((p) => p.topic === "same/topic/every/time"));
    peer.assertClean();
  });
});

Deno.test("MqttClient uses the CONNACK Server Keep Alive instead of its own [MQTT-3.2.2-21]", async () => {
  await run({ keepalive: 60 }, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    const t0 = performance.now();
    await conn.next("pingreq", 3000);
    // Its own 60 s would ping after 45 s; the server's 2 s after 1.5 s (slack for a busy machine).
    assert.ok(performance.now() - t0 <= 2250, "PINGREQ within the server's 2 s keepalive");
    peer.assertClean();
  }, (conn) => conn.connack = acceptWith({ serverKeepAlive: 2 }));
});
