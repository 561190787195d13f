/**
 * The gateway client's 3.1.1 echo filter, through a scripted broker and a
 * fake clock: its own attributes and RPC replies coming back are dropped,
 * and a server that never echoes gets the filter switched off (a message's
 * window starts at its PUBACK).
 */

import assert from "node:assert/strict";
import { InvalidMessageError } from "../core/client/errors.ts";
import { TBGatewayMqttClient } from "../core/gateway/mod.ts";
import { FakeClock, FakeNetwork, settle } from "./_fake_transport.ts";
import { ScriptedBroker } from "./_scripted_broker.ts";

async function gateway() {
  const net = new FakeNetwork();
  const clock = new FakeClock();
  const client = new TBGatewayMqttClient({
    host: "broker",
    accessToken: "GW",
    engine: "ts",
    protocolVersion: 4,
    sessionLimits: false,
    keepalive: 0,
    transport: net.factory,
    clock,
  });
  const errors: Error[] = [];
  client.addEventListener("error", (e) => errors.push(e.detail));
  const connecting = client.connect();
  const broker = new ScriptedBroker(await net.connection(0));
  for (let i = 0; i < 3; i++) await broker.pump(); // CONNACK, SUBACKs
  await connecting;
  return { clock, client, broker, errors };
}

Deno.test("TBGatewayMqttClient on MQTT 3.1.1 drops the echo of its own attributes", async () => {
  const { client, broker, errors } = await gateway();
  const sent = client.sendAttributes("A", { x: 1 });
  await broker.pump();
  await sent;
  const own = broker.published.find((p) => p.topic === "v1/gateway/attributes")!;
  broker.deliver(own.topic, own.payload); // a plain broker sends it back
  await settle();
  assert.deepEqual(errors, []); // not taken for an (invalid) attribute update
  const closing = client.disconnect({ timeout: 0 });
  await broker.pump();
  await closing;
});

Deno.test(
  "TBGatewayMqttClient on MQTT 3.1.1 stops filtering 10 s after a PUBACK without an echo",
  async () => {
    const { clock, client, broker, errors } = await gateway();
    const sent = client.sendAttributes("A", { x: 1 });
    await clock.advance(60_000); // no PUBACK yet: the window has not started
    await broker.pump();
    await sent;
    await clock.advance(10_001); // acknowledged, never echoed: the server does not echo
    const own = broker.published.find((p) => p.topic === "v1/gateway/attributes")!;
    broker.deliver(own.topic, own.payload); // so the same bytes now are the server's own
    await settle();
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof InvalidMessageError, String(errors[0]));
    const closing = client.disconnect({ timeout: 0 });
    await broker.pump();
    await closing;
  },
);
