import assert from "node:assert/strict";
import { InvalidPayloadError } from "../core/errors.ts";
import { ConnectionClosedError } from "../core/mqtt/mod.ts";
import { RpcError } from "../core/client/errors.ts";
import type { RpcRequest } from "../core/client/rpc.ts";
import { matrix, nextEvent, setup } from "./client_harness.ts";

matrix(
  "TBDeviceMqttClient.setServerSideRpcRequestHandler() replies with the value, the Promise or the error",
  async (v) => {
    await using s = await setup(v);
    const { tb, client } = s;
    const seen: RpcRequest[] = [];
    client.setServerSideRpcRequestHandler((request) => {
      seen.push(request);
      switch (request.method) {
        case "sync":
          return { echo: request.params };
        case "async":
          return Promise.resolve(42);
        case "throws":
          throw new Error("valve stuck");
        case "rejects":
          return Promise.reject(new Error("async failure"));
        case "null":
          return null;
        default:
          return NaN; // not JSON: the client answers with an error instead
      }
    });
    await client.connect();
    assert.deepEqual(await tb.sendRpc("d1", "sync", { a: 1 }), { echo: { a: 1 } });
    assert.equal(await tb.sendRpc("d1", "async"), 42);
    assert.deepEqual(await tb.sendRpc("d1", "throws"), { error: "valve stuck" });
    assert.deepEqual(await tb.sendRpc("d1", "rejects"), { error: "async failure" });
    assert.equal(await tb.sendRpc("d1", "null"), null);
    const reply = await tb.sendRpc("d1", "nan") as { error: string };
    assert.match(reply.error, /Cannot send RPC reply: the payload is NaN/);
    assert.deepEqual(seen.map((r) => r.method), [
      "sync",
      "async",
      "throws",
      "rejects",
      "null",
      "nan",
    ]);
    assert.deepEqual(seen[0]?.params, { a: 1 });
    assert.equal(typeof seen[0]?.id, "number");
    assert.equal(client.connected, true);
  },
);

matrix(
  "TBDeviceMqttClient.sendRpcReply() answers later when the handler returns undefined",
  async (v) => {
    await using s = await setup(v);
    const { tb, client } = s;
    const requests: RpcRequest[] = [];
    const got = Promise.withResolvers<void>();
    client.setServerSideRpcRequestHandler((r) => {
      requests.push(r);
      got.resolve();
    });
    await client.connect();
    const reply = tb.sendRpc("d1", "deferred", { x: 1 });
    await got.promise;
    const id = requests[0]!.id;
    await assert.rejects(client.sendRpcReply("not-an-id", 1), TypeError);
    await assert.rejects(
      client.sendRpcReply("not-an-id", 1),
      /request id "not-an-id" is not a valid id; pass the id of the request you answer$/,
    );
    await assert.rejects(client.sendRpcReply(id, { v: NaN }), InvalidPayloadError);
    await client.sendRpcReply(String(id), { done: true });
    assert.deepEqual(await reply, { done: true });
  },
);

matrix(
  "TBDeviceMqttClient.sendRpcCall() gets the rule chain's reply, RpcError and timeouts",
  async (v) => {
    await using s = await setup(v, { sessionLimits: false }, { clientRpcTimeout: 100 });
    const { tb, client } = s;
    tb.onClientRpc("getTime", (r) => ({ time: 123, params: r.params }));
    tb.onClientRpc("fails", () => {
      throw new Error("no such thing");
    });
    tb.onClientRpc("silent", () => undefined);
    await client.connect();
    assert.deepEqual(await client.sendRpcCall("getTime", { tz: "UTC" }), {
      time: 123,
      params: { tz: "UTC" },
    });
    assert.deepEqual(await client.sendRpcCall("getTime"), { time: 123, params: {} });
    await assert.rejects(
      client.sendRpcCall("fails"),
      (e: unknown) => e instanceof RpcError && e.error === "no such thing" && e.method === "fails",
    );
    // The server's own timeout reply ({"error":"timeout"}) arrives after clientRpcTimeout.
    await assert.rejects(
      client.sendRpcCall("silent", {}, { timeout: 10_000 }),
      (e: unknown) => e instanceof RpcError && e.error === "timeout",
    );
    await assert.rejects(client.sendRpcCall("getTime", { bad: NaN }), InvalidPayloadError);
    await assert.rejects(client.sendRpcCall(""), TypeError);
  },
);

matrix(
  "TBDeviceMqttClient.sendRpcCall() times out locally and ignores the late reply",
  async (v) => {
    await using s = await setup(v, { sessionLimits: false });
    const { tb, client, entries } = s;
    const release = Promise.withResolvers<void>();
    tb.onClientRpc("slow", async () => {
      await release.promise;
      return { late: true };
    });
    tb.onClientRpc("fast", () => "ok");
    await client.connect();
    await assert.rejects(client.sendRpcCall("slow", {}, { timeout: 50 }), (e: unknown) => {
      assert.ok(e instanceof DOMException);
      assert.equal(e.name, "TimeoutError");
      assert.match(
        e.message,
        /^Cannot complete RPC "slow" \(request \d+\): no response within 50 ms$/,
      );
      return true;
    });
    const lateSent = tb.waitFor("clientRpcResponse", (e) => e.payload.includes("late"));
    release.resolve();
    await lateSent;
    // A round trip after the late reply proves the client processed (and ignored) it.
    assert.equal(await client.sendRpcCall("fast"), "ok");
    assert.ok(
      entries.some((e) => e.level === "warn" && /late or unknown RPC response/.test(e.msg)),
    );
    assert.equal(client.connected, true);
  },
);

matrix("TBDeviceMqttClient request ids stay unique across reconnects", async (v) => {
  await using s = await setup(v, { sessionLimits: false });
  const { tb, client } = s;
  tb.onClientRpc(() => "ok");
  await client.connect();
  const ids: number[] = [];
  tb.on((e) => {
    if (e.type === "clientRpc" || e.type === "attributeRequest") ids.push(e.requestId);
  });
  await client.sendRpcCall("a");
  await client.requestAttributes();
  const back = nextEvent(client, "connect");
  tb.disconnect("d1");
  await back;
  await client.sendRpcCall("b");
  await client.requestAttributes();
  assert.equal(ids.length, 4);
  const [rpc1, attr1, rpc2, attr2] = ids as [number, number, number, number];
  assert.ok(rpc2 > rpc1, `RPC ids ${rpc1} then ${rpc2}`);
  assert.ok(attr2 > attr1, `attribute request ids ${attr1} then ${attr2}`);
});

matrix(
  "TBDeviceMqttClient numbers the user's requests from 1; its own getSessionLimits from the top",
  async (v) => {
    await using s = await setup(v); // session limits on (the default)
    const { tb, client } = s;
    tb.onClientRpc(() => "ok");
    const calls: [string, number][] = [];
    tb.on((e) => {
      if (e.type === "clientRpc") calls.push([e.method, e.requestId]);
      if (e.type === "attributeRequest") calls.push(["attributes", e.requestId]);
    });
    const limits = nextEvent(client, "sessionlimits");
    await client.connect();
    await limits;
    assert.equal(await client.sendRpcCall("first"), "ok");
    await client.requestAttributes();
    assert.deepEqual(calls, [["getSessionLimits", 2147483647], ["first", 1], ["attributes", 1]]);
  },
);

matrix("TBDeviceMqttClient handles server RPC without a handler by not replying", async (v) => {
  await using s = await setup(v);
  const { tb, client, entries } = s;
  await client.connect();
  await assert.rejects(tb.sendRpc("d1", "nobody", {}, { timeout: 100 }), { name: "TimeoutError" });
  client.setServerSideRpcRequestHandler(() => "now");
  // The answered call went through the same connection after the unanswered one.
  assert.equal(await tb.sendRpc("d1", "somebody"), "now");
  assert.ok(entries.some((e) => e.level === "warn" && /no handler is set/.test(e.msg)));
});

matrix(
  "TBDeviceMqttClient.disconnect() fails pending RPC calls and attribute requests",
  async (v) => {
    await using s = await setup(v, { sessionLimits: false });
    const { tb, client } = s;
    const release = Promise.withResolvers<void>();
    const called = Promise.withResolvers<void>();
    tb.onClientRpc("hang", async () => {
      called.resolve();
      await release.promise;
      return "too late";
    });
    await client.connect();
    const call = client.sendRpcCall("hang", {}, { timeout: 60_000 });
    await called.promise;
    await client.disconnect();
    await assert.rejects(call, (e: unknown) => e instanceof ConnectionClosedError);
    // Requests made while disconnected wait in the queue; a later disconnect fails them too.
    const request = client.requestAttributes({ timeout: 60_000 });
    await client.disconnect();
    await assert.rejects(request, ConnectionClosedError);
    release.resolve();
  },
);

matrix("TBDeviceMqttClient server-side RPC keeps working after a reconnect", async (v) => {
  await using s = await setup(v, { sessionLimits: false });
  const { tb, client } = s;
  client.setServerSideRpcRequestHandler(({ method }) => `${method} ok`);
  await client.connect();
  assert.equal(await tb.sendRpc("d1", "before"), "before ok");
  const mark = tb.lastSeq;
  tb.disconnect("d1");
  await tb.waitFor("subscribe", (e) => e.topicFilter === "v1/devices/me/rpc/request/+", {
    since: mark,
  });
  // sendRpc waits for a session subscribed to RPC requests, then for the reply.
  assert.equal(await tb.sendRpc("d1", "after"), "after ok");
});
