import assert from "node:assert/strict";
import { MqttDecodeError } from "../core/codec/mod.ts";
import {
  ConnectionClosedError,
  type MqttClientOptions,
  PayloadTooLargeError,
  PublishError,
  type PublishOptions,
  SubscribeError,
} from "../core/mqtt/mod.ts";
import { fakeClient, type FakeNetwork, type FakeTransport, settle } from "./_fake_transport.ts";

const CONNECT_V5 = "10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 63";
const X = new TextEncoder().encode("x");

async function connected(options: Partial<MqttClientOptions> = {}, connack = "20 03 00 00 00") {
  const { net, clock, client } = fakeClient({ host: "broker", ...options });
  const p = client.connect();
  const t = await net.connection(0);
  const ka = (options.keepalive ?? 60).toString(16).padStart(4, "0");
  await t.expect(`10 0e 00 04 4d 51 54 54 05 02 ${ka.slice(0, 2)} ${ka.slice(2)} 00 00 01 63`);
  t.respond(connack);
  await p;
  return { net, clock, client, t };
}

/** Accepts the reconnection number `index`. */
async function accept(
  net: FakeNetwork,
  index: number,
  connect = CONNECT_V5,
): Promise<FakeTransport> {
  const t = await net.connection(index);
  await t.expect(connect);
  t.respond("20 03 00 00 00");
  await settle();
  return t;
}

Deno.test("MqttClient.publish() sends QoS 0 and QoS 1 with sequential packet ids", async () => {
  const { client, clock, t } = await connected();
  const q0 = await client.publish("t", X);
  assert.deepEqual(q0, { packetId: 0, reasonCode: 0 });
  await t.expect("30 05 00 01 74 00 78");
  const a = client.publish("t", X, { qos: 1 });
  const b = client.publish("t", X, { qos: 1, retain: true });
  await t.expect("32 07 00 01 74 00 01 00 78 33 07 00 01 74 00 02 00 78");
  t.respond("40 02 00 02 40 03 00 01 10"); // out of order; 0x10 no matching subscribers is a success
  assert.deepEqual(await a, { packetId: 1, reasonCode: 0x10 });
  assert.deepEqual(await b, { packetId: 2, reasonCode: 0 });
  await client.disconnect();
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient.publish() rejects with PublishError carrying the v5 PUBACK reason code", async () => {
  const { client, t } = await connected();
  const p = client.publish("v1/devices/me/telemetry", X, { qos: 1 }).catch((e) => e);
  await settle();
  t.respond("40 03 00 01 99");
  const e = await p;
  assert.ok(e instanceof PublishError);
  assert.equal(e.reasonCode, 0x99);
  assert.equal(e.topic, "v1/devices/me/telemetry");
  assert.match(e.message, /0x99 payload format invalid/);
  // the connection stays up
  assert.equal(client.state, "connected");
  const errors: Error[] = [];
  client.addEventListener("error", (ev) => errors.push(ev.detail));
  client.publishNoWait("t", X, { qos: 1 });
  await settle();
  t.respond("40 03 00 02 90"); // nobody awaits: reported as an "error" event
  await settle();
  assert.ok(errors[0] instanceof PublishError && errors[0].reasonCode === 0x90);
  await client.disconnect();
});

Deno.test("MqttClient.publish() refuses bad input before sending anything", async () => {
  const { client, t } = await connected({ maxPacketSize: 100 });
  // deno-lint-ignore no-explicit-any
  await assert.rejects(client.publish("t", X, { qos: 2 as any }), {
    name: "RangeError",
    message:
      "Cannot publish with QoS 2: this client supports QoS 0 and 1 (ThingsBoard has no QoS 2)",
  });
  await assert.rejects(client.publish("a/+", X), {
    name: "TypeError",
    message: 'Cannot publish: "a/+" is not a valid topic name; ' +
      "use a non-empty name without the wildcards + and # or U+0000",
  });
  await assert.rejects(client.publish("", X), {
    name: "TypeError",
    message: /^Cannot publish: "" is not a valid topic name; use a non-empty name/,
  });
  // deno-lint-ignore no-explicit-any
  await assert.rejects(client.publish("t", "x" as any), {
    name: "TypeError",
    message: "Cannot publish: payload must be a Uint8Array",
  });
  const e = await client.publish("t", new Uint8Array(200), { qos: 1 }).catch((e) => e);
  assert.ok(e instanceof PayloadTooLargeError);
  assert.deepEqual([e.size, e.limit], [209, 100]);
  assert.match(e.message, /209 bytes, the limit is 100 bytes/);
  assert.throws(() => client.publishNoWait("t", new Uint8Array(200)), PayloadTooLargeError);
  await t.expectNothing();
  await client.disconnect();
});

Deno.test("MqttClient.maxPacketSize follows the server's Maximum Packet Size", async () => {
  const { client, t } = await connected({}, "20 08 00 00 05 27 00 00 00 40");
  assert.equal(client.maxPacketSize, 64);
  await assert.rejects(client.publish("t", new Uint8Array(60)), PayloadTooLargeError);
  await client.publish("t", new Uint8Array(50));
  await t.expect("30 36 00 01 74 00");
  await client.disconnect();
});

Deno.test("MqttClient coalesces a burst of publishes into one write", async () => {
  const { client, clock, t } = await connected();
  const before = t.writeCalls;
  for (let i = 0; i < 50; i++) client.publishNoWait("t", X, { qos: i % 2 as 0 | 1 });
  await settle();
  assert.equal(t.writeCalls - before, 1);
  await t.expect("30 05 00 01 74 00 78 32 07 00 01 74 00 01 00 78");
  const d = client.disconnect({ timeout: 10 });
  await clock.advance(10);
  await d;
});

Deno.test("MqttClient keeps at most maxInflight QoS 1 messages in flight", async () => {
  const { client, t } = await connected({ maxInflight: 2 });
  const done: number[] = [];
  for (let i = 0; i < 4; i++) client.publish("t", X, { qos: 1 }).then((r) => done.push(r.packetId));
  await t.expect("32 07 00 01 74 00 01 00 78 32 07 00 01 74 00 02 00 78");
  await t.expectNothing();
  assert.equal(client.pendingCount, 4);
  t.respond("40 02 00 01");
  await t.expect("32 07 00 01 74 00 03 00 78");
  await t.expectNothing();
  t.respond("40 02 00 02 40 02 00 03");
  await t.expect("32 07 00 01 74 00 04 00 78");
  t.respond("40 02 00 04");
  await client.flush();
  assert.deepEqual(done, [1, 2, 3, 4]);
  await client.disconnect();
});

Deno.test("MqttClient acknowledges inbound QoS 1 PUBLISH and dispatches message events", async () => {
  const { client, t } = await connected();
  const got: string[] = [];
  client.addEventListener(
    "message",
    (e) => got.push(`${e.detail.topic}:${new TextDecoder().decode(e.detail.payload)}`),
  );
  t.respond("32 07 00 01 74 00 07 00 78 30 05 00 01 75 00 79");
  await t.expect("40 02 00 07");
  assert.deepEqual(got, ["t:x", "u:y"]);
  // inbound QoS 2: PUBREC, delivered once, PUBCOMP after PUBREL
  t.respond("34 07 00 01 74 00 09 00 78");
  await t.expect("50 02 00 09");
  t.respond("62 02 00 09");
  await t.expect("70 02 00 09");
  assert.equal(got.length, 3);
  await client.disconnect();
});

Deno.test("MqttClient sends PINGREQ when idle and reconnects when the server goes silent", async () => {
  const { client, clock, net, t } = await connected({ keepalive: 10 });
  const events: string[] = [];
  client.addEventListener("disconnect", (e) => events.push(`disconnect:${e.detail.reason?.name}`));
  client.addEventListener(
    "reconnecting",
    (e) => events.push(`reconnecting:${e.detail.attempt}:${e.detail.delay}`),
  );
  // PINGREQ after 3/4 of the keepalive: a late timer still keeps packets within 10 s.
  await clock.advance(7499);
  await t.expectNothing();
  await clock.advance(1);
  await t.expect("c0 00");
  t.respond("d0 00");
  await clock.advance(7_500);
  await t.expect("c0 00");
  await clock.advance(7_499);
  assert.equal(t.closed, false);
  await clock.advance(1); // 15 s = 1.5 x keepalive after the last PINGRESP
  assert.equal(t.closed, true);
  assert.equal(client.state, "reconnecting");
  assert.deepEqual(events, ["disconnect:ConnectionClosedError", "reconnecting:1:1000"]);
  assert.match(client.lastError!.message, /1.5 x keepalive \(15 s\)/);
  await clock.advance(1000);
  await accept(net, 1, "10 0e 00 04 4d 51 54 54 05 02 00 0a 00 00 01 63");
  assert.equal(client.state, "connected");
  await client.disconnect();
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient reconnects with exponential backoff, reset only after a stable connection", async () => {
  const { client, clock, net, t } = await connected({
    reconnect: { initialDelay: 100, factor: 3, jitter: 0 },
  });
  const delays: number[] = [];
  client.addEventListener("reconnecting", (e) => delays.push(e.detail.delay));
  const errors: Error[] = [];
  client.addEventListener("error", (e) => errors.push(e.detail));
  net.failNext();
  net.failNext();
  t.end();
  await settle();
  await clock.advance(100);
  await clock.advance(300);
  await clock.advance(899);
  assert.equal(net.connections.length, 1);
  await clock.advance(1);
  const t1 = await accept(net, 1);
  assert.deepEqual(delays, [100, 300, 900]);
  assert.equal(errors.length, 2);
  assert.ok(errors.every((e) => e instanceof ConnectionClosedError));
  // kicked right after connecting (e.g. session taken over): the backoff keeps growing
  t1.respond("e0 02 8e 00");
  await settle();
  assert.deepEqual(delays, [100, 300, 900, 2700]);
  await clock.advance(2700);
  const t2 = await accept(net, 2);
  // a session taken over keeps growing the backoff, however long it lasted
  await clock.advance(60_000);
  t2.respond("e0 02 8e 00");
  await settle();
  assert.deepEqual(delays, [100, 300, 900, 2700, 8100]);
  await clock.advance(8100);
  const t3 = await accept(net, 3);
  // a connection that lasted 5 s (a broker restart, say) starts the sequence again
  await clock.advance(5_000);
  t3.respond("d0 00");
  t3.end();
  await settle();
  assert.deepEqual(delays, [100, 300, 900, 2700, 8100, 100]);
  await client.disconnect();
  assert.equal(client.state, "disconnected");
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient resends unacknowledged QoS 1 with DUP, then the offline queue, in order", async () => {
  const { client, clock, net, t } = await connected();
  const results: string[] = [];
  const track = (name: string, p: Promise<unknown>) =>
    p.then(() => results.push(name), (e) => results.push(`${name}:${e}`));
  track("a", client.publish("t", X, { qos: 1 }));
  await t.expect("32 07 00 01 74 00 01 00 78");
  t.respond("e0 02 8e 00"); // server DISCONNECT: session taken over
  await settle();
  assert.equal(client.state, "reconnecting");
  assert.equal((client.lastError as ConnectionClosedError).reasonCode, 0x8e);
  track("b", client.publish("t", new TextEncoder().encode("y"), { qos: 1 }));
  track("c", client.publish("t", new TextEncoder().encode("z")));
  assert.equal(client.pendingCount, 3);
  await clock.advance(1000);
  const t1 = await accept(net, 1);
  await t1.expect("3a 07 00 01 74 00 01 00 78 32 07 00 01 74 00 02 00 79 30 05 00 01 74 00 7a");
  t1.respond("40 02 00 01 40 02 00 02");
  await client.flush();
  assert.deepEqual(results.sort(), ["a", "b", "c"]);
  await client.disconnect();
});

Deno.test("MqttClient does not resend an in-flight message whose publish was aborted", async () => {
  const { client, net, clock, t } = await connected();
  const ac = new AbortController();
  const a = client.publish("t", X, { qos: 1, signal: ac.signal }).catch((e) => e);
  const b = client.publish("t", new TextEncoder().encode("y"), { qos: 1 });
  await t.expect("32 07 00 01 74 00 01 00 78 32 07 00 01 74 00 02 00 79");
  ac.abort(new RangeError("too many data points"));
  assert.equal((await a).message, "too many data points");
  t.end();
  await settle();
  await clock.advance(1000);
  const t1 = await accept(net, 1);
  // Only the message still awaited comes again.
  await t1.expect("3a 07 00 01 74 00 02 00 79");
  t1.respond("40 02 00 02");
  assert.deepEqual(await b, { packetId: 2, reasonCode: 0 });
  const c = client.publish("t", X, { qos: 1 });
  await t1.expect("32 07 00 01 74 00 03 00 78");
  t1.respond("40 02 00 03");
  await c;
  assert.equal(client.pendingCount, 0);
  await client.disconnect();
});

Deno.test("MqttClient onSessionStart publishes ahead of resent and queued messages", async () => {
  const ref: { client?: ReturnType<typeof fakeClient>["client"] } = {};
  let starts = 0;
  const { client, net, clock, t } = await connected({
    onSessionStart: () => {
      if (++starts === 2) ref.client!.publishNoWait("f", new TextEncoder().encode("1"), { qos: 1 });
    },
  });
  ref.client = client;
  const a = client.publish("t", X, { qos: 1 });
  await t.expect("32 07 00 01 74 00 01 00 78");
  t.end();
  await settle();
  const b = client.publish("t", new TextEncoder().encode("y")); // queued, QoS 0
  await clock.advance(1000);
  const t1 = await accept(net, 1);
  // The hook's message (id 2), the resent one (DUP, id 1), then the queue.
  await t1.expect("32 07 00 01 66 00 02 00 31 3a 07 00 01 74 00 01 00 78 30 05 00 01 74 00 79");
  t1.respond("40 02 00 02 40 02 00 01");
  await Promise.all([a, b]);
  assert.equal(client.pendingCount, 0);
  assert.equal(starts, 2);
  await client.disconnect();
});

Deno.test("MqttClient reports a server DISCONNECT reason code in the disconnect event", async () => {
  const { client, t } = await connected();
  const details: { reason: Error | undefined; reasonCode?: number }[] = [];
  client.addEventListener("disconnect", (e) => details.push(e.detail));
  t.respond("e0 02 a0 00"); // maximum connect time (ThingsBoard inactivity)
  await settle();
  assert.equal(details[0]?.reasonCode, 0xa0);
  assert.ok(details[0]?.reason instanceof ConnectionClosedError);
  assert.match(details[0]!.reason!.message, /0xA0 maximum connect time/);
  await client.disconnect();
});

Deno.test("MqttClient queue policy reject fails new messages when the queue is full", async () => {
  const { client, t } = await connected({
    queue: { maxSize: 2 },
    reconnect: { initialDelay: 60_000 },
  });
  t.end();
  await settle();
  const a = client.publish("t", X);
  const b = client.publish("t", X);
  await assert.rejects(client.publish("t", X), { name: "QueueFullError" });
  assert.throws(() => client.publishNoWait("t", X), { name: "QueueFullError" });
  await client.disconnect();
  await assert.rejects(a, ConnectionClosedError);
  await assert.rejects(b, ConnectionClosedError);
});

Deno.test("MqttClient queue policy drop-oldest fails the dropped message and sends the rest in order", async () => {
  const { client, clock, net, t } = await connected({
    queue: { maxSize: 2, policy: "drop-oldest" },
  });
  t.end();
  await settle();
  const first = client.publish("t", new TextEncoder().encode("1")).catch((e) => e);
  client.publishNoWait("t", new TextEncoder().encode("2"));
  client.publishNoWait("t", new TextEncoder().encode("3"));
  const e = await first;
  assert.equal(e.name, "MessageDroppedError");
  await clock.advance(1000);
  const t1 = await accept(net, 1);
  await t1.expect("30 05 00 01 74 00 32 30 05 00 01 74 00 33");
  await client.disconnect();
});

Deno.test("MqttClient resubscribes after every reconnect and forgets refused filters", async () => {
  const { client, clock, net, t } = await connected();
  const sub = client.subscribe([{ topicFilter: "a/b", qos: 1 }, { topicFilter: "c", qos: 0 }]);
  await t.expect("82 0d 00 01 00 00 03 61 2f 62 01 00 01 63 00");
  t.respond("90 05 00 01 00 01 00");
  assert.deepEqual(await sub, [1, 0]);
  const bad = client.subscribe([{ topicFilter: "d", qos: 1 }]).catch((e) => e);
  await t.expect("82 07 00 02 00 00 01 64 01");
  t.respond("90 04 00 02 00 8f");
  const e = await bad;
  assert.ok(e instanceof SubscribeError);
  assert.deepEqual([e.failedTopicFilters, e.reasonCode], [["d"], 0x8f]);
  const unsub = client.unsubscribe(["c"]);
  await t.expect("a2 06 00 03 00 00 01 63");
  t.respond("b0 04 00 03 00 00");
  await unsub;
  t.end();
  await settle();
  await clock.advance(1000);
  const t1 = await accept(net, 1);
  await t1.expect("82 09 00 04 00 00 03 61 2f 62 01"); // only a/b remains
  t1.respond("90 04 00 04 00 01");
  await client.disconnect();
});

Deno.test("MqttClient.subscribe() made offline is sent on the next connection", async () => {
  const { net, client } = fakeClient({ reconnect: true });
  const sub = client.subscribe([{ topicFilter: "x", qos: 1 }]);
  const p = client.connect();
  const t = await accept(net, 0);
  await p;
  await t.expect("82 07 00 01 00 00 01 78 01");
  t.respond("90 04 00 01 00 01");
  assert.deepEqual(await sub, [1]);
  await assert.rejects(client.subscribe([{ topicFilter: "x", qos: 2 as 1 }]), {
    name: "RangeError",
    message: 'Cannot subscribe to "x" with QoS 2: use QoS 0 or 1',
  });
  await assert.rejects(client.subscribe([{ topicFilter: "a/#/b", qos: 1 }]), {
    name: "TypeError",
    message: 'Cannot subscribe: "a/#/b" is not a valid topic filter; a filter is non-empty, ' +
      'uses "+" only as a whole level and "#" only as the whole last one',
  });
  await client.disconnect();
});

Deno.test("MqttClient survives bad bytes: error event, clean close, reconnect", async () => {
  const { client, clock, net, t } = await connected();
  const errors: Error[] = [];
  client.addEventListener("error", (e) => errors.push(e.detail));
  t.respond("36 00"); // PUBLISH with QoS 3
  await settle();
  assert.ok(errors[0] instanceof MqttDecodeError);
  assert.equal(t.closed, true);
  assert.equal(client.state, "reconnecting");
  await clock.advance(1000);
  const t1 = await accept(net, 1);
  const p = client.publish("t", X, { qos: 1 });
  await t1.expect("32 07 00 01 74 00 01 00 78");
  t1.respond("40 02 00 01");
  await p;
  t1.respond("20 03 00 00 00"); // a second CONNACK is a protocol violation
  await settle();
  assert.equal(errors[1]?.name, "ProtocolViolationError");
  assert.equal(t1.closed, true);
  await client.disconnect();
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient.disconnect() flushes in-flight messages before DISCONNECT", async () => {
  const { client, clock, t } = await connected();
  const p = client.publish("t", X, { qos: 1 });
  await t.expect("32 07 00 01 74 00 01 00 78");
  const d = client.disconnect();
  assert.equal(client.state, "closing");
  await assert.rejects(client.publish("t", X), ConnectionClosedError);
  await t.expectNothing();
  t.respond("40 02 00 01");
  await p;
  await t.expect("e0 00");
  await d;
  assert.equal(t.closed, true);
  assert.equal(client.state, "disconnected");
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient.disconnect() gives up on unacknowledged messages after its timeout", async () => {
  const { client, clock, t } = await connected();
  const p = client.publish("t", X, { qos: 1 }).catch((e) => e);
  const d = client.disconnect({ timeout: 500 });
  await clock.advance(500);
  await d;
  const e = await p;
  assert.ok(e instanceof ConnectionClosedError);
  assert.equal(t.closed, true);
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient option signal stops everything when aborted", async () => {
  const ac = new AbortController();
  const { client, clock, t } = await connected({ signal: ac.signal });
  const p = client.publish("t", X, { qos: 1 }).catch((e) => e);
  await settle();
  ac.abort();
  const e = await p;
  assert.equal(e.name, "AbortError");
  assert.equal(t.closed, true);
  assert.equal(client.state, "disconnected");
  assert.equal(clock.pending, 0);
  await assert.rejects(client.publish("t", X), { name: "AbortError" });
  await assert.rejects(client.connect(), { name: "AbortError" });
});

Deno.test("MqttClient.publish() signal removes a queued message", async () => {
  const { client, clock, net, t } = await connected();
  t.end();
  await settle();
  const ac = new AbortController();
  const p = client.publish("t", X, { signal: ac.signal }).catch((e) => e);
  client.publishNoWait("t", new TextEncoder().encode("y"));
  ac.abort();
  assert.equal((await p).name, "AbortError");
  await clock.advance(1000);
  const t1 = await accept(net, 1);
  await t1.expect("30 05 00 01 74 00 79");
  await client.disconnect();
});

Deno.test("MqttClient with reconnect: false fails pending messages when the connection drops", async () => {
  const { client, clock, t } = await connected({ reconnect: false });
  const p = client.publish("t", X, { qos: 1 }).catch((e) => e);
  await settle();
  t.end();
  const e = await p;
  assert.ok(e instanceof ConnectionClosedError);
  assert.equal(client.state, "disconnected");
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient.connect() while reconnecting tries at once instead of waiting for the backoff", async () => {
  const { client, clock, net, t } = await connected({
    reconnect: { initialDelay: 60_000, jitter: 0 },
  });
  t.end();
  await settle();
  assert.equal(client.state, "reconnecting");
  const p = client.connect();
  assert.equal(client.state, "connecting");
  await accept(net, 1);
  await p;
  assert.equal(client.state, "connected");
  await clock.advance(60_000); // the cancelled backoff timer must not open a third connection
  assert.equal(net.connections.length, 2);
  await client.disconnect();
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient honours CONNACK Server Keep Alive, Receive Maximum, Maximum QoS, Retain Available", async () => {
  // Server Keep Alive 5 s (0x13) and Receive Maximum 1 (0x21)
  const { client, clock, t } = await connected({}, "20 09 00 00 06 13 00 05 21 00 01");
  client.publishNoWait("t", X, { qos: 1 });
  client.publishNoWait("t", X, { qos: 1 });
  await t.expect("32 07 00 01 74 00 01 00 78");
  await t.expectNothing(); // one in flight at most
  t.respond("40 02 00 01");
  await t.expect("32 07 00 01 74 00 02 00 78");
  t.respond("40 02 00 02");
  await clock.advance(5000);
  await t.expect("c0 00"); // PINGREQ after the server's 5 s, not the requested 60 s
  t.respond("d0 00");
  await client.disconnect();
  // Maximum QoS 0 (0x24) and Retain Available 0 (0x25): refused locally
  const q0 = await connected({}, "20 07 00 00 04 24 00 25 00");
  await assert.rejects(q0.client.publish("t", X, { qos: 1 }), {
    name: "RangeError",
    message: "Cannot publish with QoS 1: the server accepts QoS 0 at most; publish with qos 0",
  });
  await assert.rejects(q0.client.publish("t", X, { retain: true }), /does not support retained/);
  await q0.t.expectNothing();
  await q0.client.disconnect();
});

Deno.test("MqttClient.disconnect() announces one disconnect when the connection drops while flushing", async () => {
  const { client, clock, t } = await connected();
  let disconnects = 0;
  client.addEventListener("disconnect", () => disconnects++);
  const p = client.publish("t", X, { qos: 1 }).catch((e) => e);
  await settle();
  const d = client.disconnect();
  t.end();
  await d;
  assert.ok((await p) instanceof ConnectionClosedError);
  assert.equal(disconnects, 1);
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient keeps running whatever bytes the server sends (random input)", async () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let round = 0; round < 40; round++) {
    const { client, clock, net, t } = await connected({ keepalive: 0 });
    const errors: Error[] = [];
    client.addEventListener("error", (e) => errors.push(e.detail));
    for (let k = 0; k < 5 && !t.closed; k++) {
      const chunk = new Uint8Array(1 + Math.floor(rand() * 40)).map(() => Math.floor(rand() * 256));
      t.respond(chunk);
      await settle();
    }
    assert.ok(["connected", "reconnecting"].includes(client.state), client.state);
    if (client.state === "reconnecting") {
      await clock.advance(1000);
      await accept(net, 1, "10 0e 00 04 4d 51 54 54 05 02 00 00 00 00 01 63");
      assert.equal(client.state, "connected");
    }
    for (const e of errors) assert.ok(e instanceof Error && e.message.length > 0);
    const d = client.disconnect({ timeout: 100 });
    await clock.advance(100);
    await d;
    assert.equal(client.state, "disconnected");
    assert.equal(clock.pending, 0);
  }
});

Deno.test("MqttClient handles packets split across reads and partial writes", async () => {
  const { net, clock, client } = fakeClient({ reconnect: true });
  const p = client.connect();
  const t = await net.connection(0);
  t.writeLimit = 3;
  await t.expect(CONNECT_V5);
  for (const b of [0x20, 0x03, 0x00, 0x00, 0x00]) t.respond(new Uint8Array([b])); // CONNACK byte by byte
  await p;
  const got: string[] = [];
  client.addEventListener("message", (e) => got.push(new TextDecoder().decode(e.detail.payload)));
  const a = client.publish("t", X, { qos: 1 });
  const b = client.publish("t", X, { qos: 1 });
  await t.expect("32 07 00 01 74 00 01 00 78 32 07 00 01 74 00 02 00 78");
  t.respond("40 02 00 01 40");
  t.respond("02 00 02 30 06 00 01 75 00 68");
  t.respond("69");
  assert.deepEqual([(await a).packetId, (await b).packetId], [1, 2]);
  await settle();
  assert.deepEqual(got, ["hi"]);
  await client.disconnect();
  await t.expect("e0 00");
  assert.equal(clock.pending, 0);
});

/**
 * Publishes with QoS 1, loses the connection before the PUBACK and reconnects to a server whose
 * Maximum Packet Size is 64; returns the publish's error and asserts that nothing was resent.
 */
async function publishThenShrinkLimit(payload: Uint8Array, options: PublishOptions) {
  const { client, clock, net, t } = await connected();
  const p = client.publish("t", payload, { qos: 1, ...options }).catch((e) => e);
  await settle();
  t.end();
  await settle();
  await clock.advance(1000);
  const t1 = await net.connection(1);
  await t1.expect(CONNECT_V5);
  t1.respond("20 08 00 00 05 27 00 00 00 40"); // Maximum Packet Size 64
  const e = await p;
  await t1.expectNothing(); // not resent: the server would only close the connection again
  await client.disconnect();
  return e;
}

Deno.test("MqttClient fails an in-flight message that outgrew a smaller limit after reconnect", async () => {
  const e = await publishThenShrinkLimit(new Uint8Array(100), {});
  assert.ok(e instanceof PayloadTooLargeError, String(e));
  assert.deepEqual([e.size, e.limit], [108, 64]);
  assert.match(
    e.message,
    /^Cannot send PUBLISH: the packet is 108 bytes, the limit is 64 bytes; send less data/,
  );
});

Deno.test("MqttClient counts properties when checking an in-flight message against a smaller limit", async () => {
  const properties = { userProperties: [["k".repeat(30), "v".repeat(30)]] as [string, string][] };
  const e = await publishThenShrinkLimit(new Uint8Array(20), { properties });
  assert.ok(e instanceof PayloadTooLargeError, String(e));
  assert.deepEqual([e.size, e.limit], [93, 64]);
});

Deno.test("MqttClient refills a nearly full in-flight window in batches, within one timer tick", async () => {
  // Window 64: a refill waits for 64 / 32 = 2 free slots, or one timer tick.
  const { client, clock, t } = await connected({ maxInflight: 64 });
  const pub = (id: number) =>
    `32 07 00 01 74 ${id.toString(16).padStart(4, "0").replace(/(..)(..)/, "$1 $2")} 00 78`;
  const ack = (id: number) => `40 02 00 ${id.toString(16).padStart(2, "0")}`;
  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i);
  for (let i = 0; i < 70; i++) client.publishNoWait("t", X, { qos: 1 });
  // the last slot of the window is filled one timer tick later
  await t.expect(range(1, 63).map(pub).join(" "));
  await t.expectNothing();
  await clock.advance(0);
  await t.expect(pub(64));
  t.respond(ack(1)); // one free slot, six waiting: wait for more PUBACKs in this tick
  await t.expectNothing();
  await clock.advance(0); // but no longer than one timer tick (a Nagle server would hold its PUBACKs)
  await t.expect(pub(65));
  t.respond(ack(2) + " " + ack(3)); // two free slots: sent at once
  await t.expect(pub(66) + " " + pub(67));
  t.respond(range(4, 67).map(ack).join(" "));
  await t.expect(range(68, 70).map(pub).join(" "));
  t.respond(range(68, 70).map(ack).join(" "));
  await client.flush();
  assert.equal(client.pendingCount, 0);
  await client.disconnect();
  assert.equal(clock.pending, 0);
});
