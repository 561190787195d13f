/**
 * The independent ThingsBoard-role scenario suite, reconnection: a broker
 * stop/restart with resubscription and no QoS 1 message lost.
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
import { type AttributeUpdate, type RpcRequest, TBDeviceMqttClient } from "../mod.ts";
import { startMosquitto } from "./_mosquitto.ts";
import {
  attributeStore,
  delay,
  idOf,
  LIMITS_ID,
  ME,
  newToken,
  TbPeer,
  until,
  V4_WASM,
  V5_WASM,
  within,
} from "./_tb_role.ts";

for (const v of [V5_WASM, V4_WASM]) {
  Deno.test(`TBDeviceMqttClient.connect() ${v.label} survives a broker stop/restart: reconnects, resubscribes, loses no QoS 1 message`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tb_role_persist_" });
    try {
      // Broker persistence keeps the peer's session (and the messages queued for it) across
      // the restart, so that what the device delivers while the peer reconnects is not lost.
      await using broker = await startMosquitto({
        extra: ["persistence true", `persistence_location ${dir}/`],
      });
      const peer = await TbPeer.start(broker.port, {
        clientId: `tb-peer-${crypto.randomUUID().slice(0, 8)}`,
        persistent: true,
      });
      attributeStore(peer, { client: {}, shared: { target: 1 } });
      peer.responders.push((m) => {
        const id = idOf(m.topic, `${ME}/rpc/request/`);
        if (id !== undefined && (m.json as { method?: string }).method === "getTime") {
          peer.publish(`${ME}/rpc/response/${id}`, { time: id }).catch(() => {});
        }
      });
      const client = new TBDeviceMqttClient({
        host: "127.0.0.1",
        port: broker.port,
        accessToken: newToken(),
        protocolVersion: v.protocolVersion,
        engine: v.engine,
        fallback: false,
        reconnect: { initialDelay: 100, maxDelay: 300, jitter: 0 },
        maxInflight: 20,
      });
      const events: string[] = [];
      client.addEventListener("connect", () => events.push("connect"));
      client.addEventListener("disconnect", () => events.push("disconnect"));
      client.addEventListener("reconnecting", () => events.push("reconnecting"));
      const pushes: AttributeUpdate[] = [];
      client.subscribeToAttribute("target", (u) => void pushes.push(u));
      const everything: AttributeUpdate[] = [];
      client.subscribeToAllAttributes((u) => void everything.push(u));
      const rpcs: RpcRequest[] = [];
      client.setServerSideRpcRequestHandler((r) => {
        rpcs.push(r);
        return { pong: r.id };
      });
      try {
        await client.connect();
        await client.sendTelemetry({ seq: -1 });
        await peer.waitOn(`${ME}/telemetry`);

        const N = 100;
        const sends: Promise<void>[] = [];
        for (let i = 0; i < N / 2; i++) sends.push(client.sendTelemetry({ seq: i }));
        await broker.stop();
        await until(() => client.state === "reconnecting", "state reconnecting");
        for (let i = N / 2; i < N; i++) sends.push(client.sendTelemetry({ seq: i }));
        const attrSend = client.sendAttributes({ phase: "offline" });
        const offlineCall = client.sendRpcCall("getTime", { offline: true }, { timeout: 10_000 });
        const offlineAttrs = client.requestAttributes({ sharedKeys: ["target"], timeout: 10_000 });
        await until(() => events.includes("reconnecting"), "reconnecting event");
        await delay(300);
        await broker.start();

        const settled = await within(Promise.allSettled([...sends, attrSend]), 15_000, "sends");
        // Requests made while offline are sent after the reconnect and answered.
        assert.deepEqual(await offlineCall, { time: 1 });
        assert.deepEqual(await offlineAttrs, { client: {}, shared: { target: 1 } });
        assert.deepEqual(settled.filter((s) => s.status === "rejected"), []);
        assert.equal(client.state, "connected");

        const seqs = () =>
          peer.on(`${ME}/telemetry`).map((m) => (m.json as { seq: number }).seq).filter((s) =>
            s >= 0
          );
        await until(() => new Set(seqs()).size === N, "all telemetry at the peer", 10_000);
        await delay(300);
        const counts = new Map<number, number>();
        for (const s of seqs()) counts.set(s, (counts.get(s) ?? 0) + 1);
        for (let i = 0; i < N; i++) assert.ok(counts.has(i), `telemetry ${i} lost`);
        const dups = [...counts].filter(([, c]) => c > 1);
        // Only messages possibly in flight when the broker stopped may come again (QoS 1: once
        // per reconnect that ends before their PUBACK, so more than twice on a loaded machine).
        assert.ok(dups.every(([s]) => s < N / 2), `duplicates: ${dups}`);
        // Those queued while offline arrive once each, in order.
        const offline = seqs().filter((s) => s >= N / 2);
        assert.deepEqual(offline, Array.from({ length: N / 2 }, (_, i) => N / 2 + i));
        await until(() => peer.on(`${ME}/attributes`).length >= 1, "offline attributes");
        assert.equal(peer.on(`${ME}/attributes`)[0]!.text, '{"phase":"offline"}');

        // Resubscribed: pushes, server RPC, responses all work on the new connection.
        await until(() => peer.limitsRequests().length >= 2, "getSessionLimits after reconnect");
        assert.equal(peer.limitsRequests().at(-1)!.topic, `${ME}/rpc/request/${LIMITS_ID - 1}`);
        await peer.publish(`${ME}/attributes`, { target: 42 });
        await until(() => pushes.length === 1, "attribute push after restart");
        assert.deepEqual(pushes[0], { values: { target: 42 }, deleted: [] });
        assert.deepEqual(everything, [{ values: { target: 42 }, deleted: [] }]);
        await peer.publish(`${ME}/rpc/request/77`, { method: "ping", params: {} });
        const [reply] = await peer.waitOn(`${ME}/rpc/response/77`);
        assert.equal(reply!.text, '{"pong":77}');
        assert.deepEqual(await client.sendRpcCall("getTime", {}), { time: 2 });
        assert.deepEqual(
          peer.onPrefix(`${ME}/rpc/request/`).map((m) => [m.topic, m.text]),
          [
            [`${ME}/rpc/request/1`, '{"method":"getTime","params":{"offline":true}}'],
            [`${ME}/rpc/request/2`, '{"method":"getTime","params":{}}'],
          ],
        );
        assert.deepEqual(await client.requestAttributes({ sharedKeys: ["target"] }), {
          client: {},
          shared: { target: 1 },
        });
        assert.equal(rpcs.length, 1);
        assert.equal(events[0], "connect");
        assert.equal(events[1], "disconnect");
        assert.ok(events.includes("reconnecting"));
        assert.equal(events.filter((e) => e === "connect").length, 2);
        assert.equal(events.at(-1), "connect");
      } finally {
        await client.disconnect({ timeout: 1000 }).catch(() => {});
        await peer.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
