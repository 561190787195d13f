/**
 * Gateway-client behaviour the emulator does not produce, against a
 * scripted server (exact packets through a fake transport): ThingsBoard's
 * `v1/gateway/disconnect` notices, invalid messages, and a single `value`
 * answering a request for several keys.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MqttDecoder, type Packet, tsCodec } from "../core/codec/mod.ts";
import { InvalidMessageError } from "../core/client/errors.ts";
import { type DeviceDisconnectNotice, TBGatewayMqttClient } from "../core/gateway/mod.ts";
import { FakeNetwork, type FakeTransport, settle } from "./_fake_transport.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A scripted ThingsBoard on one fake connection (MQTT 5). */
class Script {
  #decoder = new MqttDecoder({ protocolVersion: 5 });
  #seen: Packet[] = [];
  constructor(readonly t: FakeTransport) {}

  /** Waits for the next packet the client writes of `type`. */
  async next(type: Packet["type"]): Promise<Packet> {
    for (let i = 0; i < 2000; i++) {
      const index = this.#seen.findIndex((p) => p.type === type);
      if (index >= 0) return this.#seen.splice(index, 1)[0]!;
      const bytes = this.t.unchecked;
      if (bytes.length > 0) {
        await this.t.expect(bytes);
        this.#seen.push(...this.#decoder.push(bytes));
      } else await settle(5);
    }
    throw new Error(`the client wrote no ${type}`);
  }

  send(packet: Packet): void {
    this.t.respond(tsCodec.encode(packet, { protocolVersion: 5 }));
  }

  publish(topic: string, payload: string): void {
    this.send({
      type: "publish",
      topic,
      payload: encoder.encode(payload),
      qos: 0,
      retain: false,
      dup: false,
    });
  }

  /** Answers the CONNECT and both SUBSCRIBEs. */
  async handshake(): Promise<void> {
    await this.next("connect");
    this.send({ type: "connack", sessionPresent: false, reasonCode: 0 });
    for (let i = 0; i < 2; i++) {
      const sub = await this.next("subscribe");
      if (sub.type !== "subscribe") throw new Error("unreachable");
      this.send({
        type: "suback",
        packetId: sub.packetId,
        reasonCodes: sub.subscriptions.map(() => 1),
      });
    }
  }
}

async function open(): Promise<{ gateway: TBGatewayMqttClient; script: Script }> {
  const net = new FakeNetwork();
  const gateway = new TBGatewayMqttClient({
    host: "tb.invalid",
    accessToken: "GW",
    engine: "ts",
    sessionLimits: false,
    reconnect: false,
    transport: net.factory,
  });
  const connected = gateway.connect();
  const script = new Script(await net.connection(0));
  await script.handshake();
  await connected;
  return { gateway, script };
}

async function close(gateway: TBGatewayMqttClient, script: Script): Promise<void> {
  const done = gateway.disconnect({ timeout: 100 });
  await script.next("disconnect");
  script.t.end();
  await done;
}

Deno.test("TBGatewayMqttClient reports v1/gateway/disconnect notices and invalid messages", async () => {
  const { gateway, script } = await open();
  const notices: DeviceDisconnectNotice[] = [];
  const errors: Error[] = [];
  gateway.addEventListener("devicedisconnect", (e) => void notices.push(e.detail));
  gateway.addEventListener("error", (e) => void errors.push(e.detail));
  script.publish("v1/gateway/rpc", "{not json");
  script.publish("v1/gateway/attributes", '{"data":{}}');
  script.publish("v1/gateway/disconnect", '{"device":"A","reason":150}');
  for (let i = 0; i < 100 && notices.length === 0; i++) await settle(5);
  assert.deepEqual(notices, [{
    device: "A",
    reason: 150,
    description: "0x96 message rate too high",
  }]);
  assert.equal(errors.length, 2);
  assert.ok(errors.every((e) => e instanceof InvalidMessageError));
  assert.deepEqual(
    errors.map((e) => (e as InvalidMessageError).topic),
    ["v1/gateway/rpc", "v1/gateway/attributes"],
  );
  assert.equal(gateway.connected, true);
  await close(gateway, script);
});

Deno.test("TBGatewayMqttClient.requestAttributes() asks per key when one value answers several", async () => {
  const { gateway, script } = await open();
  const response = gateway.requestAttributes("A", { sharedKeys: ["a", "b"] });
  const answer = async (value: (keys: string[]) => string) => {
    const p = await script.next("publish");
    assert.ok(p.type === "publish");
    assert.equal(p.topic, "v1/gateway/attributes/request");
    script.send({ type: "puback", packetId: p.packetId!, reasonCode: 0 });
    const body = JSON.parse(decoder.decode(p.payload));
    const keys: string[] = body.keys ?? [body.key];
    assert.equal(body.client, false);
    assert.equal(body.device, "A");
    script.publish(
      "v1/gateway/attributes/response",
      `{"id":${body.id},"device":"A",${value(keys)}}`,
    );
    return keys;
  };
  // ThingsBoard found only "b" and sent it as "value", without its key.
  assert.deepEqual(await answer(() => '"value":2'), ["a", "b"]);
  const asked = [
    await answer((k) => (k[0] === "b" ? '"value":2' : '"x":0')),
    await answer((k) => (k[0] === "b" ? '"value":2' : '"x":0')),
  ];
  assert.deepEqual(asked.flat().sort(), ["a", "b"]);
  assert.deepEqual(await response, { client: {}, shared: { b: 2 } });
  await close(gateway, script);
});
