/**
 * DISCONNECT from the server (MQTT 5): the reason code (and a Server
 * Reference, for 0x9C/0x9D) reaches the caller as a
 * {@linkcode ConnectionClosedError}. The client sends nothing more on that
 * connection and closes it. On MQTT 3.1.1 only a client may send DISCONNECT:
 * from a server it is a protocol violation.
 *
 * @module
 */

import type { DisconnectPacket } from "../../codec/types.ts";
import { ConnectionClosedError, ProtocolViolationError } from "../errors.ts";
import { describeReasonCode } from "../reason_codes.ts";
import type { HandlerContext } from "./_context.ts";

/**
 * Handles a DISCONNECT from the server.
 *
 * @param ctx The client.
 * @param packet The packet.
 */
export function handleDisconnect(ctx: HandlerContext, packet: DisconnectPacket): void {
  if (ctx.protocolVersion === 4) {
    return ctx.violation(
      new ProtocolViolationError(
        "Unexpected DISCONNECT from the server: an MQTT 3.1.1 server closes the connection instead",
      ),
    );
  }
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
