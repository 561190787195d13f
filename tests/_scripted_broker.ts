/**
 * A broker scripted over a fake transport for echo tests: answers CONNECT,
 * SUBSCRIBE and QoS 1 PUBLISH like a plain MQTT broker, records what the
 * client published, and delivers messages to it.
 *
 * @module
 */

import { type Packet, type PublishPacket, tsCodec } from "../core/codec/mod.ts";
import { type FakeNetwork, type FakeTransport, settle } from "./_fake_transport.ts";

/** Answers what the client writes on `t` like a broker: CONNACK, SUBACK, PUBACK. */
export class ScriptedBroker {
  readonly published: PublishPacket[] = [];
  #decoder = tsCodec.createDecoder();
  #version: 4 | 5 = 4;

  constructor(readonly t: FakeTransport) {}

  /** Handles everything written so far. */
  async pump(): Promise<void> {
    await settle();
    const bytes = this.t.unchecked;
    if (bytes.length === 0) return;
    await this.t.expect(bytes);
    for (const p of this.#decoder.push(bytes)) {
      if (p.type === "connect") {
        this.#version = p.protocolVersion === 5 ? 5 : 4;
        this.send({ type: "connack", sessionPresent: false, reasonCode: 0 });
      } else if (p.type === "subscribe") {
        const reasonCodes = p.subscriptions.map(() => 1);
        this.send({ type: "suback", packetId: p.packetId, reasonCodes });
      } else if (p.type === "publish") {
        this.published.push(p);
        if (p.qos === 1) this.send({ type: "puback", packetId: p.packetId! });
      }
    }
    await settle();
  }

  send(packet: Packet): void {
    this.t.respond(tsCodec.encode(packet, { protocolVersion: this.#version }));
  }

  /** Sends a PUBLISH to the client (QoS 0). */
  deliver(topic: string, payload: Uint8Array): void {
    this.send({ type: "publish", topic, payload, qos: 0, retain: false, dup: false });
  }
}

/**
 * Answers connection `index` of `net`: CONNACK, then the SUBACKs, then waits for `connecting`.
 *
 * @returns The broker of that connection.
 */
export async function connectScripted(
  connecting: Promise<unknown>,
  net: FakeNetwork,
  index: number,
) {
  const broker = new ScriptedBroker(await net.connection(index));
  await broker.pump(); // CONNACK
  await broker.pump(); // SUBACK
  await connecting;
  return broker;
}
