/**
 * Requests client and shared attributes from ThingsBoard and prints them.
 *
 * Emulator:  deno run --allow-net=127.0.0.1 examples/request_attributes.ts
 * ThingsBoard: add TB_HOST/TB_ACCESS_TOKEN and the matching --allow-net/--allow-env
 * (see send_telemetry.ts).
 *
 * @module
 */
import { TBDeviceMqttClient } from "../mod.ts";
import { openTarget } from "./_target.ts";

await using target = await openTarget();
// On the emulator, play the operator: set a shared attribute first.
target.emulator?.setSharedAttributes("example-device", { targetTemperature: 22, mode: "eco" });

await using client = new TBDeviceMqttClient({
  host: target.host,
  port: target.port,
  accessToken: target.accessToken,
});
await client.connect();
await client.sendAttributes({ location: "lab-3" });

// Keys are ThingsBoard attribute names; omit both lists to get everything.
const { client: clientAttrs, shared } = await client.requestAttributes({
  clientKeys: ["location"],
  sharedKeys: ["targetTemperature", "mode"],
  timeout: 10_000,
});
console.log("client attributes:", JSON.stringify(clientAttrs));
console.log("shared attributes:", JSON.stringify(shared));
