import assert from "node:assert/strict";
import type { PublishPacket } from "../core/codec/types.ts";
import { Backoff } from "../core/mqtt/backoff.ts";
import {
  ConnectionRefusedError,
  MessageDroppedError,
  PayloadTooLargeError,
  PublishError,
  QueueFullError,
  SubscribeError,
} from "../core/mqtt/errors.ts";
import { InflightTable } from "../core/mqtt/inflight.ts";
import { KeepaliveManager } from "../core/mqtt/keepalive.ts";
import { PacketIdAllocator } from "../core/mqtt/packet_id.ts";
import { MessageQueue } from "../core/mqtt/queue.ts";
import { FakeClock } from "./_fake_transport.ts";

const msg = (topic: string, qos: 0 | 1 = 1): PublishPacket => ({
  type: "publish",
  topic,
  payload: new Uint8Array(),
  qos,
  retain: false,
  dup: false,
});

Deno.test("Backoff.next() grows by factor up to maxDelay, jitter shortens, reset() restarts", () => {
  const b = new Backoff({ initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
  assert.equal(b.attempt, 6);
  b.reset();
  assert.equal(b.next(), 100);
  const rnd = [0, 0.5, 0.999];
  const j = new Backoff({ initialDelay: 1000, jitter: 0.5, factor: 1 }, () => rnd.shift()!);
  assert.deepEqual([j.next(), j.next(), j.next()], [1000, 750, 500]);
  assert.throws(() => new Backoff({ jitter: 2 }), {
    name: "RangeError",
    message: "Cannot configure reconnect: jitter must be between 0 and 1",
  });
  assert.throws(() => new Backoff({ factor: 0.5 }), {
    name: "RangeError",
    message: "Cannot configure reconnect: factor must be >= 1",
  });
});

Deno.test("PacketIdAllocator.next() starts at 1, skips ids in use, wraps at 65535 skipping 0", () => {
  const ids = new PacketIdAllocator();
  const used = new Set<number>([2, 3]);
  assert.equal(ids.next((id) => used.has(id)), 1);
  assert.equal(ids.next((id) => used.has(id)), 4);
  const w = new PacketIdAllocator();
  let last = 0;
  for (let i = 0; i < 65534; i++) last = w.next(() => false);
  assert.equal(last, 65534);
  assert.equal(w.next(() => false), 65535);
  assert.equal(w.next(() => false), 1);
  assert.equal(w.next((id) => id === 2), 3);
  assert.equal(new PacketIdAllocator().next(() => true), 0);
});

Deno.test("InflightTable add()/remove()/release() keep a bounded window in order", () => {
  const t = new InflightTable(3);
  const settled: number[] = [];
  for (const id of [5, 1, 9]) {
    t.add({ ...msg(`t${id}`), packetId: id }, (r) => settled.push(r.packetId));
  }
  assert.equal(t.size, 3);
  assert.throws(() => t.add({ ...msg("x"), packetId: 7 }), /the in-flight table is full$/);
  assert.equal(t.has(1), true);
  const slot = t.remove(1);
  assert.equal(t.packetAt(slot)?.topic, "t1");
  t.resolveAt(slot)?.({ packetId: 1, reasonCode: 0 });
  t.release(slot);
  assert.equal(t.remove(1), -1);
  assert.deepEqual(settled, [1]);
  t.add({ ...msg("t2"), packetId: 2 });
  assert.deepEqual(t.ordered().map((p) => p.packetId), [5, 9, 2]);
  assert.throws(() => t.add({ ...msg("dup"), packetId: 5 }), /the in-flight table is full$/);
  const errors: string[] = [];
  const t2 = new InflightTable(2);
  t2.add({ ...msg("a"), packetId: 1 }, undefined, (e) => errors.push(e.message));
  assert.throws(
    () => t2.add({ ...msg("dup"), packetId: 1 }), // room left, but the identifier is in use
    (e) => e instanceof RangeError && /packet identifier 1 is invalid or in use$/.test(e.message),
  );
  t2.rejectAll(new Error("gone"));
  assert.deepEqual(errors, ["gone"]);
  assert.equal(t2.size, 0);
  assert.throws(() => new InflightTable(65536), /capacity 65536 is not in 1\.\.65535$/);
  assert.throws(() => new InflightTable(0), /capacity 0 is not in 1\.\.65535$/);
});

Deno.test("MessageQueue.push() with policy reject throws QueueFullError when full", () => {
  const q = new MessageQueue({ maxSize: 2, policy: "reject" });
  q.push(msg("a"));
  q.push(msg("b"));
  assert.throws(() => q.push(msg("c")), QueueFullError);
  assert.equal(q.peek()?.topic, "a");
  q.shift();
  q.push(msg("c"));
  const order: string[] = [];
  while (q.size) {
    order.push(q.peek()!.topic);
    q.shift();
  }
  assert.deepEqual(order, ["b", "c"]);
  assert.throws(() => new MessageQueue({ maxSize: 0 }).push(msg("x")), QueueFullError);
});

Deno.test("MessageQueue.push() with policy drop-oldest rejects the dropped message, never silently", () => {
  const dropped: Error[] = [];
  const q = new MessageQueue({ maxSize: 2, policy: "drop-oldest" }, (e) => dropped.push(e));
  const rejected: Error[] = [];
  q.push(msg("a"), undefined, (e) => rejected.push(e));
  q.push(msg("b")); // no caller awaits: reported through onDrop
  q.push(msg("c"));
  q.push(msg("d"));
  assert.equal(rejected.length, 1);
  assert.ok(rejected[0] instanceof MessageDroppedError);
  assert.equal((rejected[0] as MessageDroppedError).topic, "a");
  assert.equal(
    rejected[0].message,
    'Cannot send message to "a": dropped from the full queue (2 messages) for a newer one; ' +
      "await flush() between batches or raise queue.maxSize",
  );
  assert.equal(dropped.length, 1);
  assert.equal((dropped[0] as MessageDroppedError).topic, "b");
  assert.deepEqual([q.peek()?.topic, q.size], ["c", 2]);
});

Deno.test("MessageQueue.remove() takes out one message and keeps the order", () => {
  const q = new MessageQueue({ maxSize: 4 });
  const b = msg("b");
  for (const m of [msg("a"), b, msg("c")]) q.push(m);
  assert.equal(q.remove(b), true);
  assert.equal(q.remove(b), false);
  const order: string[] = [];
  while (q.size) {
    order.push(q.peek()!.topic);
    q.shift();
  }
  assert.deepEqual(order, ["a", "c"]);
});

Deno.test("KeepaliveManager pings when idle and times out within 1.5x keepalive", async () => {
  const clock = new FakeClock();
  let pings = 0;
  let timeouts = 0;
  const ka = new KeepaliveManager(clock, 10, {
    sendPing: () => pings++,
    onTimeout: () => timeouts++,
  });
  ka.start();
  // 3/4 of the keepalive: a late timer still keeps the gap between packets within it
  await clock.advance(7_499);
  assert.equal(pings, 0);
  await clock.advance(1);
  assert.equal(pings, 1);
  ka.markSent();
  ka.markReceived(); // PINGRESP
  await clock.advance(7_499);
  assert.equal(pings, 1);
  await clock.advance(1);
  assert.equal(pings, 2);
  // no answer: dead at 15 s after the last packet received
  await clock.advance(7_499);
  assert.equal(timeouts, 0);
  await clock.advance(1);
  assert.equal(timeouts, 1);
  assert.equal(clock.pending, 0);
});

Deno.test("KeepaliveManager pings a silent server even while the client keeps sending", async () => {
  const clock = new FakeClock();
  let pings = 0;
  let timeouts = 0;
  const ka = new KeepaliveManager(clock, 4, {
    sendPing: () => pings++,
    onTimeout: () => timeouts++,
  });
  ka.start();
  for (let i = 0; i < 8; i++) {
    await clock.advance(500);
    ka.markSent();
  }
  assert.equal(pings, 1); // nothing received for 4 s
  for (let i = 0; i < 4; i++) {
    await clock.advance(500);
    ka.markSent();
  }
  assert.equal(timeouts, 1); // 6 s = 1.5 x keepalive without a packet from the server
  ka.stop();
  assert.equal(clock.pending, 0);
});

Deno.test("KeepaliveManager with keepalive 0 never pings", async () => {
  const clock = new FakeClock();
  const ka = new KeepaliveManager(clock, 0, {
    sendPing: () => assert.fail("ping"),
    onTimeout: () => assert.fail("timeout"),
  });
  ka.start();
  assert.equal(clock.pending, 0);
  await clock.advance(1_000_000);
  ka.stop();
});

Deno.test("ConnectionRefusedError maps codes between 3.1.1 and MQTT 5 and explains them", () => {
  const v4 = new ConnectionRefusedError(5, 4);
  assert.equal(v4.returnCode, 5);
  assert.equal(v4.reasonCode, 0x87);
  assert.equal(v4.message, "Cannot connect: the server refused the connection (5 not authorized)");
  const v5 = new ConnectionRefusedError(0x86, 5);
  assert.equal(v5.returnCode, 4);
  assert.match(v5.message, /0x86 bad user name or password/);
  assert.equal(new ConnectionRefusedError(0x9f, 5).returnCode, 3);
  assert.ok(v5 instanceof Error);
});

Deno.test("PublishError, SubscribeError and PayloadTooLargeError carry codes and sizes", () => {
  const p = new PublishError("v1/devices/me/telemetry", 0x99);
  assert.equal(
    p.message,
    'Cannot publish to "v1/devices/me/telemetry": the server answered 0x99 payload format invalid',
  );
  const s = new SubscribeError(["a", "b/#"], [1, 0x8f]);
  assert.deepEqual(s.failedTopicFilters, ["b/#"]);
  assert.equal(s.reasonCode, 0x8f);
  const big = new PayloadTooLargeError(70_010, 65_536);
  assert.ok(big instanceof RangeError);
  assert.match(big.message, /70010 bytes, the limit is 65536 bytes/);
});
