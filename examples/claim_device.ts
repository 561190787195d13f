/**
 * Claims the device: a user who knows the secret key can then claim it in
 * ThingsBoard (Professional Edition / Cloud) within `durationMs`.
 *
 * Emulator:  deno run --allow-net=127.0.0.1 examples/claim_device.ts
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
const secretKey = crypto.randomUUID().slice(0, 8);
await client.claimDevice(secretKey, { durationMs: 60_000 });
console.log(`Claim request sent: secret key ${secretKey}, valid for 60 s`);
if (target.emulator) {
  console.log(
    "  the server recorded:",
    JSON.stringify(target.emulator.getClaims("example-device")),
  );
}
