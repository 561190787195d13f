/**
 * The independent ThingsBoard-role scenario suite, attributes:
 * `sendAttributes()`, `requestAttributes()` and the shared-attribute
 * subscriptions.
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
import { type AttributeUpdate, InvalidAttributeKeyError } from "../mod.ts";
import {
  attributeStore,
  delay,
  FULL,
  isTimeout,
  ME,
  SUBSET,
  until,
  within,
  withTb,
} from "./_tb_role.ts";

for (const v of [...FULL, ...SUBSET]) {
  Deno.test(`TBDeviceMqttClient.sendAttributes() ${v.label} publishes the object and never takes its own message for a shared-attribute push`, async () => {
    await withTb(v, async ({ peer, device }) => {
      const client = device();
      const pushes: AttributeUpdate[] = [];
      client.subscribeToAllAttributes((u) => void pushes.push(u));
      client.subscribeToAttribute("fw", (u) => void pushes.push(u));
      await client.connect();
      await client.sendAttributes({ fw: "1.2.0", count: 3, flags: { a: true }, list: [1, 2] });
      await client.sendAttributes({ fw: "1.2.1" }, { qos: 0 });
      const got = await peer.waitOn(`${ME}/attributes`, 2);
      assert.equal(got[0]!.text, '{"fw":"1.2.0","count":3,"flags":{"a":true},"list":[1,2]}');
      assert.equal(got[0]!.qos, 1);
      assert.equal(got[1]!.text, '{"fw":"1.2.1"}');
      assert.equal(got[1]!.qos, 0);
      // A real push after them: the callbacks see only that one.
      await peer.publish(`${ME}/attributes`, { target: 7 });
      await until(() => pushes.length >= 1, "the shared attribute push");
      await delay(100);
      assert.deepEqual(pushes, [{ values: { target: 7 }, deleted: [] }]);
    });
  });

  Deno.test(`TBDeviceMqttClient.requestAttributes() ${v.label} promise and callback forms, ids from 1, missing scopes, timeouts`, async () => {
    await withTb(v, async ({ peer, device }) => {
      attributeStore(
        peer,
        { client: { a: 1, b: "x", fw: "1.0" }, shared: { c: true, target: 21.5 } },
        (req) =>
          req.sharedKeys === "silent" ||
          (req.sharedKeys === undefined && req.clientKeys === undefined),
      );
      const client = device();
      await client.connect();
      const r1 = await client.requestAttributes({ clientKeys: ["a", "b"], sharedKeys: ["c"] });
      assert.deepEqual(r1, { client: { a: 1, b: "x" }, shared: { c: true } });
      const r2 = await client.requestAttributes({ sharedKeys: ["target", "unknown"] });
      assert.deepEqual(r2, { client: {}, shared: { target: 21.5 } });
      const r3 = await client.requestAttributes({ clientKeys: ["fw"] });
      assert.deepEqual(r3, { client: { fw: "1.0" }, shared: {} });

      // No keys: everything (neither key sent).
      const everything = client.requestAttributes();
      await until(() => peer.onPrefix(`${ME}/attributes/request/`).length === 4, "request 4");
      await peer.publish(`${ME}/attributes/response/4`, { client: { a: 1 }, shared: { c: true } });
      assert.deepEqual(await everything, { client: { a: 1 }, shared: { c: true } });

      // Callback form.
      const cb = Promise.withResolvers<[unknown, unknown]>();
      const ret = client.requestAttributes({ sharedKeys: ["c"] }, (r, e) => cb.resolve([r, e]));
      assert.equal(ret, undefined);
      assert.deepEqual(await within(cb.promise, 3000, "callback"), [
        { client: {}, shared: { c: true } },
        undefined,
      ]);

      // Two at once, answered by id.
      const [x, y] = await Promise.all([
        client.requestAttributes({ clientKeys: ["a"] }),
        client.requestAttributes({ sharedKeys: ["target"] }),
      ]);
      assert.deepEqual(x, { client: { a: 1 }, shared: {} });
      assert.deepEqual(y, { client: {}, shared: { target: 21.5 } });

      // Timeouts: promise and callback.
      await assert.rejects(
        client.requestAttributes({ sharedKeys: ["silent"], timeout: 200 }),
        isTimeout,
      );
      const cbTimeout = Promise.withResolvers<[unknown, unknown]>();
      client.requestAttributes(
        { sharedKeys: ["silent"], timeout: 200 },
        (r, e) => cbTimeout.resolve([r, e]),
      );
      const [tr, te] = await within(cbTimeout.promise, 3000, "timeout callback");
      assert.equal(tr, undefined);
      assert.ok(isTimeout(te), String(te));

      // Bad keys: refused before anything is sent (callback form too).
      await assert.rejects(
        client.requestAttributes({ sharedKeys: ["a,b"] }),
        InvalidAttributeKeyError,
      );
      const cbBad = Promise.withResolvers<[unknown, unknown]>();
      client.requestAttributes({ clientKeys: [""] }, (r, e) => cbBad.resolve([r, e]));
      const [, be] = await within(cbBad.promise, 3000, "bad-key callback");
      assert.ok(be instanceof InvalidAttributeKeyError);

      const reqs = peer.onPrefix(`${ME}/attributes/request/`);
      assert.deepEqual(
        reqs.map((m) => [m.topic, m.text]),
        [
          [`${ME}/attributes/request/1`, '{"clientKeys":"a,b","sharedKeys":"c"}'],
          [`${ME}/attributes/request/2`, '{"sharedKeys":"target,unknown"}'],
          [`${ME}/attributes/request/3`, '{"clientKeys":"fw"}'],
          [`${ME}/attributes/request/4`, "{}"],
          [`${ME}/attributes/request/5`, '{"sharedKeys":"c"}'],
          [`${ME}/attributes/request/6`, '{"clientKeys":"a"}'],
          [`${ME}/attributes/request/7`, '{"sharedKeys":"target"}'],
          [`${ME}/attributes/request/8`, '{"sharedKeys":"silent"}'],
          [`${ME}/attributes/request/9`, '{"sharedKeys":"silent"}'],
        ],
      );
      // A late answer to a timed-out request is dropped quietly.
      await peer.publish(`${ME}/attributes/response/8`, { shared: { silent: 1 } });
      const after = await client.requestAttributes({ sharedKeys: ["c"] });
      assert.deepEqual(after, { client: {}, shared: { c: true } });
    });
  });

  Deno.test(`TBDeviceMqttClient.subscribeToAttribute() ${v.label} per key, all keys, deletions and unsubscribe`, async () => {
    await withTb(v, async ({ peer, device }) => {
      const client = device();
      const target: AttributeUpdate[] = [];
      const mode: AttributeUpdate[] = [];
      const all: AttributeUpdate[] = [];
      const idTarget = client.subscribeToAttribute("target", (u) => void target.push(u));
      const idMode = client.subscribeToAttribute("mode", (u) => void mode.push(u));
      const idAll = client.subscribeToAllAttributes((u) => void all.push(u));
      const errors: Error[] = [];
      client.addEventListener("error", (e) => errors.push(e.detail));
      const idThrow = client.subscribeToAttribute("target", () => {
        throw new Error("callback broke");
      });
      assert.notEqual(idTarget, idMode);
      assert.notEqual(idMode, idAll);
      await client.connect();

      await peer.publish(`${ME}/attributes`, { target: 22.5, mode: "eco", other: 1 });
      await until(() => all.length === 1, "first push");
      assert.deepEqual(all[0], { values: { target: 22.5, mode: "eco", other: 1 }, deleted: [] });
      assert.deepEqual(target, [{ values: { target: 22.5 }, deleted: [] }]);
      assert.deepEqual(mode, [{ values: { mode: "eco" }, deleted: [] }]);
      // A throwing callback is reported and does not stop the others.
      await until(() => errors.length === 1, "error event of the throwing callback");
      assert.equal(errors[0]!.message, "callback broke");
      assert.equal(client.unsubscribeFromAttribute(idThrow), true);

      await peer.publish(`${ME}/attributes`, { deleted: ["mode"] });
      await until(() => all.length === 2, "deletion");
      assert.deepEqual(all[1], { values: {}, deleted: ["mode"] });
      assert.deepEqual(mode[1], { values: {}, deleted: ["mode"] });
      assert.equal(target.length, 1);

      await peer.publish(`${ME}/attributes`, { deleted: ["target", "x"] });
      await until(() => all.length === 3, "second deletion");
      assert.deepEqual(all[2], { values: {}, deleted: ["target", "x"] });
      assert.deepEqual(target[1], { values: {}, deleted: ["target"] });
      assert.equal(mode.length, 2);

      assert.equal(client.unsubscribeFromAttribute(idMode), true);
      assert.equal(client.unsubscribeFromAttribute(idMode), false);
      await peer.publish(`${ME}/attributes`, { mode: "comfort", target: 19 });
      await until(() => all.length === 4, "push after unsubscribe");
      assert.equal(mode.length, 2);
      assert.deepEqual(target[2], { values: { target: 19 }, deleted: [] });

      assert.equal(client.unsubscribeFromAttribute(idAll), true);
      await peer.publish(`${ME}/attributes`, { target: 20 });
      await until(() => target.length === 4, "push to the key only");
      assert.equal(all.length, 4);
      assert.equal(client.unsubscribeFromAttribute(idTarget), true);
      // The device published nothing of its own.
      assert.deepEqual(peer.traffic(), []);
    });
  });
}
