/**
 * Conformance against an independent strict MQTT peer: inbound flows of
 * `MqttClient`: PUBACK of server QoS 1 PUBLISH, reused server ids, the QoS 2
 * flow, and error reason codes in PUBACK and SUBACK.
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
import { PublishError, SubscribeError } from "../core/mqtt/mod.ts";
import { textOf } from "./_strict_peer.ts";
import { enc, run, sleep, until } from "./_strict_peer_run.ts";

// ---------------------------------------------------------------- inbound flows

Deno.test("MqttClient PUBACKs inbound QoS 1 PUBLISH with the same Packet Identifier, in order [MQTT-4.3.2-4] [MQTT-4.6.0-2]", async () => {
  for (const version of [5, 4] as const) {
    await run({ protocolVersion: version }, async (peer, c, seen) => {
      await c.connect();
      await c.subscribe([{ topicFilter: "in/#", qos: 1 }]);
      const conn = await peer.nextConn();
      const ids = [10, 7, 65535, 300];
      for (const id of ids) {
        conn.publish({ topic: "in/x", qos: 1, messageId: id, payload: `${id}` });
      }
      await conn.waitCount((p) => p.cmd === "puback", 4);
      assert.deepEqual(conn.all("puback").map((p) => p.messageId), ids);
      for (const r of conn.packets.filter((r) => r.p.cmd === "puback")) {
        assert.ok(r.raw.length === 4 || version === 5, "3.1.1 PUBACK is 4 bytes");
      }
      await until(() => seen.messages.length === 4);
      assert.deepEqual(
        seen.messages.map((m) => new TextDecoder().decode(m.payload)),
        ids.map(String),
      );
      peer.assertClean();
    });
  }
});

Deno.test("MqttClient accepts a Packet Identifier the server reuses after its PUBACK as a new message [MQTT-2.2.1-4]", async () => {
  await run({}, async (peer, c, seen) => {
    await c.connect();
    const conn = await peer.nextConn();
    await conn.publish({ topic: "reuse", qos: 1, messageId: 5, payload: "a" });
    await conn.next("puback");
    await conn.publish({ topic: "reuse", qos: 1, messageId: 5, payload: "b" });
    await conn.next("puback");
    await until(() => seen.messages.length === 2);
    assert.deepEqual(seen.messages.map((m) => new TextDecoder().decode(m.payload)), ["a", "b"]);
    peer.assertClean();
  });
});

Deno.test("MqttClient completes an inbound QoS 2 flow: PUBREC, PUBREL -> PUBCOMP, delivered once [MQTT-4.3.3-8] [MQTT-4.3.3-11]", async () => {
  for (const version of [5, 4] as const) {
    await run({ protocolVersion: version }, async (peer, c, seen) => {
      await c.connect();
      const conn = await peer.nextConn();
      conn.autoPubrel = false;
      await conn.publish({ topic: "q2", qos: 2, messageId: 9, payload: "once" });
      await conn.next("pubrec");
      // Redelivery before PUBREL: acknowledged again, not delivered again.
      await conn.publish({ topic: "q2", qos: 2, messageId: 9, payload: "once", dup: true });
      await conn.next("pubrec");
      await conn.pubrel(9);
      const comp = await conn.next("pubcomp");
      assert.equal(comp.p.messageId, 9);
      assert.equal(comp.p.reasonCode ?? 0, 0);
      await sleep(30);
      assert.equal(seen.messages.length, 1);
      assert.equal(seen.messages[0]!.qos, 2);
      // A PUBREL for an id the client does not know is still answered (0x92 on MQTT 5).
      conn.serverReleased.add(77);
      await conn.send({ cmd: "pubrel", messageId: 77 });
      const unknown = await conn.next("pubcomp");
      assert.equal(unknown.p.messageId, 77);
      if (version === 5) assert.equal(unknown.p.reasonCode, 0x92);
      peer.assertClean();
    });
  }
});

Deno.test("MqttClient reports a PUBACK error reason code as PublishError and a SUBACK failure as SubscribeError, and keeps the connection", async () => {
  await run({}, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    conn.autoPuback = (p) => {
      conn.puback(p.messageId!, textOf(p) === "bad" ? 0x99 : 0);
      return false;
    };
    conn.autoSuback = false;
    const bad = c.publish("pe", enc("bad"), { qos: 1 });
    await assert.rejects(bad, (e) => e instanceof PublishError && e.reasonCode === 0x99);
    const sub = c.subscribe([{ topicFilter: "ok", qos: 1 }, { topicFilter: "no", qos: 1 }]);
    const s = await conn.next("subscribe");
    await conn.suback(s.p.messageId!, [1, 0x87]);
    await assert.rejects(sub, (e) => e instanceof SubscribeError && e.reasonCode === 0x87);
    await c.publish("pe", enc("good"), { qos: 1 });
    assert.equal(conn.closed, false);
    peer.assertClean();
  });
});
