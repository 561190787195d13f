/**
 * Conformance against an independent strict MQTT peer: Packet Identifiers of
 * `MqttClient` (non-zero, unique in flight, reused only after their
 * acknowledgement, across the wrap) and the resend of unacknowledged QoS 1
 * PUBLISH after reconnect (DUP, order, offline queue).
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
import { textOf } from "./_strict_peer.ts";
import { CODECS, enc, FAST, run, sleep, until } from "./_strict_peer_run.ts";

// ---------------------------------------------------------------- packet ids

Deno.test("MqttClient Packet Identifiers of QoS 1 PUBLISH, SUBSCRIBE, UNSUBSCRIBE are non-zero and unique in flight [MQTT-2.2.1-3]; SUBSCRIBE/UNSUBSCRIBE flags are 0b0010 [MQTT-3.8.1-1] [MQTT-3.10.1-1]", async () => {
  await run({}, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    conn.autoPuback = false;
    conn.autoSuback = false;
    conn.autoUnsuback = false;
    const pubs = [1, 2, 3, 4, 5].map((i) => c.publish(`ids/${i}`, enc(`${i}`), { qos: 1 }));
    const subs = [
      c.subscribe([{ topicFilter: "s/1", qos: 1 }]),
      c.subscribe([{ topicFilter: "s/2", qos: 0 }]),
    ];
    const unsub = c.unsubscribe(["s/3"]);
    const got = await conn.waitCount(
      (p) => ["publish", "subscribe", "unsubscribe"].includes(p.cmd),
      8,
    );
    const ids = got.map((r) => r.p.messageId!);
    assert.ok(ids.every((id) => id > 0 && id <= 65535), `ids ${ids}`);
    assert.equal(new Set(ids).size, ids.length, `ids unique: ${ids}`);
    for (const r of conn.packets) {
      if (r.p.cmd === "subscribe") assert.equal(r.raw[0], 0x82);
      if (r.p.cmd === "unsubscribe") assert.equal(r.raw[0], 0xa2);
      if (r.p.cmd === "publish") assert.equal(r.raw[0]! & 0x0f, 0x02, "QoS 1, DUP 0, RETAIN 0");
    }
    for (const r of got) {
      if (r.p.cmd === "publish") conn.puback(r.p.messageId!);
      if (r.p.cmd === "subscribe") conn.suback(r.p.messageId!, [r.p.subscriptions![0]!.qos]);
      if (r.p.cmd === "unsubscribe") conn.unsuback(r.p.messageId!, 1);
    }
    const results = await Promise.all(pubs);
    assert.deepEqual(
      results.map((r) => r.packetId),
      ids.filter((_, i) => got[i]!.p.cmd === "publish"),
    );
    assert.deepEqual(await Promise.all(subs), [[1], [0]]);
    await unsub;
    peer.assertClean();
  });
});

Deno.test("MqttClient reuses a Packet Identifier only after its PUBACK, across the 65535 wrap [MQTT-2.2.1-3]", async () => {
  const N = 65_535 + 200;
  await run({ maxInflight: 500, queue: { maxSize: N + 10 } }, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    let held = 0;
    // Hold the PUBACK of the 3rd message until every id wrapped around.
    conn.autoPuback = (p) => {
      if (p.messageId === 3 && held === 0) {
        held = 3;
        return false;
      }
      return true;
    };
    const payload = new Uint8Array(1);
    for (let i = 0; i < N; i++) c.publishNoWait("wrap", payload, { qos: 1 });
    await conn.waitCount((p) => p.cmd === "publish", N, 8000);
    const ids = conn.all("publish").map((p) => p.messageId!);
    assert.equal(ids.filter((id) => id === 3).length, 1, "id 3 is not reused while unacknowledged");
    assert.ok(!ids.includes(0));
    assert.ok(ids.filter((id) => id === 4).length === 2, "other ids are reused after their PUBACK");
    await conn.puback(3);
    await c.flush({ timeout: 2000 });
    peer.assertClean();
  });
});

// ---------------------------------------------------------------- resend, DUP, order

for (const [engine, codec] of CODECS) {
  Deno.test(`MqttClient resends unacknowledged QoS 1 PUBLISH after reconnect with DUP=1, same topic and payload, original order; QoS 0 never DUP; offline queue keeps order [MQTT-3.3.1-1] [MQTT-3.3.1-2] [MQTT-4.6.0-1] (${engine})`, async () => {
    await run({ codec, reconnect: { ...FAST, initialDelay: 150 } }, async (peer, c, seen) => {
      await c.connect();
      const conn0 = await peer.nextConn();
      conn0.autoPuback = (p) => textOf(p) === "m1";
      const p1 = c.publish("r/a", enc("m1"), { qos: 1 });
      const p3 = c.publish("r/b", enc("m3"), { qos: 1 });
      c.publishNoWait("r/q0", enc("m2"));
      const p4 = c.publish("r/c", enc("m4"), { qos: 1, retain: true });
      await conn0.waitCount((p) => p.cmd === "publish", 4);
      await p1;
      const firstIds = conn0.all("publish").filter((p) => p.qos === 1).map((p) => p.messageId);
      conn0.close();
      await until(() => seen.disconnects.length === 1, 3000, "disconnect event");
      // Offline: queued in order behind the resends.
      const p5 = c.publish("r/d", enc("m5"), { qos: 1 });
      c.publishNoWait("r/q0", enc("m6"));
      const p7 = c.publish("r/e", enc("m7"), { qos: 1 });
      const conn1 = await peer.nextConn();
      await conn1.waitCount((p) => p.cmd === "publish", 5);
      await Promise.all([p3, p4, p5, p7]);
      const pubs = conn1.all("publish");
      assert.deepEqual(pubs.map((p) => textOf(p)), ["m3", "m4", "m5", "m6", "m7"]);
      assert.deepEqual(pubs.map((p) => !!p.dup), [true, true, false, false, false]);
      assert.deepEqual(pubs.map((p) => p.topic), ["r/b", "r/c", "r/d", "r/q0", "r/e"]);
      assert.equal(pubs[1]!.retain, true, "the resend keeps RETAIN");
      assert.deepEqual(pubs.slice(0, 2).map((p) => p.messageId), firstIds.slice(1));
      for (const conn of [conn0, conn1]) {
        for (const r of conn.packets) {
          if (r.p.cmd === "publish" && r.p.qos === 0) assert.equal(r.raw[0]! & 0x08, 0);
        }
      }
      assert.equal(seen.connects, 2);
      peer.assertClean();
    });
  });
}

Deno.test("MqttClient keeps Packet Identifiers unique across DUP resends, queued messages and a SUBSCRIBE re-sent after reconnect [MQTT-2.2.1-3] [MQTT-4.6.0-1]", async () => {
  await run({ reconnect: { ...FAST, initialDelay: 100 } }, async (peer, c, seen) => {
    await c.connect();
    const conn0 = await peer.nextConn();
    const sub = c.subscribe([{ topicFilter: "a/#", qos: 1 }]);
    const pubs = [0, 1, 2, 3].map((i) => c.publish("p", enc(`${i}`), { qos: 1 }));
    await conn0.waitCount((p) => p.cmd === "publish", 4);
    conn0.close();
    await until(() => seen.disconnects.length === 1);
    const later = [4, 5].map((i) => c.publish("p", enc(`${i}`), { qos: 1 }));
    const conn1 = await peer.nextConn();
    await sleep(30);
    const more = [6, 7].map((i) => c.publish("p", enc(`${i}`), { qos: 1 }));
    assert.deepEqual(await sub, [1]);
    await Promise.all([...pubs, ...later, ...more]);
    const p1 = conn1.all("publish");
    assert.deepEqual(p1.map(textOf), ["0", "1", "2", "3", "4", "5", "6", "7"]);
    assert.deepEqual(p1.map((p) => !!p.dup), [true, true, true, true, false, false, false, false]);
    const s1 = conn1.all("subscribe")[0]!;
    assert.ok(!p1.some((p) => p.messageId === s1.messageId));
    assert.equal(conn1.maxUnacked, 1);
    peer.assertClean();
  }, (conn, i) => {
    if (i === 0) {
      conn.autoSuback = false;
      conn.autoPuback = false;
    } else {
      conn.connack = () => ({
        cmd: "connack",
        reasonCode: 0,
        sessionPresent: false,
        properties: { receiveMaximum: 1 },
      });
      conn.autoPuback = (p) => {
        setTimeout(() => conn.puback(p.messageId!), 20);
        return false;
      };
    }
  });
});
