/**
 * Firmware update over the air (OTA): checks the package ThingsBoard assigned
 * to the device, downloads it in chunks, verifies its checksum, "installs" it
 * and reports `fw_state` (DOWNLOADING … UPDATED) as ThingsBoard expects; then
 * waits for the next assignment pushed by the server and installs that too.
 *
 * Emulator:  deno run --allow-net=127.0.0.1 examples/firmware_update.ts
 *   (the example plays the operator and assigns packages itself)
 * ThingsBoard: add TB_HOST/TB_ACCESS_TOKEN and the matching --allow-net/--allow-env
 * (see send_telemetry.ts), assign a firmware to the device (or its profile),
 * and assign another one while the example waits.
 *
 * @module
 */
import { OtaError, type OtaPackage, TBDeviceMqttClient } from "../mod.ts";
import { openTarget } from "./_target.ts";

await using target = await openTarget();
await using client = new TBDeviceMqttClient({
  host: target.host,
  port: target.port,
  accessToken: target.accessToken,
});
const firmware = (version: string) =>
  Uint8Array.from({ length: 50_000 }, (_, i) => (i * 7 + version.length) % 256);
target.emulator?.assignOtaPackage("example-device", {
  title: "thermostat",
  version: "1.1.0",
  data: firmware("1.1.0"),
  checksumAlgorithm: "SHA256",
});

// A real device would write the image to flash here and reboot.
const install = (pkg: OtaPackage) => {
  console.log(`Installing ${pkg.title} ${pkg.version}: ${pkg.data.length} bytes`);
};

// React to packages ThingsBoard assigns later (pushed as shared attributes).
// An update started here waits for a running one to finish.
const next = Promise.withResolvers<void>();
client.onFirmwareAssigned(async (info) => {
  console.log(`Assigned: ${info.title} ${info.version}`);
  try {
    await client.updateFirmware({ package: info, onPackage: install });
    console.log(`Updated to ${info.version}`);
  } catch (error) {
    console.log(`Update failed: ${(error as Error).message}`);
  } finally {
    next.resolve();
  }
});
await client.connect();

try {
  const pkg = await client.updateFirmware({
    currentTitle: "thermostat",
    currentVersion: "1.0.0",
    chunkSize: 16_384,
    onProgress: ({ received, total }) => console.log(`  ${received} / ${total ?? "?"} bytes`),
    onPackage: install,
  });
  console.log(pkg ? `Updated to ${pkg.version}` : "Firmware is up to date");
} catch (error) {
  if (!(error instanceof OtaError)) throw error;
  console.log(`Update failed (${error.code}): ${error.message}`);
}

// Wait for the next assignment (the emulator plays the operator here).
target.emulator?.assignOtaPackage("example-device", {
  title: "thermostat",
  version: "1.2.0",
  data: firmware("1.2.0"),
  checksumAlgorithm: "CRC32",
});
await next.promise;

if (target.emulator) {
  const states = target.emulator.getTelemetry("example-device").fw_state ?? [];
  console.log(`fw_state reported: ${states.map((e) => e.value).join(" → ")}`);
}
