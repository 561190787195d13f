/**
 * Shared setup of the gateway-client tests: an emulator with a gateway
 * device and a client for it, for every protocol level and engine.
 *
 * @module
 */

import { type Emulator, type EmulatorOptions, startEmulator } from "../emulator/mod.ts";
import { TBGatewayMqttClient } from "../core/gateway/mod.ts";
import type {
  TBGatewayMqttClientEventMap,
  TBGatewayMqttClientOptions,
} from "../core/gateway/mod.ts";

/** Protocol levels and engines of the matrix. */
export interface Variant {
  engine: "ts" | "wasm";
  protocolVersion: 4 | 5;
}

/**
 * Registers one test per protocol level and engine.
 *
 * @param name Test name.
 * @param fn The body.
 */
export function matrix(name: string, fn: (variant: Variant) => Promise<void>): void {
  for (const engine of ["ts", "wasm"] as const) {
    for (const protocolVersion of [4, 5] as const) {
      const label = `${name} [MQTT ${protocolVersion === 5 ? "5" : "3.1.1"}, ${engine}]`;
      Deno.test(label, () => fn({ engine, protocolVersion }));
    }
  }
}

/** What {@linkcode setup} returns; dispose it with `await using`. */
export interface Setup extends AsyncDisposable {
  tb: Emulator;
  gateway: TBGatewayMqttClient;
}

/** The gateway device's token. */
export const TOKEN = "GW_TOKEN_SECRET";

/**
 * Starts an emulator with gateway `gw` and creates (not connects) a client.
 *
 * @param variant Level and engine.
 * @param options Client options to override.
 * @param emulator Emulator options.
 * @returns The setup.
 */
export async function setup(
  variant: Variant,
  options: Partial<TBGatewayMqttClientOptions> = {},
  emulator: EmulatorOptions = {},
): Promise<Setup> {
  const tb = await startEmulator({ port: 0, ...emulator });
  tb.createDevice({ name: "gw", accessToken: TOKEN, gateway: true });
  const gateway = new TBGatewayMqttClient({
    host: tb.host,
    port: tb.port,
    accessToken: TOKEN,
    protocolVersion: variant.protocolVersion,
    engine: variant.engine,
    reconnect: { initialDelay: 20, maxDelay: 200 },
    ...options,
  });
  return {
    tb,
    gateway,
    async [Symbol.asyncDispose]() {
      await gateway.disconnect({ timeout: 1000 });
      await tb.close();
    },
  };
}

/**
 * Waits for the next event of a gateway client.
 *
 * @param target The client.
 * @param type Event name.
 * @returns The event.
 */
export function nextEvent<K extends keyof TBGatewayMqttClientEventMap>(
  target: TBGatewayMqttClient,
  type: K,
): Promise<TBGatewayMqttClientEventMap[K]> {
  return new Promise((resolve) => target.addEventListener(type, (e) => resolve(e), { once: true }));
}
