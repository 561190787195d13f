/**
 * DISCONNECT from the server (MQTT 5): the reason code (and a Server
 * Reference, for 0x9C/0x9D) reaches the caller as a
 * {@linkcode ConnectionClosedError}. The client sends nothing more on that
 * connection and closes it.
 *
 * @module
 */

import type { DisconnectPacket } from "../../codec/types.ts";
import { ConnectionClosedError } from "../errors.ts";
import { describeReasonCode } from "../reason_codes.ts";
import type { HandlerContext } from "./_context.ts";

/**
 * Handles a DISCONNECT from the server.
 *
 * @param ctx The client.
 * @param packet The packet.
 */
export function handleDisconnect(ctx: HandlerContext, packet: DisconnectPacket): void {
  const code = packet.reasonCode ?? 0;
  const why = packet.properties?.reasonString;
  const reference = packet.properties?.serverReference;
  const error = new ConnectionClosedError(
    `Connection closed by the server (${describeReasonCode(code, 5)})` + (why ? `: ${why}` : "") +
      (reference ? ` (server reference: ${reference})` : ""),
    code,
    reference === undefined ? undefined : { serverReference: reference },
  );
  ctx.fail(error, code);
}
