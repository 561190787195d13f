import assert from "node:assert/strict";
import { InvalidDeviceNameError, TBGatewayMqttClient } from "../core/gateway/mod.ts";
import { InvalidPayloadError } from "../core/errors.ts";
import { InvalidAttributeKeyError } from "../core/client/errors.ts";
import { PayloadTooLargeError } from "../core/mqtt/mod.ts";
import { nextEvent, setup, TOKEN } from "./gateway_harness.ts";

const SENT = new Set([
  "telemetry",
  "attributes",
  "claim",
  "subDeviceConnect",
  "subDeviceDisconnect",
  "attributeRequest",
  "publishRejected",
  "rpcResponse",
  "protocolError",
]);

Deno.test("new TBGatewayMqttClient() refuses QoS 0 on MQTT 5 and QoS 2", () => {
  const base = { host: "127.0.0.1", accessToken: TOKEN };
  assert.throws(() => new TBGatewayMqttClient({ ...base, qos: 0 }), RangeError);
  assert.throws(() => new TBGatewayMqttClient({ ...base, qos: 2 as 1 }), RangeError);
  assert.throws(() => new TBGatewayMqttClient({ ...base, host: "" }), TypeError);
  // QoS 0 is allowed when the client speaks MQTT 3.1.1.
  new TBGatewayMqttClient({ ...base, qos: 0, protocolVersion: 4 });
});

for (const protocolVersion of [4, 5] as const) {
  Deno.test(`TBGatewayMqttClient refuses bad input before sending [MQTT ${protocolVersion}]`, async () => {
    await using s = await setup({ engine: "ts", protocolVersion }, {
      maxPayloadSize: 300,
      sessionLimits: false,
    });
    const { tb, gateway } = s;
    await gateway.connect();
    const since = tb.lastSeq;
    const g = gateway as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    await assert.rejects(gateway.sendTelemetry("", { t: 1 }), InvalidDeviceNameError);
    await assert.rejects(g.sendTelemetry!(42, { t: 1 }), InvalidDeviceNameError);
    await assert.rejects(gateway.connectDevice(""), InvalidDeviceNameError);
    await assert.rejects(gateway.connectDevice("A", { type: "" }), TypeError);
    await assert.rejects(gateway.disconnectDevice(""), InvalidDeviceNameError);
    await assert.rejects(gateway.sendTelemetry("A", { t: NaN }), (e: unknown) => {
      assert.ok(e instanceof InvalidPayloadError);
      assert.equal(e.key, "t");
      return true;
    });
    await assert.rejects(
      gateway.sendTelemetry("A", { ts: -1, values: { t: 1 } }),
      InvalidPayloadError,
    );
    await assert.rejects(
      gateway.sendAttributes("A", [1] as unknown as object),
      InvalidPayloadError,
    );
    await assert.rejects(
      gateway.sendTelemetry("A", { blob: "x".repeat(400) }),
      PayloadTooLargeError,
    );
    await assert.rejects(gateway.sendTelemetry("A", { t: 1 }, { qos: 2 as 1 }), RangeError);
    if (protocolVersion === 5) {
      await assert.rejects(gateway.sendTelemetry("A", { t: 1 }, { qos: 0 }), /QoS 0 is refused/);
    }
    await assert.rejects(gateway.requestAttributes("A", {}), TypeError);
    await assert.rejects(gateway.requestAttributes("A", { sharedKeys: [] }), TypeError);
    await assert.rejects(
      gateway.requestAttributes("A", { sharedKeys: [] }),
      /sharedKeys is empty .*; list the keys you need or leave sharedKeys out$/,
    );
    await assert.rejects(
      gateway.requestAttributes("A", { sharedKeys: [""] }),
      InvalidAttributeKeyError,
    );
    await assert.rejects(
      gateway.requestAttributes("A", { clientKeys: ["a"], timeout: 0 }),
      RangeError,
    );
    await assert.rejects(
      gateway.requestAttributes("", { clientKeys: ["a"] }),
      InvalidDeviceNameError,
    );
    await assert.rejects(gateway.claimDevice("A", "k", { durationMs: -5 }), TypeError);
    await assert.rejects(g.claimDevice!("A", 5), TypeError);
    await assert.rejects(gateway.sendRpcReply("A", -1, {}), TypeError);
    await assert.rejects(
      gateway.sendRpcReply("A", -1, {}),
      /request id "-1" is not a valid id; pass the id of the request you answer$/,
    );
    await assert.rejects(gateway.sendRpcReply("A", 1, { f: () => 1 }), InvalidPayloadError);
    assert.throws(() => gateway.subscribeToAttributes("", () => {}), InvalidDeviceNameError);
    assert.throws(
      () => gateway.subscribeToAttributes("A", 5 as unknown as () => void),
      TypeError,
    );
    assert.throws(() => gateway.setRpcRequestHandler(5 as unknown as undefined), TypeError);

    // Nothing reached the server, and the connection is still usable.
    await gateway.sendTelemetry("A", { t: 2 });
    const events = tb.events().filter((e) => e.seq > since && SENT.has(e.type));
    assert.deepEqual(events.map((e) => e.type), ["subDeviceConnect", "telemetry"]);
    assert.deepEqual(gateway.devices, []);
    assert.equal(tb.getLatestTelemetry("A").t?.value, 2);
  });
}

Deno.test("TBGatewayMqttClient sends QoS 0 on MQTT 3.1.1", async () => {
  await using s = await setup({ engine: "wasm", protocolVersion: 4 }, { qos: 0 });
  const { tb, gateway } = s;
  await gateway.connect();
  const stored = tb.waitFor("telemetry", (e) => e.device === "A");
  await gateway.sendTelemetry("A", { t: 7 });
  await stored;
  assert.equal(tb.getLatestTelemetry("A").t?.value, 7);
});

Deno.test("TBGatewayMqttClient offline: requestAttributes() times out, calls abort", async () => {
  await using s = await setup(
    { engine: "ts", protocolVersion: 5 },
    { reconnect: { initialDelay: 60_000, maxDelay: 60_000, jitter: 0 } },
  );
  const { tb, gateway } = s;
  await gateway.connect();
  const lost = nextEvent(gateway, "disconnect");
  tb.disconnect("gw");
  await lost;
  // Offline: the request waits in the queue and nothing answers it.
  await assert.rejects(
    gateway.requestAttributes("A", { sharedKeys: ["mode"], timeout: 30 }),
    (e: unknown) => e instanceof DOMException && e.name === "TimeoutError",
  );
  // A device whose announcement was abandoned is not remembered.
  const gone = new AbortController();
  const announce = gateway.connectDevice("Z", { signal: gone.signal });
  assert.deepEqual(gateway.devices, ["Z"]);
  gone.abort();
  await assert.rejects(announce, (e: unknown) => e instanceof Error && e.name === "AbortError");
  assert.deepEqual(gateway.devices, []);
  const controller = new AbortController();
  const aborted = gateway.requestAttributes("A", {
    clientKeys: ["x"],
    signal: controller.signal,
  });
  controller.abort();
  await assert.rejects(
    aborted,
    (e: unknown) => e instanceof DOMException && e.name === "AbortError",
  );
});

Deno.test("TBGatewayMqttClient replies with an error when the RPC result is not JSON", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 5 });
  const { tb, gateway } = s;
  const errors: Error[] = [];
  gateway.addEventListener("error", (e) => void errors.push(e.detail));
  gateway.setRpcRequestHandler(() => 10n);
  await gateway.connect();
  await gateway.connectDevice("A");
  const reply = await tb.sendRpc("A", "big", {}, { timeout: 5000 }) as { error: string };
  assert.match(reply.error, /bigint/);
  assert.ok(errors[0] instanceof InvalidPayloadError);
});

Deno.test("TBGatewayMqttClient.disconnect() fails pending attribute requests", async () => {
  await using s = await setup(
    { engine: "ts", protocolVersion: 4 },
    { reconnect: { initialDelay: 60_000, maxDelay: 60_000, jitter: 0 } },
  );
  const { tb, gateway } = s;
  await gateway.connect();
  const lost = nextEvent(gateway, "disconnect");
  tb.disconnect("gw");
  await lost;
  const pending = gateway.requestAttributes("A", { sharedKeys: ["mode"] });
  await gateway.disconnect({ timeout: 100 });
  await assert.rejects(
    pending,
    (e: unknown) => e instanceof Error && e.name === "ConnectionClosedError",
  );
});
