/**
 * SUBACK and UNSUBACK: settle the matching request; refused filters are
 * forgotten so they are not resubscribed.
 *
 * @module
 */

import type { SubackPacket, UnsubackPacket } from "../../codec/types.ts";
import { ProtocolViolationError, SubscribeError } from "../errors.ts";
import type { HandlerContext } from "./_context.ts";

/**
 * Handles a SUBACK or an UNSUBACK.
 *
 * @param ctx The client.
 * @param packet The packet.
 */
export function handleSubscriptionAck(
  ctx: HandlerContext,
  packet: SubackPacket | UnsubackPacket,
): void {
  const request = ctx.subscriptions.take(packet.packetId);
  if (!request) {
    ctx.logger.warn(`Ignoring ${packet.type.toUpperCase()} for an unknown packet identifier`, {
      packetId: packet.packetId,
    });
    return;
  }
  if (request.abandoned) return; // its caller gave up; the identifier is free again
  if (packet.type === "unsuback") {
    const count = packet.reasonCodes?.length ?? request.topicFilters.length;
    if (ctx.protocolVersion === 5 && count !== request.topicFilters.length) {
      const error = new ProtocolViolationError(
        `Cannot handle UNSUBACK: ${count} codes for ${request.topicFilters.length} topic filters`,
      );
      request.reject(error);
      return ctx.violation(error);
    }
    const failed = (packet.reasonCodes ?? []).find((c) => c >= 0x80);
    if (failed !== undefined) {
      ctx.logger.warn("The server refused an UNSUBSCRIBE", {
        reasonCode: failed,
        topicFilters: request.topicFilters,
      });
    }
    request.resolve(packet.reasonCodes ?? []);
    return;
  }
  const filters = request.subscriptions.map((s) => s.topicFilter);
  const codes = packet.reasonCodes;
  if (codes.length !== filters.length) {
    const error = new ProtocolViolationError(
      `Cannot handle SUBACK: ${codes.length} codes for ${filters.length} topic filters`,
    );
    if (!request.internal) request.reject(error);
    ctx.violation(error);
    return;
  }
  const failed = filters.filter((_, i) => codes[i]! >= 0x80);
  if (failed.length === 0) {
    request.resolve(codes);
    return;
  }
  ctx.subscriptions.forget(failed);
  const error = new SubscribeError(filters, codes, ctx.protocolVersion);
  if (request.internal) ctx.reportError(error);
  else request.reject(error);
}
