/**
 * Shared setup of the strict-peer conformance suite (`strict_peer_*_test.ts`):
 * a runner that starts the independent strict peer (`_strict_peer.ts`, built
 * on `mqtt-packet`, playing the server) and an `MqttClient` against it and
 * closes both, the events a client reported, and small waiting helpers.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type DisconnectDetail, MqttClient, type MqttClientOptions } from "../core/mqtt/mod.ts";
import { tsCodec } from "../core/codec/mod.ts";
import type { Codec, PublishPacket } from "../core/codec/types.ts";
import { wasmCodec } from "../wasm/mod.ts";
import { type MP, type PeerConn, StrictPeer } from "./_strict_peer.ts";

export const HOST = "127.0.0.1";
export const FAST = { initialDelay: 20, maxDelay: 100, factor: 2, jitter: 0 };
export const enc = (s: string) => new TextEncoder().encode(s);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const CODECS: [string, Codec][] = [["ts", tsCodec], ["wasm", wasmCodec]];

export interface Seen {
  errors: Error[];
  disconnects: DisconnectDetail[];
  connects: number;
  messages: PublishPacket[];
}

export function watch(client: MqttClient): Seen {
  const seen: Seen = { errors: [], disconnects: [], connects: 0, messages: [] };
  client.addEventListener("error", (e) => seen.errors.push(e.detail));
  client.addEventListener("disconnect", (e) => seen.disconnects.push(e.detail));
  client.addEventListener("connect", () => seen.connects++);
  client.addEventListener("message", (e) => seen.messages.push(e.detail));
  return seen;
}

export function client(peer: StrictPeer, o: Partial<MqttClientOptions> = {}): MqttClient {
  return new MqttClient({ host: HOST, port: peer.port, reconnect: FAST, ...o });
}

/** The rejection reason of `p`, or `undefined` if it fulfils (handled at once). */
export function settle(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => undefined, (e: unknown) => e);
}

export async function until(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Runs `fn` with a peer and a client, then closes both (sanitizers stay on). */
export async function run(
  o: Partial<MqttClientOptions>,
  fn: (peer: StrictPeer, c: MqttClient, seen: Seen) => Promise<void>,
  onConnection?: (conn: PeerConn, index: number) => void,
): Promise<void> {
  const peer = StrictPeer.start(onConnection ? { onConnection } : {});
  const c = client(peer, o);
  const seen = watch(c);
  try {
    await fn(peer, c, seen);
  } finally {
    await c.disconnect({ timeout: 300 });
    await peer.close();
  }
}

/** The last packet of a connection is the client's DISCONNECT with one of `codes`. */
export async function expectDisconnect(conn: PeerConn, codes: number[]): Promise<MP> {
  const rec = await conn.waitFor((p) => p.cmd === "disconnect");
  assert.ok(
    codes.includes(rec.p.reasonCode ?? 0),
    `DISCONNECT reason 0x${(rec.p.reasonCode ?? 0).toString(16)}, expected one of ${codes}`,
  );
  await conn.waitClosed();
  assert.equal(conn.packets.at(-1)!.p.cmd, "disconnect", "DISCONNECT is the last packet");
  return rec.p;
}

/** A QoS 1 round trip on a new connection proves the client recovered. */
export async function worksAgain(peer: StrictPeer, c: MqttClient): Promise<PeerConn> {
  const conn = await peer.nextConn();
  await until(() => c.state === "connected", 3000, "reconnect");
  const r = await c.publish("ok/again", enc("x"), { qos: 1 });
  assert.ok(r.packetId > 0);
  await conn.waitFor((p) => p.cmd === "publish" && p.topic === "ok/again");
  return conn;
}
