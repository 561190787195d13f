/**
 * Conformance against an independent strict MQTT peer: keepalive and
 * DISCONNECT of `MqttClient`: PINGREQ when idle, close without PINGRESP, a
 * bounded PINGREQ rate while a PUBACK is slow, a server DISCONNECT, and
 * DISCONNECT as the client's last packet.
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
import { ConnectionClosedError } from "../core/mqtt/mod.ts";
import { enc, run, sleep, until, worksAgain } from "./_strict_peer_run.ts";

// ---------------------------------------------------------------- keepalive

for (const version of [5, 4] as const) {
  Deno.test(`MqttClient sends PINGREQ when idle so no gap exceeds the keepalive [MQTT-3.1.2-20 / 3.1.1 MQTT-3.1.2-23] (v${version})`, async () => {
    // Keepalive 2 s: PINGREQ after 1.5 s idle leaves a busy machine 0.5 s of slack.
    await run({ protocolVersion: version, keepalive: 2 }, async (peer, c) => {
      await c.connect();
      const conn = await peer.nextConn();
      await conn.waitCount((p) => p.cmd === "pingreq", 2, 4500);
      const t = conn.packets.map((r) => r.t);
      for (let i = 1; i < t.length; i++) {
        assert.ok(t[i]! - t[i - 1]! <= 2000, `gap ${t[i]! - t[i - 1]!}`);
      }
      peer.assertClean(); // the peer also checks every gap
    });
  });
}

Deno.test("MqttClient closes and reconnects when no PINGRESP arrives within 1.5 x keepalive [MQTT-3.1.2-20]", async () => {
  await run({ keepalive: 1 }, async (peer, c, seen) => {
    await c.connect();
    const conn0 = await peer.nextConn();
    const connackAt = performance.now();
    conn0.autoPingresp = false;
    await conn0.next("pingreq", 1500);
    await conn0.waitClosed(3000);
    const after = conn0.endedAt! - connackAt;
    assert.equal(conn0.closedByPeer, false, "the client closed it");
    assert.ok(
      after >= 1400 && after <= 2600, // 1.5 x keepalive, plus slack for a busy machine
      `closed ${Math.round(after)} ms after the last packet`,
    );
    assert.ok(seen.disconnects[0]?.reason instanceof ConnectionClosedError);
    await worksAgain(peer, c);
    peer.assertClean();
  });
});

// The "ack nudge" PINGREQ (core/mqtt/_ack_nudge.ts) used to be re-armed by the PINGRESP it
// provoked, so while a QoS 1 PUBLISH waited for a slow PUBACK the client pinged back to back
// (about 330 in 500 ms). No MQTT statement limits the PINGREQ rate, but a broker's flood
// protection and a device's battery do.
Deno.test({
  name: "MqttClient keeps the PINGREQ rate bounded while a PUBACK is slow",
  fn: async () => {
    await run({}, async (peer, c) => {
      await c.connect();
      const conn = await peer.nextConn();
      conn.autoPuback = (p) => {
        setTimeout(() => conn.puback(p.messageId!), 500);
        return false;
      };
      const pub = c.publish("slow", enc("1"), { qos: 1 });
      setTimeout(() => conn.publish({ topic: "news", payload: "n" }), 20);
      await pub;
      assert.ok(conn.all("pingreq").length <= 5, `${conn.all("pingreq").length} PINGREQs`);
      peer.assertClean();
    });
  },
});

// ---------------------------------------------------------------- DISCONNECT

Deno.test("MqttClient reports a server DISCONNECT reason code and reconnects; it sends nothing after it [MQTT-3.14.4-1 (server)]", async () => {
  await run({}, async (peer, c, seen) => {
    await c.connect();
    const conn0 = await peer.nextConn();
    await conn0.send({
      cmd: "disconnect",
      reasonCode: 0x8b,
      properties: { reasonString: "maintenance" },
    });
    await conn0.waitClosed();
    assert.equal(conn0.closedByPeer, false, "the client closes after a server DISCONNECT");
    assert.deepEqual(conn0.packets.map((r) => r.p.cmd), ["connect"]);
    await until(() => seen.disconnects.length === 1);
    const d = seen.disconnects[0]!;
    assert.equal(d.reasonCode, 0x8b);
    assert.ok(d.reason instanceof ConnectionClosedError);
    assert.equal((d.reason as ConnectionClosedError).reasonCode, 0x8b);
    assert.match(d.reason.message, /maintenance/);
    await worksAgain(peer, c);
    peer.assertClean();
  });
});

for (const version of [5, 4] as const) {
  Deno.test(`MqttClient DISCONNECT is the last packet it sends, then it closes [MQTT-3.14.4-1] [MQTT-3.14.4-2] (v${version})`, async () => {
    await run({ protocolVersion: version, keepalive: 1 }, async (peer, c, seen) => {
      await c.connect();
      const conn = await peer.nextConn();
      conn.autoPuback = (p) => {
        // Late PUBACKs, each followed by a server QoS 1 PUBLISH in the same write window.
        setTimeout(() => {
          conn.puback(p.messageId!);
          conn.publish({ topic: "late", qos: 1, messageId: p.messageId!, payload: "z" });
        }, 200);
        return false;
      };
      for (let i = 0; i < 3; i++) c.publishNoWait("bye", enc(`${i}`), { qos: 1 });
      await c.disconnect({ timeout: 2000 });
      await conn.waitClosed();
      const last = conn.packets.at(-1)!;
      assert.equal(last.p.cmd, "disconnect");
      assert.equal(last.raw[0], 0xe0);
      if (version === 4) assert.deepEqual([...last.raw], [0xe0, 0x00]);
      else assert.equal(last.p.reasonCode ?? 0, 0);
      assert.equal(conn.closedByPeer, false, "the client closed the connection");
      assert.equal(c.state, "disconnected");
      assert.equal(seen.disconnects.at(-1)?.reason, undefined);
      await sleep(50);
      assert.equal(peer.conns.length, 1, "no reconnect after disconnect()");
      peer.assertClean();
    });
  });
}
