/**
 * Reports client-side attributes (static facts about the device) and then
 * telemetry (changing measurements).
 *
 * Emulator:  deno run --allow-net=127.0.0.1 examples/telemetry_and_attributes.ts
 * ThingsBoard: add TB_HOST/TB_ACCESS_TOKEN and the matching --allow-net/--allow-env
 * (see send_telemetry.ts).
 *
 * @module
 */
import { TBDeviceMqttClient } from "../mod.ts";
import { openTarget } from "./_target.ts";

await using target = await openTarget();
await using client = new TBDeviceMqttClient({
  host: target.host,
  port: target.port,
  accessToken: target.accessToken,
});
await client.connect();

await client.sendAttributes({ model: "TH-100", firmwareVersion: "1.4.2", sampleRateHz: 1 });
await client.sendTelemetry({ temperature: 22.1, humidity: 45 });
console.log("Sent client attributes and telemetry");

if (target.emulator) {
  console.log("  client attributes:", target.emulator.getClientAttributes("example-device"));
  const latest = target.emulator.getLatestTelemetry("example-device");
  console.log(
    "  latest telemetry:",
    Object.fromEntries(Object.entries(latest).map(([k, e]) => [k, e.value])),
  );
}
