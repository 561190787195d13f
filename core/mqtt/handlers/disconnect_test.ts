import assert from "node:assert/strict";
import { ConnectionClosedError, MqttClient, ProtocolViolationError } from "../mod.ts";
import { FakeClock, FakeNetwork } from "../../../tests/_fake_transport.ts";

/** CONNECT and CONNACK of each level (client id "c", keepalive 0). */
const HANDSHAKE = {
  4: ["10 0d 00 04 4d 51 54 54 04 02 00 00 00 01 63", "20 02 00 00"],
  5: ["10 0e 00 04 4d 51 54 54 05 02 00 00 00 00 01 63", "20 03 00 00 00"],
} as const;

/** A connected client on a fake connection, with its `error` and `disconnect` events. */
async function connected(protocolVersion: 4 | 5) {
  const net = new FakeNetwork();
  const clock = new FakeClock();
  const c = new MqttClient({
    host: "broker",
    clientId: "c",
    protocolVersion,
    fallback: false,
    keepalive: 0,
    transport: net.factory,
    clock,
    reconnect: { initialDelay: 100, maxDelay: 100, jitter: 0 },
  });
  const errors: Error[] = [];
  const closes: (Error | undefined)[] = [];
  c.addEventListener("error", (e) => errors.push(e.detail));
  c.addEventListener("disconnect", (e) => closes.push(e.detail.reason));
  const connecting = c.connect();
  const t = await net.connection(0);
  await t.expect(HANDSHAKE[protocolVersion][0]);
  t.respond(HANDSHAKE[protocolVersion][1]);
  await connecting;
  return { net, clock, c, t, errors, closes };
}

Deno.test("handleDisconnect() reports a server DISCONNECT on MQTT 5 with its reason code", async () => {
  const { net, clock, c, t, errors, closes } = await connected(5);
  t.respond("e0 02 8b 00"); // DISCONNECT 0x8B Server shutting down
  await clock.advance(0);
  await t.expectNothing(); // nothing after the server's DISCONNECT
  assert.ok(t.closed);
  assert.deepEqual(errors, []);
  assert.ok(closes[0] instanceof ConnectionClosedError);
  assert.equal((closes[0] as ConnectionClosedError).reasonCode, 0x8b);
  await clock.advance(100);
  await net.connection(1); // and it reconnects
  await c.disconnect({ timeout: 0 });
});

Deno.test("handleDisconnect() treats a DISCONNECT from an MQTT 3.1.1 server as a protocol violation", async () => {
  const { net, clock, c, t, errors, closes } = await connected(4);
  t.respond("e0 00"); // only clients send DISCONNECT in 3.1.1
  await clock.advance(0);
  await t.expectNothing(); // 3.1.1 has no DISCONNECT with a reason: the client just closes
  assert.ok(t.closed);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof ProtocolViolationError);
  assert.equal(
    errors[0].message,
    "Unexpected DISCONNECT from the server: an MQTT 3.1.1 server closes the connection instead",
  );
  assert.equal(closes[0], errors[0]);
  await clock.advance(100);
  await net.connection(1); // and it reconnects
  await c.disconnect({ timeout: 0 });
});
