import assert from "node:assert/strict";
import {
  AttributeSubscriptions,
  buildAttributeRequest,
  parseAttributeResponse,
  parseAttributeUpdate,
} from "../core/client/attributes.ts";
import { InvalidAttributeKeyError, RpcError } from "../core/client/errors.ts";
import { parseSessionLimits, publishSize } from "../core/client/limits.ts";
import { Inbox } from "../core/client/poll.ts";
import { countDataPoints, RateLimit, RateLimiter } from "../core/client/ratelimit.ts";
import { RequestTable, type Timers } from "../core/client/requests.ts";
import { checkRequestId, errorReply, parseRpcRequest, rpcResult } from "../core/client/rpc.ts";
import { MAX_REQUEST_ID, parseTopicId, Topics } from "../core/client/topics.ts";
import { refusalMeaning } from "../core/client/_refusal.ts";

/** Timers that fire only when the test says so. */
class FakeTimers implements Timers {
  #next = 1;
  pending = new Map<number, { fn: () => void; ms: number }>();
  setTimeout(fn: () => void, ms: number): number {
    const id = this.#next++;
    this.pending.set(id, { fn, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fireAll(): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const t of all) t.fn();
  }
}

Deno.test("RequestTable.allocate() counts from 1 and never repeats a pending id", async () => {
  const timers = new FakeTimers();
  const table = new RequestTable<string>(timers);
  assert.equal(table.allocate(), 1);
  const p2 = table.wait(table.allocate(), { timeout: 10, what: "x" });
  assert.equal(table.has(2), true);
  assert.equal(table.allocate(), 3);
  assert.equal(table.resolve(2, "ok"), true);
  assert.equal(await p2, "ok");
  assert.equal(timers.pending.size, 0);
});

Deno.test("RequestTable.allocate() wraps to 1 after 2147483647, skipping pending ids", async () => {
  const timers = new FakeTimers();
  const table = new RequestTable<string>(timers, MAX_REQUEST_ID - 1);
  const p = table.wait(table.allocate(), { timeout: 10, what: "x" });
  assert.equal(table.allocate(), MAX_REQUEST_ID);
  assert.equal(table.allocate(), 1);
  assert.equal(MAX_REQUEST_ID, 2 ** 31 - 1);
  const early = new RequestTable<string>(timers, MAX_REQUEST_ID);
  const p1 = early.wait(1, { timeout: 10, what: "x" });
  assert.equal(early.allocate(), MAX_REQUEST_ID);
  assert.equal(early.allocate(), 2, "pending id 1 is skipped after the wrap");
  table.rejectAll(new Error("end"));
  early.rejectAll(new Error("end"));
  await assert.rejects(p, /end/);
  await assert.rejects(p1, /end/);
});

Deno.test("RequestTable.wait() times out with a TimeoutError naming the request", async () => {
  const timers = new FakeTimers();
  const table = new RequestTable<string>(timers);
  const id = table.allocate();
  const p = table.wait(id, { timeout: 1234, what: "Cannot request attributes (request 1)" });
  assert.equal([...timers.pending.values()][0]?.ms, 1234);
  timers.fireAll();
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DOMException);
    assert.equal(e.name, "TimeoutError");
    assert.equal(e.message, "Cannot request attributes (request 1): no response within 1234 ms");
    return true;
  });
  assert.equal(table.size, 0);
  assert.equal(table.resolve(id, "late"), false, "a late response is not delivered");
});

Deno.test("RequestTable.wait() honours an AbortSignal and cleans up its timer", async () => {
  const timers = new FakeTimers();
  const table = new RequestTable<string>(timers);
  const controller = new AbortController();
  const p = table.wait(table.allocate(), { timeout: 100, signal: controller.signal, what: "W" });
  controller.abort();
  await assert.rejects(p, { name: "AbortError", message: "W: aborted" });
  assert.equal(timers.pending.size, 0);
  const reason = new Error("custom");
  const p2 = table.wait(table.allocate(), {
    timeout: 100,
    signal: AbortSignal.abort(reason),
    what: "W",
  });
  await assert.rejects(p2, reason);
  assert.equal(table.size, 0);
});

Deno.test("RequestTable.rejectAll() fails every pending request", async () => {
  const timers = new FakeTimers();
  const table = new RequestTable<string>(timers);
  const a = table.wait(table.allocate(), { timeout: 100, what: "a" });
  const b = table.wait(table.allocate(), { timeout: 100, what: "b" });
  const err = new Error("closed");
  table.rejectAll(err);
  await assert.rejects(a, err);
  await assert.rejects(b, err);
  assert.equal(timers.pending.size, 0);
});

Deno.test("buildAttributeRequest() joins keys with commas and refuses keys ThingsBoard would split", () => {
  assert.deepEqual(buildAttributeRequest({}), {});
  assert.deepEqual(buildAttributeRequest({ clientKeys: [], sharedKeys: [] }), {});
  assert.deepEqual(buildAttributeRequest({ clientKeys: ["a", " b"], sharedKeys: ["c"] }), {
    clientKeys: "a, b",
    sharedKeys: "c",
  });
  assert.throws(
    () => buildAttributeRequest({ sharedKeys: ["ok", "a,b"] }),
    (e: unknown) =>
      e instanceof InvalidAttributeKeyError && e instanceof TypeError && e.key === "a,b" &&
      /key "a,b" in sharedKeys contains a comma/.test(e.message),
  );
  assert.throws(() => buildAttributeRequest({ clientKeys: [""] }), InvalidAttributeKeyError);
  assert.throws(
    () => buildAttributeRequest({ clientKeys: "a,b" as never }),
    /must be an array of strings/,
  );
  assert.throws(
    () => buildAttributeRequest({ clientKeys: [1 as never] }),
    /must be an array of strings/,
  );
});

Deno.test("parseAttributeResponse() fills missing scopes and rejects other shapes", () => {
  assert.deepEqual(parseAttributeResponse({}), { client: {}, shared: {} });
  assert.deepEqual(parseAttributeResponse({ shared: { a: 1 } }), { client: {}, shared: { a: 1 } });
  assert.throws(() => parseAttributeResponse([]), TypeError);
  assert.throws(() => parseAttributeResponse({ client: 3 }), TypeError);
});

Deno.test("parseAttributeUpdate() separates values from deletions", () => {
  assert.deepEqual(parseAttributeUpdate({ a: 1, deleted: ["b"] }), {
    values: { a: 1 },
    deleted: ["b"],
  });
  assert.deepEqual(parseAttributeUpdate({ a: { x: 1 } }), { values: { a: { x: 1 } }, deleted: [] });
  assert.throws(() => parseAttributeUpdate({ deleted: [1] }), TypeError);
  assert.throws(() => parseAttributeUpdate("x"), TypeError);
});

Deno.test("AttributeSubscriptions.match() gives key subscribers their key and deletions", () => {
  const subs = new AttributeSubscriptions();
  const all = () => {};
  const onA = () => {};
  const onB = () => {};
  const idAll = subs.add(undefined, all);
  const idA = subs.add("a", onA);
  subs.add("b", onB);
  assert.deepEqual([idAll, idA], [1, 2]);
  const m = subs.match({ values: { a: 1, c: 2 }, deleted: ["b"] });
  assert.deepEqual(m, [
    [all, { values: { a: 1, c: 2 }, deleted: ["b"] }],
    [onA, { values: { a: 1 }, deleted: [] }],
    [onB, { values: {}, deleted: ["b"] }],
  ]);
  assert.equal(subs.remove(idA), true);
  assert.equal(subs.remove(idA), false);
  assert.equal(subs.match({ values: { a: 1 }, deleted: [] }).length, 1);
  assert.equal(subs.add("z", all), 4, "ids are never reused");
});

Deno.test("parseRpcRequest() and rpcResult() follow ThingsBoard's RPC shapes", () => {
  assert.deepEqual(parseRpcRequest(4, { method: "m", params: { a: 1 } }), {
    id: 4,
    method: "m",
    params: { a: 1 },
  });
  assert.deepEqual(parseRpcRequest(5, { method: "m" }), { id: 5, method: "m", params: null });
  assert.throws(() => parseRpcRequest(1, { params: 1 }), TypeError);
  assert.deepEqual(rpcResult("m", { time: 1 }), { time: 1 });
  assert.deepEqual(rpcResult("m", { error: "x", detail: 1 }), { error: "x", detail: 1 });
  assert.throws(
    () => rpcResult("getTime", { error: "timeout" }),
    (e: unknown) => e instanceof RpcError && e.error === "timeout" && e.method === "getTime",
  );
  assert.deepEqual(errorReply(new Error("boom")), { error: "boom" });
  assert.deepEqual(errorReply("plain"), { error: "plain" });
});

Deno.test("checkRequestId() accepts ThingsBoard's decimal int ids only", () => {
  assert.equal(checkRequestId(7), 7);
  assert.equal(checkRequestId("42"), 42);
  for (const bad of [-1, 1.5, "4a", "", 2 ** 31, NaN]) {
    assert.throws(() => checkRequestId(bad), TypeError, String(bad));
  }
});

Deno.test("parseTopicId() routes request vs response topics by prefix", () => {
  assert.equal(parseTopicId("v1/devices/me/rpc/request/15", Topics.rpcRequest), 15);
  assert.equal(parseTopicId("v1/devices/me/rpc/response/15", Topics.rpcRequest), undefined);
  assert.equal(parseTopicId("v1/devices/me/rpc/response/15", Topics.rpcResponse), 15);
  assert.equal(parseTopicId("v1/devices/me/rpc/request/x", Topics.rpcRequest), undefined);
  assert.equal(parseTopicId("v1/devices/me/rpc/request/", Topics.rpcRequest), undefined);
  assert.equal(parseTopicId("v1/devices/me/rpc/request/99999999999", Topics.rpcRequest), undefined);
});

Deno.test("parseSessionLimits() reads ThingsBoard's getSessionLimits reply", () => {
  assert.deepEqual(
    parseSessionLimits({
      maxPayloadSize: 1024,
      maxInflightMessages: 50,
      rateLimits: { messages: "10:1", telemetryMessages: null },
    }),
    {
      maxPayloadSize: 1024,
      maxInflightMessages: 50,
      rateLimits: { messages: "10:1", telemetryMessages: null, telemetryDataPoints: null },
    },
  );
  // A gateway's session also reports the limits on the devices behind it.
  assert.deepEqual(
    parseSessionLimits({
      maxPayloadSize: 1024,
      rateLimits: {},
      gatewayRateLimits: { telemetryDataPoints: "100:1", messages: 5 },
    }).gatewayRateLimits,
    { messages: null, telemetryMessages: null, telemetryDataPoints: "100:1" },
  );
  assert.throws(() => parseSessionLimits({ maxPayloadSize: "big" }), TypeError);
  assert.throws(() => parseSessionLimits({ maxPayloadSize: 0 }), TypeError);
});

Deno.test("publishSize() is the PUBLISH remaining length", () => {
  // 2 topic length + 23 topic + 2 packet id + payload
  assert.equal(publishSize("v1/devices/me/telemetry", 10, 1, 4), 2 + 23 + 2 + 10);
  assert.equal(publishSize("v1/devices/me/telemetry", 10, 0, 5), 2 + 23 + 1 + 10);
});

Deno.test("refusalMeaning() explains refusals without credentials", () => {
  assert.equal(refusalMeaning(0x86, true), "access token not accepted by ThingsBoard");
  assert.equal(refusalMeaning(0x87, false), "credentials not accepted by ThingsBoard");
  assert.match(refusalMeaning(0x85, false), /client identifier/);
  assert.match(refusalMeaning(0x88, true), /could not validate/);
});

Deno.test("Inbox queues tasks until drained and drops the oldest when full", () => {
  let dropped = 0;
  const ran: number[] = [];
  const inbox = new Inbox(2, (n) => dropped += n, new FakeTimers());
  inbox.push(() => ran.push(1));
  inbox.push(() => ran.push(2));
  inbox.push(() => ran.push(3));
  assert.equal(dropped, 1);
  assert.deepEqual(ran, []);
  assert.equal(inbox.drain(), 2);
  assert.deepEqual(ran, [2, 3]);
  assert.equal(inbox.drain(), 0);
});

Deno.test("Inbox.wait() wakes on a push, times out with 0, and rejects on abort", async () => {
  const timers = new FakeTimers();
  const inbox = new Inbox(10, () => {}, timers);
  let ran = 0;
  const waiting = inbox.wait({ timeout: 500 });
  inbox.push(() => ran++);
  assert.equal(await waiting, 1);
  assert.equal(ran, 1);
  assert.equal(timers.pending.size, 0);

  const timingOut = inbox.wait({ timeout: 500 });
  timers.fireAll();
  assert.equal(await timingOut, 0);

  const controller = new AbortController();
  const aborted = inbox.wait({ signal: controller.signal });
  controller.abort(new Error("stop"));
  await assert.rejects(aborted, /stop/);

  const closing = inbox.wait();
  inbox.close();
  assert.equal(await closing, 0);
});

Deno.test("RateLimit.parse() reads ThingsBoard's limits at 80 % and reserve() says how long to wait", () => {
  assert.equal(RateLimit.parse(null, 0), undefined);
  assert.equal(RateLimit.parse("garbage", 0), undefined);
  assert.equal(RateLimit.parse("10:0", 0), undefined);
  const limit = RateLimit.parse("10:1,60:60", 0)!; // 8 per second and 48 per minute
  for (let i = 0; i < 8; i++) assert.equal(limit.reserve(1, 0), 0);
  assert.equal(limit.reserve(1, 0), 125, "the 9th waits one refill interval of the 1 s bucket");
  assert.equal(limit.reserve(1, 0), 250, "debts add up, so order is kept");
  // After the debt is repaid nothing waits; the minute bucket refills slowly.
  assert.equal(limit.reserve(1, 1000), 0);
});

Deno.test("RateLimiter applies telemetry and data point limits to telemetry, messages to the rest", () => {
  const limiter = new RateLimiter(
    { messages: "5:1", telemetryMessages: "100:1", telemetryDataPoints: "10:1" },
    0,
  );
  assert.equal(limiter.reserve(8, 0), 0); // 8 of 8 data points
  assert.ok(limiter.reserve(1, 0) > 0, "the 9th data point waits");
  for (let i = 0; i < 4; i++) assert.equal(limiter.reserve(undefined, 0), 0); // 4 of 4 messages
  assert.ok(limiter.reserve(undefined, 0) > 0);
  const unlimited = new RateLimiter({
    messages: null,
    telemetryMessages: null,
    telemetryDataPoints: null,
  }, 0);
  for (let i = 0; i < 1000; i++) assert.equal(unlimited.reserve(100, 0), 0);
});

Deno.test("RateLimiter keeps the buckets of unchanged limits from the previous limiter", () => {
  const specs = { messages: "5:1", telemetryMessages: "10:60", telemetryDataPoints: null };
  const first = new RateLimiter(specs, 0);
  for (let i = 0; i < 8; i++) assert.equal(first.reserve(1, 0), 0); // 8 of 8 telemetry messages
  // A reconnect brings the same limits again: the server still counts the 8.
  const again = new RateLimiter({ ...specs }, 100, first);
  assert.ok(again.reserve(1, 100) > 0, "no fresh burst after a reconnect");
  assert.equal(again.reserve(undefined, 100), 0, "the untouched messages bucket is as it was");
  // Changed limits start over.
  const changed = new RateLimiter({ ...specs, telemetryMessages: "20:60" }, 200, again);
  assert.equal(changed.reserve(1, 200), 0);
});

Deno.test("countDataPoints() counts non-null values like ThingsBoard", () => {
  assert.equal(countDataPoints({ a: 1, b: null, c: { x: 1 } }), 2);
  assert.equal(countDataPoints({ ts: 1, values: { a: 1, b: 2 } }), 2);
  assert.equal(countDataPoints([{ a: 1 }, { ts: 1, values: { b: 1, c: null } }]), 2);
  assert.equal(countDataPoints({ ts: 5, other: 1 }), 2);
});

Deno.test("publishSize() counts the topic in UTF-8 bytes", () => {
  for (const topic of ["a", "ü", "€", "😀", "a/ü/€/😀", "x\ud800y"]) {
    const bytes = new TextEncoder().encode(topic).length;
    assert.equal(publishSize(topic, 0, 0, 4), 2 + bytes, topic);
  }
});
