/**
 * Where the examples connect: a real ThingsBoard named by environment
 * variables, or an emulator started in this process when they are unset.
 *
 * Environment (read only when `--allow-env` grants it; otherwise ignored):
 * - `TB_HOST`, `TB_PORT` (default 1883; examples/tls.ts uses 8883), `TB_ACCESS_TOKEN`
 * - `TB_PROVISION_KEY`, `TB_PROVISION_SECRET` (provisioning example and demo)
 * - `TB_GATEWAY_TOKEN` (gateway example), `TB_CA_CERT` (TLS example)
 *
 * @module
 */

import { type Emulator, startEmulator } from "../emulator/mod.ts";

/**
 * A ThingsBoard to talk to; `await using` it to stop the emulator (if one was
 * started) when the example ends.
 */
export interface Target extends AsyncDisposable {
  /** Host name or address. */
  host: string;
  /** MQTT port. */
  port: number;
  /** The device's access token. */
  accessToken: string;
  /** The in-process emulator, when no real ThingsBoard was named. */
  emulator?: Emulator;
}

/**
 * Reads an environment variable if the permission was granted, without
 * prompting; `undefined` otherwise.
 */
export function env(name: string): string | undefined {
  const status = Deno.permissions.querySync({ name: "env", variable: name });
  if (status.state !== "granted") return undefined;
  const value = Deno.env.get(name);
  return value === "" ? undefined : value;
}

/**
 * Opens the target: the ThingsBoard named by `TB_HOST`/`TB_ACCESS_TOKEN`, or
 * an emulator on a free loopback port with one device when they are unset.
 *
 * @param deviceName Name of the emulated device.
 */
export async function openTarget(deviceName = "example-device"): Promise<Target> {
  const host = env("TB_HOST");
  const accessToken = env("TB_ACCESS_TOKEN");
  if (host !== undefined && accessToken !== undefined) {
    const port = Number(env("TB_PORT") ?? 1883);
    console.log(`Using ThingsBoard at ${host}:${port}`);
    return { host, port, accessToken, [Symbol.asyncDispose]: () => Promise.resolve() };
  }
  const emulator = await startEmulator({ port: 0 });
  const token = `${deviceName}-token`;
  emulator.createDevice({ name: deviceName, accessToken: token });
  console.log(
    `TB_HOST/TB_ACCESS_TOKEN not set (or not allowed by --allow-env): using the emulator on 127.0.0.1:${emulator.port}`,
  );
  return {
    host: emulator.host,
    port: emulator.port,
    accessToken: token,
    emulator,
    [Symbol.asyncDispose]: () => emulator.close(),
  };
}

/**
 * Reads a positive integer command-line flag `--name=N`.
 *
 * @param name Flag name.
 * @param fallback Value when absent.
 */
export function intFlag(name: string, fallback: number): number {
  const prefix = `--${name}=`;
  const arg = Deno.args.find((a) => a.startsWith(prefix));
  if (arg === undefined) return fallback;
  const n = Number(arg.slice(prefix.length));
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`--${name} must be a positive integer`);
  return n;
}
