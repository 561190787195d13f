/**
 * The tbwasm tour: a device's whole life against the embedded
 * ThingsBoard-compatible emulator, in a few seconds.
 *
 *   deno task demo
 *
 * It provisions a device through a device profile, connects as it, streams
 * sensor telemetry through the wasm batch path, reports client attributes,
 * requests shared attributes, receives a shared-attribute update, answers a
 * two-way RPC from the server, calls the server (client-side RPC), claims the
 * device, installs the firmware the server assigns (OTA) and disconnects
 * cleanly.
 *
 * With `TB_HOST` and `TB_ACCESS_TOKEN` (or `TB_PROVISION_KEY` and
 * `TB_PROVISION_SECRET`) set, the same scenario runs against a real
 * ThingsBoard; the steps only a server can drive are skipped.
 *
 * @module
 */
import { type ProvisionedCredentials, TBDeviceMqttClient, TelemetryBatch } from "../mod.ts";
import { type Emulator, startEmulator } from "../emulator/mod.ts";
import { env } from "./_target.ts";

const PROFILE_KEY = "demo-provision-key";
const PROFILE_SECRET = "demo-provision-secret";
const ROWS = 2_000;
const BATCH = 200;

const step = (n: number, text: string) => console.log(`\n[${n}] ${text}`);
const info = (text: string) => console.log(`    ${text}`);

const host = env("TB_HOST");
const emulator: Emulator | undefined = host === undefined
  ? await startEmulator({ port: 0 })
  : undefined;
const target = emulator
  ? { host: emulator.host, port: emulator.port }
  : { host: host!, port: Number(env("TB_PORT") ?? 1883) };
console.log(
  emulator
    ? `tbwasm demo: embedded ThingsBoard emulator on ${target.host}:${target.port}`
    : `tbwasm demo: ThingsBoard at ${target.host}:${target.port}`,
);

try {
  // 1. Provisioning, or the token from TB_ACCESS_TOKEN (ignored by the embedded emulator).
  let accessToken = emulator ? undefined : env("TB_ACCESS_TOKEN");
  let deviceName = "(from TB_ACCESS_TOKEN)";
  const key = emulator ? PROFILE_KEY : env("TB_PROVISION_KEY");
  const secret = emulator ? PROFILE_SECRET : env("TB_PROVISION_SECRET");
  if (accessToken === undefined && key !== undefined && secret !== undefined) {
    if (emulator) {
      emulator.createProvisionProfile({
        name: "demo sensors",
        provisionKey: key,
        provisionSecret: secret,
        strategy: "allowCreateNewDevices",
      });
    }
    deviceName = `demo-sensor-${crypto.randomUUID().slice(0, 6)}`;
    step(1, `Provisioning "${deviceName}" with the device profile's key and secret`);
    const request = TBDeviceMqttClient.getProvisionRequest(key, secret, { deviceName });
    const credentials: ProvisionedCredentials = await TBDeviceMqttClient.provision(
      target.host,
      target.port,
      request,
      { timeout: 10_000 },
    );
    if (credentials.credentialsType !== "ACCESS_TOKEN") {
      throw new Error(`expected an access token, got ${credentials.credentialsType}`);
    }
    accessToken = credentials.accessToken;
    info(
      `the server answered SUCCESS and issued an access token (${accessToken.length} characters)`,
    );
  } else if (accessToken === undefined) {
    throw new Error("Set TB_ACCESS_TOKEN, or TB_PROVISION_KEY and TB_PROVISION_SECRET");
  } else {
    step(1, "Using the access token from TB_ACCESS_TOKEN");
  }

  // 2. Connect.
  step(2, "Connecting (MQTT 5, falls back to 3.1.1 if the server refuses it)");
  await using client = new TBDeviceMqttClient({
    host: target.host,
    port: target.port,
    accessToken,
    engine: "wasm",
  });
  let setpoint = 21;
  const rpcAnswered = Promise.withResolvers<void>();
  client.setServerSideRpcRequestHandler(({ method, params }) => {
    info(`server RPC "${method}" ${JSON.stringify(params)}`);
    if (method === "setSetpoint") {
      setpoint = Number((params as { value?: unknown }).value);
      queueMicrotask(rpcAnswered.resolve);
      return { setpoint };
    }
    throw new Error(`unknown method ${method}`);
  });
  let nextUpdate = Promise.withResolvers<void>();
  client.subscribeToAllAttributes(({ values, deleted }) => {
    info(
      `shared attributes pushed: ${JSON.stringify(values)}${
        deleted.length ? ` deleted ${deleted}` : ""
      }`,
    );
    nextUpdate.resolve();
  });
  const connack = await client.connect({ timeout: 10_000 });
  info(
    `connected over MQTT ${
      client.protocolVersion === 5 ? "5.0" : "3.1.1"
    } (CONNACK ${connack.reasonCode})`,
  );
  const limits = await client.getSessionLimits();
  info(
    `session limits: max payload ${limits.maxPayloadSize} bytes, ${limits.maxInflightMessages} in flight`,
  );

  // 3. Stream telemetry through the columnar wasm batch.
  step(
    3,
    `Streaming ${ROWS} rows of 4 sensors in batches of ${BATCH} (wasm: JSON + PUBLISH in one call)`,
  );
  const batch = new TelemetryBatch(["temperature", "humidity", "pressure", "co2"], {
    capacity: BATCH,
  });
  const row = new Float64Array(4);
  const start = Date.now() - ROWS * 1000;
  const t0 = performance.now();
  for (let i = 0; i < ROWS; i++) {
    row[0] = 20 + Math.sin(i / 50) * 2;
    row[1] = 45 + Math.cos(i / 70) * 5;
    row[2] = 1013 + Math.sin(i / 200);
    row[3] = 400 + (i % 60);
    batch.append(start + i * 1000, row);
    if (batch.length === BATCH) {
      await client.sendTelemetryBatch(batch);
      batch.clear();
      const done = i + 1;
      const bar = "#".repeat(Math.round((done / ROWS) * 30)).padEnd(30, ".");
      Deno.stdout.writeSync(
        new TextEncoder().encode(`\r    [${bar}] ${done}/${ROWS} rows acknowledged`),
      );
    }
  }
  console.log();
  info(`${ROWS * 4} datapoints in ${(performance.now() - t0).toFixed(0)} ms`);
  if (emulator) {
    const stored = emulator.getTelemetry(deviceName);
    info(
      `the server stored ${stored.temperature?.length ?? 0} temperature points for ${deviceName}`,
    );
  }

  // 4. Client attributes.
  step(4, "Reporting client attributes");
  await client.sendAttributes({ model: "DEMO-4", firmwareVersion: "0.1.0", setpoint });
  if (emulator) info(`stored: ${JSON.stringify(emulator.getClientAttributes(deviceName))}`);

  // 5. Shared attributes: request, then a push.
  step(5, "Requesting shared attributes");
  if (emulator) {
    emulator.setSharedAttributes(deviceName, { reportingInterval: 10, displayUnit: "C" });
    await nextUpdate.promise; // a subscribed device also gets the change pushed
  }
  const response = await client.requestAttributes({
    clientKeys: ["model"],
    sharedKeys: ["reportingInterval", "displayUnit"],
  });
  info(
    `answer: client ${JSON.stringify(response.client)}, shared ${JSON.stringify(response.shared)}`,
  );
  if (emulator) {
    step(6, "The operator changes a shared attribute; the server pushes it");
    nextUpdate = Promise.withResolvers<void>();
    emulator.setSharedAttributes(deviceName, { reportingInterval: 5 });
    await nextUpdate.promise;

    step(7, "The server sends a two-way RPC; the handler's return value is the reply");
    const reply = await emulator.sendRpc(deviceName, "setSetpoint", { value: 22.5 }, {
      timeout: 5000,
    });
    await rpcAnswered.promise;
    info(`the server received: ${JSON.stringify(reply)}`);

    emulator.onClientRpc("getCurrentTime", () => ({ time: Date.now() }));
  } else {
    info("(steps 6 and 7 need the server to act: skipped on a real ThingsBoard)");
  }

  // 8. Client-side RPC.
  step(8, "Calling the server: client-side RPC getCurrentTime");
  try {
    const answer = await client.sendRpcCall("getCurrentTime", {}, {
      timeout: emulator ? 5000 : 65_000,
    });
    info(`answer: ${JSON.stringify(answer)}`);
  } catch (e) {
    info(`no answer (${(e as Error).message}); a rule chain must reply to this method`);
  }

  // 9. Claiming.
  step(9, "Claiming the device");
  await client.claimDevice("demo-secret", { durationMs: 60_000 });
  if (emulator) info(`the server recorded: ${JSON.stringify(emulator.getClaims(deviceName))}`);

  // 10. Firmware update (OTA).
  step(10, "Firmware update: chunks, checksum, fw_state reported to the server");
  emulator?.assignOtaPackage(deviceName, {
    title: "demo-firmware",
    version: "1.1.0",
    data: Uint8Array.from({ length: 20_000 }, (_, i) => i % 251),
    checksumAlgorithm: "SHA256",
  });
  try {
    const pkg = await client.updateFirmware({
      currentTitle: "demo-firmware",
      currentVersion: "1.0.0",
      chunkSize: 4096,
      onPackage: (p) => info(`installing ${p.title} ${p.version} (${p.data.length} bytes)`),
    });
    info(pkg ? `updated to ${pkg.version}` : "the firmware is up to date");
    if (emulator) {
      const states = emulator.getTelemetry(deviceName).fw_state ?? [];
      info(`fw_state: ${states.map((e) => e.value).join(" → ")}`);
    }
  } catch (e) {
    info(`no update (${(e as Error).message})`);
  }

  // 11. Disconnect.
  step(11, "Disconnecting (in-flight messages are flushed first)");
  await client.disconnect();
  info(`state: ${client.state}`);
  console.log("\nDone.");
} finally {
  await emulator?.close();
}
