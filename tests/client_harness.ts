/**
 * Shared setup of the device-client tests: an emulator on a free port, a
 * device, and a client, for every protocol level and engine.
 *
 * @module
 */

import {
  type Device,
  type Emulator,
  type EmulatorOptions,
  startEmulator,
} from "../emulator/mod.ts";
import type { Logger } from "../core/mqtt/mod.ts";
import { TBDeviceMqttClient } from "../core/client/client.ts";
import type { TBDeviceMqttClientOptions } from "../core/client/options.ts";
import type { TBDeviceMqttClientEventMap } from "../core/client/events.ts";

/** Engines to test; adding `"wasm"` here runs every client test on it too. */
export const ENGINES: ReadonlyArray<"ts" | "wasm"> = ["ts", "wasm"];
/** Protocol levels to test. */
export const VERSIONS: ReadonlyArray<4 | 5> = [4, 5];

/** One combination of the matrix. */
export interface Variant {
  engine: "ts" | "wasm";
  protocolVersion: 4 | 5;
}

/** A logged line. */
export interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  data: Record<string, unknown> | undefined;
}

/**
 * A logger that records everything.
 *
 * @returns The logger and its entries.
 */
export function recordingLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry["level"]) => (msg: string, data?: Record<string, unknown>) => {
    entries.push({ level, msg, data });
  };
  return {
    logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
    entries,
  };
}

/**
 * Registers one test per protocol level and engine.
 *
 * @param name Test name (`symbol() behaviour`).
 * @param fn The test body; gets the variant and the test context (for steps).
 */
export function matrix(
  name: string,
  fn: (variant: Variant, t: Deno.TestContext) => Promise<void>,
): void {
  for (const engine of ENGINES) {
    for (const protocolVersion of VERSIONS) {
      Deno.test(`${name} [MQTT ${protocolVersion === 5 ? "5" : "3.1.1"}, ${engine}]`, (t) =>
        fn({ engine, protocolVersion }, t));
    }
  }
}

/** What {@linkcode setup} returns; dispose it with `await using`. */
export interface Setup extends AsyncDisposable {
  tb: Emulator;
  device: Device;
  client: TBDeviceMqttClient;
  entries: LogEntry[];
  /** Creates another client for the same emulator (disposed with the setup). */
  newClient(options?: Partial<TBDeviceMqttClientOptions>): TBDeviceMqttClient;
}

/**
 * Starts an emulator with a device `d1` and creates (but does not connect) a client for it.
 *
 * @param variant Protocol level and engine.
 * @param options Client options to override.
 * @param emulator Emulator options.
 * @returns The setup.
 */
export async function setup(
  variant: Variant,
  options: Partial<TBDeviceMqttClientOptions> = {},
  emulator: EmulatorOptions = {},
): Promise<Setup> {
  const tb = await startEmulator({ port: 0, ...emulator });
  const device = tb.createDevice({ name: "d1", accessToken: "D1_TOKEN_SECRET" });
  const { logger, entries } = recordingLogger();
  const clients: TBDeviceMqttClient[] = [];
  const newClient = (extra: Partial<TBDeviceMqttClientOptions> = {}) => {
    const client = new TBDeviceMqttClient({
      host: tb.host,
      port: tb.port,
      accessToken: "D1_TOKEN_SECRET",
      protocolVersion: variant.protocolVersion,
      engine: variant.engine,
      reconnect: { initialDelay: 20, maxDelay: 200 },
      logger,
      ...extra,
    });
    clients.push(client);
    return client;
  };
  const client = newClient(options);
  return {
    tb,
    device,
    client,
    entries,
    newClient,
    async [Symbol.asyncDispose]() {
      for (const c of clients) await c.disconnect({ timeout: 1000 });
      await tb.close();
    },
  };
}

/**
 * Waits for the next event of a client.
 *
 * @param target The client.
 * @param type Event name.
 * @returns The event.
 */
export function nextEvent<K extends keyof TBDeviceMqttClientEventMap>(
  target: TBDeviceMqttClient,
  type: K,
): Promise<TBDeviceMqttClientEventMap[K]> {
  return new Promise((resolve) => {
    target.addEventListener(type, (e) => resolve(e), { once: true });
  });
}
