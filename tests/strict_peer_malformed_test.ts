/**
 * Conformance against an independent strict MQTT peer: `MqttClient` facing
 * malformed or forbidden server packets and CONNACKs: it closes (with
 * DISCONNECT on MQTT 5), reports a typed error and reconnects.
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
import { ProtocolViolationError } from "../core/mqtt/mod.ts";
import { MqttDecodeError } from "../core/codec/mod.ts";
import { expectDisconnect, run, until, worksAgain } from "./_strict_peer_run.ts";

// ---------------------------------------------------------------- malformed server packets

interface BadCase {
  name: string;
  bytes: number[];
  version?: 4 | 5;
  codes: number[];
  error: (e: Error) => boolean;
}

const isDecode = (e: Error) => e instanceof MqttDecodeError;
const isViolation = (e: Error) => e instanceof ProtocolViolationError;
const typed = (e: Error) => isDecode(e) || isViolation(e);

const BAD: BadCase[] = [
  {
    name: "a Remaining Length of five bytes [MQTT-1.5.5-1] [MQTT-4.13.1-1]",
    bytes: [0x30, 0xff, 0xff, 0xff, 0xff, 0x01],
    codes: [0x81],
    error: typed,
  },
  {
    name: "reserved packet type 0 [MQTT-2.1.3] [MQTT-4.13.1-1]",
    bytes: [0x00, 0x00],
    codes: [0x81, 0x82],
    error: typed,
  },
  {
    name: "a PUBACK of Remaining Length 1 [MQTT-3.4.2] [MQTT-4.13.1-1]",
    bytes: [0x40, 0x01, 0x00],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a PINGRESP with a body [MQTT-3.13.1] [MQTT-4.13.1-1]",
    bytes: [0xd0, 0x01, 0x00],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a PUBLISH with QoS 3 [MQTT-3.3.1-4]",
    bytes: [0x36, 0x06, 0x00, 0x01, 0x74, 0x00, 0x01, 0x00],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a SUBACK with reserved header flags [MQTT-2.2.2-2]",
    bytes: [0x91, 0x04, 0x00, 0x01, 0x00, 0x00],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a PUBLISH topic of ill-formed UTF-8 [MQTT-1.5.4-1]",
    bytes: [0x30, 0x05, 0x00, 0x02, 0xc3, 0x28, 0x00],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a PUBLISH topic containing U+0000 [MQTT-1.5.4-2]",
    bytes: [0x30, 0x05, 0x00, 0x02, 0x61, 0x00, 0x00],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a QoS 1 PUBLISH with Packet Identifier 0 [MQTT-2.2.1-3]",
    bytes: [0x32, 0x06, 0x00, 0x01, 0x74, 0x00, 0x00, 0x00],
    codes: [0x81, 0x82],
    error: typed,
  },
  {
    name: "a PUBLISH topic with a wildcard [MQTT-3.3.2-2]",
    bytes: [0x30, 0x05, 0x00, 0x02, 0x61, 0x23, 0x00],
    codes: [0x81, 0x82, 0x90],
    error: typed,
  },
  {
    name: "a second CONNACK [MQTT-3.2.0-2]",
    bytes: [0x20, 0x03, 0x00, 0x00, 0x00],
    codes: [0x82],
    error: isViolation,
  },
  {
    name: "a PINGREQ, which a server never sends [MQTT-4.13.2]",
    bytes: [0xc0, 0x00],
    codes: [0x82],
    error: isViolation,
  },
  {
    name: "a Topic Alias the client did not allow [MQTT-3.1.2-26]",
    bytes: [0x30, 0x08, 0x00, 0x01, 0x74, 0x03, 0x23, 0x00, 0x01, 0x41],
    codes: [0x94],
    error: isViolation,
  },
  {
    name: "a DISCONNECT with a property length beyond the packet [MQTT-3.14.2]",
    bytes: [0xe0, 0x02, 0x00, 0x05],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a Remaining Length of five bytes on 3.1.1 (close without DISCONNECT)",
    version: 4,
    bytes: [0x30, 0xff, 0xff, 0xff, 0xff, 0x01],
    codes: [],
    error: typed,
  },
  {
    name: "a 3.1.1 PUBACK of Remaining Length 3 (close without DISCONNECT)",
    version: 4,
    bytes: [0x40, 0x03, 0x00, 0x01, 0x00],
    codes: [],
    error: typed,
  },
];

for (const bad of BAD) {
  Deno.test(`MqttClient closes the connection on ${bad.name}, reports a typed error and reconnects`, async () => {
    const version = bad.version ?? 5;
    await run({ protocolVersion: version }, async (peer, c, seen) => {
      await c.connect();
      const conn0 = await peer.nextConn();
      await conn0.sendRaw(bad.bytes);
      if (version === 5) await expectDisconnect(conn0, bad.codes);
      else {
        await conn0.waitClosed();
        assert.equal(conn0.all("disconnect").length, 0, "no DISCONNECT on 3.1.1");
      }
      assert.equal(conn0.closedByPeer, false, "the client closed the connection");
      await until(() => seen.errors.length > 0, 2000, "error event");
      assert.ok(seen.errors.some(bad.error), `typed error, got ${seen.errors.map((e) => e.name)}`);
      await worksAgain(peer, c);
      peer.assertClean();
    });
  });
}

Deno.test("MqttClient closes on a CONNACK with reserved flags set, with DISCONNECT 0x81, and keeps reconnecting [MQTT-3.2.2-1] [MQTT-4.13.1-1]", async () => {
  await run({}, async (peer, c, seen) => {
    await c.connect();
    const conn0 = await peer.nextConn();
    conn0.close();
    const conn1 = await peer.nextConn();
    await conn1.waitFor((p) => p.cmd === "connect");
    await conn1.sendRaw([0x20, 0x03, 0x02, 0x00, 0x00]);
    await expectDisconnect(conn1, [0x81]);
    await until(() => seen.errors.length > 0);
    assert.ok(seen.errors.some(typed), `typed error, got ${seen.errors.map((e) => e.name)}`);
    await worksAgain(peer, c);
    peer.assertClean();
  }, (conn, i) => {
    if (i === 1) conn.connack = () => undefined;
  });
});

Deno.test("MqttClient rejects connect() on a malformed first CONNACK with a typed error, never an uncaught exception [MQTT-4.13.1-1]", async () => {
  await run({ reconnect: false }, async (peer, c) => {
    const p = c.connect();
    const conn = await peer.nextConn();
    await conn.waitFor((x) => x.cmd === "connect");
    await conn.sendRaw([0x20, 0x03, 0x00, 0x00, 0x26, 0x00]); // property length beyond the packet
    await assert.rejects(p, (e: Error) => typed(e) || e.cause instanceof MqttDecodeError);
    await conn.waitClosed();
    assert.equal(c.state, "disconnected");
    peer.assertClean();
  }, (conn) => conn.connack = () => undefined);
});

Deno.test("MqttClient closes when a clean start is answered with Session Present 1 [MQTT-3.2.2-2] [MQTT-3.2.2-4 (3.1.1)]", async () => {
  for (const version of [5, 4] as const) {
    await run(
      { protocolVersion: version, reconnect: false, fallback: false },
      async (peer, c) => {
        await assert.rejects(c.connect(), ProtocolViolationError);
        const conn = await peer.nextConn();
        await conn.waitClosed();
        if (version === 5) assert.equal(conn.all("disconnect")[0]?.reasonCode, 0x82);
        peer.assertClean();
      },
      (conn) =>
        conn.connack = (p) =>
          p.protocolVersion === 5
            ? { cmd: "connack", reasonCode: 0, sessionPresent: true }
            : { cmd: "connack", returnCode: 0, sessionPresent: true },
    );
  }
});
