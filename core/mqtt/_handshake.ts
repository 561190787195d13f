/**
 * Opening a session: transport, CONNECT, CONNACK, within one timeout, with
 * the fallback from MQTT 5 to 3.1.1. Private to the client.
 *
 * @module
 */

import type { Codec, ConnackPacket, ConnectPacket, Packet } from "../codec/types.ts";
import type { Clock } from "./clock.ts";
import { asError, Connection, type ConnectionHooks } from "./_connection.ts";
import { ConnectionClosedError, ConnectionRefusedError, ProtocolViolationError } from "./errors.ts";
import { abortError, timeoutError } from "./_dom_errors.ts";
import type { Logger } from "./options.ts";
import type { TlsOptions, Transport, TransportFactory } from "./transport.ts";

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
  hooks: Omit<ConnectionHooks, "inspectFirstChunk">;
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
        if (connection) connection.close(error);
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

    const refuse = (code: number, level: 4 | 5): void => {
      const error = new ConnectionRefusedError(code, level);
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
      if (first.reasonCode !== 0) return refuse(first.reasonCode, version);
      if (!finish(undefined, first)) return;
      hooks.onPackets = o.hooks.onPackets;
      hooks.onEnd = o.hooks.onEnd;
      o.onAccepted(c, first, version);
      if (packets.length > 1 && !c.closed) o.hooks.onPackets(packets.slice(1), c);
    };
    const hooks: ConnectionHooks = {
      onPackets: onFirst,
      onEnd: (error) => {
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
        // A 3.1.1-only server answers an MQTT 5 CONNECT with a 2-byte CONNACK (MQTT 5 needs >= 3).
        if (
          version !== 5 || chunk.length < 4 || chunk[0] !== 0x20 || chunk[1] !== 0x02 || !chunk[3]
        ) return false;
        refuse(chunk[3]!, 4);
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
