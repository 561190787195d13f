import assert from "node:assert/strict";
import type { AttributesResponse, AttributeUpdate } from "../core/client/attributes.ts";
import { InvalidAttributeKeyError } from "../core/client/errors.ts";
import { matrix, nextEvent, setup } from "./client_harness.ts";

/** Collects updates and lets a test await the next one. */
function collector() {
  const updates: AttributeUpdate[] = [];
  let wake: (() => void) | undefined;
  return {
    updates,
    callback: (u: AttributeUpdate) => {
      updates.push(u);
      wake?.();
    },
    /** Resolves once `n` updates were received. */
    until(n: number): Promise<void> {
      if (updates.length >= n) return Promise.resolve();
      return new Promise((resolve) => {
        wake = () => {
          if (updates.length >= n) resolve();
        };
      });
    },
  };
}

matrix(
  "TBDeviceMqttClient.requestAttributes() returns client and shared attributes by key",
  async (v) => {
    await using s = await setup(v);
    const { tb, client } = s;
    await client.connect();
    await client.sendAttributes({ fw: "v1.0", model: "m1" });
    tb.setSharedAttributes("d1", { targetTemp: 22, mode: "auto" });
    const seen = tb.waitFor("attributeRequest", () => true, { since: tb.lastSeq });
    const r = await client.requestAttributes({
      clientKeys: ["fw"],
      sharedKeys: ["targetTemp", "missing"],
    });
    assert.deepEqual(r, { client: { fw: "v1.0" }, shared: { targetTemp: 22 } });
    const request = await seen;
    assert.deepEqual(request.clientKeys, ["fw"]);
    assert.deepEqual(request.sharedKeys, ["targetTemp", "missing"]);
    assert.deepEqual(await client.requestAttributes(), {
      client: { fw: "v1.0", model: "m1" },
      shared: { targetTemp: 22, mode: "auto" },
    });
    assert.deepEqual(await client.requestAttributes({ sharedKeys: ["nothing"] }), {
      client: {},
      shared: {},
    });
  },
);

matrix(
  "TBDeviceMqttClient.requestAttributes() refuses a key with a comma before sending",
  async (v) => {
    await using s = await setup(v);
    const { tb, client } = s;
    await client.connect();
    const before = tb.events().filter((e) => e.type === "attributeRequest").length;
    await assert.rejects(
      client.requestAttributes({ sharedKeys: ["a,b"] }),
      InvalidAttributeKeyError,
    );
    await assert.rejects(client.requestAttributes({ clientKeys: [""] }), InvalidAttributeKeyError);
    await client.requestAttributes({ sharedKeys: ["ok"] });
    assert.equal(tb.events().filter((e) => e.type === "attributeRequest").length, before + 1);
  },
);

matrix("TBDeviceMqttClient.requestAttributes() has a callback form", async (v) => {
  await using s = await setup(v);
  const { tb, client } = s;
  await client.connect();
  tb.setSharedAttributes("d1", { a: 1 });
  const { promise, resolve } = Promise.withResolvers<
    [AttributesResponse | undefined, Error | undefined]
  >();
  const result = client.requestAttributes(
    { sharedKeys: ["a"] },
    (response, error) => resolve([response, error]),
  );
  assert.equal(result, undefined);
  assert.deepEqual(await promise, [{ client: {}, shared: { a: 1 } }, undefined]);
  const failed = Promise.withResolvers<[AttributesResponse | undefined, Error | undefined]>();
  client.requestAttributes(
    { sharedKeys: ["x,y"] },
    (response, error) => failed.resolve([response, error]),
  );
  const [response, error] = await failed.promise;
  assert.equal(response, undefined);
  assert.ok(error instanceof InvalidAttributeKeyError);
});

matrix("TBDeviceMqttClient.requestAttributes() times out and aborts", async (v) => {
  await using s = await setup(v);
  const { client } = s;
  // Not connected and no reconnect yet: the request waits in the queue and never gets an answer.
  await assert.rejects(client.requestAttributes({ timeout: 50 }), { name: "TimeoutError" });
  const controller = new AbortController();
  const pending = client.requestAttributes({ signal: controller.signal });
  controller.abort();
  await assert.rejects(pending, { name: "AbortError" });
});

matrix(
  "TBDeviceMqttClient.subscribeToAttribute() delivers updates and deletions of its key",
  async (v) => {
    await using s = await setup(v);
    const { tb, client } = s;
    const one = collector();
    const all = collector();
    const idOne = client.subscribeToAttribute("mode", one.callback);
    const idAll = client.subscribeToAllAttributes(all.callback);
    assert.notEqual(idOne, idAll);
    await client.connect();
    tb.setSharedAttributes("d1", { mode: "auto", level: 2 });
    await all.until(1);
    tb.setSharedAttributes("d1", { level: 3 });
    tb.deleteSharedAttributes("d1", ["mode"]);
    await all.until(3);
    await one.until(2);
    assert.deepEqual(all.updates, [
      { values: { mode: "auto", level: 2 }, deleted: [] },
      { values: { level: 3 }, deleted: [] },
      { values: {}, deleted: ["mode"] },
    ]);
    assert.deepEqual(one.updates, [{ values: { mode: "auto" }, deleted: [] }, {
      values: {},
      deleted: ["mode"],
    }]);
    assert.equal(client.unsubscribeFromAttribute(idOne), true);
    assert.equal(client.unsubscribeFromAttribute(idOne), false);
    tb.setSharedAttributes("d1", { mode: "manual" });
    await all.until(4);
    assert.equal(one.updates.length, 2, "an unsubscribed callback gets nothing");
  },
);

matrix(
  "TBDeviceMqttClient attribute subscriptions survive a session taken over by another client",
  async (v) => {
    await using s = await setup(v);
    const { tb, client } = s;
    const all = collector();
    client.subscribeToAllAttributes(all.callback);
    await client.connect();
    const dropped = nextEvent(client, "disconnect");
    const back = nextEvent(client, "connect");
    // A second connection with the same token evicts the first (ThingsBoard allows one session per device).
    const intruder = s.newClient({ reconnect: false, sessionLimits: false });
    await intruder.connect();
    const d = await dropped;
    if (v.protocolVersion === 5) assert.equal(d.detail.reasonCode, 0x8e);
    await intruder.disconnect();
    const mark = tb.lastSeq;
    await back;
    // Wait until the re-made subscription reached the server, then push.
    await tb.waitFor(
      "subscribe",
      (e) => e.topicFilter === "v1/devices/me/attributes" && e.reasonCode < 0x80,
      { since: mark },
    );
    tb.setSharedAttributes("d1", { afterReconnect: true });
    await all.until(1);
    assert.deepEqual(all.updates[0], { values: { afterReconnect: true }, deleted: [] });
  },
);

matrix(
  "TBDeviceMqttClient attribute callbacks that throw are reported, not thrown into the loop",
  async (v) => {
    await using s = await setup(v);
    const { tb, client } = s;
    const ok = collector();
    client.subscribeToAttribute("k", () => {
      throw new Error("callback bug");
    });
    client.subscribeToAttribute("k", () => Promise.reject(new Error("async callback bug")));
    client.subscribeToAttribute("k", ok.callback);
    const errors: Error[] = [];
    const twoErrors = new Promise<void>((resolve) => {
      client.addEventListener("error", (e) => {
        errors.push(e.detail);
        if (errors.length === 2) resolve();
      });
    });
    await client.connect();
    tb.setSharedAttributes("d1", { k: 1 });
    await ok.until(1);
    await twoErrors;
    assert.deepEqual(errors.map((e) => e.message).sort(), ["async callback bug", "callback bug"]);
    assert.equal(client.connected, true);
  },
);
