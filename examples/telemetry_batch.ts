/**
 * The columnar batch API: register the keys once, append rows of numbers,
 * and send each full batch as ONE ThingsBoard message
 * (`[{"ts":…,"values":{…}},…]`) serialized and framed in wasm in one call.
 * The fastest way to stream sensor data: no object per sample.
 *
 * Emulator:  deno run --allow-net=127.0.0.1 examples/telemetry_batch.ts
 * ThingsBoard: add TB_HOST/TB_ACCESS_TOKEN and the matching --allow-net/--allow-env
 * (see send_telemetry.ts).
 *
 * @module
 */
import { TBDeviceMqttClient, TelemetryBatch } from "../mod.ts";
import { intFlag, openTarget } from "./_target.ts";

const rows = intFlag("rows", 500);
await using target = await openTarget();
await using client = new TBDeviceMqttClient({
  host: target.host,
  port: target.port,
  accessToken: target.accessToken,
});
await client.connect();

// Keys are fixed up front; each row is a timestamp plus one number per key.
const batch = new TelemetryBatch(["temperature", "humidity", "vibration"], { capacity: 100 });
const sample = new Float64Array(3);
const start = Date.now() - rows * 100;
let messages = 0;
for (let i = 0; i < rows; i++) {
  sample[0] = 21 + Math.sin(i / 40);
  sample[1] = 40 + (i % 20) / 2;
  sample[2] = Math.abs(Math.sin(i)) * 0.02;
  batch.append(start + i * 100, sample); // a sample every 100 ms
  if (batch.length === 100 || i === rows - 1) {
    await client.sendTelemetryBatch(batch); // one PUBLISH, acknowledged (QoS 1)
    batch.clear();
    messages++;
  }
}
console.log(`Sent ${rows} rows in ${messages} messages`);
if (target.emulator) {
  const stored = target.emulator.getTelemetry("example-device");
  console.log(`  the server stored ${stored.temperature?.length ?? 0} temperature points`);
}
