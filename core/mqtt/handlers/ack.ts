/**
 * PUBACK (settles an outbound QoS 1 message), PUBREL (completes an inbound
 * QoS 2 message) and the acknowledgements this client never asks for.
 *
 * @module
 */

import type { AckPacket } from "../../codec/types.ts";
import { PublishError } from "../errors.ts";
import type { HandlerContext } from "./_context.ts";

/** MQTT 5 reason code 0x92 Packet Identifier not found. */
const PACKET_ID_NOT_FOUND = 0x92;

/**
 * Handles PUBACK, PUBREC, PUBREL and PUBCOMP.
 *
 * @param ctx The client.
 * @param packet The packet.
 */
export function handleAck(ctx: HandlerContext, packet: AckPacket): void {
  const id = packet.packetId;
  switch (packet.type) {
    case "puback": {
      const slot = ctx.inflight.remove(id);
      if (slot < 0) {
        ctx.logger.warn("Ignoring PUBACK for an unknown packet identifier", { packetId: id });
        return;
      }
      const sent = ctx.inflight.packetAt(slot);
      const resolve = ctx.inflight.resolveAt(slot);
      const reject = ctx.inflight.rejectAt(slot);
      ctx.inflight.release(slot);
      const code = packet.reasonCode ?? 0;
      if (code >= 0x80) {
        const error = new PublishError(sent?.topic ?? "", code, packet.properties?.reasonString);
        if (reject) reject(error);
        else ctx.reportError(error);
      } else if (resolve) {
        resolve({ packetId: id, reasonCode: code });
      }
      ctx.settled();
      return;
    }
    case "pubrel":
      // Answer every PUBREL [MQTT-4.3.3-11]; on MQTT 5 say when the identifier is unknown.
      if (ctx.inboundQos2.delete(id) || ctx.protocolVersion !== 5) {
        ctx.send({ type: "pubcomp", packetId: id });
      } else {
        ctx.send({ type: "pubcomp", packetId: id, reasonCode: PACKET_ID_NOT_FOUND });
      }
      return;
    case "pubrec":
      // This client never publishes with QoS 2: on MQTT 5, release the server's
      // state with "packet identifier not found".
      ctx.logger.warn("Ignoring PUBREC for an unknown packet identifier", { packetId: id });
      if (ctx.protocolVersion === 5) {
        ctx.send({ type: "pubrel", packetId: id, reasonCode: PACKET_ID_NOT_FOUND });
      }
      return;
    case "pubcomp":
      ctx.logger.warn("Ignoring PUBCOMP for an unknown packet identifier", { packetId: id });
      return;
  }
}
