/**
 * The incoming side of the current connection: its hooks (signs of life for
 * the keepalive, completed writes refilling the outbox, the end of the
 * stream, malformed input), the keepalive they drive, and the dispatch of
 * each packet to its handler. Private to the client.
 *
 * @module
 */

import { MqttDecodeError } from "../codec/mod.ts";
import type { Packet, PublishPacket } from "../codec/types.ts";
import { ConnectionClosedError, ProtocolViolationError } from "./errors.ts";
import type { SessionHooks } from "./_handshake.ts";
import type { HandlerContext } from "./handlers/_context.ts";
import { handleAck } from "./handlers/ack.ts";
import { handleDisconnect } from "./handlers/disconnect.ts";
import { handlePublish } from "./handlers/publish.ts";
import { handleSubscriptionAck } from "./handlers/subscribe.ts";
import type { Clock } from "./clock.ts";
import { KeepaliveManager } from "./keepalive.ts";
import type { Logger } from "./options.ts";
import type { Outbox } from "./_outbox.ts";

/** What the incoming side needs of its session (functions are called without `this`). */
export interface DispatchHost {
  /** The outbox (its `conn` is the current connection). */
  readonly out: Outbox;
  /** Timers. */
  readonly clock: Clock;
  /** The keepalive the client asks for, in seconds. */
  readonly keepalive: number;
  /** Logger (may be a no-op). */
  readonly logger: Logger;
  /** Negotiated protocol level. */
  protocolVersion(): 4 | 5;
  /** Dispatches a `"message"` event. */
  deliver(packet: PublishPacket): void;
  /** Dispatches an `"error"` event for a failure nobody awaits. */
  reportError(error: Error): void;
  /**
   * Ends the current connection (and reconnects, unless stopped); on MQTT 5
   * a `disconnect` reason code is sent as the last packet.
   */
  lost(error: Error, reasonCode?: number, disconnect?: number): void;
}

/** The handler context, the connection hooks and the keepalive of a session. */
export interface Dispatch {
  /** Keepalive of the current connection (started and stopped by the session). */
  readonly keepalive: KeepaliveManager;
  /** What packet handlers may do to the client. */
  readonly ctx: HandlerContext;
  /** Hooks of every connection the session makes. */
  readonly hooks: SessionHooks;
}

/**
 * Creates the incoming side of a session; packets of a connection other
 * than the current one (`host.out.conn`) are ignored.
 *
 * @param host The session.
 * @returns Its handler context and connection hooks.
 */
export function createDispatch(host: DispatchHost): Dispatch {
  const out = host.out;
  const keepalive = new KeepaliveManager(host.clock, host.keepalive, {
    sendPing: () => out.conn?.send({ type: "pingreq" }),
    onTimeout: () =>
      host.lost(
        new ConnectionClosedError(
          `Connection lost: nothing from the server for 1.5 x keepalive (${
            keepalive.intervalMs * 1.5 / 1000
          } s), PINGREQ unanswered`,
        ),
      ),
  });
  // The server broke the protocol: report it, tell the server why (MQTT 5 DISCONNECT with the
  // error's reason code), close and reconnect [MQTT-4.13.1-1].
  const violation = (error: ProtocolViolationError) => {
    host.reportError(error);
    host.lost(error, undefined, error.reasonCode);
  };
  const ctx: HandlerContext = {
    get protocolVersion() {
      return host.protocolVersion();
    },
    inflight: out.inflight,
    subscriptions: out.subs,
    inboundQos2: new Set<number>(),
    logger: host.logger,
    send: (p) => out.conn?.send(p),
    deliver: host.deliver,
    reportError: host.reportError,
    settled: () => out.pump(),
    fail: (e, code) => host.lost(e, code),
    violation,
  };
  const hooks: SessionHooks = {
    onPackets: (packets, c) => {
      if (c !== out.conn) return;
      keepalive.markReceived();
      for (const p of packets) {
        dispatch(ctx, p);
        if (c !== out.conn) return;
      }
      out.received(packets);
    },
    onEnd: (error, c) => {
      if (c !== out.conn) return;
      if (error instanceof MqttDecodeError) host.reportError(error);
      host.lost(
        error instanceof ConnectionClosedError || error instanceof MqttDecodeError
          ? error
          : new ConnectionClosedError(`Connection lost: ${error.message}`, undefined, {
            cause: error,
          }),
      );
    },
    onWritten: (c) => {
      if (c !== out.conn) return;
      keepalive.markSent();
      out.pump();
    },
    onMalformed: (error, c) => {
      if (c !== out.conn) return c.close(error);
      host.reportError(error);
      host.lost(error, undefined, 0x81); // DISCONNECT 0x81 Malformed Packet [MQTT-4.13.1-1]
    },
  };
  return { ctx, hooks, keepalive };
}

/** Hands a packet from the server to its handler. */
function dispatch(ctx: HandlerContext, p: Packet): void {
  switch (p.type) {
    case "publish":
      return handlePublish(ctx, p);
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return handleAck(ctx, p);
    case "suback":
    case "unsuback":
      return handleSubscriptionAck(ctx, p);
    case "pingresp":
      return; // any packet already counted as a sign of life
    case "disconnect":
      return handleDisconnect(ctx, p);
    default:
      // CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, a second CONNACK [MQTT-3.2.0-2], and AUTH
      // (this client sends no Authentication Method) are never allowed from a server.
      return ctx.violation(
        new ProtocolViolationError(`Unexpected ${p.type.toUpperCase()} from the server`),
      );
  }
}
