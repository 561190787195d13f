/**
 * The independent ThingsBoard-role scenario suite, RPC: server-side RPC
 * handled by the device and its replies, and client-side `sendRpcCall()`.
 *
 * MQTT.js plays ThingsBoard's side of the device MQTT API over a real
 * Mosquitto broker (`_tb_role.ts`), and each API row of `TBDeviceMqttClient`
 * is checked by the exact topics and JSON that reach that peer, on MQTT 5 and
 * 3.1.1 and with both engines. Written from the device API specification and
 * the public docs only.
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidPayloadError, RpcError, type RpcRequest } from "../mod.ts";
import { delay, FULL, idOf, isTimeout, LIMITS_ID, ME, SUBSET, until, withTb } from "./_tb_role.ts";

for (const v of [...FULL, ...SUBSET]) {
  Deno.test(`TBDeviceMqttClient.setServerSideRpcRequestHandler() ${v.label} replies with a value, a Promise, an error, or later via sendRpcReply()`, async () => {
    await withTb(v, async ({ peer, device }) => {
      const client = device();
      const seen: RpcRequest[] = [];
      const errors: Error[] = [];
      client.addEventListener("error", (e) => errors.push(e.detail));
      client.setServerSideRpcRequestHandler((req) => {
        seen.push(req);
        switch (req.method) {
          case "echo":
            return { method: req.method, params: req.params };
          case "later":
            return delay(50).then(() => ({ late: req.params }));
          case "fail":
            throw new Error("boom");
          case "reject":
            return Promise.reject(new Error("nope"));
          case "scalar":
            return 42;
          case "unsendable":
            return { x: NaN };
          default:
            return undefined; // reply by hand
        }
      });
      await client.connect();
      const reqTopic = (id: number) => `${ME}/rpc/request/${id}`;
      await peer.publish(reqTopic(0), { method: "echo", params: { a: 1 } });
      await peer.publish(reqTopic(5), { method: "later", params: 7 });
      await peer.publish(reqTopic(6), { method: "fail", params: {} });
      await peer.publish(reqTopic(11), { method: "reject", params: {} });
      await peer.publish(reqTopic(12), { method: "scalar" });
      await peer.publish(reqTopic(13), { method: "unsendable" });
      await peer.publish(reqTopic(8), { method: "manual", params: { x: 1 } });
      await peer.publish(reqTopic(LIMITS_ID), { method: "echo" });
      const responses = await until(() => {
        const r = peer.onPrefix(`${ME}/rpc/response/`);
        return r.length >= 7 ? r : undefined;
      }, "7 RPC responses");
      const byTopic = new Map(responses.map((m) => [m.topic, m.text]));
      assert.equal(byTopic.get(`${ME}/rpc/response/0`), '{"method":"echo","params":{"a":1}}');
      assert.equal(byTopic.get(`${ME}/rpc/response/5`), '{"late":7}');
      assert.equal(byTopic.get(`${ME}/rpc/response/6`), '{"error":"boom"}');
      assert.equal(byTopic.get(`${ME}/rpc/response/11`), '{"error":"nope"}');
      assert.equal(byTopic.get(`${ME}/rpc/response/12`), "42");
      assert.equal(
        byTopic.get(`${ME}/rpc/response/${LIMITS_ID}`),
        '{"method":"echo","params":null}',
      );
      // A value JSON cannot carry: the server still gets an error reply, and it is reported.
      assert.match(byTopic.get(`${ME}/rpc/response/13`) ?? "", /^\{"error":".+"\}$/);
      await until(() => errors.some((e) => e instanceof InvalidPayloadError), "error event");
      assert.equal(byTopic.has(`${ME}/rpc/response/8`), false);
      assert.deepEqual(seen.find((r) => r.method === "manual"), {
        id: 8,
        method: "manual",
        params: { x: 1 },
      });
      await client.sendRpcReply(8, { done: true });
      await client.sendRpcReply("9", "ok", { qos: 0 });
      const all = await until(() => {
        const r = peer.onPrefix(`${ME}/rpc/response/`);
        return r.length >= 9 ? r : undefined;
      }, "manual replies");
      assert.equal(all.find((m) => m.topic === `${ME}/rpc/response/8`)?.text, '{"done":true}');
      const nine = all.find((m) => m.topic === `${ME}/rpc/response/9`);
      assert.equal(nine?.text, '"ok"');
      assert.equal(nine?.qos, 0);
      await assert.rejects(client.sendRpcReply(-1, {}), TypeError);
      await assert.rejects(client.sendRpcReply("x1", {}), TypeError);

      // Without a handler nothing is answered.
      client.setServerSideRpcRequestHandler(undefined);
      await peer.publish(reqTopic(20), { method: "echo" });
      await client.sendTelemetry({ marker: 1 }); // ordering fence
      await peer.waitOn(`${ME}/telemetry`);
      await delay(100);
      assert.equal(peer.on(`${ME}/rpc/response/20`).length, 0);
      // Exactly one response per request.
      assert.equal(peer.onPrefix(`${ME}/rpc/response/`).length, 9);
      assert.equal(seen.length, 8);
    });
  });

  Deno.test(`TBDeviceMqttClient.sendRpcCall() ${v.label} answers, error answers, timeouts, ids shared with server RPC`, async () => {
    await withTb(v, async ({ peer, device }) => {
      const hold = new Map<number, string>();
      peer.responders.push((m) => {
        const id = idOf(m.topic, `${ME}/rpc/request/`);
        const method = (m.json as { method?: string } | undefined)?.method;
        if (id === undefined || method === undefined || method === "getSessionLimits") return;
        const answer = (body: unknown) =>
          peer.publish(`${ME}/rpc/response/${id}`, body).catch(() => {});
        if (method === "getTime") {
          answer({ time: 123, echo: (m.json as { params: unknown }).params });
        } else if (method === "broken") answer({ error: "no such method" });
        else if (method === "text") answer("hello there");
        else if (method === "hold") hold.set(id, method);
      });
      const client = device();
      const handled: RpcRequest[] = [];
      client.setServerSideRpcRequestHandler((r) => {
        handled.push(r);
        return { mine: true };
      });
      await client.connect();
      await until(() => client.sessionLimits, "limits");

      assert.deepEqual(await client.sendRpcCall("getTime", { tz: "UTC" }), {
        time: 123,
        echo: { tz: "UTC" },
      });
      await assert.rejects(client.sendRpcCall("broken"), (e) => {
        assert.ok(e instanceof RpcError);
        assert.match(e.message, /no such method/);
        return true;
      });
      await assert.rejects(client.sendRpcCall("slow", null, { timeout: 200 }), isTimeout);
      assert.equal(await client.sendRpcCall("text", [1, 2]), "hello there");

      // A pending call with id 5 and a server RPC with the same id: neither takes the other.
      const pending = client.sendRpcCall("hold", {}, { timeout: 3000 });
      await until(() => hold.has(5), "the held call on id 5");
      await peer.publish(`${ME}/rpc/request/5`, { method: "serverSide", params: 1 });
      await until(() => peer.on(`${ME}/rpc/response/5`).length === 1, "device reply on id 5");
      await delay(150);
      await peer.publish(`${ME}/rpc/response/5`, { theirs: true });
      assert.deepEqual(await pending, { theirs: true });

      const reqs = peer.onPrefix(`${ME}/rpc/request/`);
      assert.deepEqual(reqs.map((m) => [m.topic, m.text]), [
        [`${ME}/rpc/request/1`, '{"method":"getTime","params":{"tz":"UTC"}}'],
        [`${ME}/rpc/request/2`, '{"method":"broken","params":{}}'],
        [`${ME}/rpc/request/3`, '{"method":"slow","params":null}'],
        [`${ME}/rpc/request/4`, '{"method":"text","params":[1,2]}'],
        [`${ME}/rpc/request/5`, '{"method":"hold","params":{}}'],
      ]);
      // The handler saw only the one real server RPC, never our own requests.
      assert.deepEqual(handled, [{ id: 5, method: "serverSide", params: 1 }]);
      assert.deepEqual(
        peer.onPrefix(`${ME}/rpc/response/`).map((m) => [m.topic, m.text]),
        [[`${ME}/rpc/response/5`, '{"mine":true}']],
      );
      // Refused before sending.
      await assert.rejects(client.sendRpcCall(""), TypeError);
      await assert.rejects(client.sendRpcCall("m", {}, { timeout: -1 }), RangeError);
      await assert.rejects(client.sendRpcCall("m", { f: () => 1 }), InvalidPayloadError);
      await delay(50);
      assert.equal(peer.onPrefix(`${ME}/rpc/request/`).length, 5);
    });
  });
}
