/**
 * Checks of the independent strict MQTT peer itself, which the conformance
 * suite relies on: its Variable Byte Integer helper, and that it flags a
 * client that breaks the rules.
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
import { bytesOf, StrictPeer, vbi } from "./_strict_peer.ts";
import { HOST, until } from "./_strict_peer_run.ts";

// Keep `bytesOf` and `vbi` exercised (helpers for ad-hoc raw packets).
Deno.test("strict peer helpers encode Variable Byte Integers minimally", () => {
  assert.deepEqual(vbi(127), [0x7f]);
  assert.deepEqual(vbi(128), [0x80, 0x01]);
  assert.deepEqual(vbi(268_435_455), [0xff, 0xff, 0xff, 0x7f]);
  assert.deepEqual([...bytesOf({ cmd: "publish", payload: "ab" })], [0x61, 0x62]);
});

Deno.test("strict peer self-check: it flags a client that breaks the rules", async () => {
  // CONNECT 3.1.1, clean, client id "c".
  const CONNECT = [0x10, 0x0d, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0, 0, 1, 0x63];
  const cases: [string, number[]][] = [
    ["MQTT-3.1.0-1", [0x30, 0x04, 0x00, 0x01, 0x61, 0x62]],
    ["MQTT-3.1.2-3", [0x10, 0x0d, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x03, 0, 0, 0, 1, 0x63]],
    ["MQTT-3.1.2-13", [0x10, 0x0d, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x0a, 0, 0, 0, 1, 0x63]],
    [
      "MQTT-3.1.2-22",
      [0x10, 0x10, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x42, 0, 0, 0, 1, 0x63, 0, 1, 0x70],
    ],
    ["MQTT-3.8.1-1", [...CONNECT, 0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00]],
    ["MQTT-3.3.1-2", [...CONNECT, 0x38, 0x03, 0x00, 0x01, 0x61]],
    ["MQTT-2.2.1-3", [...CONNECT, 0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00]],
    ["MQTT-1.5.5-1", [...CONNECT, 0xc0, 0x80, 0x00]],
    ["MQTT-3.1.0-2", [...CONNECT, ...CONNECT]],
    ["MQTT-1.5.4-1", [...CONNECT, 0x30, 0x05, 0x00, 0x02, 0xc3, 0x28, 0x00]],
  ];
  for (const [id, bytes] of cases) {
    const peer = StrictPeer.start();
    const sock = await Deno.connect({ hostname: HOST, port: peer.port });
    try {
      const conn = await peer.nextConn();
      await sock.write(new Uint8Array(bytes)).catch(() => 0);
      await until(() => peer.violations.some((v) => v.includes(`[${id}`)), 1000, id).catch(
        () => {},
      );
      await conn.waitClosed(100).catch(() => {});
      const text = peer.violations.join("\n");
      assert.ok(text.includes(`[${id}`), `peer flags ${id}, got:\n${text}`);
      assert.throws(() => peer.assertClean());
    } finally {
      sock.close();
      await peer.close();
    }
  }
});
