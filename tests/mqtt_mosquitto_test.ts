/**
 * MqttClient against a real Mosquitto started on a free loopback port.
 */
import assert from "node:assert/strict";
import { tsCodec } from "../core/codec/mod.ts";
import { MqttClient, type MqttClientOptions, type PublishPacket } from "../core/mqtt/mod.ts";
import { wasmCodec } from "../wasm/mod.ts";
import { type Mosquitto, mosquittoPath, startMosquitto } from "./_mosquitto.ts";

const ignore = mosquittoPath() === undefined;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** A client of `broker` on loopback; `options` add to or override host and port. */
function clientOf(broker: Mosquitto, options: Partial<MqttClientOptions> = {}): MqttClient {
  return new MqttClient({ host: "127.0.0.1", port: broker.port, ...options });
}

/** Waits (really) until `cond()` holds; fails after `ms`. Not a timing assertion: a guard against hanging. */
async function waitUntil(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (
  const [protocolVersion, codec] of [[5, tsCodec], [4, tsCodec], [5, wasmCodec], [
    4,
    wasmCodec,
  ]] as const
) {
  Deno.test({
    name:
      `MqttClient publishes and receives QoS 0 and 1 through Mosquitto (level ${protocolVersion}, ${codec.name} codec)`,
    ignore,
    async fn() {
      await using broker = await startMosquitto();
      await using client = clientOf(broker, { protocolVersion, clientId: "t1", codec });
      const got: PublishPacket[] = [];
      client.addEventListener("message", (e) => got.push(e.detail));
      const connack = await client.connect();
      assert.equal(connack.reasonCode, 0);
      assert.equal(client.protocolVersion, protocolVersion);
      assert.deepEqual(
        await client.subscribe([{ topicFilter: "a/#", qos: 1 }, { topicFilter: "b", qos: 0 }]),
        [1, 0],
      );
      const r1 = await client.publish("a/1", enc("one"), { qos: 1 });
      assert.equal(r1.reasonCode, 0);
      await client.publish("b", enc("zero"));
      await client.publish("a/2", enc("two"), { qos: 0 });
      await waitUntil(() => got.length === 3, "3 messages");
      assert.deepEqual(got.map((p) => [p.topic, dec(p.payload), p.qos]), [
        ["a/1", "one", 1],
        ["b", "zero", 0],
        ["a/2", "two", 0],
      ]);
      await client.unsubscribe(["a/#"]);
      // nobody subscribes to a/3 now: MQTT 5 PUBACK says 0x10 "no matching subscribers" (a success)
      const r3 = await client.publish("a/3", enc("gone"), { qos: 1 });
      assert.equal(r3.reasonCode, protocolVersion === 5 ? 0x10 : 0);
      await client.publish("b", enc("last"), { qos: 1 });
      await waitUntil(() => got.length === 4, "the message after unsubscribe");
      assert.equal(dec(got[3]!.payload), "last");
      // a payload spanning many reads arrives intact
      const big = new Uint8Array(300_000).map((_, i) => (i * 7) & 255);
      await client.publish("b", big, { qos: 1 });
      await waitUntil(() => got.length === 5, "the large message");
      assert.deepEqual(got[4]!.payload, big);
    },
  });
}

Deno.test({
  name: "MqttClient keeps an idle connection alive with PINGREQ (keepalive 2 s)",
  ignore,
  async fn() {
    await using broker = await startMosquitto();
    await using client = clientOf(broker, { keepalive: 2 });
    let disconnects = 0;
    client.addEventListener("disconnect", () => disconnects++);
    await client.connect();
    // Mosquitto drops a client that is silent for 1.5 x keepalive; stay idle for longer than that.
    await new Promise((r) => setTimeout(r, 3400));
    assert.equal(disconnects, 0);
    assert.equal(client.state, "connected");
    await client.publish("k", enc("still here"), { qos: 1 });
  },
});

Deno.test({
  name:
    "MqttClient reconnects after Mosquitto restarts: resubscribes, resends, loses and duplicates nothing queued",
  ignore,
  async fn() {
    await using broker = await startMosquitto();
    await using client = clientOf(broker, {
      clientId: "counter",
      reconnect: { initialDelay: 50, maxDelay: 200 },
    });
    const counts = new Map<number, number>();
    client.addEventListener("message", (e) => {
      const n = Number(dec(e.detail.payload));
      counts.set(n, (counts.get(n) ?? 0) + 1);
    });
    let connects = 0;
    client.addEventListener("connect", () => connects++);
    await client.connect();
    await client.subscribe([{ topicFilter: "count/#", qos: 1 }]);
    // Phase 1: acknowledged before the outage.
    await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => client.publish(`count/${i}`, enc(String(i)), { qos: 1 }),
      ),
    );
    await waitUntil(() => counts.size === 20, "phase 1 messages");
    // Phase 2: written just before the broker stops (may be in flight: at least once, at most twice).
    const inflight = Array.from(
      { length: 10 },
      (_, k) => client.publish(`count/${20 + k}`, enc(String(20 + k)), { qos: 1 }),
    );
    await broker.stop();
    await waitUntil(() => client.state === "reconnecting", "the client to notice the outage");
    // Phase 3: published while offline: queued, then sent exactly once and in order.
    const queued = Array.from(
      { length: 20 },
      (_, k) => client.publish(`count/${30 + k}`, enc(String(30 + k)), { qos: 1 }),
    );
    assert.ok(client.pendingCount >= 20);
    await broker.start();
    await Promise.all([...inflight, ...queued]);
    await waitUntil(() => counts.size === 50, "all 50 messages");
    await client.flush();
    for (let i = 0; i < 50; i++) {
      const c = counts.get(i) ?? 0;
      if (i >= 20 && i < 30) assert.ok(c >= 1 && c <= 2, `message ${i} received ${c} times`);
      else assert.equal(c, 1, `message ${i} received ${c} times`);
    }
    assert.ok(connects >= 2);
  },
});

Deno.test({
  name: "MqttClient delivers a queue of 2,000 messages through a broker restart in order",
  ignore,
  async fn() {
    await using broker = await startMosquitto();
    await using client = clientOf(broker, {
      reconnect: { initialDelay: 50, maxDelay: 200 },
      queue: { maxSize: 5000 },
    });
    const seen: number[] = [];
    client.addEventListener("message", (e) => seen.push(Number(dec(e.detail.payload))));
    await client.connect();
    await client.subscribe([{ topicFilter: "q", qos: 1 }]);
    await broker.stop();
    await waitUntil(() => client.state === "reconnecting", "the outage");
    for (let i = 0; i < 2000; i++) client.publishNoWait("q", enc(String(i)), { qos: 1 });
    await broker.start();
    await client.flush({ timeout: 20_000 });
    await waitUntil(() => seen.length >= 2000, "2000 messages");
    assert.deepEqual(seen, Array.from({ length: 2000 }, (_, i) => i));
  },
});

Deno.test({
  name: "MqttClient reports a session taken over by another client with the same id",
  ignore,
  async fn() {
    await using broker = await startMosquitto();
    await using first = clientOf(broker, { clientId: "twin", reconnect: false });
    const details: { reason: Error | undefined; reasonCode?: number }[] = [];
    first.addEventListener("disconnect", (e) => details.push(e.detail));
    await first.connect();
    await using second = clientOf(broker, { clientId: "twin" });
    await second.connect();
    await waitUntil(() => details.length === 1, "the first client to be disconnected");
    assert.equal(details[0]!.reason?.name, "ConnectionClosedError");
    // Mosquitto 2.0.11 just closes the socket; later versions send DISCONNECT 0x8E first.
    if (details[0]!.reasonCode !== undefined) {
      assert.equal(details[0]!.reasonCode, 0x8e);
      assert.match(details[0]!.reason!.message, /0x8E session taken over/);
    }
    assert.equal(first.state, "disconnected");
    assert.equal(second.state, "connected");
  },
});
