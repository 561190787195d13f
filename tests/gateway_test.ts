import assert from "node:assert/strict";
import { TBGatewayMqttClient } from "../core/gateway/mod.ts";
import { matrix, nextEvent, setup, TOKEN } from "./gateway_harness.ts";

matrix("TBGatewayMqttClient connects devices and sends their data", async (variant) => {
  await using s = await setup(variant, {}, { maxPayloadSize: 4096 });
  const { tb, gateway } = s;
  assert.equal(gateway.state, "disconnected");
  const limits = nextEvent(gateway, "sessionlimits");
  await gateway.connect();
  assert.deepEqual([gateway.state, gateway.connected], ["connected", true]);
  assert.equal(gateway.protocolVersion, variant.protocolVersion);
  assert.equal((await limits).detail.maxPayloadSize, 4096);
  assert.equal(gateway.sessionLimits?.maxPayloadSize, 4096);
  assert.equal(gateway.maxPayloadSize, 4096);
  await gateway.connectDevice("Sensor A", { type: "thermo" });
  assert.equal(tb.getDevice("Sensor A")?.profile, "thermo");
  assert.equal(tb.isConnected("Sensor A"), true);
  assert.deepEqual(gateway.devices, ["Sensor A"]);

  await gateway.sendTelemetry("Sensor A", { t: 21.5, door: "open" });
  await gateway.sendTelemetry("Sensor A", { ts: 1_700_000_000_000, values: { h: 40 } });
  await gateway.sendTelemetry("Sensor A", [
    { ts: 1_700_000_001_000, values: { t: 20 } },
    { ts: 1_700_000_002_000, values: { t: 19 } },
  ]);
  const telemetry = tb.getTelemetry("Sensor A");
  assert.deepEqual(telemetry.t?.map((e) => e.value).sort(), [19, 20, 21.5]);
  assert.equal(tb.getLatestTelemetry("Sensor A").h?.ts, 1_700_000_000_000);
  assert.equal(tb.getLatestTelemetry("Sensor A").door?.value, "open");

  await gateway.sendAttributes("Sensor A", { fw: "1.2.3", model: { rev: 2 } });
  assert.deepEqual(tb.getClientAttributes("Sensor A"), { fw: "1.2.3", model: { rev: 2 } });

  await gateway.claimDevice("Sensor A", "s3cr3t", { durationMs: 60_000 });
  assert.deepEqual(
    [tb.getClaims("Sensor A")?.secretKey, tb.getClaims("Sensor A")?.durationMs],
    ["s3cr3t", 60_000],
  );

  // A device never connected explicitly is created by ThingsBoard on first use.
  await gateway.sendTelemetry("Sensor B", { t: 1 });
  assert.equal(tb.getLatestTelemetry("Sensor B").t?.value, 1);
  assert.deepEqual(gateway.devices, ["Sensor A"]);

  await gateway.disconnectDevice("Sensor A");
  assert.equal(tb.isConnected("Sensor A"), false);
  assert.deepEqual(gateway.devices, []);
  // The gateway's own session is untouched.
  assert.equal(tb.isConnected("gw"), true);
});

matrix("TBGatewayMqttClient.requestAttributes() returns the keys asked for", async (variant) => {
  await using s = await setup(variant);
  const { tb, gateway } = s;
  tb.createDevice({ name: "A" });
  tb.setSharedAttributes("A", { mode: "auto", level: 3, extra: true });
  await gateway.connect();
  await gateway.sendAttributes("A", { fw: "v1", serial: 42 });

  assert.deepEqual(await gateway.requestAttributes("A", { sharedKeys: ["mode"] }), {
    client: {},
    shared: { mode: "auto" },
  });
  assert.deepEqual(
    await gateway.requestAttributes("A", { sharedKeys: ["mode", "level", "missing"] }),
    { client: {}, shared: { mode: "auto", level: 3 } },
  );
  assert.deepEqual(
    await gateway.requestAttributes("A", { clientKeys: ["fw", "serial"], sharedKeys: ["level"] }),
    { client: { fw: "v1", serial: 42 }, shared: { level: 3 } },
  );
  assert.deepEqual(await gateway.requestAttributes("A", { clientKeys: ["nope"] }), {
    client: {},
    shared: {},
  });
  // The scope is respected: a shared key asked as a client key is not found.
  assert.deepEqual(await gateway.requestAttributes("A", { clientKeys: ["mode"] }), {
    client: {},
    shared: {},
  });
  const requests = tb.events().filter((e) => e.type === "attributeRequest");
  assert.equal(requests.length, 6);
  assert.equal(new Set(requests.map((e) => e.type === "attributeRequest" && e.requestId)).size, 6);
});

matrix("TBGatewayMqttClient delivers attribute updates and RPC of its devices", async (variant) => {
  await using s = await setup(variant);
  const { tb, gateway } = s;
  const forA: unknown[] = [];
  const forAll: unknown[] = [];
  const idA = gateway.subscribeToAttributes("A", (u) => void forA.push(u));
  gateway.subscribeToAttributes(undefined, (u) => void forAll.push(u));
  gateway.setRpcRequestHandler(async ({ device, method, params }) => {
    if (method === "fail") throw new Error("valve stuck");
    if (method === "later") return undefined;
    await Promise.resolve();
    return { device, method, params };
  });
  await gateway.connect();
  await gateway.connectDevice("A");
  await gateway.connectDevice("B");

  const pushed = tb.waitFor("sharedAttributesPush", (e) => e.device === "B");
  tb.setSharedAttributes("A", { mode: "on" });
  tb.deleteSharedAttributes("A", ["mode"]);
  tb.setSharedAttributes("B", { rate: 5 });
  await pushed;
  await waitUntil(() => forAll.length === 3);
  assert.deepEqual(forA, [
    { device: "A", values: { mode: "on" }, deleted: [] },
    { device: "A", values: {}, deleted: ["mode"] },
  ]);
  assert.deepEqual(forAll[2], { device: "B", values: { rate: 5 }, deleted: [] });
  assert.equal(gateway.unsubscribeFromAttributes(idA), true);
  assert.equal(gateway.unsubscribeFromAttributes(idA), false);

  assert.deepEqual(await tb.sendRpc("A", "echo", { pin: 4 }, { timeout: 5000 }), {
    device: "A",
    method: "echo",
    params: { pin: 4 },
  });
  assert.deepEqual(await tb.sendRpc("B", "fail", {}, { timeout: 5000 }), {
    error: "valve stuck",
  });
  const later = tb.sendRpc("B", "later", {}, { timeout: 5000 });
  const request = await tb.waitFor("rpcRequest", (e) => e.method === "later", { since: 0 });
  await gateway.sendRpcReply("B", request.requestId, { done: true });
  assert.deepEqual(await later, { done: true });
});

matrix(
  "TBGatewayMqttClient resubscribes and re-announces its devices after a reconnect",
  async (variant) => {
    await using s = await setup(variant);
    const { tb, gateway } = s;
    const updates: unknown[] = [];
    gateway.subscribeToAttributes("A", (u) => void updates.push(u));
    gateway.setRpcRequestHandler(({ method }) => ({ ok: method }));
    await gateway.connect();
    await gateway.connectDevice("A", { type: "thermo" });
    await gateway.connectDevice("B");
    await gateway.disconnectDevice("B");

    const since = tb.lastSeq;
    const announced = nextEvent(gateway, "deviceannounce");
    const reconnected = nextEvent(gateway, "connect");
    assert.equal(tb.disconnect("gw"), true);
    await reconnected;
    assert.deepEqual((await announced).detail, ["A"]);
    const again = await tb.waitFor("subDeviceConnect", (e) => e.device === "A", { since });
    assert.equal(again.gateway, "gw");
    assert.equal(tb.isConnected("A"), true);
    assert.equal(tb.isConnected("B"), false);
    assert.equal(tb.getDevice("A")?.profile, "thermo");

    const session = tb.sessions.find((x) => x.device === "gw");
    for (
      const filter of ["v1/gateway/attributes", "v1/gateway/attributes/response", "v1/gateway/rpc"]
    ) {
      assert.equal(session?.subscriptions.get(filter), 1, filter);
    }
    tb.setSharedAttributes("A", { mode: "eco" });
    await waitUntil(() => updates.length === 1);
    assert.deepEqual(updates, [{ device: "A", values: { mode: "eco" }, deleted: [] }]);
    assert.deepEqual(await tb.sendRpc("A", "ping", {}, { timeout: 5000 }), { ok: "ping" });
    assert.deepEqual(await gateway.requestAttributes("A", { sharedKeys: ["mode"] }), {
      client: {},
      shared: { mode: "eco" },
    });
  },
);

Deno.test("TBGatewayMqttClient disconnects at the end of an await using block", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 5 });
  {
    await using gateway = new TBGatewayMqttClient({
      host: s.tb.host,
      port: s.tb.port,
      accessToken: TOKEN,
    });
    await gateway.connect();
    await gateway.connectDevice("A");
    assert.equal(s.tb.isConnected("gw"), true);
  }
  await s.tb.waitFor("subDeviceDisconnect", (e) => e.device === "A", { since: 0 });
  assert.equal(s.tb.isConnected("gw"), false);
});

/** Lets the event loop run until `done()` holds (the emulator is in-process). */
async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(done(), "condition not reached");
}
