/**
 * Subscribes to shared-attribute updates (one key, and all keys) and prints
 * each update, including deletions. Exits after `--updates=N` updates
 * (default 1). Subscriptions survive reconnects.
 *
 * Emulator:  deno run --allow-net=127.0.0.1 examples/attribute_updates.ts
 *   (the example plays the operator: it sets the attribute, then deletes it, N times in all)
 * ThingsBoard: add TB_HOST/TB_ACCESS_TOKEN and the matching --allow-net/--allow-env
 * (see send_telemetry.ts), then change a shared attribute of the device in the UI.
 *
 * @module
 */
import { TBDeviceMqttClient } from "../mod.ts";
import { intFlag, openTarget } from "./_target.ts";

const wanted = intFlag("updates", 1);
await using target = await openTarget();
await using client = new TBDeviceMqttClient({
  host: target.host,
  port: target.port,
  accessToken: target.accessToken,
});
let seen = 0;
const done = Promise.withResolvers<void>();
client.subscribeToAttribute("targetTemperature", ({ values, deleted }) => {
  if (deleted.length > 0) console.log("targetTemperature was deleted");
  else console.log(`targetTemperature is now ${values.targetTemperature}`);
});
client.subscribeToAllAttributes(({ values, deleted }) => {
  console.log(
    "shared attributes update:",
    JSON.stringify(values),
    "deleted:",
    JSON.stringify(deleted),
  );
  if (++seen >= wanted) done.resolve();
});
await client.connect();
console.log(`Waiting for ${wanted} shared-attribute update(s)...`);

if (target.emulator) {
  await target.emulator.waitFor(
    "subscribe",
    (e) => e.topicFilter === "v1/devices/me/attributes",
    { since: 0 },
  );
  for (let i = 0; i < wanted; i++) {
    if (i % 2 === 0) {
      target.emulator.setSharedAttributes("example-device", { targetTemperature: 23.5 + i });
    } else {
      target.emulator.deleteSharedAttributes("example-device", ["targetTemperature"]);
    }
  }
}
await done.promise;
