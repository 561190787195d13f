/**
 * Sends telemetry in every shape ThingsBoard accepts: a flat object (server
 * time), `{ts, values}` (device time), and arrays of both.
 *
 * Emulator:  deno run --allow-net=127.0.0.1 examples/send_telemetry.ts
 * ThingsBoard:
 *   TB_HOST=thingsboard.cloud TB_ACCESS_TOKEN=... deno run \
 *     --allow-net=thingsboard.cloud:1883 --allow-env=TB_HOST,TB_PORT,TB_ACCESS_TOKEN \
 *     examples/send_telemetry.ts
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

// A flat object: ThingsBoard stamps it with server time.
await client.sendTelemetry({ temperature: 21.5, humidity: 48, door: "closed", alarm: false });

// Device time: both `ts` (ms since the epoch) and `values` must be present.
const now = Date.now();
await client.sendTelemetry({ ts: now - 60_000, values: { temperature: 20.9 } });

// Arrays may mix both shapes; each element is stored on its own.
await client.sendTelemetry([
  { ts: now - 30_000, values: { temperature: 21.1 } },
  { ts: now, values: { temperature: 21.4, humidity: 47 } },
  { pressure: 1013.2 },
]);
console.log("Sent 4 telemetry messages; each was acknowledged by the server (QoS 1)");

if (target.emulator) {
  const stored = target.emulator.getTelemetry("example-device");
  for (const [key, entries] of Object.entries(stored)) {
    console.log(`  stored ${key}: ${entries.map((e) => JSON.stringify(e.value)).join(", ")}`);
  }
}
