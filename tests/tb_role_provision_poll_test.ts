/**
 * The independent ThingsBoard-role scenario suite, provisioning over a
 * provision-only session (`provision()`) and the "poll" dispatch
 * (`checkForMsg()` / `waitForMsg()`).
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
import {
  type AttributeUpdate,
  ProvisionError,
  type RpcRequest,
  TBDeviceMqttClient,
} from "../mod.ts";
import { attributeStore, delay, FULL, isTimeout, ME, within, withTb } from "./_tb_role.ts";

for (const v of FULL) {
  Deno.test(`TBDeviceMqttClient.provision() ${v.label} success, NOT_FOUND and timeout over a provision-only session`, async () => {
    await withTb(v, async ({ broker, peer, options }) => {
      peer.responders.push((m) => {
        if (m.topic !== "/provision/request") return;
        const req = m.json as { provisionDeviceKey: string; deviceName?: string };
        if (req.provisionDeviceKey === "KEY") {
          peer.publish("/provision/response", {
            status: "SUCCESS",
            credentialsType: "ACCESS_TOKEN",
            credentialsValue: `issued-${req.deviceName}`,
          }).catch(() => {});
        } else if (req.provisionDeviceKey === "BAD") {
          peer.publish("/provision/response", {
            status: "NOT_FOUND",
            errorMsg: "Failed to provision device!",
          }).catch(() => {});
        }
      });
      const req = TBDeviceMqttClient.getProvisionRequest("KEY", "SECRET", {
        deviceName: "dev-1",
        accessToken: "wanted",
      });
      assert.deepEqual(req, {
        provisionDeviceKey: "KEY",
        provisionDeviceSecret: "SECRET",
        deviceName: "dev-1",
        credentialsType: "ACCESS_TOKEN",
        token: "wanted",
      });
      const popts = { protocolVersion: v.protocolVersion, engine: v.engine, timeout: 3000 };
      const creds = await TBDeviceMqttClient.provision("127.0.0.1", broker.port, req, popts);
      assert.deepEqual(creds, { credentialsType: "ACCESS_TOKEN", accessToken: "issued-dev-1" });
      const sent = await peer.waitOn("/provision/request");
      assert.equal(
        sent[0]!.text,
        '{"provisionDeviceKey":"KEY","provisionDeviceSecret":"SECRET","deviceName":"dev-1","credentialsType":"ACCESS_TOKEN","token":"wanted"}',
      );
      assert.match(broker.log(), /u'provision'\)/);

      const bad = TBDeviceMqttClient.getProvisionRequest("BAD", "S", { deviceName: "dev-2" });
      await assert.rejects(
        TBDeviceMqttClient.provision("127.0.0.1", broker.port, bad, popts),
        (e) => {
          assert.ok(e instanceof ProvisionError);
          assert.equal(e.status, "NOT_FOUND");
          assert.equal(e.errorMsg, "Failed to provision device!");
          return true;
        },
      );
      const silent = TBDeviceMqttClient.getProvisionRequest("NOBODY", "S");
      await assert.rejects(
        TBDeviceMqttClient.provision("127.0.0.1", broker.port, silent, {
          ...popts,
          timeout: 300,
        }),
        isTimeout,
      );
      assert.deepEqual(
        peer.on("/provision/request").map((m) =>
          (m.json as { provisionDeviceKey: string })
            .provisionDeviceKey
        ),
        ["KEY", "BAD", "NOBODY"],
      );

      // The issued token works for a device session.
      await using dev = new TBDeviceMqttClient({ ...options, accessToken: creds.accessToken });
      await dev.connect();
      await dev.sendTelemetry({ provisioned: true });
      await peer.waitOn(`${ME}/telemetry`);
      assert.match(broker.log(), /u'issued-dev-1'\)/);
    });
  });

  Deno.test(`TBDeviceMqttClient.waitForMsg() ${v.label} dispatch "poll" holds callbacks until checkForMsg()/waitForMsg()`, async () => {
    await withTb(v, async ({ peer, device }) => {
      attributeStore(peer, { client: {}, shared: { target: 5 } });
      const client = device({ dispatch: "poll" });
      const pushes: AttributeUpdate[] = [];
      const rpcs: RpcRequest[] = [];
      client.subscribeToAttribute("target", (u) => void pushes.push(u));
      client.setServerSideRpcRequestHandler((r) => {
        rpcs.push(r);
        return { ok: r.id };
      });
      await client.connect();
      assert.equal(client.checkForMsg(), 0);
      assert.equal(await client.waitForMsg({ timeout: 50 }), 0);

      let cbResult: unknown;
      client.requestAttributes({ sharedKeys: ["target"] }, (r) => cbResult = r);
      await peer.publish(`${ME}/attributes`, { target: 30 });
      await peer.publish(`${ME}/rpc/request/3`, { method: "ping" });
      // The promise form is not held by the poll.
      assert.deepEqual(await client.requestAttributes({ sharedKeys: ["target"] }), {
        client: {},
        shared: { target: 5 },
      });
      await delay(200);
      assert.deepEqual(pushes, []);
      assert.deepEqual(rpcs, []);
      assert.equal(cbResult, undefined);
      assert.equal(peer.onPrefix(`${ME}/rpc/response/`).length, 0);

      assert.equal(client.checkForMsg(), 3);
      assert.deepEqual(pushes, [{ values: { target: 30 }, deleted: [] }]);
      assert.deepEqual(rpcs, [{ id: 3, method: "ping", params: null }]);
      assert.deepEqual(cbResult, { client: {}, shared: { target: 5 } });
      const [reply] = await peer.waitOn(`${ME}/rpc/response/3`);
      assert.equal(reply!.text, '{"ok":3}');
      assert.equal(client.checkForMsg(), 0);

      // waitForMsg() wakes up for a message that arrives later.
      const waiting = client.waitForMsg({ timeout: 3000 });
      await delay(50);
      await peer.publish(`${ME}/attributes`, { target: 31 });
      assert.equal(await waiting, 1);
      assert.deepEqual(pushes[1], { values: { target: 31 }, deleted: [] });

      // ... and returns 0 when the client disconnects.
      const closing = client.waitForMsg({ timeout: 10_000 });
      await client.disconnect();
      assert.equal(await within(closing, 2000, "waitForMsg on disconnect"), 0);

      // A full inbox drops the oldest message.
      const small = device({ dispatch: "poll", pollQueueSize: 2, accessToken: "SMALL" });
      const seenSmall: AttributeUpdate[] = [];
      small.subscribeToAllAttributes((u) => void seenSmall.push(u));
      await small.connect();
      for (let i = 1; i <= 3; i++) await peer.publish(`${ME}/attributes`, { n: i });
      await small.sendTelemetry({ fence: 1 }); // the pushes have arrived once this is acked
      await delay(100);
      assert.equal(small.checkForMsg(), 2);
      assert.deepEqual(seenSmall.map((u) => u.values.n), [2, 3]);

      // The "auto" client refuses waitForMsg().
      const auto = device();
      await assert.rejects(auto.waitForMsg({ timeout: 10 }), TypeError);
      assert.equal(auto.checkForMsg(), 0);
    });
  });
}
