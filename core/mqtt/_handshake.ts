/**
 * Opening a session: transport, CONNECT, CONNACK, within one timeout, with
 * the fallback from MQTT 5 to 3.1.1. Private to the client.
 *
 * @module
 */

import { MqttDecodeError } from "../codec/errors.ts";
import type { Codec, ConnackPacket, ConnectPacket, Packet } from "../codec/types.ts";
import type { Clock } from "./clock.ts";
import { asError, Connection, type ConnectionHooks } from "./_connection.ts";
import { ConnectionClosedError, ConnectionRefusedError, ProtocolViolationError } from "./errors.ts";
import { abortError, timeoutError } from "./_dom_errors.ts";
import type { Logger } from "./options.ts";
import type { TlsOptions, Transport, TransportFactory } from "./transport.ts";

/**
 * Hooks of a session's connections: those of a {@linkcode Connection} but
 * the first-chunk inspection, which only the handshake does.
 */
export type SessionHooks = Omit<ConnectionHooks, "inspectFirstChunk">;

/** Everything a handshake needs. */
export interface HandshakeOptions {
  transport: TransportFactory;
  host: string;
  port: number;
  tls: TlsOptions | undefined;
  codec: Codec;
  clock: Clock;
  logger: Logger;
  /** CONNECT without its protocol level. */
  connect: Omit<ConnectPacket, "protocolVersion">;
  protocolVersion: 4 | 5;
  fallback: boolean;
  timeout: number;
  signal: AbortSignal;
  maxIncoming: number;
  /** Called synchronously on an accepted CONNACK, before any later packet is dispatched. */
  onAccepted(connection: Connection, connack: ConnackPacket, protocolVersion: 4 | 5): void;
  /** Hooks for the accepted connection. */
  hooks: SessionHooks;
}

/** Milliseconds a last packet (a DISCONNECT) may take to be written before the socket closes anyway. */
const CLOSE_LINGER = 1000;

/**
 * Sends `packet` as the last packet of `conn`, then closes it (after at most
 * {@linkcode CLOSE_LINGER} ms, should the server stop reading).
 *
 * @param conn The connection (already detached from the session).
 * @param packet The last packet (a DISCONNECT).
 * @param error Rejection reason for unwritten awaited messages.
 * @param clock Timers.
 * @returns A promise that resolves once the connection is closed.
 */
export function closeAfter(
  conn: Connection,
  packet: Packet,
  error: Error,
  clock: Clock,
): Promise<void> {
  if (conn.closed) return Promise.resolve();
  try {
    conn.send(packet);
  } catch {
    conn.close(error);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const close = () => {
      clock.clearTimeout(timer);
      conn.close(error);
      resolve();
    };
    const timer = clock.setTimeout(close, CLOSE_LINGER);
    conn.drained().then(close);
  });
}

/** The server refused level 5 in a way that calls for a retry with level 4. */
class FallbackNeeded extends Error {
  constructor(readonly original: Error) {
    super(original.message);
  }
}

/**
 * Connects, trying level 5 then level 4 when allowed.
 *
 * @param o Options.
 * @returns The accepted CONNACK.
 * @throws {ConnectionRefusedError | ConnectionClosedError | DOMException} On failure, timeout or abort.
 */
export async function handshake(o: HandshakeOptions): Promise<ConnackPacket> {
  const start = o.clock.now();
  let version = o.protocolVersion;
  for (;;) {
    const remaining = Math.max(0, o.timeout - (o.clock.now() - start));
    try {
      return await attempt(o, version, remaining);
    } catch (e) {
      if (!(e instanceof FallbackNeeded)) throw e;
      if (version === 5 && o.fallback) {
        o.logger.info("The server refused MQTT 5; retrying with MQTT 3.1.1", { reason: e.message });
        version = 4;
        continue;
      }
      throw e.original;
    }
  }
}

function attempt(o: HandshakeOptions, version: 4 | 5, timeout: number): Promise<ConnackPacket> {
  return new Promise<ConnackPacket>((resolve, reject) => {
    let done = false;
    let connection: Connection | undefined;
    let transport: Transport | undefined;
    const finish = (error: Error | undefined, connack?: ConnackPacket): boolean => {
      if (done) return false;
      done = true;
      o.clock.clearTimeout(timer);
      o.signal.removeEventListener("abort", onAbort);
      if (error) {
        // On MQTT 5 a protocol error is explained to the server before closing [MQTT-4.13.1-1].
        if (connection && error instanceof ProtocolViolationError && version === 5) {
          closeAfter(
            connection,
            { type: "disconnect", reasonCode: error.reasonCode },
            error,
            o.clock,
          );
        } else if (connection) connection.close(error);
        else transport?.close();
        reject(error);
      } else {
        resolve(connack!);
      }
      return true;
    };
    const onAbort = (): void => {
      finish(abortError("Cannot connect: aborted", o.signal));
    };
    const timer = o.clock.setTimeout(
      () => finish(timeoutError(`Cannot connect: no CONNACK within ${o.timeout} ms`)),
      timeout,
    );
    if (o.signal.aborted) {
      onAbort();
      return;
    }
    o.signal.addEventListener("abort", onAbort, { once: true });

    const refuse = (code: number, level: 4 | 5, connack?: ConnackPacket): void => {
      // The server's Reason String, and where to go instead (0x9C use another server, 0x9D moved).
      const why = connack?.properties?.reasonString;
      const ref = connack?.properties?.serverReference;
      const detail = [why, ref && `server reference: ${ref}`].filter(Boolean).join("; ");
      const error = new ConnectionRefusedError(code, level, detail || undefined);
      const unsupported = version === 5 && (level === 4 ? code === 1 : code === 0x84);
      finish(unsupported ? new FallbackNeeded(error) : error);
    };
    const onFirst = (packets: Packet[], c: Connection): void => {
      const first = packets[0]!;
      if (first.type !== "connack") {
        finish(
          new ProtocolViolationError(
            `Cannot connect: expected CONNACK, received ${first.type.toUpperCase()}`,
          ),
        );
        return;
      }
      if (first.reasonCode !== 0) return refuse(first.reasonCode, version, first);
      if (first.sessionPresent) {
        // The CONNECT asked for a clean start, so no session can be present [MQTT-3.2.2-2]; a
        // client without session state must close the connection [MQTT-3.2.2-4].
        finish(
          new ProtocolViolationError(
            "Cannot connect: the server answered a clean start with Session Present 1",
          ),
        );
        return;
      }
      if (!finish(undefined, first)) return;
      hooks.onPackets = o.hooks.onPackets;
      hooks.onEnd = o.hooks.onEnd;
      o.onAccepted(c, first, version);
      if (packets.length > 1 && !c.closed) o.hooks.onPackets(packets.slice(1), c);
    };
    const malformed = (error: MqttDecodeError): void => {
      // A malformed answer is a fault of the server, not a sign that it lacks MQTT 5.
      finish(
        new ProtocolViolationError(`Cannot connect: ${error.message}`, 0x81, { cause: error }),
      );
    };
    const hooks: ConnectionHooks = {
      onPackets: onFirst,
      onMalformed: (error, c) => {
        if (!done) malformed(error);
        else if (o.hooks.onMalformed) o.hooks.onMalformed(error, c); // the session's connection
        else c.close(error);
      },
      onEnd: (error) => {
        if (error instanceof MqttDecodeError) return malformed(error);
        const tlsAlert = error instanceof Deno.errors.InvalidData;
        const closed = new ConnectionClosedError(
          "Cannot connect: the connection closed before CONNACK" +
            (tlsAlert ? ` (${error.message})` : ""),
          undefined,
          { cause: error },
        );
        // A server that does not speak MQTT 5 may just hang up; a TLS alert is not about the protocol level.
        finish(version === 5 && !tlsAlert ? new FallbackNeeded(closed) : closed);
      },
      onWritten: (c) => o.hooks.onWritten(c),
      inspectFirstChunk: (chunk) => {
        // A 3.1.1-only server answers an MQTT 5 CONNECT with a 2-byte CONNACK (MQTT 5 needs >= 3):
        // a refusal, or (a lax server) an acceptance; either way, level 4 is what it speaks.
        if (version !== 5 || chunk.length < 4 || chunk[0] !== 0x20 || chunk[1] !== 0x02) {
          return false;
        }
        if (chunk[3]) refuse(chunk[3], 4);
        else {
          finish(
            new FallbackNeeded(
              new ProtocolViolationError(
                "Cannot connect: MQTT 5 CONNECT answered by a 3.1.1 CONNACK",
              ),
            ),
          );
        }
        return true;
      },
    };

    o.transport({ host: o.host, port: o.port, ...(o.tls ? { tls: o.tls } : {}), signal: o.signal })
      .then(
        (t) => {
          if (done) {
            t.close();
            return;
          }
          transport = t;
          connection = new Connection(t, o.codec, version, o.maxIncoming, hooks);
          try {
            connection.send({ ...o.connect, protocolVersion: version });
          } catch (e) {
            finish(asError(e));
            return;
          }
          connection.start();
        },
        (e: unknown) => {
          const error = asError(e);
          finish(
            new ConnectionClosedError(
              `Cannot connect to ${o.host}:${o.port}: ${error.message}`,
              undefined,
              {
                cause: error,
              },
            ),
          );
        },
      );
  });
}
