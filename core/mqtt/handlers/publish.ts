/**
 * Inbound PUBLISH: deliver, then acknowledge QoS 1 with PUBACK and QoS 2
 * with PUBREC (PUBREL is answered in `ack.ts`).
 *
 * @module
 */

import type { PublishPacket } from "../../codec/types.ts";
import { ProtocolViolationError } from "../errors.ts";
import type { HandlerContext } from "./_context.ts";

/**
 * Handles a PUBLISH from the server.
 *
 * @param ctx The client.
 * @param packet The packet.
 */
export function handlePublish(ctx: HandlerContext, packet: PublishPacket): void {
  const alias = packet.properties?.topicAlias;
  if (alias !== undefined) {
    // The CONNECT carries no Topic Alias Maximum: 0, the server may send no alias [MQTT-3.1.2-26].
    return ctx.violation(
      new ProtocolViolationError(
        `Cannot accept PUBLISH: the server used Topic Alias ${alias}, but this client accepts none`,
        0x94,
      ),
    );
  }
  const id = packet.packetId ?? 0;
  if (packet.qos === 0) {
    ctx.deliver(packet);
  } else if (packet.qos === 1) {
    // Acknowledge first: the PUBACK is batched with this tick's writes [MQTT-4.3.2-2].
    ctx.send({ type: "puback", packetId: id });
    ctx.deliver(packet);
  } else {
    // QoS 2 (never requested by this client, but handled): deliver once per id [MQTT-4.3.3].
    if (!ctx.inboundQos2.has(id)) {
      ctx.inboundQos2.add(id);
      ctx.deliver(packet);
    }
    ctx.send({ type: "pubrec", packetId: id });
  }
}
