/**
 * tbwasm: a ThingsBoard device SDK for Deno with a WebAssembly hot path.
 *
 * - {@linkcode TBDeviceMqttClient}: the device client (telemetry, attributes,
 *   RPC both ways, claiming, provisioning) with reconnect, resubscription and
 *   an offline queue, over MQTT 5.0 or 3.1.1, TCP or TLS.
 * - {@linkcode TBGatewayMqttClient}: a gateway speaking for the devices behind
 *   it (also `@tbwasm/sdk/gateway`).
 * - {@linkcode TelemetryBatch}: columnar telemetry serialized and framed in wasm.
 * - The MQTT codec (`tsCodec`, `wasmCodec`, `MqttDecoder`, `encode`) and the
 *   generic {@linkcode MqttClient} it is built on.
 *
 * The local ThingsBoard-compatible server is `@tbwasm/sdk/emulator`.
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
export * from "./core/mqtt/mod.ts";
export * from "./core/client/mod.ts";
export * from "./core/gateway/mod.ts";
export * from "./core/payload.ts";
export * from "./core/provision.ts";
export * from "./core/telemetry/mod.ts";
export * from "./wasm/mod.ts";
