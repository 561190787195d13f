/**
 * tbwasm: a ThingsBoard device SDK for Deno with a WebAssembly hot path.
 *
 * @example Send telemetry to ThingsBoard
 * ```ts ignore
 * import { TBDeviceMqttClient } from "@tbwasm/sdk";
 *
 * await using client = new TBDeviceMqttClient({ host: "thingsboard.cloud", accessToken: "YOUR_TOKEN" });
 * await client.connect();
 * await client.sendTelemetry({ temperature: 21.5 });
 * ```
 *
 * @module
 */
export * from "./core/errors.ts";
export * from "./core/codec/mod.ts";
