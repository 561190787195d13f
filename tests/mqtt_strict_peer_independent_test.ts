/**
 * Conformance of `MqttClient` and `TBDeviceMqttClient` against an independent
 * strict peer (`_strict_peer_independent.ts`) over real loopback TCP. The peer
 * parses with `mqtt-packet` and writes with `mqtt-packet`'s `generate` (or raw
 * bytes for deliberately malformed packets); every test ends with the peer's
 * automatic checks (`assertClean`).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  ConnectionRefusedError,
  type DisconnectDetail,
  MqttClient,
  type MqttClientOptions,
  PayloadTooLargeError,
  ProtocolViolationError,
  PublishError,
  SubscribeError,
} from "../core/mqtt/mod.ts";
import { MqttDecodeError, tsCodec } from "../core/codec/mod.ts";
import type { Codec, PublishPacket } from "../core/codec/types.ts";
import { wasmCodec } from "../wasm/mod.ts";
import { TBDeviceMqttClient } from "../mod.ts";
import {
  bytesOf,
  type MP,
  type PeerConn,
  StrictPeer,
  textOf,
  vbi,
} from "./_strict_peer_independent.ts";

const HOST = "127.0.0.1";
const FAST = { initialDelay: 20, maxDelay: 100, factor: 2, jitter: 0 };
const enc = (s: string) => new TextEncoder().encode(s);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const CODECS: [string, Codec][] = [["ts", tsCodec], ["wasm", wasmCodec]];

interface Seen {
  errors: Error[];
  disconnects: DisconnectDetail[];
  connects: number;
  messages: PublishPacket[];
}

function watch(client: MqttClient): Seen {
  const seen: Seen = { errors: [], disconnects: [], connects: 0, messages: [] };
  client.addEventListener("error", (e) => seen.errors.push(e.detail));
  client.addEventListener("disconnect", (e) => seen.disconnects.push(e.detail));
  client.addEventListener("connect", () => seen.connects++);
  client.addEventListener("message", (e) => seen.messages.push(e.detail));
  return seen;
}

function client(peer: StrictPeer, o: Partial<MqttClientOptions> = {}): MqttClient {
  return new MqttClient({ host: HOST, port: peer.port, reconnect: FAST, ...o });
}

/** The rejection reason of `p`, or `undefined` if it fulfils (handled at once). */
function settle(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => undefined, (e: unknown) => e);
}

async function until(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Runs `fn` with a peer and a client, then closes both (sanitizers stay on). */
async function run(
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
async function expectDisconnect(conn: PeerConn, codes: number[]): Promise<MP> {
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
async function worksAgain(peer: StrictPeer, c: MqttClient): Promise<PeerConn> {
  const conn = await peer.nextConn();
  await until(() => c.state === "connected", 3000, "reconnect");
  const r = await c.publish("ok/again", enc("x"), { qos: 1 });
  assert.ok(r.packetId > 0);
  await conn.waitFor((p) => p.cmd === "publish" && p.topic === "ok/again");
  return conn;
}

// ---------------------------------------------------------------- CONNECT

for (const [engine, codec] of CODECS) {
  for (const version of [5, 4] as const) {
    Deno.test(`MqttClient sends CONNECT first and nothing else before CONNACK [MQTT-3.1.0-1] (v${version}, ${engine})`, async () => {
      await run({ codec, protocolVersion: version }, async (peer, c) => {
        const connecting = c.connect();
        // Requests made while the CONNACK is held back must wait for it.
        const pub = c.publish("early/qos1", enc("a"), { qos: 1 });
        c.publishNoWait("early/qos0", enc("b"));
        const sub = c.subscribe([{ topicFilter: "early/+", qos: 1 }]);
        const conn = await peer.nextConn();
        await conn.waitFor((p) => p.cmd === "connect");
        await sleep(250);
        assert.deepEqual(conn.packets.map((r) => r.p.cmd), ["connect"]);
        await conn.sendConnack(
          version === 5
            ? { cmd: "connack", reasonCode: 0, sessionPresent: false }
            : { cmd: "connack", returnCode: 0, sessionPresent: false },
        );
        await connecting;
        await Promise.all([pub, sub]);
        await conn.waitFor((p) => p.topic === "early/qos0");
        assert.equal(conn.packets[0]!.p.cmd, "connect");
        assert.ok(conn.packets.slice(1).every((r) => r.afterConnack));
        peer.assertClean();
      }, (conn) => conn.connack = () => undefined);
    });
  }
}

Deno.test("MqttClient CONNECT flags are well formed: reserved bit 0, no Will bits, user name/password flags match [MQTT-3.1.2-3] [MQTT-3.1.2-11] [MQTT-3.1.2-13] [MQTT-3.1.2-16..19] [MQTT-3.1.2-22 (3.1.1)]", async () => {
  const cases: [Partial<MqttClientOptions>, number][] = [
    [{ protocolVersion: 5 }, 0x02],
    [{ protocolVersion: 5, username: "tok" }, 0x82],
    [{ protocolVersion: 5, username: "u", password: "p" }, 0xc2],
    [{ protocolVersion: 5, password: new Uint8Array([0, 255]) }, 0x42], // MQTT 5 allows it
    [{ protocolVersion: 4 }, 0x02],
    [{ protocolVersion: 4, username: "tok" }, 0x82],
    [{ protocolVersion: 4, username: "u", password: "p" }, 0xc2],
  ];
  for (const [o, flags] of cases) {
    await run({ ...o, clientId: "dev-1", keepalive: 17 }, async (peer, c) => {
      await c.connect();
      const conn = await peer.nextConn();
      const rec = conn.packets[0]!;
      const nameLen = (rec.raw[2]! << 8) | rec.raw[3]!; // Remaining Length < 128 here
      assert.equal(rec.raw[2 + 2 + nameLen + 1], flags, `flags for ${JSON.stringify(o)}`);
      assert.equal(rec.p.clean, true);
      assert.equal(rec.p.keepalive, 17);
      assert.equal(rec.p.clientId, "dev-1");
      assert.equal(rec.p.will, undefined);
      peer.assertClean();
    });
  }
  assert.throws(
    () => new MqttClient({ host: HOST, protocolVersion: 4, password: "p" }),
    TypeError,
    "3.1.1 password without user name must be refused [MQTT-3.1.2-22]",
  );
});

Deno.test("MqttClient CONNECT carries protocol name MQTT and level 5 / 4 [MQTT-3.1.2-1] [MQTT-3.1.2-2]", async () => {
  for (const version of [5, 4] as const) {
    await run({ protocolVersion: version }, async (peer, c) => {
      await c.connect();
      const conn = await peer.nextConn();
      const raw = conn.packets[0]!.raw;
      assert.equal(raw[0], 0x10, "CONNECT fixed header");
      assert.deepEqual([...raw.subarray(2, 8)], [0, 4, 0x4d, 0x51, 0x54, 0x54]); // "MQTT"
      assert.equal(raw[8], version);
      assert.equal(conn.packets[0]!.p.protocolVersion, version);
      assert.equal(c.protocolVersion, version);
      peer.assertClean();
    });
  }
});

Deno.test("MqttClient with an empty client id on 3.1.1 sets CleanSession 1 [MQTT-3.1.3-7 (3.1.1)]", async () => {
  await run({ protocolVersion: 4 }, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    assert.equal(conn.connect?.clientId, "");
    assert.equal(conn.connect?.clean, true);
    peer.assertClean();
  });
});

// ---------------------------------------------------------------- packet ids

Deno.test("MqttClient Packet Identifiers of QoS 1 PUBLISH, SUBSCRIBE, UNSUBSCRIBE are non-zero and unique in flight [MQTT-2.2.1-3]; SUBSCRIBE/UNSUBSCRIBE flags are 0b0010 [MQTT-3.8.1-1] [MQTT-3.10.1-1]", async () => {
  await run({}, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    conn.autoPuback = false;
    conn.autoSuback = false;
    conn.autoUnsuback = false;
    const pubs = [1, 2, 3, 4, 5].map((i) => c.publish(`ids/${i}`, enc(`${i}`), { qos: 1 }));
    const subs = [
      c.subscribe([{ topicFilter: "s/1", qos: 1 }]),
      c.subscribe([{ topicFilter: "s/2", qos: 0 }]),
    ];
    const unsub = c.unsubscribe(["s/3"]);
    const got = await conn.waitCount(
      (p) => ["publish", "subscribe", "unsubscribe"].includes(p.cmd),
      8,
    );
    const ids = got.map((r) => r.p.messageId!);
    assert.ok(ids.every((id) => id > 0 && id <= 65535), `ids ${ids}`);
    assert.equal(new Set(ids).size, ids.length, `ids unique: ${ids}`);
    for (const r of conn.packets) {
      if (r.p.cmd === "subscribe") assert.equal(r.raw[0], 0x82);
      if (r.p.cmd === "unsubscribe") assert.equal(r.raw[0], 0xa2);
      if (r.p.cmd === "publish") assert.equal(r.raw[0]! & 0x0f, 0x02, "QoS 1, DUP 0, RETAIN 0");
    }
    for (const r of got) {
      if (r.p.cmd === "publish") conn.puback(r.p.messageId!);
      if (r.p.cmd === "subscribe") conn.suback(r.p.messageId!, [r.p.subscriptions![0]!.qos]);
      if (r.p.cmd === "unsubscribe") conn.unsuback(r.p.messageId!, 1);
    }
    const results = await Promise.all(pubs);
    assert.deepEqual(
      results.map((r) => r.packetId),
      ids.filter((_, i) => got[i]!.p.cmd === "publish"),
    );
    assert.deepEqual(await Promise.all(subs), [[1], [0]]);
    await unsub;
    peer.assertClean();
  });
});

Deno.test("MqttClient reuses a Packet Identifier only after its PUBACK, across the 65535 wrap [MQTT-2.2.1-3]", async () => {
  const N = 65_535 + 200;
  await run({ maxInflight: 500, queue: { maxSize: N + 10 } }, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    let held = 0;
    // Hold the PUBACK of the 3rd message until every id wrapped around.
    conn.autoPuback = (p) => {
      if (p.messageId === 3 && held === 0) {
        held = 3;
        return false;
      }
      return true;
    };
    const payload = new Uint8Array(1);
    for (let i = 0; i < N; i++) c.publishNoWait("wrap", payload, { qos: 1 });
    await conn.waitCount((p) => p.cmd === "publish", N, 8000);
    const ids = conn.all("publish").map((p) => p.messageId!);
    assert.equal(ids.filter((id) => id === 3).length, 1, "id 3 is not reused while unacknowledged");
    assert.ok(!ids.includes(0));
    assert.ok(ids.filter((id) => id === 4).length === 2, "other ids are reused after their PUBACK");
    await conn.puback(3);
    await c.flush({ timeout: 2000 });
    peer.assertClean();
  });
});

// ---------------------------------------------------------------- resend, DUP, order

for (const [engine, codec] of CODECS) {
  Deno.test(`MqttClient resends unacknowledged QoS 1 PUBLISH after reconnect with DUP=1, same topic and payload, original order; QoS 0 never DUP; offline queue keeps order [MQTT-3.3.1-1] [MQTT-3.3.1-2] [MQTT-4.6.0-1] (${engine})`, async () => {
    await run({ codec, reconnect: { ...FAST, initialDelay: 150 } }, async (peer, c, seen) => {
      await c.connect();
      const conn0 = await peer.nextConn();
      conn0.autoPuback = (p) => textOf(p) === "m1";
      const p1 = c.publish("r/a", enc("m1"), { qos: 1 });
      const p3 = c.publish("r/b", enc("m3"), { qos: 1 });
      c.publishNoWait("r/q0", enc("m2"));
      const p4 = c.publish("r/c", enc("m4"), { qos: 1, retain: true });
      await conn0.waitCount((p) => p.cmd === "publish", 4);
      await p1;
      const firstIds = conn0.all("publish").filter((p) => p.qos === 1).map((p) => p.messageId);
      conn0.close();
      await until(() => seen.disconnects.length === 1, 3000, "disconnect event");
      // Offline: queued in order behind the resends.
      const p5 = c.publish("r/d", enc("m5"), { qos: 1 });
      c.publishNoWait("r/q0", enc("m6"));
      const p7 = c.publish("r/e", enc("m7"), { qos: 1 });
      const conn1 = await peer.nextConn();
      await conn1.waitCount((p) => p.cmd === "publish", 5);
      await Promise.all([p3, p4, p5, p7]);
      const pubs = conn1.all("publish");
      assert.deepEqual(pubs.map((p) => textOf(p)), ["m3", "m4", "m5", "m6", "m7"]);
      assert.deepEqual(pubs.map((p) => !!p.dup), [true, true, false, false, false]);
      assert.deepEqual(pubs.map((p) => p.topic), ["r/b", "r/c", "r/d", "r/q0", "r/e"]);
      assert.equal(pubs[1]!.retain, true, "the resend keeps RETAIN");
      assert.deepEqual(pubs.slice(0, 2).map((p) => p.messageId), firstIds.slice(1));
      for (const conn of [conn0, conn1]) {
        for (const r of conn.packets) {
          if (r.p.cmd === "publish" && r.p.qos === 0) assert.equal(r.raw[0]! & 0x08, 0);
        }
      }
      assert.equal(seen.connects, 2);
      peer.assertClean();
    });
  });
}

// ---------------------------------------------------------------- server limits

Deno.test("MqttClient never has more unacknowledged QoS 1 PUBLISH than the CONNACK Receive Maximum [MQTT-3.3.4-7]", async () => {
  await run({ maxInflight: 20 }, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    conn.autoPuback = (p) => {
      setTimeout(() => conn.puback(p.messageId!), 15);
      return false;
    };
    for (let i = 0; i < 12; i++) c.publishNoWait("rm", enc(`${i}`), { qos: 1 });
    await c.flush({ timeout: 3000 });
    const pubs = conn.all("publish");
    assert.deepEqual(pubs.map(textOf), [...Array(12).keys()].map(String));
    assert.equal(conn.maxUnacked, 2);
    peer.assertClean();
  }, (conn) =>
    conn.connack = () => ({
      cmd: "connack",
      reasonCode: 0,
      sessionPresent: false,
      properties: { receiveMaximum: 2 },
    }));
});

Deno.test("MqttClient resends within a Receive Maximum lowered by the new CONNACK after reconnect [MQTT-3.3.4-7]", async () => {
  await run({}, async (peer, c) => {
    await c.connect();
    const conn0 = await peer.nextConn();
    conn0.autoPuback = false;
    const all = [0, 1, 2, 3, 4, 5].map((i) => c.publish("rm2", enc(`${i}`), { qos: 1 }));
    await conn0.waitCount((p) => p.cmd === "publish", 6);
    conn0.close();
    const conn1 = await peer.nextConn();
    await Promise.all(all);
    const pubs = conn1.all("publish");
    assert.deepEqual(pubs.map(textOf), ["0", "1", "2", "3", "4", "5"]);
    assert.ok(pubs.every((p) => p.dup));
    assert.equal(conn1.maxUnacked, 2);
    peer.assertClean();
  }, (conn, i) => {
    if (i === 1) {
      conn.connack = () => ({
        cmd: "connack",
        reasonCode: 0,
        sessionPresent: false,
        properties: { receiveMaximum: 2 },
      });
      conn.autoPuback = (p) => {
        setTimeout(() => conn.puback(p.messageId!), 10);
        return false;
      };
    }
  });
});

Deno.test("MqttClient respects the CONNACK Maximum Packet Size [MQTT-3.2.2-15] (server side of [MQTT-3.1.2-24])", async () => {
  await run({}, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    assert.equal(c.maxPacketSize, 128);
    // 1 + 1 + (2 + 3) + 2 + 1 + 118 = 128 bytes: fits exactly; one more byte does not.
    await c.publish("t/x", new Uint8Array(118), { qos: 1 });
    await assert.rejects(c.publish("t/x", new Uint8Array(119), { qos: 1 }), PayloadTooLargeError);
    assert.throws(() => c.publishNoWait("t/x", new Uint8Array(500)), PayloadTooLargeError);
    await assert.rejects(
      c.subscribe([{ topicFilter: "f/".repeat(70), qos: 1 }]),
      PayloadTooLargeError,
    );
    await assert.rejects(c.unsubscribe(["u/".repeat(70)]), PayloadTooLargeError);
    await c.publish("t/y", enc("small"), { qos: 0 });
    await conn.waitFor((p) => p.topic === "t/y");
    assert.equal(conn.all("publish").length, 2);
    assert.equal(conn.packets.find((r) => r.p.topic === "t/x")!.raw.length, 128);
    peer.assertClean();
  }, (conn) =>
    conn.connack = () => ({
      cmd: "connack",
      reasonCode: 0,
      sessionPresent: false,
      properties: { maximumPacketSize: 128 },
    }));
});

Deno.test("MqttClient does not send a message queued offline that exceeds the new server's Maximum Packet Size [MQTT-3.2.2-15]", async () => {
  await run({ reconnect: { ...FAST, initialDelay: 150 } }, async (peer, c, seen) => {
    await c.connect();
    const conn0 = await peer.nextConn();
    conn0.autoPuback = false;
    const inflight = settle(c.publish("big/inflight", new Uint8Array(300), { qos: 1 }));
    await conn0.waitFor((p) => p.cmd === "publish");
    conn0.close();
    await until(() => seen.disconnects.length === 1);
    const queued = settle(c.publish("big/queued", new Uint8Array(300), { qos: 1 }));
    const small = c.publish("small", enc("s"), { qos: 1 });
    const conn1 = await peer.nextConn();
    assert.ok((await inflight) instanceof PayloadTooLargeError, "resend refused");
    assert.ok((await queued) instanceof PayloadTooLargeError, "queued message refused");
    await small;
    assert.deepEqual(conn1.all("publish").map((p) => p.topic), ["small"]);
    peer.assertClean();
  }, (conn, i) => {
    if (i === 1) {
      conn.connack = () => ({
        cmd: "connack",
        reasonCode: 0,
        sessionPresent: false,
        properties: { maximumPacketSize: 100 },
      });
    }
  });
});

Deno.test("MqttClient respects Maximum QoS 0 and Retain Available 0 from CONNACK [MQTT-3.2.2-11] [MQTT-3.2.2-14]", async () => {
  await run({ reconnect: { ...FAST, initialDelay: 100 } }, async (peer, c, seen) => {
    await c.connect();
    const conn0 = await peer.nextConn();
    conn0.autoPuback = false;
    const held = settle(c.publish("q/held", enc("h"), { qos: 1 }));
    await conn0.waitFor((p) => p.cmd === "publish");
    conn0.close();
    await until(() => seen.disconnects.length === 1);
    const conn1 = await peer.nextConn();
    await until(() => c.state === "connected");
    assert.ok((await held) instanceof RangeError, "the resend may not exceed the new Maximum QoS");
    await assert.rejects(c.publish("q/1", enc("x"), { qos: 1 }), RangeError);
    await assert.rejects(c.publish("q/r", enc("x"), { retain: true }), RangeError);
    await c.publish("q/0", enc("y"), { qos: 0 });
    await conn1.waitFor((p) => p.topic === "q/0");
    assert.ok(conn1.all("publish").every((p) => p.qos === 0 && !p.retain));
    peer.assertClean();
  }, (conn, i) => {
    if (i === 1) {
      conn.connack = () => ({
        cmd: "connack",
        reasonCode: 0,
        sessionPresent: false,
        properties: { maximumQoS: 0, retainAvailable: false },
      });
    }
  });
});

Deno.test("MqttClient sends no Topic Alias when CONNACK has no Topic Alias Maximum [MQTT-3.2.2-18]", async () => {
  await run({}, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    for (let i = 0; i < 5; i++) await c.publish("same/topic/every/time", enc(`${i}`), { qos: 1 });
    assert.throws(
      () => c.publishNoWait("a", enc("x"), { properties: { topicAlias: 1 } }),
      TypeError,
    );
    assert.ok(conn.all("publish").every((p) => p.properties?.topicAlias === undefined));
    assert.ok(conn.all("publish").every((p) => p.topic === "same/topic/every/time"));
    peer.assertClean();
  });
});

Deno.test("MqttClient uses the CONNACK Server Keep Alive instead of its own [MQTT-3.2.2-21]", async () => {
  await run({ keepalive: 60 }, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    const t0 = performance.now();
    await conn.next("pingreq", 1500);
    assert.ok(performance.now() - t0 <= 1100, "PINGREQ within the server's 1 s keepalive");
    peer.assertClean();
  }, (conn) =>
    conn.connack = () => ({
      cmd: "connack",
      reasonCode: 0,
      sessionPresent: false,
      properties: { serverKeepAlive: 1 },
    }));
});

// ---------------------------------------------------------------- inbound flows

Deno.test("MqttClient PUBACKs inbound QoS 1 PUBLISH with the same Packet Identifier, in order [MQTT-4.3.2-4] [MQTT-4.6.0-2]", async () => {
  for (const version of [5, 4] as const) {
    await run({ protocolVersion: version }, async (peer, c, seen) => {
      await c.connect();
      await c.subscribe([{ topicFilter: "in/#", qos: 1 }]);
      const conn = await peer.nextConn();
      const ids = [10, 7, 65535, 300];
      for (const id of ids) {
        conn.publish({ topic: "in/x", qos: 1, messageId: id, payload: `${id}` });
      }
      await conn.waitCount((p) => p.cmd === "puback", 4);
      assert.deepEqual(conn.all("puback").map((p) => p.messageId), ids);
      for (const r of conn.packets.filter((r) => r.p.cmd === "puback")) {
        assert.ok(r.raw.length === 4 || version === 5, "3.1.1 PUBACK is 4 bytes");
      }
      await until(() => seen.messages.length === 4);
      assert.deepEqual(
        seen.messages.map((m) => new TextDecoder().decode(m.payload)),
        ids.map(String),
      );
      peer.assertClean();
    });
  }
});

Deno.test("MqttClient accepts a Packet Identifier the server reuses after its PUBACK as a new message [MQTT-2.2.1-4]", async () => {
  await run({}, async (peer, c, seen) => {
    await c.connect();
    const conn = await peer.nextConn();
    await conn.publish({ topic: "reuse", qos: 1, messageId: 5, payload: "a" });
    await conn.next("puback");
    await conn.publish({ topic: "reuse", qos: 1, messageId: 5, payload: "b" });
    await conn.next("puback");
    await until(() => seen.messages.length === 2);
    assert.deepEqual(seen.messages.map((m) => new TextDecoder().decode(m.payload)), ["a", "b"]);
    peer.assertClean();
  });
});

Deno.test("MqttClient completes an inbound QoS 2 flow: PUBREC, PUBREL -> PUBCOMP, delivered once [MQTT-4.3.3-8] [MQTT-4.3.3-11]", async () => {
  for (const version of [5, 4] as const) {
    await run({ protocolVersion: version }, async (peer, c, seen) => {
      await c.connect();
      const conn = await peer.nextConn();
      conn.autoPubrel = false;
      await conn.publish({ topic: "q2", qos: 2, messageId: 9, payload: "once" });
      await conn.next("pubrec");
      // Redelivery before PUBREL: acknowledged again, not delivered again.
      await conn.publish({ topic: "q2", qos: 2, messageId: 9, payload: "once", dup: true });
      await conn.next("pubrec");
      await conn.pubrel(9);
      const comp = await conn.next("pubcomp");
      assert.equal(comp.p.messageId, 9);
      assert.equal(comp.p.reasonCode ?? 0, 0);
      await sleep(30);
      assert.equal(seen.messages.length, 1);
      assert.equal(seen.messages[0]!.qos, 2);
      // A PUBREL for an id the client does not know is still answered (0x92 on MQTT 5).
      conn.serverReleased.add(77);
      await conn.send({ cmd: "pubrel", messageId: 77 });
      const unknown = await conn.next("pubcomp");
      assert.equal(unknown.p.messageId, 77);
      if (version === 5) assert.equal(unknown.p.reasonCode, 0x92);
      peer.assertClean();
    });
  }
});

Deno.test("MqttClient reports a PUBACK error reason code as PublishError and a SUBACK failure as SubscribeError, and keeps the connection", async () => {
  await run({}, async (peer, c) => {
    await c.connect();
    const conn = await peer.nextConn();
    conn.autoPuback = (p) => {
      conn.puback(p.messageId!, textOf(p) === "bad" ? 0x99 : 0);
      return false;
    };
    conn.autoSuback = false;
    const bad = c.publish("pe", enc("bad"), { qos: 1 });
    await assert.rejects(bad, (e) => e instanceof PublishError && e.reasonCode === 0x99);
    const sub = c.subscribe([{ topicFilter: "ok", qos: 1 }, { topicFilter: "no", qos: 1 }]);
    const s = await conn.next("subscribe");
    await conn.suback(s.p.messageId!, [1, 0x87]);
    await assert.rejects(sub, (e) => e instanceof SubscribeError && e.reasonCode === 0x87);
    await c.publish("pe", enc("good"), { qos: 1 });
    assert.equal(conn.closed, false);
    peer.assertClean();
  });
});

// ---------------------------------------------------------------- keepalive

for (const version of [5, 4] as const) {
  Deno.test(`MqttClient sends PINGREQ when idle so no gap exceeds the keepalive [MQTT-3.1.2-20 / 3.1.1 MQTT-3.1.2-23] (v${version})`, async () => {
    await run({ protocolVersion: version, keepalive: 1 }, async (peer, c) => {
      await c.connect();
      const conn = await peer.nextConn();
      await conn.waitCount((p) => p.cmd === "pingreq", 2, 2500);
      const t = conn.packets.map((r) => r.t);
      for (let i = 1; i < t.length; i++) {
        assert.ok(t[i]! - t[i - 1]! <= 1050, `gap ${t[i]! - t[i - 1]!}`);
      }
      peer.assertClean(); // the peer also checks every gap
    });
  });
}

Deno.test("MqttClient closes and reconnects when no PINGRESP arrives within 1.5 x keepalive [MQTT-3.1.2-20]", async () => {
  await run({ keepalive: 1 }, async (peer, c, seen) => {
    await c.connect();
    const conn0 = await peer.nextConn();
    const connackAt = performance.now();
    conn0.autoPingresp = false;
    await conn0.next("pingreq", 1500);
    await conn0.waitClosed(3000);
    const after = conn0.endedAt! - connackAt;
    assert.equal(conn0.closedByPeer, false, "the client closed it");
    assert.ok(
      after >= 1400 && after <= 2300,
      `closed ${Math.round(after)} ms after the last packet`,
    );
    assert.ok(seen.disconnects[0]?.reason instanceof ConnectionClosedError);
    await worksAgain(peer, c);
    peer.assertClean();
  });
});

// ---------------------------------------------------------------- malformed server packets

interface BadCase {
  name: string;
  bytes: number[];
  version?: 4 | 5;
  codes: number[];
  error: (e: Error) => boolean;
}

const isDecode = (e: Error) => e instanceof MqttDecodeError;
const isViolation = (e: Error) => e instanceof ProtocolViolationError;
const typed = (e: Error) => isDecode(e) || isViolation(e);

const BAD: BadCase[] = [
  {
    name: "a Remaining Length of five bytes [MQTT-1.5.5-1] [MQTT-4.13.1-1]",
    bytes: [0x30, 0xff, 0xff, 0xff, 0xff, 0x01],
    codes: [0x81],
    error: typed,
  },
  {
    name: "reserved packet type 0 [MQTT-2.1.3] [MQTT-4.13.1-1]",
    bytes: [0x00, 0x00],
    codes: [0x81, 0x82],
    error: typed,
  },
  {
    name: "a PUBACK of Remaining Length 1 [MQTT-3.4.2] [MQTT-4.13.1-1]",
    bytes: [0x40, 0x01, 0x00],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a PINGRESP with a body [MQTT-3.13.1] [MQTT-4.13.1-1]",
    bytes: [0xd0, 0x01, 0x00],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a PUBLISH with QoS 3 [MQTT-3.3.1-4]",
    bytes: [0x36, 0x06, 0x00, 0x01, 0x74, 0x00, 0x01, 0x00],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a SUBACK with reserved header flags [MQTT-2.2.2-2]",
    bytes: [0x91, 0x04, 0x00, 0x01, 0x00, 0x00],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a PUBLISH topic of ill-formed UTF-8 [MQTT-1.5.4-1]",
    bytes: [0x30, 0x05, 0x00, 0x02, 0xc3, 0x28, 0x00],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a PUBLISH topic containing U+0000 [MQTT-1.5.4-2]",
    bytes: [0x30, 0x05, 0x00, 0x02, 0x61, 0x00, 0x00],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a QoS 1 PUBLISH with Packet Identifier 0 [MQTT-2.2.1-3]",
    bytes: [0x32, 0x06, 0x00, 0x01, 0x74, 0x00, 0x00, 0x00],
    codes: [0x81, 0x82],
    error: typed,
  },
  {
    name: "a PUBLISH topic with a wildcard [MQTT-3.3.2-2]",
    bytes: [0x30, 0x05, 0x00, 0x02, 0x61, 0x23, 0x00],
    codes: [0x81, 0x82, 0x90],
    error: typed,
  },
  {
    name: "a second CONNACK [MQTT-3.2.0-2]",
    bytes: [0x20, 0x03, 0x00, 0x00, 0x00],
    codes: [0x82],
    error: isViolation,
  },
  {
    name: "a PINGREQ, which a server never sends [MQTT-4.13.2]",
    bytes: [0xc0, 0x00],
    codes: [0x82],
    error: isViolation,
  },
  {
    name: "a Topic Alias the client did not allow [MQTT-3.1.2-26]",
    bytes: [0x30, 0x08, 0x00, 0x01, 0x74, 0x03, 0x23, 0x00, 0x01, 0x41],
    codes: [0x94],
    error: isViolation,
  },
  {
    name: "a DISCONNECT with a property length beyond the packet [MQTT-3.14.2]",
    bytes: [0xe0, 0x02, 0x00, 0x05],
    codes: [0x81],
    error: typed,
  },
  {
    name: "a Remaining Length of five bytes on 3.1.1 (close without DISCONNECT)",
    version: 4,
    bytes: [0x30, 0xff, 0xff, 0xff, 0xff, 0x01],
    codes: [],
    error: typed,
  },
  {
    name: "a 3.1.1 PUBACK of Remaining Length 3 (close without DISCONNECT)",
    version: 4,
    bytes: [0x40, 0x03, 0x00, 0x01, 0x00],
    codes: [],
    error: typed,
  },
];

for (const bad of BAD) {
  Deno.test(`MqttClient closes the connection on ${bad.name}, reports a typed error and reconnects`, async () => {
    const version = bad.version ?? 5;
    await run({ protocolVersion: version }, async (peer, c, seen) => {
      await c.connect();
      const conn0 = await peer.nextConn();
      await conn0.sendRaw(bad.bytes);
      if (version === 5) await expectDisconnect(conn0, bad.codes);
      else {
        await conn0.waitClosed();
        assert.equal(conn0.all("disconnect").length, 0, "no DISCONNECT on 3.1.1");
      }
      assert.equal(conn0.closedByPeer, false, "the client closed the connection");
      await until(() => seen.errors.length > 0, 2000, "error event");
      assert.ok(seen.errors.some(bad.error), `typed error, got ${seen.errors.map((e) => e.name)}`);
      await worksAgain(peer, c);
      peer.assertClean();
    });
  });
}

Deno.test("MqttClient closes on a CONNACK with reserved flags set, with DISCONNECT 0x81, and keeps reconnecting [MQTT-3.2.2-1] [MQTT-4.13.1-1]", async () => {
  await run({}, async (peer, c, seen) => {
    await c.connect();
    const conn0 = await peer.nextConn();
    conn0.close();
    const conn1 = await peer.nextConn();
    await conn1.waitFor((p) => p.cmd === "connect");
    await conn1.sendRaw([0x20, 0x03, 0x02, 0x00, 0x00]);
    await expectDisconnect(conn1, [0x81]);
    await until(() => seen.errors.length > 0);
    assert.ok(seen.errors.some(typed), `typed error, got ${seen.errors.map((e) => e.name)}`);
    await worksAgain(peer, c);
    peer.assertClean();
  }, (conn, i) => {
    if (i === 1) conn.connack = () => undefined;
  });
});

Deno.test("MqttClient rejects connect() on a malformed first CONNACK with a typed error, never an uncaught exception [MQTT-4.13.1-1]", async () => {
  await run({ reconnect: false }, async (peer, c) => {
    const p = c.connect();
    const conn = await peer.nextConn();
    await conn.waitFor((x) => x.cmd === "connect");
    await conn.sendRaw([0x20, 0x03, 0x00, 0x00, 0x26, 0x00]); // property length beyond the packet
    await assert.rejects(p, (e: Error) => typed(e) || e.cause instanceof MqttDecodeError);
    await conn.waitClosed();
    assert.equal(c.state, "disconnected");
    peer.assertClean();
  }, (conn) => conn.connack = () => undefined);
});

Deno.test("MqttClient closes when a clean start is answered with Session Present 1 [MQTT-3.2.2-2] [MQTT-3.2.2-4 (3.1.1)]", async () => {
  for (const version of [5, 4] as const) {
    await run(
      { protocolVersion: version, reconnect: false, fallback: false },
      async (peer, c) => {
        await assert.rejects(c.connect(), ProtocolViolationError);
        const conn = await peer.nextConn();
        await conn.waitClosed();
        if (version === 5) assert.equal(conn.all("disconnect")[0]?.reasonCode, 0x82);
        peer.assertClean();
      },
      (conn) =>
        conn.connack = (p) =>
          p.protocolVersion === 5
            ? { cmd: "connack", reasonCode: 0, sessionPresent: true }
            : { cmd: "connack", returnCode: 0, sessionPresent: true },
    );
  }
});

// ---------------------------------------------------------------- refusals and fallback

Deno.test("MqttClient surfaces a 3.1.1 CONNACK return code 1..5 as ConnectionRefusedError [MQTT-3.2.2-5 (3.1.1)]", async () => {
  for (const rc of [1, 2, 3, 4, 5]) {
    await run({ protocolVersion: 4, username: "u", password: "p" }, async (peer, c) => {
      const e = await c.connect().then(() => undefined, (e: Error) => e);
      assert.ok(e instanceof ConnectionRefusedError, `rc ${rc}: ${e}`);
      assert.equal(e.returnCode, rc);
      assert.equal(e.protocolVersion, 4);
      assert.equal(c.state, "disconnected");
      assert.ok(!e.message.includes('"p"'));
      const conn = await peer.nextConn();
      await conn.waitClosed();
      assert.deepEqual(conn.packets.map((r) => r.p.cmd), ["connect"]);
      peer.assertClean();
    }, (conn) => conn.connack = () => ({ cmd: "connack", returnCode: rc, sessionPresent: false }));
  }
});

Deno.test("MqttClient surfaces an MQTT 5 CONNACK reason code >= 0x80 as ConnectionRefusedError [MQTT-3.2.2-7]", async () => {
  for (const rc of [0x80, 0x84, 0x85, 0x86, 0x87, 0x88, 0x8a, 0x8c, 0x95, 0x97, 0x9c, 0x9f]) {
    await run({ fallback: false }, async (peer, c) => {
      const e = await c.connect().then(() => undefined, (e: Error) => e);
      assert.ok(e instanceof ConnectionRefusedError, `0x${rc.toString(16)}: ${e}`);
      assert.equal(e.reasonCode, rc);
      assert.equal(e.protocolVersion, 5);
      if (rc === 0x9c) assert.match(e.message, /other\.example/);
      await (await peer.nextConn()).waitClosed();
      assert.equal(peer.conns.length, 1, "no retry after a refusal");
      peer.assertClean();
    }, (conn) =>
      conn.connack = () => ({
        cmd: "connack",
        reasonCode: rc,
        sessionPresent: false,
        ...(rc === 0x9c ? { properties: { serverReference: "other.example" } } : {}),
      }));
  }
});

Deno.test("MqttClient falls back to 3.1.1 when the server refuses level 5 (0x84 or a 3.1.1 CONNACK rc 1) [MQTT-3.1.2-2]", async () => {
  for (const how of ["v5-0x84", "v4-rc1"] as const) {
    await run({ username: "tok" }, async (peer, c) => {
      await c.connect();
      assert.equal(c.protocolVersion, 4);
      const [first, second] = [await peer.nextConn(), await peer.nextConn()];
      assert.equal(first.connect?.protocolVersion, 5);
      assert.equal(second.connect?.protocolVersion, 4);
      assert.equal(second.connect?.username, "tok");
      await c.publish("fb", enc("x"), { qos: 1 });
      await c.subscribe([{ topicFilter: "fb/#", qos: 1 }]);
      assert.equal(second.packets.find((r) => r.p.cmd === "publish")!.raw.length, 9);
      peer.assertClean();
    }, (conn, i) => {
      if (i === 0) {
        conn.connack = () => {
          if (how === "v4-rc1") {
            conn.sendRaw([0x20, 0x02, 0x00, 0x01]).then(() => conn.close());
            return undefined;
          }
          return { cmd: "connack", reasonCode: 0x84, sessionPresent: false };
        };
      }
    });
  }
});

// ---------------------------------------------------------------- DISCONNECT

Deno.test("MqttClient reports a server DISCONNECT reason code and reconnects; it sends nothing after it [MQTT-3.14.4-1 (server)]", async () => {
  await run({}, async (peer, c, seen) => {
    await c.connect();
    const conn0 = await peer.nextConn();
    await conn0.send({
      cmd: "disconnect",
      reasonCode: 0x8b,
      properties: { reasonString: "maintenance" },
    });
    await conn0.waitClosed();
    assert.equal(conn0.closedByPeer, false, "the client closes after a server DISCONNECT");
    assert.deepEqual(conn0.packets.map((r) => r.p.cmd), ["connect"]);
    await until(() => seen.disconnects.length === 1);
    const d = seen.disconnects[0]!;
    assert.equal(d.reasonCode, 0x8b);
    assert.ok(d.reason instanceof ConnectionClosedError);
    assert.equal((d.reason as ConnectionClosedError).reasonCode, 0x8b);
    assert.match(d.reason.message, /maintenance/);
    await worksAgain(peer, c);
    peer.assertClean();
  });
});

for (const version of [5, 4] as const) {
  Deno.test(`MqttClient DISCONNECT is the last packet it sends, then it closes [MQTT-3.14.4-1] [MQTT-3.14.4-2] (v${version})`, async () => {
    await run({ protocolVersion: version, keepalive: 1 }, async (peer, c, seen) => {
      await c.connect();
      const conn = await peer.nextConn();
      conn.autoPuback = (p) => {
        // Late PUBACKs, each followed by a server QoS 1 PUBLISH in the same write window.
        setTimeout(() => {
          conn.puback(p.messageId!);
          conn.publish({ topic: "late", qos: 1, messageId: p.messageId!, payload: "z" });
        }, 200);
        return false;
      };
      for (let i = 0; i < 3; i++) c.publishNoWait("bye", enc(`${i}`), { qos: 1 });
      await c.disconnect({ timeout: 2000 });
      await conn.waitClosed();
      const last = conn.packets.at(-1)!;
      assert.equal(last.p.cmd, "disconnect");
      assert.equal(last.raw[0], 0xe0);
      if (version === 4) assert.deepEqual([...last.raw], [0xe0, 0x00]);
      else assert.equal(last.p.reasonCode ?? 0, 0);
      assert.equal(conn.closedByPeer, false, "the client closed the connection");
      assert.equal(c.state, "disconnected");
      assert.equal(seen.disconnects.at(-1)?.reason, undefined);
      await sleep(50);
      assert.equal(peer.conns.length, 1, "no reconnect after disconnect()");
      peer.assertClean();
    });
  });
}

// ---------------------------------------------------------------- ThingsBoard client

for (const engine of ["ts", "wasm"] as const) {
  for (const version of [5, 4] as const) {
    Deno.test(`TBDeviceMqttClient passes the strict peer: CONNECT, subscriptions, telemetry, RPC reply, DUP resend, DISCONNECT (${engine}, v${version})`, async () => {
      const peer = StrictPeer.start();
      const tb = new TBDeviceMqttClient({
        host: HOST,
        port: peer.port,
        accessToken: "A1_TEST_TOKEN",
        engine,
        protocolVersion: version,
        keepalive: 2,
        reconnect: { ...FAST, initialDelay: 100 },
        sessionLimits: false,
      });
      const errors: Error[] = [];
      tb.addEventListener("error", (e) => errors.push(e.detail));
      try {
        tb.setServerSideRpcRequestHandler(({ method }) => method === "ping" ? "pong" : undefined);
        await tb.connect();
        const conn0 = await peer.nextConn();
        assert.equal(conn0.connect?.username, "A1_TEST_TOKEN");
        assert.equal(conn0.connect?.protocolVersion, version);
        await conn0.waitFor((p) => p.cmd === "subscribe");
        await tb.sendTelemetry({ temperature: 21.5 });
        const tel = await conn0.waitFor((p) => p.topic === "v1/devices/me/telemetry");
        assert.deepEqual(JSON.parse(textOf(tel.p)), { temperature: 21.5 });
        assert.equal(tel.p.qos, 1);
        await tb.sendAttributes({ fw: "1.0" });
        await conn0.publish({
          topic: "v1/devices/me/rpc/request/42",
          qos: 1,
          messageId: 1,
          payload: JSON.stringify({ method: "ping", params: {} }),
        });
        const reply = await conn0.waitFor((p) => p.topic === "v1/devices/me/rpc/response/42");
        assert.equal(JSON.parse(textOf(reply.p)), "pong");
        await conn0.next((p) => p.cmd === "puback" && p.messageId === 1);
        // DUP resend through the ThingsBoard layer.
        conn0.autoPuback = false;
        const pending = tb.sendTelemetry({ n: 1 });
        await conn0.waitFor((p) =>
          p.topic === "v1/devices/me/telemetry" && textOf(p) === '{"n":1}'
        );
        conn0.close();
        const conn1 = await peer.nextConn();
        await pending;
        const resent = await conn1.waitFor((p) => p.cmd === "publish");
        assert.equal(resent.p.dup, true);
        assert.equal(textOf(resent.p), '{"n":1}');
        await conn1.waitFor((p) => p.cmd === "subscribe"); // resubscribed
        await tb.disconnect();
        await conn1.waitClosed();
        assert.equal(conn1.packets.at(-1)!.p.cmd, "disconnect");
        assert.deepEqual(errors, []);
        peer.assertClean();
      } finally {
        await tb.disconnect();
        await peer.close();
      }
    });
  }
}

Deno.test("TBDeviceMqttClient surfaces a refused access token as ConnectionRefusedError (v5 0x86 / 3.1.1 rc 4)", async () => {
  for (const version of [5, 4] as const) {
    const peer = StrictPeer.start({
      onConnection: (conn) =>
        conn.connack = (p) =>
          p.protocolVersion === 5
            ? { cmd: "connack", reasonCode: 0x86, sessionPresent: false }
            : { cmd: "connack", returnCode: 4, sessionPresent: false },
    });
    const tb = new TBDeviceMqttClient({
      host: HOST,
      port: peer.port,
      accessToken: "BAD",
      protocolVersion: version,
      fallback: false,
      sessionLimits: false,
    });
    try {
      const e = await tb.connect().then(() => undefined, (e: Error) => e);
      assert.ok(e instanceof ConnectionRefusedError, String(e));
      assert.equal(e.returnCode, 4);
      assert.ok(!e.message.includes("BAD"), "the token is not in the message");
      peer.assertClean();
    } finally {
      await tb.disconnect();
      await peer.close();
    }
  }
});

// Keep `bytesOf` and `vbi` exercised (helpers for ad-hoc raw packets).
Deno.test("strict peer helpers encode Variable Byte Integers minimally", () => {
  assert.deepEqual(vbi(127), [0x7f]);
  assert.deepEqual(vbi(128), [0x80, 0x01]);
  assert.deepEqual(vbi(268_435_455), [0xff, 0xff, 0xff, 0x7f]);
  assert.deepEqual([...bytesOf({ cmd: "publish", payload: "ab" })], [0x61, 0x62]);
});

// ---------------------------------------------------------------- more flows

Deno.test("MqttClient keeps Packet Identifiers unique across DUP resends, queued messages and a SUBSCRIBE re-sent after reconnect [MQTT-2.2.1-3] [MQTT-4.6.0-1]", async () => {
  await run({ reconnect: { ...FAST, initialDelay: 100 } }, async (peer, c, seen) => {
    await c.connect();
    const conn0 = await peer.nextConn();
    const sub = c.subscribe([{ topicFilter: "a/#", qos: 1 }]);
    const pubs = [0, 1, 2, 3].map((i) => c.publish("p", enc(`${i}`), { qos: 1 }));
    await conn0.waitCount((p) => p.cmd === "publish", 4);
    conn0.close();
    await until(() => seen.disconnects.length === 1);
    const later = [4, 5].map((i) => c.publish("p", enc(`${i}`), { qos: 1 }));
    const conn1 = await peer.nextConn();
    await sleep(30);
    const more = [6, 7].map((i) => c.publish("p", enc(`${i}`), { qos: 1 }));
    assert.deepEqual(await sub, [1]);
    await Promise.all([...pubs, ...later, ...more]);
    const p1 = conn1.all("publish");
    assert.deepEqual(p1.map(textOf), ["0", "1", "2", "3", "4", "5", "6", "7"]);
    assert.deepEqual(p1.map((p) => !!p.dup), [true, true, true, true, false, false, false, false]);
    const s1 = conn1.all("subscribe")[0]!;
    assert.ok(!p1.some((p) => p.messageId === s1.messageId));
    assert.equal(conn1.maxUnacked, 1);
    peer.assertClean();
  }, (conn, i) => {
    if (i === 0) {
      conn.autoSuback = false;
      conn.autoPuback = false;
    } else {
      conn.connack = () => ({
        cmd: "connack",
        reasonCode: 0,
        sessionPresent: false,
        properties: { receiveMaximum: 1 },
      });
      conn.autoPuback = (p) => {
        setTimeout(() => conn.puback(p.messageId!), 20);
        return false;
      };
    }
  });
});

Deno.test("MqttClient closes the connection when no CONNACK arrives within connectTimeout [MQTT-3.1.4 (client SHOULD close)]", async () => {
  await run({ connectTimeout: 300 }, async (peer, c) => {
    await assert.rejects(c.connect(), (e: Error) => e.name === "TimeoutError");
    const conn = await peer.nextConn();
    await conn.waitClosed(1000);
    assert.equal(conn.closedByPeer, false);
    assert.deepEqual(conn.packets.map((r) => r.p.cmd), ["connect"]);
    peer.assertClean();
  }, (conn) => conn.connack = () => undefined);
});

// The "ack nudge" PINGREQ (core/mqtt/_ack_nudge.ts) used to be re-armed by the PINGRESP it
// provoked, so while a QoS 1 PUBLISH waited for a slow PUBACK the client pinged back to back
// (about 330 in 500 ms). No MQTT statement limits the PINGREQ rate, but a broker's flood
// protection and a device's battery do.
Deno.test({
  name: "MqttClient keeps the PINGREQ rate bounded while a PUBACK is slow",
  fn: async () => {
    await run({}, async (peer, c) => {
      await c.connect();
      const conn = await peer.nextConn();
      conn.autoPuback = (p) => {
        setTimeout(() => conn.puback(p.messageId!), 500);
        return false;
      };
      const pub = c.publish("slow", enc("1"), { qos: 1 });
      setTimeout(() => conn.publish({ topic: "news", payload: "n" }), 20);
      await pub;
      assert.ok(conn.all("pingreq").length <= 5, `${conn.all("pingreq").length} PINGREQs`);
      peer.assertClean();
    });
  },
});

Deno.test("strict peer self-check: it flags a client that breaks the rules", async () => {
  // CONNECT 3.1.1, clean, client id "c".
  const CONNECT = [0x10, 0x0d, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0, 0, 1, 0x63];
  const cases: [string, number[]][] = [
    ["MQTT-3.1.0-1", [0x30, 0x04, 0x00, 0x01, 0x61, 0x62]],
    ["MQTT-3.1.2-3", [0x10, 0x0d, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x03, 0, 0, 0, 1, 0x63]],
    ["MQTT-3.1.2-13", [0x10, 0x0d, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x0a, 0, 0, 0, 1, 0x63]],
    [
      "MQTT-3.1.2-22",
      [0x10, 0x10, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x42, 0, 0, 0, 1, 0x63, 0, 1, 0x70],
    ],
    ["MQTT-3.8.1-1", [...CONNECT, 0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00]],
    ["MQTT-3.3.1-2", [...CONNECT, 0x38, 0x03, 0x00, 0x01, 0x61]],
    ["MQTT-2.2.1-3", [...CONNECT, 0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00]],
    ["MQTT-1.5.5-1", [...CONNECT, 0xc0, 0x80, 0x00]],
    ["MQTT-3.1.0-2", [...CONNECT, ...CONNECT]],
    ["MQTT-1.5.4-1", [...CONNECT, 0x30, 0x05, 0x00, 0x02, 0xc3, 0x28, 0x00]],
  ];
  for (const [id, bytes] of cases) {
    const peer = StrictPeer.start();
    const sock = await Deno.connect({ hostname: HOST, port: peer.port });
    try {
      const conn = await peer.nextConn();
      await sock.write(new Uint8Array(bytes)).catch(() => 0);
      await until(() => peer.violations.some((v) => v.includes(`[${id}`)), 1000, id).catch(
        () => {},
      );
      await conn.waitClosed(100).catch(() => {});
      const text = peer.violations.join("\n");
      assert.ok(text.includes(`[${id}`), `peer flags ${id}, got:\n${text}`);
      assert.throws(() => peer.assertClean());
    } finally {
      sock.close();
      await peer.close();
    }
  }
});
