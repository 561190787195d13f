/**
 * Independent checks of `TBGatewayMqttClient`'s request/response and push
 * side: attribute requests (exact request JSON, `value`/`values` answers,
 * timeouts), shared-attribute updates per device and for all devices, and
 * server-side RPC with the handler's reply; MQTT.js plays ThingsBoard over a
 * real Mosquitto, on MQTT 5 and 3.1.1. Written from ThingsBoard's gateway
 * API and the public docs only.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  type GatewayAttributeUpdate,
  type GatewayRpcRequest,
} from "../mod.ts";
import { delay, GW, type Msg, until, V5, VARIANTS, withBroker } from "./_gateway_independent.ts";

interface AttrRequest {
  id: number;
  device: string;
  client: boolean;
  key?: string;
  keys?: string[];
}

for (const v of VARIANTS) {
  Deno.test(`TBGatewayMqttClient.requestAttributes() sends {"id","device","client","key"|"keys"} and maps the answers ${v.label}`, async () => {
    await withBroker(v, async ({ peer, connected }) => {
      // What ThingsBoard stores for "Dev A".
      const store = {
        client: { fw: "1.2", serial: 77 } as Record<string, unknown>,
        shared: { target: 21.5, mode: "eco", nested: { a: [1, 2] } } as Record<string, unknown>,
      };
      peer.responders.push((m: Msg) => {
        if (m.topic !== GW.attributeRequest) return;
        const req = m.json as AttrRequest;
        const scope = req.client ? store.client : store.shared;
        const keys = req.key !== undefined ? [req.key] : req.keys!;
        const found = keys.filter((k) => Object.hasOwn(scope, k));
        const body: Record<string, unknown> = { id: req.id, device: req.device };
        if (req.key !== undefined) {
          if (found.length === 1) body.value = scope[req.key];
        } else if (found.length > 0) {
          body.values = Object.fromEntries(found.map((k) => [k, scope[k]]));
        }
        peer.publish(GW.attributeResponse, body).catch(() => {});
      });
      const { gw, errors } = await connected();

      // One client key.
      assert.deepEqual(await gw.requestAttributes("Dev A", { clientKeys: ["fw"] }), {
        client: { fw: "1.2" },
        shared: {},
      });
      // Several shared keys, one missing (absent from the result), a duplicate sent once.
      assert.deepEqual(
        await gw.requestAttributes("Dev A", {
          sharedKeys: ["target", "missing", "nested", "target"],
        }),
        { client: {}, shared: { target: 21.5, nested: { a: [1, 2] } } },
      );
      // Both scopes: two requests, one per scope.
      assert.deepEqual(
        await gw.requestAttributes("Dev A", { clientKeys: ["serial", "fw"], sharedKeys: ["mode"] }),
        { client: { serial: 77, fw: "1.2" }, shared: { mode: "eco" } },
      );
      // One key that does not exist: ThingsBoard answers without "value".
      assert.deepEqual(await gw.requestAttributes("Dev A", { sharedKeys: ["nope"] }), {
        client: {},
        shared: {},
      });

      const reqs = peer.on(GW.attributeRequest);
      assert.ok(reqs.every((m) => m.qos === 1));
      const json = reqs.map((m) => m.json as AttrRequest);
      const ids = json.map((r) => r.id);
      assert.equal(new Set(ids).size, ids.length, "every request has its own id");
      assert.ok(ids.every((id) => Number.isInteger(id) && id >= 0));
      const strip = ({ id: _, ...rest }: AttrRequest) => rest;
      assert.deepEqual([json[0], json[1], json[4]].map((r) => strip(r!)), [
        { device: "Dev A", client: true, key: "fw" },
        { device: "Dev A", client: false, keys: ["target", "missing", "nested"] },
        { device: "Dev A", client: false, key: "nope" },
      ]);
      assert.equal(json.length, 5);
      // The two scopes of one call may go out in either order.
      assert.deepEqual(
        json.slice(2, 4).map(({ id: _, ...r }) => r).sort((a, b) =>
          Number(b.client) - Number(a.client)
        ),
        [
          { device: "Dev A", client: true, keys: ["serial", "fw"] },
          { device: "Dev A", client: false, key: "mode" },
        ],
      );
      // The exact text of the first request.
      assert.equal(
        reqs[0]!.text,
        `{"id":${ids[0]},"device":"Dev A","client":true,"key":"fw"}`,
      );
      assert.deepEqual(errors, []);
    });
  });
}

Deno.test('TBGatewayMqttClient.requestAttributes() handles a single "value" answering several keys', async () => {
  // The client's docs: ThingsBoard answers with a bare "value" whenever exactly one attribute
  // was found, even for "keys" (the reference only shows it for one key): the client must
  // still map it to the right key.
  await withBroker(V5, async ({ peer, connected }) => {
    peer.responders.push((m: Msg) => {
      if (m.topic !== GW.attributeRequest) return;
      const req = m.json as AttrRequest;
      const keys = req.key !== undefined ? [req.key] : req.keys!;
      const body: Record<string, unknown> = { id: req.id, device: req.device };
      if (keys.includes("b")) body.value = 2; // only "b" exists
      peer.publish(GW.attributeResponse, body).catch(() => {});
    });
    const { gw, errors } = await connected();
    assert.deepEqual(await gw.requestAttributes("Dev A", { sharedKeys: ["a", "b", "c"] }), {
      client: {},
      shared: { b: 2 },
    });
    assert.deepEqual(errors, []);
  });
});

Deno.test("TBGatewayMqttClient.requestAttributes() times out when ThingsBoard does not answer", async () => {
  await withBroker(V5, async ({ peer, connected }) => {
    const { gw, errors } = await connected();
    const started = Date.now();
    await assert.rejects(
      () => gw.requestAttributes("Dev A", { sharedKeys: ["k"], timeout: 200 }),
      (e: Error) => e instanceof DOMException && e.name === "TimeoutError",
    );
    const took = Date.now() - started;
    assert.ok(took >= 190 && took < 2000, `took ${took} ms`);
    // The default timeout is the client's requestTimeout (3000 in this fixture), not forever.
    const [req] = await peer.waitOn(GW.attributeRequest, 1);
    const { id } = req!.json as AttrRequest;
    // A late answer is ignored quietly.
    await peer.publish(GW.attributeResponse, { id, device: "Dev A", value: 1 });
    await delay(100);
    assert.deepEqual(errors, []);
    // Abort and disconnect end a pending request too.
    const ac = new AbortController();
    const aborted = gw.requestAttributes("Dev A", { sharedKeys: ["k"], signal: ac.signal });
    ac.abort();
    await assert.rejects(aborted, (e: Error) => e.name === "AbortError");
    const pending = gw.requestAttributes("Dev A", { clientKeys: ["k"] });
    await peer.waitOn(GW.attributeRequest, 3);
    await gw.disconnect();
    await assert.rejects(pending, ConnectionClosedError);
  });
});

for (const v of VARIANTS) {
  Deno.test(`TBGatewayMqttClient.subscribeToAttributes() delivers pushes per device and for all devices ${v.label}`, async () => {
    await withBroker(v, async ({ peer, connected }) => {
      const { gw, errors } = await connected();
      const forA: GatewayAttributeUpdate[] = [];
      const forAll: GatewayAttributeUpdate[] = [];
      const idA = gw.subscribeToAttributes("Dev A", (u) => {
        forA.push(u);
      });
      const idAll = gw.subscribeToAttributes(undefined, async (u) => {
        await Promise.resolve();
        forAll.push(u);
      });
      assert.notEqual(idA, idAll);

      await peer.publish(GW.attributes, { device: "Dev A", data: { target: 22, mode: "eco" } });
      await peer.publish(GW.attributes, { device: "Dev B", data: { rate: 5 } });
      await peer.publish(GW.attributes, { device: "Dev A", data: { deleted: ["mode"] } });
      await until(() => forAll.length === 3, "three updates for all devices");
      await until(() => forA.length === 2, "two updates of Dev A");
      assert.deepEqual(forA, [
        { device: "Dev A", values: { target: 22, mode: "eco" }, deleted: [] },
        { device: "Dev A", values: {}, deleted: ["mode"] },
      ]);
      assert.deepEqual(forAll, [
        { device: "Dev A", values: { target: 22, mode: "eco" }, deleted: [] },
        { device: "Dev B", values: { rate: 5 }, deleted: [] },
        { device: "Dev A", values: {}, deleted: ["mode"] },
      ]);

      assert.equal(gw.unsubscribeFromAttributes(idA), true);
      assert.equal(gw.unsubscribeFromAttributes(idA), false);
      await peer.publish(GW.attributes, { device: "Dev A", data: { target: 23 } });
      await until(() => forAll.length === 4, "the fourth update");
      await delay(50);
      assert.equal(forA.length, 2, "no update after unsubscribing");
      assert.deepEqual(errors, []);

      // A throwing callback is reported through "error" and does not stop the others.
      gw.subscribeToAttributes("Dev C", () => {
        throw new Error("callback failed");
      });
      await peer.publish(GW.attributes, { device: "Dev C", data: { x: 1 } });
      await until(() => forAll.length === 5, "the fifth update");
      await until(() => errors.length === 1, "the callback error");
      assert.match((errors as Error[])[0]!.message, /callback failed/);
    });
  });

  Deno.test(`TBGatewayMqttClient.setRpcRequestHandler() answers server RPC on v1/gateway/rpc ${v.label}`, async () => {
    await withBroker(v, async ({ peer, connected }) => {
      const { gw, errors } = await connected();
      const seen: GatewayRpcRequest[] = [];
      gw.setRpcRequestHandler(async (req) => {
        seen.push(req);
        if (req.method === "getState") return { device: req.device, on: true };
        // A reply that itself looks like an RPC request: its 3.1.1 echo must not run again.
        if (req.method === "mirror") return { id: req.id, method: "mirror" };
        if (req.method === "later") return undefined;
        await Promise.resolve();
        throw new Error(`unknown method ${req.method}`);
      });

      await peer.publish(GW.rpc, {
        device: "Valve 7",
        data: { id: 5, method: "getState", params: { verbose: true } },
      });
      await peer.publish(GW.rpc, { device: "Valve 7", data: { id: 6, method: "explode" } });
      await peer.publish(GW.rpc, {
        device: "Dev A",
        data: { id: 7, method: "mirror", params: null },
      });
      const replies = await peer.waitOn(GW.rpc, 3);
      const byId = new Map(replies.map((m) => [(m.json as { id: number }).id, m]));
      assert.equal(
        byId.get(5)!.text,
        '{"device":"Valve 7","id":5,"data":{"device":"Valve 7","on":true}}',
      );
      assert.deepEqual(byId.get(6)!.json, {
        device: "Valve 7",
        id: 6,
        data: { error: "unknown method explode" },
      });
      assert.deepEqual(byId.get(7)!.json, {
        device: "Dev A",
        id: 7,
        data: { id: 7, method: "mirror" },
      });
      assert.ok(replies.every((m) => m.qos === 1));
      assert.deepEqual(seen.map((r) => [r.device, r.id, r.method, r.params]), [
        ["Valve 7", 5, "getState", { verbose: true }],
        ["Valve 7", 6, "explode", null],
        ["Dev A", 7, "mirror", null],
      ]);

      // undefined: no reply; the application answers later with sendRpcReply().
      await peer.publish(GW.rpc, { device: "Dev B", data: { id: 8, method: "later" } });
      await until(() => seen.length === 4, "the fourth request");
      await delay(100);
      assert.equal(peer.on(GW.rpc).length, 3, "no reply for undefined");
      await gw.sendRpcReply("Dev B", 8, { done: "yes" });
      const all = await peer.waitOn(GW.rpc, 4);
      assert.equal(all[3]!.text, '{"device":"Dev B","id":8,"data":{"done":"yes"}}');
      assert.equal(all[3]!.qos, 1);

      await delay(100);
      assert.equal(seen.length, 4, "our own replies never reach the handler");
      // The rejection of "explode" is reported (it is the handler's failure).
      assert.ok(errors.every((e) => /unknown method explode/.test(e.message)), String(errors));

      // Without a handler nothing is replied.
      gw.setRpcRequestHandler(undefined);
      await peer.publish(GW.rpc, { device: "Dev B", data: { id: 9, method: "getState" } });
      await delay(150);
      assert.equal(peer.on(GW.rpc).length, 4);
    });
  });
}

Deno.test("TBGatewayMqttClient reports malformed pushes and keeps working", async () => {
  await withBroker(V5, async ({ peer, connected }) => {
    const { gw, errors } = await connected();
    const got: GatewayAttributeUpdate[] = [];
    gw.subscribeToAttributes(undefined, (u) => {
      got.push(u);
    });
    await peer.publish(GW.attributes, "not json");
    await peer.publish(GW.rpc, { device: "A", data: { method: "noId" } });
    await until(() => errors.length === 2, "two errors");
    await peer.publish(GW.attributes, { device: "A", data: { ok: 1 } });
    await until(() => got.length === 1, "the good push");
    assert.deepEqual(got[0], { device: "A", values: { ok: 1 }, deleted: [] });
    assert.equal(gw.connected, true);
  });
});
