/**
 * Command line: run the local ThingsBoard-compatible server.
 *
 * ```sh
 * deno run --allow-net emulator/main.ts --port 1883 --host 127.0.0.1 --devices devices.json
 * ```
 *
 * The devices file (read only when `--devices` is given; needs `--allow-read`)
 * is a JSON array of devices (`{"name","accessToken"}` or
 * `{"name","credentials":{"clientId","userName","password"}}`), or an object
 * `{"devices":[...],"profiles":[...]}` that also lists provision profiles.
 * Without any device, one named `demo-device` is created. Every device is
 * printed with its credentials, then one line per device event.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startEmulator } from "./emulator.ts";
import type { DeviceSpec, Emulator, EmulatorEvent, ProvisionProfileSpec } from "./types.ts";

const USAGE = `Usage: deno run --allow-net emulator/main.ts [options]

Options:
  --port <n>          TCP port (default 1883; 0 = any free port)
  --host <addr>       address to listen on (default 127.0.0.1)
  --devices <file>    JSON file with devices (and provision profiles); needs --allow-read
  --mqtt311-only      refuse MQTT 5 connections like older ThingsBoard versions
  --messages-limit <cap:sec,...>     rate limit on messages other than telemetry/attributes
  --telemetry-limit <cap:sec,...>    rate limit on telemetry and attribute messages
  --datapoints-limit <cap:sec,...>   rate limit on telemetry and attribute data points
  --quiet             print devices only, no event lines
  -h, --help          show this help`;

const VERSIONS: Record<number, string> = { 3: "3.1", 4: "3.1.1", 5: "5" };

/** Formats an event as one concise line (no secrets: tokens are never part of events). */
export function formatEvent(e: EmulatorEvent): string | undefined {
  const who = e.device ?? `#${e.session}`;
  switch (e.type) {
    case "connect":
      return `${who} connected (MQTT ${VERSIONS[e.protocolVersion]}, client ${e.clientId})`;
    case "provisionConnect":
      return `#${e.session} provisioning session opened`;
    case "connectRefused":
      return `#${e.session} connection refused (code ${e.reasonCode}, client ${e.clientId})`;
    case "disconnect":
      return `${who} disconnected (${e.reason})`;
    case "subscribe":
      return `${who} subscribe ${e.topicFilter} -> ${e.reasonCode}`;
    case "telemetry":
      return `${who} telemetry ${summarize(e.values, (v) => v.at(-1)?.value)}`;
    case "attributes":
      return `${who} attributes ${summarize(e.values, (v) => v.value)}`;
    case "attributeRequest":
      return `${who} attribute request ${e.requestId}`;
    case "sharedAttributesPush":
      return `${who} <- attributes ${e.payload}`;
    case "rpcRequest":
      return `${who} <- rpc ${e.requestId} ${e.method}`;
    case "rpcResponse":
      return `${who} rpc reply ${e.requestId} ${e.payload}`;
    case "clientRpc":
      return `${who} client rpc ${e.requestId} ${e.method}`;
    case "clientRpcResponse":
      return `${who} <- client rpc reply ${e.requestId} ${e.payload}`;
    case "claim":
      return `${who} claim (duration ${e.durationMs} ms)`;
    case "provision":
      return `provisioning "${e.deviceName}": ${e.status}`;
    case "subDeviceConnect":
      return `${who} connected through gateway ${e.gateway}`;
    case "subDeviceDisconnect":
      return `${who} disconnected from gateway ${e.gateway}`;
    case "publishRejected":
      return `${who} rejected publish to ${e.topic} (${e.message})`;
    case "protocolError":
      return `${who} protocol error: ${e.message}`;
    case "rateLimited":
      return `${who} over the ${e.limit} rate limit on ${e.topic}`;
    default:
      return undefined;
  }
}

function summarize<T>(values: Record<string, T>, pick: (v: T) => unknown): string {
  const text = Object.entries(values).map(([k, v]) => `${k}=${JSON.stringify(pick(v))}`).join(" ");
  return text.length > 200 ? text.slice(0, 197) + "..." : text;
}

async function readDevicesFile(
  path: string,
): Promise<{ devices: DeviceSpec[]; profiles: ProvisionProfileSpec[] }> {
  const data = JSON.parse(await Deno.readTextFile(path));
  if (Array.isArray(data)) return { devices: data, profiles: [] };
  if (typeof data === "object" && data !== null) {
    return { devices: data.devices ?? [], profiles: data.profiles ?? [] };
  }
  throw new TypeError(`Cannot read ${path}: expected an array or {"devices":[...]}`);
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "1883" },
      host: { type: "string", default: "127.0.0.1" },
      devices: { type: "string" },
      "mqtt311-only": { type: "boolean", default: false },
      "messages-limit": { type: "string" },
      "telemetry-limit": { type: "string" },
      "datapoints-limit": { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`Invalid --port "${values.port}"\n\n${USAGE}`);
    return 2;
  }
  const file = values.devices ? await readDevicesFile(values.devices) : undefined;
  const devices = file?.devices.length ? file.devices : [{ name: "demo-device" }];
  let tb: Emulator;
  try {
    tb = await startEmulator({
      port,
      host: values.host,
      mqtt311Only: values["mqtt311-only"],
      rateLimits: {
        messages: values["messages-limit"] ?? null,
        telemetryMessages: values["telemetry-limit"] ?? null,
        telemetryDataPoints: values["datapoints-limit"] ?? null,
      },
      devices,
      profiles: file?.profiles ?? [],
      ...(values.quiet ? {} : {
        onEvent: (e: EmulatorEvent) => {
          const line = formatEvent(e);
          if (line) console.log(`${new Date(e.time).toISOString()} ${line}`);
        },
      }),
    });
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    console.error(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  console.log(`ThingsBoard emulator listening on mqtt://${tb.host}:${tb.port}`);
  for (const d of tb.devices) {
    const c = d.credentials;
    const creds = c.type === "ACCESS_TOKEN"
      ? `token ${c.accessToken}`
      : `clientId ${c.clientId ?? "-"} userName ${c.userName ?? "-"} password ${c.password ?? "-"}`;
    console.log(`  device "${d.name}": ${creds}${d.gateway ? " (gateway)" : ""}`);
  }
  for (const p of file?.profiles ?? []) {
    console.log(`  provision profile "${p.name}": key ${p.provisionKey} (${p.strategy})`);
  }
  const stop = () => {
    tb.close().then(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  return await new Promise<number>(() => {});
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
