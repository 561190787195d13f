/**
 * Conformance against an independent strict MQTT peer: how `MqttClient`
 * opens a connection: CONNECT first and alone until CONNACK, its flags,
 * protocol name and level, the 3.1.1 empty client id, the connect timeout,
 * and refused CONNACKs with the fallback to 3.1.1.
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
import { ConnectionRefusedError, MqttClient, type MqttClientOptions } from "../core/mqtt/mod.ts";
import { CODECS, enc, HOST, run, sleep } from "./_strict_peer_run.ts";

// ---------------------------------------------------------------- CONNECT

for (const [engine, codec] of CODECS) {
  for (const version of [5, 4] as const) {
    Deno.test(`MqttClient sends CONNECT first and nothing else before CONNACK [MQTT-3.1.0-1] (v${version}, ${engine})`, async () => {
      await run({ codec, protocolVersion: version }, async (peer, c) => {
        const connecting = c.connect();
        // Requests made while the CONNACK is held back must wait for it.
        const pub = c.publish("early/qos1", enc("a"), { qos: 1 });
        c.publishNoWait("early/qos0", enc("b"));
        const sub = c.subscribe([{ topicFilter: "early/+", qos: 1 }]);
        const conn = await peer.nextConn();
        await conn.waitFor((p) => p.cmd === "connect");
        await sleep(250);
        assert.deepEqual(conn.packets.map((r) => r.p.cmd), ["connect"]);
        await conn.sendConnack(
          version === 5
            ? { cmd: "connack", reasonCode: 0, sessionPresent: false }
            : { cmd: "connack", returnCode: 0, sessionPresent: false },
        );
        await connecting;
        await Promise.all([pub, sub]);
        await conn.waitFor((p) => p.topic === "early/qos0");
        assert.equal(conn.packets[0]!.p.cmd, "connect");
        assert.ok(conn.packets.slice(1).every((r) => r.afterConnack));
        peer.assertClean();
      }, (conn) => conn.connack = () => undefined);
    });
  }
}

Deno.test("MqttClient CONNECT flags are well formed: reserved bit 0, no Will bits, user name/password flags match [MQTT-3.1.2-3] [MQTT-3.1.2-11] [MQTT-3.1.2-13] [MQTT-3.1.2-16..19] [MQTT-3.1.2-22 (3.1.1)]", async () => {
  const cases: [Partial<MqttClientOptions>, number][] = [
    [{ protocolVersion: 5 }, 0x02],
    [{ protocolVersion: 5, username: "tok" }, 0x82],
    [{ protocolVersion: 5, username: "u", password: "p" }, 0xc2],
    [{ protocolVersion: 5, password: new Uint8Array([0, 255]) }, 0x42], // MQTT 5 allows it
    [{ protocolVersion: 4 }, 0x02],
    [{ protocolVersion: 4, username: "tok" }, 0x82],
    [{ protocolVersion: 4, username: "u", password: "p" }, 0xc2],
  ];
  for (const [o, flags] of cases) {
    await run({ ...o, clientId: "dev-1", keepalive: 17 }, async (peer, c) => {
      await c.connect();
      const conn = await peer.nextConn();
      const rec = conn.packets[0]!;
      const nameLen = (rec.raw[2]! << 8) | rec.raw[3]!; // Remaining Length < 128 here
      assert.equal(rec.raw[2 + 2 + nameLen + 1], flags, `flags for ${JSON.stringify(o)}`);
      assert.equal(rec.p.clean, true);
      assert.equal(rec.p.keepalive, 17);
      assert.equal(rec.p.clientId, "dev-1");
      assert.equal(rec.p.will, undefined);
      peer.assertClean();
    });
  }
  assert.throws(
    () => new MqttClient({ host: HOST, protocolVersion: 4, password: "p" }),
    TypeError,
    "3.1.1 password without user name must be refused [MQTT-3.1.2-22]",
  );
});

Deno.test("MqttClient CONNECT carries protocol name MQTT and level 5 / 4 [MQTT-3.1.2-1] [MQTT-3.1.2-2]", async () => {
  for (const version of [5, 4] as const) {
    await run({ protocolVersion: version }, async (peer, c) => {
      await c.connect();
      const conn = await peer.nextConn();
      const raw = conn.packets[0]!.raw;
      assert.equal(raw[0], 0x10, "CONNECT fixed header");
      assert.deepEqual([...raw.subarray(2, 8)], [0, 4, 0x4d, 0x51, 0x54, 0x54]); // "MQTT"
      assert.equal(raw[8], version);
      assert.equal(conn.packets[0]!.p.protocolVersion, version);
      assert.equal(c.protocolVersion, version);
      peer.assertClean();
    });
  }
});

Deno.test("MqttClient with an empty client id on 3.1.1 sets CleanSession 1 [MQTT-3.1.3-7 (3.1.1)]", async () => {
  await run({ protocolVersion: 4 }, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    assert.equal(conn.connect?.clientId, "");
    assert.equal(conn.connect?.clean, true);
    peer.assertClean();
  });
});

Deno.test("MqttClient closes the connection when no CONNACK arrives within connectTimeout [MQTT-3.1.4 (client SHOULD close)]", async () => {
  await run({ connectTimeout: 300 }, async (peer, c) => {
    await assert.rejects(c.connect(), (e: Error) => e.name === "TimeoutError");
    const conn = await peer.nextConn();
    await conn.waitClosed(1000);
    assert.equal(conn.closedByPeer, false);
    assert.deepEqual(conn.packets.map((r) => r.p.cmd), ["connect"]);
    peer.assertClean();
  }, (conn) => conn.connack = () => undefined);
});

// ---------------------------------------------------------------- refusals and fallback

Deno.test("MqttClient surfaces a 3.1.1 CONNACK return code 1..5 as ConnectionRefusedError [MQTT-3.2.2-5 (3.1.1)]", async () => {
  for (const rc of [1, 2, 3, 4, 5]) {
    await run({ protocolVersion: 4, username: "u", password: "p" }, async (peer, c) => {
      const e = await c.connect().then(() => undefined, (e: Error) => e);
      assert.ok(e instanceof ConnectionRefusedError, `rc ${rc}: ${e}`);
      assert.equal(e.returnCode, rc);
      assert.equal(e.protocolVersion, 4);
      assert.equal(c.state, "disconnected");
      assert.ok(!e.message.includes('"p"'));
      const conn = await peer.nextConn();
      await conn.waitClosed();
      assert.deepEqual(conn.packets.map((r) => r.p.cmd), ["connect"]);
      peer.assertClean();
    }, (conn) => conn.connack = () => ({ cmd: "connack", returnCode: rc, sessionPresent: false }));
  }
});

Deno.test("MqttClient surfaces an MQTT 5 CONNACK reason code >= 0x80 as ConnectionRefusedError [MQTT-3.2.2-7]", async () => {
  for (const rc of [0x80, 0x84, 0x85, 0x86, 0x87, 0x88, 0x8a, 0x8c, 0x95, 0x97, 0x9c, 0x9f]) {
    await run({ fallback: false }, async (peer, c) => {
      const e = await c.connect().then(() => undefined, (e: Error) => e);
      assert.ok(e instanceof ConnectionRefusedError, `0x${rc.toString(16)}: ${e}`);
      assert.equal(e.reasonCode, rc);
      assert.equal(e.protocolVersion, 5);
      if (rc === 0x9c) assert.match(e.message, /other\.example/);
      await (await peer.nextConn()).waitClosed();
      assert.equal(peer.conns.length, 1, "no retry after a refusal");
      peer.assertClean();
    }, (conn) =>
      conn.connack = () => ({
        cmd: "connack",
        reasonCode: rc,
        sessionPresent: false,
        ...(rc === 0x9c ? { properties: { serverReference: "other.example" } } : {}),
      }));
  }
});

Deno.test("MqttClient falls back to 3.1.1 when the server refuses level 5 (0x84 or a 3.1.1 CONNACK rc 1) [MQTT-3.1.2-2]", async () => {
  for (const how of ["v5-0x84", "v4-rc1"] as const) {
    await run({ username: "tok" }, async (peer, c) => {
      await c.connect();
      assert.equal(c.protocolVersion, 4);
      const [first, second] = [await peer.nextConn(), await peer.nextConn()];
      assert.equal(first.connect?.protocolVersion, 5);
      assert.equal(second.connect?.protocolVersion, 4);
      assert.equal(second.connect?.username, "tok");
      await c.publish("fb", enc("x"), { qos: 1 });
      await c.subscribe([{ topicFilter: "fb/#", qos: 1 }]);
      assert.equal(second.packets.find((r) => r.p.cmd === "publish")!.raw.length, 9);
      peer.assertClean();
    }, (conn, i) => {
      if (i === 0) {
        conn.connack = () => {
          if (how === "v4-rc1") {
            conn.sendRaw([0x20, 0x02, 0x00, 0x01]).then(() => conn.close());
            return undefined;
          }
          return { cmd: "connack", reasonCode: 0x84, sessionPresent: false };
        };
      }
    });
  }
});
