import assert from "node:assert/strict";
import type { AttributesResponse, AttributeUpdate } from "../core/client/attributes.ts";
import { matrix, setup } from "./client_harness.ts";

matrix(
  'TBDeviceMqttClient dispatch "poll" runs callbacks only from checkForMsg() / waitForMsg()',
  async (v) => {
    await using s = await setup(v, { dispatch: "poll", sessionLimits: false });
    const { tb, client } = s;
    const updates: AttributeUpdate[] = [];
    client.subscribeToAllAttributes((u) => void updates.push(u));
    client.setServerSideRpcRequestHandler(({ params }) => ({ got: params }));
    await client.connect();
    assert.equal(client.checkForMsg(), 0);

    tb.setSharedAttributes("d1", { a: 1 });
    assert.equal(await client.waitForMsg(), 1);
    assert.deepEqual(updates, [{ values: { a: 1 }, deleted: [] }]);

    // Two pushes queue up; nothing runs until the application polls.
    tb.setSharedAttributes("d1", { b: 2 });
    tb.deleteSharedAttributes("d1", ["a"]);
    // A server RPC waits for the poll too; its reply is sent from there.
    const reply = tb.sendRpc("d1", "m", { x: 1 });
    let dispatched = 0;
    while (dispatched < 3) dispatched += await client.waitForMsg();
    assert.equal(dispatched, 3);
    assert.deepEqual(updates.slice(1), [{ values: { b: 2 }, deleted: [] }, {
      values: {},
      deleted: ["a"],
    }]);
    assert.deepEqual(await reply, { got: { x: 1 } });
    assert.equal(client.checkForMsg(), 0);
  },
);

matrix(
  'TBDeviceMqttClient dispatch "poll" delivers callback-form responses from the poll',
  async (v) => {
    await using s = await setup(v, { dispatch: "poll", sessionLimits: false });
    const { tb, client } = s;
    await client.connect();
    tb.setSharedAttributes("d1", { k: "v" });
    const got: Array<AttributesResponse | undefined> = [];
    client.requestAttributes({ sharedKeys: ["k"] }, (r) => void got.push(r));
    // The Promise form resolves without polling.
    assert.deepEqual(await client.requestAttributes({ sharedKeys: ["k"] }), {
      client: {},
      shared: { k: "v" },
    });
    assert.deepEqual(got, []);
    let n = client.checkForMsg();
    while (n === 0) n = await client.waitForMsg();
    assert.deepEqual(got, [{ client: {}, shared: { k: "v" } }]);
  },
);

matrix(
  "TBDeviceMqttClient.waitForMsg() returns 0 on timeout and on disconnect, rejects on abort",
  async (v) => {
    await using s = await setup(v, { dispatch: "poll", sessionLimits: false });
    const { client } = s;
    await client.connect();
    assert.equal(await client.waitForMsg({ timeout: 20 }), 0);
    const controller = new AbortController();
    const aborted = client.waitForMsg({ signal: controller.signal });
    controller.abort(new Error("stop polling"));
    await assert.rejects(aborted, /stop polling/);
    const waiting = client.waitForMsg();
    await client.disconnect();
    assert.equal(await waiting, 0);
  },
);

matrix('TBDeviceMqttClient.waitForMsg() is refused with dispatch "auto"', async (v) => {
  await using s = await setup(v);
  await assert.rejects(s.client.waitForMsg(), TypeError);
  await assert.rejects(s.client.waitForMsg(), /dispatch "auto"; create it with dispatch: "poll"$/);
  assert.equal(s.client.checkForMsg(), 0);
});
