/**
 * A local ThingsBoard-compatible MQTT server for demos, examples and tests: it speaks
 * ThingsBoard's device MQTT API (3.1.1 and 5.0) like the ThingsBoard server does.
 *
 * @example Test device code without a ThingsBoard server
 * ```ts ignore
 * import { startEmulator } from "@tbwasm/sdk/emulator";
 * await using tb = await startEmulator();
 * const device = tb.createDevice({ name: "thermostat" });
 * console.log(`mqtt://${tb.host}:${tb.port} token ${device.accessToken}`);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export { startEmulator } from "./emulator.ts";
