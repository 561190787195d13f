/**
 * Provisions a new device through a device profile's provision key and
 * secret, then connects with the credentials ThingsBoard issued.
 *
 * Emulator:  deno run --allow-net=127.0.0.1 examples/provision_device.ts
 * ThingsBoard:
 *   TB_HOST=... TB_PROVISION_KEY=... TB_PROVISION_SECRET=... deno run \
 *     --allow-net=HOST:1883 --allow-env=TB_HOST,TB_PORT,TB_PROVISION_KEY,TB_PROVISION_SECRET \
 *     examples/provision_device.ts
 *
 * @module
 */
import { ProvisionError, TBDeviceMqttClient } from "../mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { env } from "./_target.ts";

let host = env("TB_HOST");
let port = Number(env("TB_PORT") ?? 1883);
let key = env("TB_PROVISION_KEY");
let secret = env("TB_PROVISION_SECRET");
const emulator = host === undefined || key === undefined || secret === undefined
  ? await startEmulator({ port: 0 })
  : undefined;
if (emulator) {
  ({ host, port } = { host: emulator.host, port: emulator.port });
  key = "example-provision-key";
  secret = "example-provision-secret";
  emulator.createProvisionProfile({
    name: "sensors",
    provisionKey: key,
    provisionSecret: secret,
    strategy: "allowCreateNewDevices",
  });
  console.log(
    `TB_HOST/TB_PROVISION_KEY/TB_PROVISION_SECRET not set (or not allowed by --allow-env): using the emulator on ${host}:${port}`,
  );
}
try {
  const deviceName = `sensor-${crypto.randomUUID().slice(0, 8)}`;
  const request = TBDeviceMqttClient.getProvisionRequest(key!, secret!, { deviceName });
  const credentials = await TBDeviceMqttClient.provision(host!, port, request, { timeout: 10_000 });
  if (credentials.credentialsType !== "ACCESS_TOKEN") {
    throw new Error(`Expected an access token, got ${credentials.credentialsType}`);
  }
  console.log(`Provisioned ${deviceName}: ThingsBoard issued an access token`);

  await using client = new TBDeviceMqttClient({
    host: host!,
    port,
    accessToken: credentials.accessToken,
  });
  await client.connect();
  await client.sendTelemetry({ provisioned: true });
  console.log("Connected with the new credentials and sent telemetry");
} catch (e) {
  if (e instanceof ProvisionError) console.error(`Provisioning refused: ${e.status} ${e.errorMsg}`);
  throw e;
} finally {
  await emulator?.close();
}
