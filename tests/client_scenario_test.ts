/**
 * Every API row of the device client against a peer playing ThingsBoard's
 * role on a real Mosquitto (one broker per variant, one step per row), with
 * the client's defaults: session limits asked for after every connect, QoS 1.
 */

import assert from "node:assert/strict";
import { ConnectionRefusedError, PayloadTooLargeError } from "../core/mqtt/mod.ts";
import { InvalidMessageError, ProvisionError, RpcError } from "../core/client/errors.ts";
import type { AttributeUpdate } from "../core/client/attributes.ts";
import type { RpcRequest } from "../core/client/rpc.ts";
import { TBDeviceMqttClient } from "../core/client/client.ts";
import type { TBDeviceMqttClientOptions } from "../core/client/options.ts";
import { mosquittoPath, startMosquitto } from "./_mosquitto.ts";
import {
  type LogEntry,
  matrix,
  nextEvent,
  recordingLogger,
  type Variant,
} from "./client_harness.ts";
import {
  json,
  type Peer,
  type PeerOptions,
  startGate,
  startPeer,
  topicId,
} from "./client_tb_peer.ts";

const haveMosquitto = mosquittoPath() !== undefined;
const RPC_REQUEST = (t: string) => t.startsWith("v1/devices/me/rpc/request/");
const RPC_RESPONSE = (t: string) => t.startsWith("v1/devices/me/rpc/response/");
const ATTR_REQUEST = (t: string) => t.startsWith("v1/devices/me/attributes/request/");

/** A connected peer and device client; `await using` closes both. */
interface Scene extends AsyncDisposable {
  peer: Peer;
  client: TBDeviceMqttClient;
  /** `error` events of the client. */
  errors: Error[];
  /** The client's log. */
  log: LogEntry[];
}

async function scene(
  v: Variant,
  port: number,
  peerOptions: PeerOptions = {},
  options: Partial<TBDeviceMqttClientOptions> = {},
): Promise<Scene> {
  const peer = await startPeer(port, peerOptions);
  const { logger, entries } = recordingLogger();
  const client = new TBDeviceMqttClient({
    host: "127.0.0.1",
    port,
    accessToken: "DEVICE_TOKEN",
    protocolVersion: v.protocolVersion,
    engine: v.engine,
    logger,
    ...options,
  });
  const errors: Error[] = [];
  client.addEventListener("error", (e) => errors.push(e.detail));
  return {
    peer,
    client,
    errors,
    log: entries,
    async [Symbol.asyncDispose]() {
      await client.disconnect({ timeout: 1000 });
      await peer[Symbol.asyncDispose]();
    },
  };
}

/** Log lines at warn level or above. */
function loud(log: LogEntry[]): string[] {
  return log.filter((e) => e.level === "warn" || e.level === "error").map((e) => e.msg);
}

function scenarios(name: string, fn: Parameters<typeof matrix>[1]): void {
  if (haveMosquitto) matrix(name, fn);
  else Deno.test({ name, ignore: true, fn() {} });
}

scenarios("TBDeviceMqttClient against a ThingsBoard-role peer over Mosquitto", async (v, t) => {
  await using broker = await startMosquitto();
  const port = broker.port;

  await t.step("sendTelemetry() publishes every shape on the telemetry topic", async () => {
    await using s = await scene(v, port);
    const { peer, client } = s;
    await client.connect();
    assert.equal(client.protocolVersion, v.protocolVersion);
    const shapes = [
      { temperature: 21.5, on: true, name: "x", nested: { a: [1, 2] } },
      { ts: 1_700_000_000_000, values: { humidity: 40 } },
      [{ a: 1 }, { ts: 1_700_000_000_001, values: { b: 2 } }],
    ];
    for (const data of shapes) await client.sendTelemetry(data);
    await client.sendTelemetry({ fast: 1 }, { qos: 0 });
    for (const data of shapes) {
      const p = await peer.next("v1/devices/me/telemetry");
      assert.deepEqual(json(p), data);
      assert.equal(p.qos, 1, "QoS 1 by default");
    }
    const fast = await peer.next("v1/devices/me/telemetry");
    assert.deepEqual([json(fast), fast.qos], [{ fast: 1 }, 0]);
    await assert.rejects(client.sendTelemetry({ x: 1 }, { qos: 2 as 0 }), RangeError);
    await assert.rejects(
      client.sendTelemetry({ big: "x".repeat(70_000) }),
      (e: unknown) => e instanceof PayloadTooLargeError && /65536/.test(e.message),
    );
    await client.sendTelemetry({ last: 1 });
    assert.deepEqual(json(await peer.next("v1/devices/me/telemetry")), { last: 1 });
    assert.deepEqual(s.errors, []);
  });

  await t.step("sendAttributes() and claimDevice() publish ThingsBoard's shapes", async () => {
    await using s = await scene(v, port);
    const { peer, client } = s;
    const own: AttributeUpdate[] = [];
    client.subscribeToAllAttributes((u) => void own.push(u));
    await client.connect();
    await client.sendAttributes({ fw: "1.2.0", ready: true });
    await client.claimDevice("s3cr3t", { durationMs: 60_000 });
    await client.claimDevice();
    assert.deepEqual(json(await peer.next("v1/devices/me/attributes")), {
      fw: "1.2.0",
      ready: true,
    });
    const claim = await peer.next("v1/devices/me/claim");
    assert.deepEqual([json(claim), claim.qos], [{ secretKey: "s3cr3t", durationMs: 60_000 }, 1]);
    assert.deepEqual(json(await peer.next("v1/devices/me/claim")), {});
    // The broker sends 3.1.1 clients their own attributes back: not a shared-attribute push.
    await peer.publish("v1/devices/me/attributes", { pushed: 1 });
    while (own.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(own, [{ values: { pushed: 1 }, deleted: [] }]);
  });

  await t.step(
    "requestAttributes() sends comma-separated keys and returns both scopes",
    async () => {
      await using s = await scene(v, port);
      const { peer, client } = s;
      await client.connect();
      const both = client.requestAttributes({ clientKeys: ["a", "b"], sharedKeys: ["c"] });
      const r1 = await peer.next(ATTR_REQUEST);
      assert.deepEqual(json(r1), { clientKeys: "a,b", sharedKeys: "c" });
      assert.equal(r1.qos, 1);
      await peer.publish(`v1/devices/me/attributes/response/${topicId(r1)}`, {
        client: { a: 1, b: "two" },
        shared: { c: { deep: true } },
      });
      assert.deepEqual(await both, { client: { a: 1, b: "two" }, shared: { c: { deep: true } } });

      const all = client.requestAttributes();
      const r2 = await peer.next(ATTR_REQUEST);
      assert.deepEqual(json(r2), {});
      assert.ok(topicId(r2) > topicId(r1), "ids count up");
      await peer.publish(`v1/devices/me/attributes/response/${topicId(r2)}`, { shared: { s: 1 } });
      assert.deepEqual(await all, { client: {}, shared: { s: 1 } });

      const answered = Promise.withResolvers<unknown[]>();
      client.requestAttributes({ sharedKeys: ["k"] }, (r, e) => answered.resolve([r, e]));
      const r3 = await peer.next(ATTR_REQUEST);
      assert.deepEqual(json(r3), { sharedKeys: "k" });
      await peer.publish(`v1/devices/me/attributes/response/${topicId(r3)}`, {});
      assert.deepEqual(await answered.promise, [{ client: {}, shared: {} }, undefined]);
      assert.deepEqual(s.errors, []);
    },
  );

  await t.step(
    "requestAttributes() times out; late, unknown and garbled answers are only logged",
    async () => {
      await using s = await scene(v, port);
      const { peer, client } = s;
      await client.connect();
      await assert.rejects(
        client.requestAttributes({ clientKeys: ["a"], timeout: 50 }),
        (e: unknown) => e instanceof DOMException && e.name === "TimeoutError",
      );
      const late = topicId(await peer.next(ATTR_REQUEST));
      await peer.publish(`v1/devices/me/attributes/response/${late}`, { client: { a: 1 } });
      await peer.publish("v1/devices/me/attributes/response/424242", { client: {} });
      await peer.publish("v1/devices/me/attributes/response/424243", new Uint8Array([0xff, 0x7b]));
      await peer.publish("v1/devices/me/rpc/response/434343", { stray: true });
      const garbled = assert.rejects(
        client.requestAttributes({ sharedKeys: ["g"] }),
        InvalidMessageError,
      );
      const g = topicId(await peer.next(ATTR_REQUEST));
      await peer.publish(`v1/devices/me/attributes/response/${g}`, new Uint8Array([0x7b, 0x7b]));
      await garbled;
      const ok = client.requestAttributes({ sharedKeys: ["x"] });
      const id = topicId(await peer.next(ATTR_REQUEST));
      await peer.publish(`v1/devices/me/attributes/response/${id}`, { shared: { x: 1 } });
      assert.deepEqual(await ok, { client: {}, shared: { x: 1 } });
      assert.equal(client.connected, true);
      assert.deepEqual(s.errors, [], "nothing reported as a failure");
      const ignored = s.log.filter((e) => /late or unknown/.test(e.msg)).map((e) => e.data?.id);
      assert.deepEqual(ignored, [late, 424242, 424243, 434343]);
    },
  );

  await t.step(
    "attribute subscriptions get values and deletions by id until unsubscribed",
    async () => {
      await using s = await scene(v, port);
      const { peer, client } = s;
      const all: AttributeUpdate[] = [];
      const temp: AttributeUpdate[] = [];
      const mode: AttributeUpdate[] = [];
      const allId = client.subscribeToAllAttributes((u) => void all.push(u));
      const tempId = client.subscribeToAttribute("targetTemp", (u) => void temp.push(u));
      const modeId = client.subscribeToAttribute("mode", (u) => {
        mode.push(u);
        throw new Error("callback bug"); // reported, never thrown into the loop
      });
      assert.equal(new Set([allId, tempId, modeId]).size, 3);
      await client.connect();
      const until = async (n: number) => {
        while (all.length < n) await new Promise((r) => setTimeout(r, 5));
      };
      await peer.publish("v1/devices/me/attributes", { targetTemp: 22, mode: "eco" });
      await peer.publish("v1/devices/me/attributes", { deleted: ["mode"] });
      await peer.publish("v1/devices/me/attributes", { targetTemp: 23, deleted: ["other"] });
      await until(3);
      assert.equal(client.unsubscribeFromAttribute(tempId), true);
      assert.equal(client.unsubscribeFromAttribute(tempId), false);
      await peer.publish("v1/devices/me/attributes", { targetTemp: 24, mode: "off" });
      await until(4);
      assert.deepEqual(all, [
        { values: { targetTemp: 22, mode: "eco" }, deleted: [] },
        { values: {}, deleted: ["mode"] },
        { values: { targetTemp: 23 }, deleted: ["other"] },
        { values: { targetTemp: 24, mode: "off" }, deleted: [] },
      ]);
      assert.deepEqual(temp, [
        { values: { targetTemp: 22 }, deleted: [] },
        { values: { targetTemp: 23 }, deleted: [] },
      ]);
      assert.deepEqual(mode, [
        { values: { mode: "eco" }, deleted: [] },
        { values: {}, deleted: ["mode"] },
        { values: { mode: "off" }, deleted: [] },
      ]);
      assert.deepEqual(s.errors.map((e) => e.message), Array(3).fill("callback bug"));
      assert.equal(client.connected, true);
    },
  );

  await t.step("server-side RPC: value, Promise, throw, undefined + sendRpcReply()", async () => {
    await using s = await scene(v, port);
    const { peer, client } = s;
    const later = Promise.withResolvers<RpcRequest>();
    const seen: string[] = [];
    client.setServerSideRpcRequestHandler((r) => {
      seen.push(r.method);
      switch (r.method) {
        case "value":
          return { echo: r.params };
        case "promise":
          return new Promise((resolve) => setTimeout(() => resolve({ late: true }), 20));
        case "throw":
          throw new Error("valve stuck");
        default:
          later.resolve(r);
          return undefined;
      }
    });
    await client.connect();
    await peer.publish("v1/devices/me/rpc/request/101", { method: "value", params: { a: 1 } });
    await peer.publish("v1/devices/me/rpc/request/102", { method: "promise", params: null });
    await peer.publish("v1/devices/me/rpc/request/103", { method: "throw" });
    await peer.publish("v1/devices/me/rpc/request/104", { method: "manual", params: {} });
    const manual = await later.promise;
    assert.deepEqual(manual, { id: 104, method: "manual", params: {} });
    await client.sendRpcReply(manual.id, { done: 1 });
    const replies = new Map<number, unknown>();
    for (let i = 0; i < 4; i++) {
      const p = await peer.next(RPC_RESPONSE);
      replies.set(topicId(p), json(p));
    }
    assert.deepEqual(Object.fromEntries(replies), {
      101: { echo: { a: 1 } },
      102: { late: true },
      103: { error: "valve stuck" },
      104: { done: 1 },
    });
    // Exactly one reply each: the next thing the peer gets is the answer to a new request.
    await peer.publish("v1/devices/me/rpc/request/105", { method: "value", params: 5 });
    assert.equal((await peer.next(() => true)).topic, "v1/devices/me/rpc/response/105");
    assert.deepEqual(peer.pending(), []);
    assert.deepEqual(seen, ["value", "promise", "throw", "manual", "value"]);
  });

  await t.step(
    "sendRpcCall(): reply, error reply, timeout, and ids apart from getSessionLimits",
    async () => {
      await using s = await scene(v, port);
      const { peer, client } = s;
      const handled: string[] = [];
      client.setServerSideRpcRequestHandler((r) => void handled.push(r.method));
      await client.connect();
      const call = client.sendRpcCall("getTime", { tz: "UTC" }, { timeout: 10_000 });
      const r1 = await peer.next(RPC_REQUEST);
      assert.deepEqual([json(r1), r1.qos], [{ method: "getTime", params: { tz: "UTC" } }, 1]);
      while (peer.limitsRequests.length === 0) await new Promise((r) => setTimeout(r, 5));
      assert.ok(!peer.limitsRequests.includes(topicId(r1)), "its own id");
      await peer.publish(`v1/devices/me/rpc/response/${topicId(r1)}`, { time: 1700 });
      assert.deepEqual(await call, { time: 1700 });

      const failing = assert.rejects(
        client.sendRpcCall("unknownMethod"),
        (e: unknown) => e instanceof RpcError && /timeout/.test(e.message),
      );
      const r2 = await peer.next(RPC_REQUEST);
      assert.deepEqual(json(r2), { method: "unknownMethod", params: {} });
      await peer.publish(`v1/devices/me/rpc/response/${topicId(r2)}`, { error: "timeout" });
      await failing;

      await assert.rejects(
        client.sendRpcCall("slow", [1], { timeout: 50 }),
        (e: unknown) => e instanceof DOMException && e.name === "TimeoutError",
      );
      const r3 = await peer.next(RPC_REQUEST);
      await peer.publish(`v1/devices/me/rpc/response/${topicId(r3)}`, { tooLate: true });
      for (const timeout of [NaN, 0, -1, "5000" as unknown as number]) {
        await assert.rejects(
          client.sendRpcCall("never", {}, { timeout }),
          /^RangeError: Cannot complete RPC "never": timeout must be a positive number/,
        );
      }
      // Infinity (or anything past 2^31-1 ms) waits for ever instead of timing out at once.
      const ok = client.sendRpcCall("again", {}, { timeout: Infinity });
      const r4 = await peer.next(RPC_REQUEST);
      assert.deepEqual(json(r4), { method: "again", params: {} }, "bad timeouts sent nothing");
      await new Promise((r) => setTimeout(r, 20));
      await peer.publish(`v1/devices/me/rpc/response/${topicId(r4)}`, "plain");
      assert.equal(await ok, "plain");
      const ids = [topicId(r1), topicId(r2), topicId(r3), topicId(r4)];
      assert.deepEqual([...ids].sort((a, b) => a - b), ids);
      assert.deepEqual(handled, [], "the device's own calls never reach its server-RPC handler");
      assert.deepEqual(s.errors, []);
    },
  );

  await t.step(
    "getSessionLimits unanswered is quiet and delays nothing; answered, applies",
    async () => {
      {
        await using s = await scene(v, port);
        await s.client.connect();
        const p = s.client.sendTelemetry({ a: 1 });
        await p;
        assert.deepEqual(json(await s.peer.next("v1/devices/me/telemetry")), { a: 1 });
        await s.client.disconnect();
        assert.equal(s.peer.limitsRequests.length, 1);
        assert.deepEqual(s.errors, []);
        assert.deepEqual(loud(s.log), []);
        assert.equal(s.client.sessionLimits, undefined);
      }
      {
        await using s = await scene(v, port, { sessionLimits: { error: "Unsupported method" } });
        await s.client.connect();
        while (!s.log.some((e) => /No session limits/.test(e.msg))) {
          await new Promise((r) => setTimeout(r, 5));
        }
        assert.deepEqual(s.errors, []);
        assert.deepEqual(loud(s.log), []);
      }
      {
        const limits = {
          maxPayloadSize: 1000,
          maxInflightMessages: 100,
          rateLimits: { messages: null, telemetryMessages: null, telemetryDataPoints: null },
        };
        await using s = await scene(v, port, { sessionLimits: limits });
        const applied = nextEvent(s.client, "sessionlimits");
        await s.client.connect();
        assert.deepEqual((await applied).detail, limits);
        assert.equal(s.client.maxPayloadSize, 1000);
        await assert.rejects(
          s.client.sendTelemetry({ big: "x".repeat(1000) }),
          PayloadTooLargeError,
        );
      }
      {
        await using s = await scene(v, port, {}, { sessionLimits: false });
        await s.client.connect();
        const first = s.client.sendRpcCall("first");
        const r = await s.peer.next(RPC_REQUEST);
        assert.equal(topicId(r), 1, "off: the user's call is the first");
        await s.peer.publish(`v1/devices/me/rpc/response/${topicId(r)}`, "one");
        assert.equal(await first, "one");
        assert.deepEqual(s.peer.limitsRequests, []);
      }
    },
  );

  await t.step('dispatch: "poll" holds callbacks until checkForMsg()/waitForMsg()', async () => {
    await using s = await scene(v, port, {}, { dispatch: "poll" });
    const { peer, client } = s;
    const calls: string[] = [];
    client.subscribeToAllAttributes(() => void calls.push("attributes"));
    client.setServerSideRpcRequestHandler(() => {
      calls.push("rpc");
      return "polled";
    });
    await client.connect();
    await peer.publish("v1/devices/me/attributes", { a: 1 });
    await peer.publish("v1/devices/me/rpc/request/7", { method: "m" });
    let dispatched = 0;
    while (dispatched < 2) dispatched += await client.waitForMsg({ timeout: 5000 });
    assert.deepEqual(calls, ["attributes", "rpc"]);
    assert.equal(json(await peer.next("v1/devices/me/rpc/response/7")), "polled");
    assert.equal(client.checkForMsg(), 0);
  });

  await t.step('provision() uses user name "provision" and a client id of its own', async () => {
    await using peer = await startPeer(port);
    const request = TBDeviceMqttClient.getProvisionRequest("KEY", "SECRET", { deviceName: "d7" });
    const options = { protocolVersion: v.protocolVersion, engine: v.engine } as const;
    const answer = async (response: unknown) => {
      const p = await peer.next("/provision/request");
      assert.deepEqual(json(p), {
        provisionDeviceKey: "KEY",
        provisionDeviceSecret: "SECRET",
        deviceName: "d7",
      });
      await peer.publish("/provision/response", response);
    };
    const success = { status: "SUCCESS", credentialsType: "ACCESS_TOKEN", credentialsValue: "T7" };
    // Two devices at once: neither takes over the other's session.
    const [a, b] = await Promise.all([
      TBDeviceMqttClient.provision("127.0.0.1", port, request, options),
      TBDeviceMqttClient.provision("127.0.0.1", port, request, options),
      answer(success).then(() => answer(success)),
    ]);
    assert.deepEqual([a, b], Array(2).fill({ credentialsType: "ACCESS_TOKEN", accessToken: "T7" }));
    const failed = assert.rejects(
      TBDeviceMqttClient.provision("127.0.0.1", port, request, options),
      (e: unknown) => e instanceof ProvisionError && e.status === "NOT_FOUND",
    );
    await answer({ status: "NOT_FOUND", errorMsg: "Provision data was not found!" });
    await failed;
    assert.match(broker.log(), /as provision-[0-9a-f]{8} \(p[245].*u'provision'\)/);
  });

  await t.step(
    "after Mosquitto restarts: resubscribed, queue sent in order, fresh ids",
    async () => {
      await using gate = startGate(port);
      const { logger, entries } = recordingLogger();
      const client = new TBDeviceMqttClient({
        host: "127.0.0.1",
        port: gate.port,
        accessToken: "DEVICE_TOKEN",
        protocolVersion: v.protocolVersion,
        engine: v.engine,
        logger,
        reconnect: { initialDelay: 20, maxDelay: 100 },
      });
      try {
        const updates: AttributeUpdate[] = [];
        client.subscribeToAllAttributes((u) => void updates.push(u));
        client.setServerSideRpcRequestHandler(({ params }) => ({ got: params }));
        const before = await startPeer(port);
        await client.connect();
        const first = client.sendRpcCall("before");
        const idBefore = topicId(await before.next(RPC_REQUEST));
        await before.publish(`v1/devices/me/rpc/response/${idBefore}`, 1);
        assert.equal(await first, 1);

        gate.open = false; // hold the device back until the new peer is subscribed
        const events: string[] = [];
        for (const type of ["connect", "disconnect", "reconnecting"] as const) {
          client.addEventListener(type, () => events.push(type));
        }
        const lost = nextEvent(client, "disconnect");
        await broker.stop();
        const { reason } = (await lost).detail;
        assert.ok(reason instanceof Error, "a lost connection has a reason");
        await before[Symbol.asyncDispose]();
        const sent = Array.from({ length: 20 }, (_, i) => client.sendTelemetry({ seq: i }));
        const attrs = client.sendAttributes({ offline: true });
        const after = client.sendRpcCall("after", null, { timeout: 10_000 });
        await broker.start();
        await using peer = await startPeer(port);
        const back = nextEvent(client, "connect");
        gate.open = true;
        await back;
        assert.deepEqual(
          [events[0], events[1], events.at(-1)],
          ["disconnect", "reconnecting", "connect"],
        );
        assert.equal(events.filter((e) => e !== "reconnecting").length, 2, String(events));
        await Promise.all([...sent, attrs]);
        await client.sendTelemetry({ seq: "end" });
        const seqs: unknown[] = [];
        for (;;) {
          const { seq } = json(await peer.next("v1/devices/me/telemetry")) as { seq: unknown };
          if (seq === "end") break;
          seqs.push(seq);
        }
        assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i), "in order, once each");
        assert.deepEqual(json(await peer.next("v1/devices/me/attributes")), { offline: true });
        const r = await peer.next(RPC_REQUEST);
        assert.deepEqual(json(r), { method: "after", params: null });
        assert.ok(topicId(r) > idBefore, "ids keep counting across reconnects");
        await peer.publish(`v1/devices/me/rpc/response/${topicId(r)}`, 2);
        assert.equal(await after, 2);

        await peer.publish("v1/devices/me/rpc/request/9", { method: "m", params: "p" });
        assert.deepEqual(json(await peer.next("v1/devices/me/rpc/response/9")), { got: "p" });
        await peer.publish("v1/devices/me/attributes", { pushed: true });
        while (updates.length === 0) await new Promise((r) => setTimeout(r, 5));
        assert.deepEqual(updates, [{ values: { pushed: true }, deleted: [] }], "no echo either");
        assert.deepEqual(
          loud(entries).filter((m) => !/^(Connection lost|Cannot connect)/.test(m)),
          [],
        );
        await client.disconnect();
        assert.equal(peer.limitsRequests.length, 1, "getSessionLimits once per connection");
        assert.ok(
          !entries.some((e) => /No session limits/.test(e.msg)),
          "disconnect ends it quietly",
        );
      } finally {
        await client.disconnect({ timeout: 1000 });
      }
    },
  );
});

scenarios(
  "TBDeviceMqttClient.connect() over Mosquitto refusing the token throws ConnectionRefusedError",
  async (v) => {
    await using broker = await startMosquitto({ extra: ["allow_anonymous false"] });
    const { logger, entries } = recordingLogger();
    const client = new TBDeviceMqttClient({
      host: "127.0.0.1",
      port: broker.port,
      accessToken: "SECRET_TOKEN_42",
      protocolVersion: v.protocolVersion,
      engine: v.engine,
      logger,
    });
    await assert.rejects(client.connect(), (e: unknown) => {
      assert.ok(e instanceof ConnectionRefusedError, String(e));
      assert.match(e.message, /access token not accepted by ThingsBoard/);
      assert.doesNotMatch(e.message, /SECRET_TOKEN_42/);
      return true;
    });
    assert.equal(client.state, "disconnected", "no reconnect after a refusal");
    assert.ok(!JSON.stringify(entries).includes("SECRET_TOKEN_42"), "the token is never logged");
    await client.disconnect();
  },
);

scenarios(
  "TBDeviceMqttClient with MQTT basic credentials connects over Mosquitto, or is refused without leaking them",
  async (v) => {
    const dir = await Deno.makeTempDir({ prefix: "tbwasm_passwd_" });
    try {
      const file = `${dir}/passwd`;
      const made = await new Deno.Command("mosquitto_passwd", {
        args: ["-b", "-c", file, "meter-user", "meter-pass"],
        stdout: "null",
        stderr: "null",
      }).output();
      const peerUser = await new Deno.Command("mosquitto_passwd", {
        args: ["-b", file, "tb-role", "tb-pass"],
        stdout: "null",
        stderr: "null",
      }).output();
      assert.ok(made.success && peerUser.success, "mosquitto_passwd");
      await using broker = await startMosquitto({
        extra: ["allow_anonymous false", `password_file ${file}`],
      });
      const basic = (password: string) =>
        new TBDeviceMqttClient({
          host: "127.0.0.1",
          port: broker.port,
          clientId: "meter-1",
          username: "meter-user",
          password,
          protocolVersion: v.protocolVersion,
          engine: v.engine,
        });
      await using peer = await startPeer(broker.port, { username: "tb-role", password: "tb-pass" });
      {
        await using client = basic("meter-pass");
        await client.connect();
        await client.sendTelemetry({ basic: true });
        assert.deepEqual(json(await peer.next("v1/devices/me/telemetry")), { basic: true });
      }
      {
        await using client = basic("WRONG_PASSWORD_9");
        await assert.rejects(client.connect(), (e: unknown) => {
          assert.ok(e instanceof ConnectionRefusedError, String(e));
          assert.match(e.message, /credentials not accepted by ThingsBoard/);
          assert.doesNotMatch(e.message, /WRONG_PASSWORD_9|meter-user/);
          return true;
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
