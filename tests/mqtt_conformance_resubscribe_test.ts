// Conformance of the resubscription after a reconnect: never above the new server's Maximum Packet
// Size [MQTT-3.2.2-15], split into as many SUBSCRIBE packets as needed, too large ones reported.
import assert from "node:assert/strict";
import { MqttClient, type MqttClientOptions, PayloadTooLargeError } from "../core/mqtt/mod.ts";
import type { SubscribePacket } from "../core/codec/types.ts";
import { fakeClient } from "./_fake_transport.ts";
import { StrictPeer } from "./mqtt_conformance_peer.ts";

const CONNECT = "10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 63";
const hex2 = (n: number) => n.toString(16).padStart(2, "0");
/** CONNACK (MQTT 5) with a Maximum Packet Size, or none. */
const connack = (max?: number) =>
  max === undefined ? "20 03 00 00 00" : `20 08 00 00 05 27 00 00 00 ${hex2(max)}`;
/** One MQTT 5 subscription entry (QoS 1) for an ASCII topic filter. */
const entry = (f: string) =>
  `00 ${hex2(f.length)} ${[...f].map((c) => hex2(c.charCodeAt(0))).join(" ")} 01`;
/** SUBSCRIBE (MQTT 5, no properties) with packet identifier `id`. */
function subscribe(id: number, filters: string[]): string {
  const body = `00 ${hex2(id)} 00 ` + filters.map(entry).join(" ");
  return `82 ${hex2(body.split(" ").length)} ${body}`;
}
/** SUBACK granting QoS 1 to `n` filters. */
const suback = (id: number, n: number) => `90 ${hex2(3 + n)} 00 ${hex2(id)} 00` + " 01".repeat(n);

/**
 * A connected client on a fake network (`connect` and `ack` are the expected CONNECT and the
 * CONNACK answering it) that reconnects after exactly 1 s, with its `"error"` events.
 */
async function fake(
  options: Partial<MqttClientOptions> = {},
  connect = CONNECT,
  ack = connack(),
) {
  const { net, clock, client } = fakeClient({
    reconnect: { initialDelay: 1000, maxDelay: 1000, jitter: 0 },
    ...options,
  });
  const errors: Error[] = [];
  client.addEventListener("error", (e) => errors.push(e.detail));
  const done = client.connect();
  const t0 = await net.connection(0);
  await t0.expect(connect);
  t0.respond(ack);
  await done;
  return { net, clock, client, errors, t0 };
}

Deno.test("MqttClient resubscribes in as many SUBSCRIBE packets as the new Maximum Packet Size needs", async () => {
  const { net, clock, client, errors, t0 } = await fake();
  const first = client.subscribe(["a", "b", "c"].map((topicFilter) => ({ topicFilter, qos: 1 })));
  await t0.expect(subscribe(1, ["a", "b", "c"]));
  t0.respond(suback(1, 3));
  assert.deepEqual(await first, [1, 1, 1]);
  const second = client.subscribe([{ topicFilter: "long/x", qos: 1 }]);
  await t0.expect(subscribe(2, ["long/x"])); // 14 bytes
  t0.respond(suback(2, 1));
  await second;
  // Each reconnect brings another limit; [a, b, c] alone is 17 bytes, [a, b] 13, [c] 9.
  const rounds: [number | undefined, string[][]][] = [
    [17, [["a", "b", "c"], ["long/x"]]], // a packet exactly at the limit is allowed
    [16, [["a", "b"], ["c"], ["long/x"]]],
    [13, [["a", "b"], ["c"]]], // "long/x" fits in no packet: reported and forgotten
    [undefined, [["a", "b", "c"]]], // and not subscribed again when it would fit
  ];
  let id = 3;
  for (const [i, [max, packets]] of rounds.entries()) {
    net.connections[i]!.end();
    await clock.advance(1000);
    const t = await net.connection(i + 1);
    await t.expect(CONNECT);
    t.respond(connack(max));
    for (const filters of packets) {
      await t.expect(subscribe(id, filters));
      t.respond(suback(id++, filters.length));
    }
    await t.expectNothing();
  }
  assert.equal(errors.length, 1);
  const e = errors[0];
  assert.ok(e instanceof PayloadTooLargeError, String(e));
  assert.equal(e.size, 14);
  assert.equal(e.limit, 13);
  assert.match(
    e.message,
    /^Cannot send SUBSCRIBE \(topic filter "long\/x"\): the packet is 14 bytes/,
  );
  await client.disconnect();
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient fails a subscribe() made offline that outgrew the new Maximum Packet Size", async () => {
  const { net, clock, client, errors, t0 } = await fake();
  t0.end();
  await clock.advance(0);
  assert.equal(client.state, "reconnecting");
  const offline = client.subscribe([{ topicFilter: "a", qos: 1 }, {
    topicFilter: "long/x",
    qos: 1,
  }])
    .catch((e) => e);
  const small = client.subscribe([{ topicFilter: "b", qos: 1 }]);
  await clock.advance(1000);
  const t1 = await net.connection(1);
  await t1.expect(CONNECT);
  t1.respond(connack(13)); // [a, long/x] is 18 bytes
  await t1.expect(subscribe(1, ["b"]));
  t1.respond(suback(1, 1));
  const e = await offline;
  assert.ok(e instanceof PayloadTooLargeError, String(e));
  assert.match(e.message, /^Cannot send SUBSCRIBE: the packet is 18 bytes, the limit is 13 bytes/);
  assert.deepEqual(await small, [1]);
  await t1.expectNothing();
  assert.deepEqual(errors, []); // the caller got the error
  t1.end();
  await clock.advance(1000);
  const t2 = await net.connection(2);
  await t2.expect(CONNECT);
  t2.respond(connack());
  await t2.expect(subscribe(2, ["b"])); // the refused request left nothing to resubscribe
  await t2.expectNothing();
  await client.disconnect();
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient resubscribes many filters within the server's limit, in order, each once", async () => {
  await using peer = new StrictPeer();
  await using c = new MqttClient({
    host: "127.0.0.1",
    port: peer.port,
    clientId: "c",
    reconnect: { initialDelay: 10, jitter: 0 },
  });
  const done = c.connect();
  done.catch(() => {}); // a failed assertion must not surface as this rejection
  const limit = 64;
  const conn = await peer.connection(0);
  await conn.accept(`20 08 00 00 05 27 00 00 00 ${hex2(limit)}`);
  await done;
  const filters = Array.from({ length: 40 }, (_, i) => `dev/${"x".repeat(i % 7)}${i}/+`);
  for (let i = 0; i < filters.length; i += 2) {
    const sub = c.subscribe(
      filters.slice(i, i + 2).map((topicFilter) => ({ topicFilter, qos: 1 })),
    );
    const s = await conn.expect("subscribe"); // the peer checks every packet against the limit
    await conn.send({ type: "suback", packetId: s.packetId, reasonCodes: [1, 1] });
    await sub;
  }
  conn.close();
  const again = await peer.connection(1);
  await again.accept(`20 08 00 00 05 27 00 00 00 ${hex2(limit)}`);
  const seen: string[] = [];
  const sizes: number[] = [];
  const ids = new Set<number>();
  while (seen.length < filters.length) {
    const { packet, bytes } = await again.next();
    assert.equal(packet.type, "subscribe");
    const s = packet as SubscribePacket;
    if (sizes.length > 0) {
      // Greedy: the previous packet had no room for this one's first filter (2 + length + 1 bytes).
      assert.ok(sizes.at(-1)! + 3 + s.subscriptions[0]!.topicFilter.length > limit);
    }
    sizes.push(bytes.length);
    ids.add(s.packetId);
    seen.push(...s.subscriptions.map((x) => x.topicFilter));
    await again.send({
      type: "suback",
      packetId: s.packetId,
      reasonCodes: s.subscriptions.map(() => 1),
    });
  }
  assert.deepEqual(seen, filters);
  assert.ok(sizes.length > 1 && sizes.length < 20, `${sizes.length} packets`);
  assert.equal(ids.size, sizes.length);
});

Deno.test("MqttClient resubscribes within its own maxPacketSize on MQTT 3.1.1", async () => {
  // Two subscribe() calls that each fit; together they would not, and the client's own
  // maxPacketSize bounds every packet it sends: the resubscription must not merge them (19 bytes).
  const connect = "10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 63";
  const { net, clock, client, errors, t0 } = await fake(
    { protocolVersion: 4, maxPacketSize: 16 },
    connect,
    "20 02 00 00",
  );
  const sub4 = (id: number, filters: string[]) => {
    const body = `00 ${hex2(id)} ` + filters.map(entry).join(" ");
    return `82 ${hex2(body.split(" ").length)} ${body}`;
  };
  const first = client.subscribe([{ topicFilter: "aa", qos: 1 }, { topicFilter: "bb", qos: 1 }]);
  await t0.expect(sub4(1, ["aa", "bb"])); // 14 bytes
  t0.respond("90 04 00 01 01 01");
  await first;
  const second = client.subscribe([{ topicFilter: "cc", qos: 1 }]);
  await t0.expect(sub4(2, ["cc"]));
  t0.respond("90 03 00 02 01");
  await second;
  t0.end();
  await clock.advance(1000);
  const t1 = await net.connection(1);
  await t1.expect(connect);
  t1.respond("20 02 00 00");
  await t1.expect(sub4(3, ["aa", "bb"]) + " " + sub4(4, ["cc"]));
  await t1.expectNothing();
  assert.deepEqual(errors, []);
  await client.disconnect();
  assert.equal(clock.pending, 0);
});
