/**
 * Independent checks of `TBGatewayMqttClient` across connection loss (a
 * real Mosquitto restarted under it, with MQTT.js playing ThingsBoard) and
 * end to end against the project's emulator, which implements ThingsBoard's
 * gateway side: devices announced again, subscriptions kept, queued
 * messages delivered, nothing lost; rate-limit pacing. MQTT 5 and 3.1.1.
 * Written from ThingsBoard's gateway API and the public docs only.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  type GatewayAttributeUpdate,
  type GatewayRpcRequest,
  TBGatewayMqttClient,
  type TBGatewayMqttClientOptions,
} from "../mod.ts";
import { type Emulator, startEmulator } from "../emulator/mod.ts";
import {
  delay,
  GW,
  type Msg,
  until,
  type Variant,
  VARIANTS,
  withBroker,
} from "./_gateway_independent.ts";

for (const v of VARIANTS) {
  Deno.test(`TBGatewayMqttClient reconnects after a broker restart: devices announced again, subscriptions kept, nothing lost ${v.label}`, async () => {
    await withBroker(v, async ({ broker, peer, connected }) => {
      const { gw, errors } = await connected();
      const unexpected = () => errors.filter((e) => !(e instanceof ConnectionClosedError));
      const announced: string[][] = [];
      gw.addEventListener("deviceannounce", ({ detail }) => announced.push(detail));
      const updates: GatewayAttributeUpdate[] = [];
      gw.subscribeToAttributes("Dev A", (u) => {
        updates.push(u);
      });
      gw.setRpcRequestHandler(({ device, method }) => ({ device, method, ok: true }));
      peer.responders.push((m: Msg) => {
        if (m.topic !== GW.attributeRequest) return;
        const { id, device } = m.json as { id: number; device: string };
        peer.publish(GW.attributeResponse, { id, device, value: "v" }).catch(() => {});
      });

      await gw.connectDevice("Dev A", { type: "thermometer" });
      await gw.connectDevice("Dev B");
      await gw.connectDevice("Dev Gone");
      await gw.disconnectDevice("Dev Gone");
      await gw.sendTelemetry("Dev A", { seq: 0 });
      await peer.waitOn(GW.telemetry, 1);
      const connectsBefore = peer.on(GW.connect).length;
      assert.equal(connectsBefore, 3);

      await broker.stop();
      await until(() => !gw.connected, "the gateway to notice the lost connection");
      // Sent while offline: queued, delivered after the reconnect, in order.
      const offline: Promise<void>[] = [];
      for (let seq = 1; seq <= 20; seq++) offline.push(gw.sendTelemetry("Dev A", { seq }));
      offline.push(gw.sendAttributes("Dev B", { offline: true }));
      offline.push(gw.connectDevice("Dev C", { type: "valve" }));
      offline.push(gw.claimDevice("Dev B", "secret"));
      await delay(150); // a few failed reconnect attempts
      await broker.start();
      await Promise.all(offline);
      assert.equal(gw.connected, true);

      // Telemetry: all 21, once each, in order.
      const tel = await peer.waitOn(GW.telemetry, 21);
      await delay(100);
      assert.deepEqual(
        peer.on(GW.telemetry).map((m) => m.json),
        Array.from({ length: 21 }, (_, seq) => ({ "Dev A": [{ seq }] })),
      );
      assert.equal(tel.length, 21);
      assert.deepEqual(peer.on(GW.attributes).map((m) => m.json), [{ "Dev B": { offline: true } }]);
      assert.deepEqual(peer.on(GW.claim).map((m) => m.json), [{
        "Dev B": { secretKey: "secret" },
      }]);
      // Devices announced again after the reconnect (ThingsBoard keeps no session), with their
      // profile; "Dev C" once (its own queued connect), the disconnected device not at all.
      const after = peer.on(GW.connect).slice(connectsBefore).map((m) => m.json);
      const sortByName = (a: unknown, b: unknown) =>
        String((a as { device: string }).device).localeCompare((b as { device: string }).device);
      assert.deepEqual([...after].sort(sortByName), [
        { device: "Dev A", type: "thermometer" },
        { device: "Dev B" },
        { device: "Dev C", type: "valve" },
      ]);
      assert.deepEqual(gw.devices, ["Dev A", "Dev B", "Dev C"]);
      assert.deepEqual(announced.map((names) => [...names].sort()), [["Dev A", "Dev B"]]);
      // (The backlog queued while offline goes out first, then the announcements: ThingsBoard
      // opens a device's sub-session on its first message anyway.)

      // Subscriptions survive: a push, an RPC and an attribute request after the restart.
      await peer.publish(GW.attributes, { device: "Dev A", data: { target: 5 } });
      await until(() => updates.length === 1, "the push after the restart");
      assert.deepEqual(updates, [{ device: "Dev A", values: { target: 5 }, deleted: [] }]);
      await peer.publish(GW.rpc, { device: "Dev C", data: { id: 1, method: "open" } });
      const [reply] = await peer.waitOn(GW.rpc, 1);
      assert.deepEqual(reply!.json, {
        device: "Dev C",
        id: 1,
        data: { device: "Dev C", method: "open", ok: true },
      });
      assert.deepEqual(await gw.requestAttributes("Dev A", { sharedKeys: ["k"] }), {
        client: {},
        shared: { k: "v" },
      });
      // Failed reconnect attempts are reported as ConnectionClosedError; nothing else.
      assert.deepEqual(unexpected(), []);
    });
  });
}

for (const v of VARIANTS) {
  Deno.test(`TBGatewayMqttClient delivers messages in flight when the broker goes away ${v.label}`, async () => {
    await withBroker(v, async ({ broker, peer, connected }) => {
      const { gw, errors } = await connected();
      await gw.connectDevice("Dev A");
      const sends: Promise<void>[] = [];
      for (let seq = 0; seq < 200; seq++) sends.push(gw.sendTelemetry("Dev A", { seq }));
      await broker.stop();
      await delay(100);
      await broker.start();
      await Promise.all(sends);
      await until(
        () => {
          const seqs = new Set(peer.on(GW.telemetry).map((m) => JSON.stringify(m.json)));
          return seqs.size === 200;
        },
        "all 200 messages (at least once)",
        8000,
      );
      const seqs = peer.on(GW.telemetry).map((m) =>
        (m.json as { "Dev A": [{ seq: number }] })["Dev A"][0].seq
      );
      assert.deepEqual(
        [...new Set(seqs)].sort((a, b) => a - b),
        Array.from({ length: 200 }, (_, i) => i),
      );
      assert.deepEqual(errors.filter((e) => !(e instanceof ConnectionClosedError)), []);
    });
  });
}

// ---------------------------------------------------------------------------
// Against the emulator (ThingsBoard's gateway side)

async function withEmulator(
  v: Variant,
  fn: (tb: Emulator, gw: TBGatewayMqttClient, errors: Error[]) => Promise<void>,
  emulatorOptions: Parameters<typeof startEmulator>[0] = {},
  clientOptions: Partial<TBGatewayMqttClientOptions> = {},
): Promise<void> {
  await using tb = await startEmulator(emulatorOptions);
  tb.createDevice({ name: "GW", accessToken: "GW_TOKEN", gateway: true });
  const gw = new TBGatewayMqttClient({
    host: tb.host,
    port: tb.port,
    accessToken: "GW_TOKEN",
    protocolVersion: v.protocolVersion,
    engine: v.engine,
    requestTimeout: 3000,
    reconnect: { initialDelay: 50, maxDelay: 200, jitter: 0 },
    ...clientOptions,
  });
  const errors: Error[] = [];
  gw.addEventListener("error", ({ detail }) => errors.push(detail as Error));
  try {
    await fn(tb, gw, errors);
  } finally {
    await gw.disconnect({ timeout: 500 }).catch(() => {});
  }
}

for (const v of VARIANTS) {
  Deno.test(`TBGatewayMqttClient works end to end against the emulator ${v.label}`, async () => {
    await withEmulator(v, async (tb, gw, errors) => {
      const updates: GatewayAttributeUpdate[] = [];
      gw.subscribeToAttributes("Thermo", (u) => {
        updates.push(u);
      });
      const rpcs: GatewayRpcRequest[] = [];
      gw.setRpcRequestHandler((r) => {
        rpcs.push(r);
        if (r.method === "fail") throw new Error("no such thing");
        return { state: "on", echo: r.params };
      });
      await gw.connect();

      const created = tb.waitFor("subDeviceConnect", (e) => e.device === "Thermo");
      await gw.connectDevice("Thermo", { type: "thermometer" });
      assert.equal((await created).gateway, "GW");
      assert.equal(tb.getDevice("Thermo")?.profile, "thermometer");
      await gw.connectDevice("Plain");
      assert.equal(tb.getDevice("Plain")?.profile, "default");

      await gw.sendTelemetry("Thermo", { temperature: 21.5 });
      await gw.sendTelemetry("Thermo", [
        { ts: 1_700_000_000_000, values: { temperature: 20 } },
        { ts: 1_700_000_001_000, values: { temperature: 20.5, humidity: 40 } },
      ]);
      const temps = tb.getTelemetry("Thermo").temperature!;
      assert.deepEqual(temps.map((e) => e.value), [21.5, 20, 20.5]);
      assert.deepEqual(temps.slice(1).map((e) => e.ts), [1_700_000_000_000, 1_700_000_001_000]);
      assert.equal(tb.getLatestTelemetry("Thermo").humidity?.value, 40);

      await gw.sendAttributes("Thermo", { firmware: "1.2.0", slots: 4 });
      assert.deepEqual(tb.getClientAttributes("Thermo"), { firmware: "1.2.0", slots: 4 });
      tb.setSharedAttributes("Thermo", { target: 22, mode: "eco" });
      assert.deepEqual(
        await gw.requestAttributes("Thermo", {
          clientKeys: ["firmware"],
          sharedKeys: ["target", "mode", "missing"],
        }),
        { client: { firmware: "1.2.0" }, shared: { target: 22, mode: "eco" } },
      );
      assert.deepEqual(
        await gw.requestAttributes("Thermo", { clientKeys: ["firmware", "slots"] }),
        { client: { firmware: "1.2.0", slots: 4 }, shared: {} },
      );
      assert.deepEqual(await gw.requestAttributes("Thermo", { sharedKeys: ["nope"] }), {
        client: {},
        shared: {},
      });

      // The push of the setSharedAttributes above, then a deletion.
      await until(() => updates.length >= 1, "the shared attribute push");
      tb.deleteSharedAttributes("Thermo", ["mode"]);
      await until(() => updates.length === 2, "the deletion push");
      assert.deepEqual(updates, [
        { device: "Thermo", values: { target: 22, mode: "eco" }, deleted: [] },
        { device: "Thermo", values: {}, deleted: ["mode"] },
      ]);

      assert.deepEqual(await tb.sendRpc("Thermo", "getState", { a: 1 }, { timeout: 3000 }), {
        state: "on",
        echo: { a: 1 },
      });
      assert.deepEqual(await tb.sendRpc("Plain", "fail", {}, { timeout: 3000 }), {
        error: "no such thing",
      });
      assert.deepEqual(rpcs.map((r) => [r.device, r.method]), [["Thermo", "getState"], [
        "Plain",
        "fail",
      ]]);

      await gw.claimDevice("Thermo", "s3cr3t", { durationMs: 30_000 });
      const claim = tb.getClaims("Thermo");
      assert.equal(claim?.secretKey, "s3cr3t");
      assert.equal(claim?.durationMs, 30_000);

      const gone = tb.waitFor("subDeviceDisconnect", (e) => e.device === "Plain");
      await gw.disconnectDevice("Plain");
      await gone;
      assert.deepEqual(gw.devices, ["Thermo"]);
      assert.equal(
        tb.events().filter((e) => e.type === "publishRejected" || e.type === "protocolError")
          .length,
        0,
      );
      assert.ok(errors.every((e) => /no such thing/.test(e.message)), String(errors));
    });
  });

  Deno.test(`TBGatewayMqttClient announces its devices again after the emulator drops it ${v.label}`, async () => {
    await withEmulator(v, async (tb, gw, errors) => {
      const updates: GatewayAttributeUpdate[] = [];
      gw.subscribeToAttributes(undefined, (u) => {
        updates.push(u);
      });
      gw.setRpcRequestHandler(({ device }) => ({ device }));
      await gw.connect();
      await gw.connectDevice("S1", { type: "sensor" });
      await gw.connectDevice("S2");
      const mark = tb.lastSeq;
      const reconnected = new Promise((r) => gw.addEventListener("deviceannounce", r));
      assert.equal(tb.disconnect("GW"), true);
      await reconnected;
      const e1 = await tb.waitFor("subDeviceConnect", (e) => e.device === "S1", { since: mark });
      const e2 = await tb.waitFor("subDeviceConnect", (e) => e.device === "S2", { since: mark });
      assert.ok(e1.seq > mark && e2.seq > mark);
      // The subscriptions of the new connection carry pushes and RPC again.
      await until(() => gw.connected, "connected");
      tb.setSharedAttributes("S2", { rate: 9 });
      await until(() => updates.length === 1, "the push after the reconnect");
      assert.deepEqual(updates[0], { device: "S2", values: { rate: 9 }, deleted: [] });
      assert.deepEqual(await tb.sendRpc("S1", "who", {}, { timeout: 3000 }), { device: "S1" });
      await gw.sendTelemetry("S1", { after: 1 });
      assert.equal(tb.getLatestTelemetry("S1").after?.value, 1);
      assert.deepEqual(errors, []);
    });
  });
}

Deno.test("TBGatewayMqttClient paces devices by the gateway rate limits of the emulator", async () => {
  const rateLimits = { telemetryMessages: "10:1" };
  await withEmulator(VARIANTS[0]!, async (tb, gw, errors) => {
    const limits = new Promise((r) => gw.addEventListener("sessionlimits", r));
    let dropped = 0;
    gw.addEventListener("disconnect", () => dropped++);
    await gw.connect();
    await limits;
    assert.equal(gw.sessionLimits?.gatewayRateLimits?.telemetryMessages, "10:1");
    const sends: Promise<void>[] = [];
    for (let seq = 0; seq < 12; seq++) sends.push(gw.sendTelemetry(`D${seq % 3}`, { seq }));
    await Promise.all(sends);
    assert.equal(dropped, 0, "ThingsBoard did not close the connection");
    assert.equal(tb.events().filter((e) => e.type === "rateLimited").length, 0);
    const stored = [0, 1, 2].flatMap((d) => tb.getTelemetry(`D${d}`).seq!.map((e) => e.value));
    assert.deepEqual(stored.sort((a, b) => Number(a) - Number(b)), [...Array(12).keys()]);
    assert.deepEqual(errors, []);
  }, { rateLimits });

  // Without pacing the same burst trips the limit: the scenario above is meaningful.
  await withEmulator(
    VARIANTS[0]!,
    async (tb, gw) => {
      const limits = new Promise((r) => gw.addEventListener("sessionlimits", r));
      await gw.connect();
      await limits;
      const sends: Promise<unknown>[] = [];
      for (let seq = 0; seq < 12; seq++) {
        sends.push(gw.sendTelemetry(`D${seq % 3}`, { seq }).catch((e) => e));
      }
      await until(() => tb.events().some((e) => e.type === "rateLimited"), "a rate-limit event");
      await gw.disconnect({ timeout: 0 }).catch(() => {});
      await Promise.all(sends);
    },
    { rateLimits },
    { rateLimits: false },
  );
});
