/**
 * Servers that fail in chosen ways, key material and polling, for the
 * independent "no secret is observable" suite.
 *
 * @module
 */

import { tsCodec } from "../core/codec/mod.ts";
import type { Packet } from "../core/codec/types.ts";

const enc = new TextEncoder();

/** A currently free loopback port (nothing listens on it). */
export function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/**
 * A loopback TCP server that hands each connection to `serve` and closes it
 * when `serve` ends; `await using` closes the listener and every open
 * connection, then waits for the handlers.
 */
function loopbackServer(
  serve: (conn: Deno.Conn) => Promise<void>,
): { port: number } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tasks: Promise<void>[] = [];
  const conns = new Set<Deno.Conn>();
  const handle = async (conn: Deno.Conn) => {
    conns.add(conn);
    try {
      await serve(conn);
    } finally {
      conns.delete(conn);
      closeQuietly(conn);
    }
  };
  const loop = (async () => {
    try {
      for await (const c of listener) tasks.push(handle(c));
    } catch {
      // listener closed
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const c of conns) closeQuietly(c);
      await loop;
      await Promise.all(tasks);
    },
  };
}

/** A TCP listener that accepts and never answers; `await using` closes it and its connections. */
export function silentServer(): { port: number } & AsyncDisposable {
  // Read and discard, so the peer's close is noticed.
  return loopbackServer(async (c) => {
    const buf = new Uint8Array(4096);
    try {
      while ((await c.read(buf)) !== null) { /* discard */ }
    } catch {
      // closed
    }
  });
}

/**
 * A one-purpose MQTT server: accepts any CONNECT, grants subscriptions,
 * acknowledges QoS 1 publishes, and answers a PUBLISH to
 * `/provision/request` with `response` on `/provision/response`.
 *
 * @param response The raw provisioning response payload.
 * @returns The server; `await using` closes it.
 */
export function provisionServer(response: string): { port: number } & AsyncDisposable {
  return loopbackServer(async (conn) => {
    let version: 4 | 5 = 4;
    const decoder = tsCodec.createDecoder({ protocolVersion: 5 });
    const send = (p: Packet) => conn.write(tsCodec.encode(p, { protocolVersion: version }));
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        for (const p of decoder.push(buf.slice(0, n))) {
          if (p.type === "connect") {
            version = p.protocolVersion === 5 ? 5 : 4;
            await send({ type: "connack", sessionPresent: false, reasonCode: 0 });
          } else if (p.type === "subscribe") {
            await send({
              type: "suback",
              packetId: p.packetId,
              reasonCodes: p.subscriptions.map(() => 1),
            });
          } else if (p.type === "publish") {
            if (p.qos === 1) await send({ type: "puback", packetId: p.packetId!, reasonCode: 0 });
            if (p.topic === "/provision/request") {
              await send({
                type: "publish",
                topic: "/provision/response",
                payload: enc.encode(response),
                qos: 0,
                retain: false,
                dup: false,
              });
            }
          } else if (p.type === "pingreq") {
            await send({ type: "pingresp" });
          } else if (p.type === "disconnect") {
            break;
          }
        }
      }
    } catch {
      // the client went away
    }
  });
}

/**
 * The secret parts of an EC private key PEM: its base64 body lines and the
 * 32-byte private scalar (found after ECPrivateKey's `02 01 01 04 20`).
 *
 * @param pem The key.
 * @returns Name → secret, for {@linkcode needlesFor}.
 */
export function keySecrets(pem: string): Record<string, string | Uint8Array> {
  const body = pem.replace(/-----[A-Z ]+-----/g, "").split(/\s+/).filter(Boolean);
  const der = Uint8Array.from(atob(body.join("")), (c) => c.charCodeAt(0));
  const out: Record<string, string | Uint8Array> = {};
  // Lines that carry key bytes before the public key (those could also sit in the certificate).
  body.slice(0, 2).forEach((line, i) => out[`keyPemLine${i + 1}`] = line);
  for (let i = 0; i + 5 + 32 <= der.length; i++) {
    if (
      der[i] === 0x02 && der[i + 1] === 0x01 && der[i + 2] === 0x01 && der[i + 3] === 0x04 &&
      der[i + 4] === 0x20
    ) {
      out.keyScalar = der.slice(i + 5, i + 5 + 32);
      break;
    }
  }
  if (!out.keyScalar) throw new Error("not an EC private key");
  return out;
}

/**
 * Waits until `predicate` holds (polling), or throws after `timeout` ms.
 *
 * @param predicate The condition.
 * @param timeout Milliseconds.
 * @param what Description for the error.
 */
export async function until(predicate: () => boolean, timeout: number, what: string) {
  const end = Date.now() + timeout;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
