/**
 * Conformance against an independent strict MQTT peer: `TBDeviceMqttClient`
 * over the strict peer: CONNECT, subscriptions, telemetry, RPC reply, DUP
 * resend and DISCONNECT, and a refused access token.
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
import { ConnectionRefusedError } from "../core/mqtt/mod.ts";
import { TBDeviceMqttClient } from "../mod.ts";
import { StrictPeer, textOf } from "./_strict_peer.ts";
import { FAST, HOST } from "./_strict_peer_run.ts";

// ---------------------------------------------------------------- ThingsBoard client

for (const engine of ["ts", "wasm"] as const) {
  for (const version of [5, 4] as const) {
    Deno.test(`TBDeviceMqttClient passes the strict peer: CONNECT, subscriptions, telemetry, RPC reply, DUP resend, DISCONNECT (${engine}, v${version})`, async () => {
      const peer = StrictPeer.start();
      const tb = new TBDeviceMqttClient({
        host: HOST,
        port: peer.port,
        accessToken: "A1_TEST_TOKEN",
        engine,
        protocolVersion: version,
        keepalive: 2,
        reconnect: { ...FAST, initialDelay: 100 },
        sessionLimits: false,
      });
      const errors: Error[] = [];
      tb.addEventListener("error", (e) => errors.push(e.detail));
      try {
        tb.setServerSideRpcRequestHandler(({ method }) => method === "ping" ? "pong" : undefined);
        await tb.connect();
        const conn0 = await peer.nextConn();
        assert.equal(conn0.connect?.username, "A1_TEST_TOKEN");
        assert.equal(conn0.connect?.protocolVersion, version);
        await conn0.waitFor((p) => p.cmd === "subscribe");
        await tb.sendTelemetry({ temperature: 21.5 });
        const tel = await conn0.waitFor((p) => p.topic === "v1/devices/me/telemetry");
        assert.deepEqual(JSON.parse(textOf(tel.p)), { temperature: 21.5 });
        assert.equal(tel.p.qos, 1);
        await tb.sendAttributes({ fw: "1.0" });
        await conn0.publish({
          topic: "v1/devices/me/rpc/request/42",
          qos: 1,
          messageId: 1,
          payload: JSON.stringify({ method: "ping", params: {} }),
        });
        const reply = await conn0.waitFor((p) => p.topic === "v1/devices/me/rpc/response/42");
        assert.equal(JSON.parse(textOf(reply.p)), "pong");
        await conn0.next((p) => p.cmd === "puback" && p.messageId === 1);
        // DUP resend through the ThingsBoard layer.
        conn0.autoPuback = false;
        const pending = tb.sendTelemetry({ n: 1 });
        await conn0.waitFor((p) =>
          p.topic === "v1/devices/me/telemetry" && textOf(p) === '{"n":1}'
        );
        conn0.close();
        const conn1 = await peer.nextConn();
        await pending;
        const resent = await conn1.waitFor((p) => p.cmd === "publish");
        assert.equal(resent.p.dup, true);
        assert.equal(textOf(resent.p), '{"n":1}');
        await conn1.waitFor((p) => p.cmd === "subscribe"); // resubscribed
        await tb.disconnect();
        await conn1.waitClosed();
        assert.equal(conn1.packets.at(-1)!.p.cmd, "disconnect");
        assert.deepEqual(errors, []);
        peer.assertClean();
      } finally {
        await tb.disconnect();
        await peer.close();
      }
    });
  }
}

Deno.test("TBDeviceMqttClient surfaces a refused access token as ConnectionRefusedError (v5 0x86 / 3.1.1 rc 4)", async () => {
  for (const version of [5, 4] as const) {
    const peer = StrictPeer.start({
      onConnection: (conn) =>
        conn.connack = (p) =>
          p.protocolVersion === 5
            ? { cmd: "connack", reasonCode: 0x86, sessionPresent: false }
            : { cmd: "connack", returnCode: 4, sessionPresent: false },
    });
    const tb = new TBDeviceMqttClient({
      host: HOST,
      port: peer.port,
      accessToken: "BAD",
      protocolVersion: version,
      fallback: false,
      sessionLimits: false,
    });
    try {
      const e = await tb.connect().then(() => undefined, (e: Error) => e);
      assert.ok(e instanceof ConnectionRefusedError, String(e));
      assert.equal(e.returnCode, 4);
      assert.ok(!e.message.includes("BAD"), "the token is not in the message");
      peer.assertClean();
    } finally {
      await tb.disconnect();
      await peer.close();
    }
  }
});
