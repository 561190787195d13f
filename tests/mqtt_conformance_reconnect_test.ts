// Conformance across reconnects and malformed input: the new server's limits apply to resent and
// queued messages, and a malformed packet is answered with DISCONNECT 0x81 on MQTT 5.
import assert from "node:assert/strict";
import { MqttClient, ProtocolViolationError } from "../core/mqtt/mod.ts";
import { fakeClient } from "./_fake_transport.ts";
import { StrictPeer } from "./mqtt_conformance_peer.ts";

const X = new TextEncoder().encode("x");
const CONNECT = "10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 63";

const fake = fakeClient;

/** PUBLISH "t" "x" with QoS 1 and DUP 1 (MQTT 5). */
const dup = (id: number) => `3a 07 00 01 74 00 ${id.toString(16).padStart(2, "0")} 00 78`;

Deno.test({
  name: "MqttClient resends no more in-flight messages than a lower Receive Maximum [MQTT-3.3.4-7]",
  fn: async () => {
    const { net, clock, client } = fake({ maxInflight: 10 });
    const done = client.connect();
    const t0 = await net.connection(0);
    t0.respond("20 03 00 00 00");
    await done;
    const pending = [1, 2, 3, 4, 5].map(() => client.publish("t", X, { qos: 1 }));
    await t0.expect(
      CONNECT + " " + [1, 2, 3, 4, 5].map((i) => dup(i).replace("3a", "32")).join(" "),
    );
    t0.end(); // nothing acknowledged
    await clock.advance(1000);
    const t1 = await net.connection(1);
    await t1.expect(CONNECT);
    t1.respond("20 06 00 00 03 21 00 02"); // Receive Maximum 2
    await t1.expect(dup(1) + " " + dup(2));
    await t1.expectNothing();
    t1.respond("40 02 00 01");
    await t1.expect(dup(3));
    await t1.expectNothing();
    t1.respond("40 02 00 02 40 02 00 03");
    await t1.expect(dup(4) + " " + dup(5));
    t1.respond("40 02 00 04 40 02 00 05");
    assert.deepEqual((await Promise.all(pending)).map((r) => r.packetId), [1, 2, 3, 4, 5]);
    await client.disconnect();
    assert.equal(clock.pending, 0);
  },
});

Deno.test({
  name: "MqttClient sends no queued message above the server's Maximum QoS or Retain Available",
  fn: async () => {
    const { net, clock, client } = fake();
    const q1 = client.publish("t", X, { qos: 1 }).catch((e) => e); // queued before connecting
    const kept = client.publish("t", X, { retain: true }).catch((e) => e);
    const plain = client.publish("t", X);
    const done = client.connect();
    const t = await net.connection(0);
    await t.expect(CONNECT);
    t.respond("20 07 00 00 04 24 00 25 00"); // Maximum QoS 0, Retain Available 0
    await done;
    await t.expect("30 05 00 01 74 00 78"); // only the plain QoS 0 message [MQTT-3.2.2-11] [MQTT-3.2.2-14]
    await t.expectNothing();
    await plain;
    const refused = await q1;
    assert.ok(refused instanceof RangeError);
    assert.equal(
      refused.message,
      "Cannot publish with QoS 1: the server accepts QoS 0 at most; publish with qos 0",
    );
    assert.match(
      (await kept).message,
      /does not support retained messages; publish without retain$/,
    );
    await client.disconnect();
    assert.equal(clock.pending, 0);
  },
});

Deno.test({
  name: "MqttClient answers a malformed packet with DISCONNECT 0x81 on MQTT 5, then reconnects",
  fn: async () => {
    await using peer = new StrictPeer();
    await using client = new MqttClient({
      host: "127.0.0.1",
      port: peer.port,
      clientId: "c",
      reconnect: { initialDelay: 10, jitter: 0 },
    });
    const errors: Error[] = [];
    client.addEventListener("error", (e) => errors.push(e.detail));
    const done = client.connect();
    const conn = await peer.connection(0);
    await conn.accept();
    await done;
    await conn.send("36 05 00 01 74 00 78"); // PUBLISH with QoS 3
    assert.equal((await conn.expect("disconnect")).reasonCode, 0x81); // [MQTT-4.13.1-1]
    await conn.expectClose();
    assert.equal(errors[0]?.name, "MqttDecodeError");
    const again = await peer.connection(1);
    await again.accept();
  },
});

Deno.test({
  name: "MqttClient answers a malformed CONNACK with DISCONNECT 0x81 on MQTT 5, without fallback",
  fn: async () => {
    await using peer = new StrictPeer();
    await using client = new MqttClient({ host: "127.0.0.1", port: peer.port, clientId: "c" });
    const done = client.connect().catch((e) => e);
    const conn = await peer.connection(0);
    await conn.expect("connect");
    await conn.send("20 06 00 00 03 21 00 00"); // Receive Maximum 0
    assert.equal((await conn.expect("disconnect")).reasonCode, 0x81);
    await conn.expectClose();
    const e = await done;
    assert.ok(e instanceof ProtocolViolationError);
    assert.equal(e.reasonCode, 0x81);
    assert.equal(peer.connections, 1);
  },
});
