/**
 * A gateway with two devices behind it: connects them, sends their
 * telemetry and attributes, reads a shared attribute, follows attribute
 * updates and answers server-side RPC for them.
 *
 * Emulator:  deno run --allow-net=127.0.0.1 examples/gateway.ts
 * ThingsBoard (a device with "Is gateway" checked):
 *   TB_HOST=thingsboard.cloud TB_GATEWAY_TOKEN=... deno run \
 *     --allow-net=thingsboard.cloud:1883 --allow-env=TB_HOST,TB_PORT,TB_GATEWAY_TOKEN \
 *     examples/gateway.ts
 *
 * @module
 */
import { TBGatewayMqttClient } from "../core/gateway/mod.ts";
import { type Emulator, startEmulator } from "../emulator/mod.ts";
import { env } from "./_target.ts";

let host = env("TB_HOST");
let port = Number(env("TB_PORT") ?? 1883);
let token = env("TB_GATEWAY_TOKEN");
let emulator: Emulator | undefined;
if (host === undefined || token === undefined) {
  emulator = await startEmulator({ port: 0 });
  token = "example-gateway-token";
  emulator.createDevice({ name: "example-gateway", accessToken: token, gateway: true });
  ({ host, port } = emulator);
  console.log(
    `TB_HOST/TB_GATEWAY_TOKEN not set (or not allowed by --allow-env): using the emulator on ${host}:${port}`,
  );
}

try {
  await using gateway = new TBGatewayMqttClient({ host, port, accessToken: token });
  gateway.addEventListener("devicedisconnect", ({ detail }) => {
    console.log(`ThingsBoard disconnected ${detail.device}: ${detail.description}`);
  });
  // Server-side RPC to any device behind the gateway: the return value is the reply.
  gateway.setRpcRequestHandler(({ device, method, params }) => {
    if (method === "getState") return { device, on: true };
    throw new Error(`${device} does not know ${method} (${JSON.stringify(params)})`);
  });
  gateway.subscribeToAttributes(undefined, ({ device, values, deleted }) => {
    console.log(`shared attributes of ${device}:`, values, deleted.length ? { deleted } : "");
  });
  await gateway.connect();

  // Devices are created by ThingsBoard on first connect, with the given profile.
  await gateway.connectDevice("Thermometer 1", { type: "thermometer" });
  await gateway.connectDevice("Valve 7", { type: "valve" });

  await gateway.sendTelemetry("Thermometer 1", { temperature: 21.5, humidity: 48 });
  await gateway.sendTelemetry("Thermometer 1", [
    { ts: Date.now() - 60_000, values: { temperature: 21.1 } },
    { ts: Date.now(), values: { temperature: 21.4 } },
  ]);
  await gateway.sendAttributes("Valve 7", { model: "V-200", firmware: "1.4.2" });

  if (emulator) {
    // What an operator would do in ThingsBoard's UI.
    emulator.setSharedAttributes("Valve 7", { targetPosition: 40 });
    console.log("RPC reply:", await emulator.sendRpc("Valve 7", "getState", {}));
  }
  const { shared } = await gateway.requestAttributes("Valve 7", {
    sharedKeys: ["targetPosition"],
    timeout: 5000,
  });
  console.log("Valve 7 targetPosition:", shared.targetPosition ?? "(not set)");

  await gateway.disconnectDevice("Valve 7");
  console.log(`Devices still connected: ${gateway.devices.join(", ")}`);
  if (emulator) {
    const stored = emulator.getTelemetry("Thermometer 1").temperature ?? [];
    console.log(`stored temperature: ${stored.map((e) => e.value).join(", ")}`);
  }
} finally {
  await emulator?.close();
}
