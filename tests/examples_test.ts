/**
 * Runs every example as a user would (`deno run` with the permissions its
 * header documents) against an emulator owned by the test, then checks what
 * the emulator received, so the examples cannot rot.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type Emulator, startEmulator } from "../emulator/mod.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const TOKEN = "examples-test-token";
const DEVICE = "examples-test-device";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts an example with the narrow permissions of its header. */
function spawnExample(
  name: string,
  permissions: string[],
  env: Record<string, string> = {},
  args: string[] = [],
): { done: Promise<Run> } {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...permissions, `examples/${name}`, ...args],
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    clearEnv: false,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const done = child.output().then((o) => ({
    code: o.code,
    stdout: new TextDecoder().decode(o.stdout),
    stderr: new TextDecoder().decode(o.stderr),
  }));
  return { done };
}

function envPermissions(tb: Emulator, extra: string[] = []): string[] {
  return [
    `--allow-net=127.0.0.1:${tb.port}`,
    `--allow-env=${["TB_HOST", "TB_PORT", "TB_ACCESS_TOKEN", ...extra].join(",")}`,
  ];
}

function envFor(tb: Emulator): Record<string, string> {
  return { TB_HOST: "127.0.0.1", TB_PORT: String(tb.port), TB_ACCESS_TOKEN: TOKEN };
}

async function withEmulator(fn: (tb: Emulator) => Promise<void>): Promise<void> {
  await using tb = await startEmulator({ port: 0 });
  tb.createDevice({ name: DEVICE, accessToken: TOKEN });
  await fn(tb);
}

function assertOk(run: Run): void {
  assert.equal(run.code, 0, `example failed:\n${run.stdout}\n${run.stderr}`);
}

Deno.test("examples/send_telemetry.ts stores every telemetry shape", async () => {
  await withEmulator(async (tb) => {
    const run = await spawnExample("send_telemetry.ts", envPermissions(tb), envFor(tb)).done;
    assertOk(run);
    const stored = tb.getTelemetry(DEVICE);
    assert.deepEqual(
      stored.temperature?.map((e) => e.value).sort(),
      [20.9, 21.1, 21.4, 21.5],
    );
    assert.deepEqual(stored.humidity?.map((e) => e.value).sort(), [47, 48]);
    assert.equal(stored.door?.[0]?.value, "closed");
    assert.equal(stored.alarm?.[0]?.value, false);
    assert.equal(stored.pressure?.[0]?.value, 1013.2);
  });
});

Deno.test("examples/telemetry_and_attributes.ts stores attributes and telemetry", async () => {
  await withEmulator(async (tb) => {
    assertOk(
      await spawnExample("telemetry_and_attributes.ts", envPermissions(tb), envFor(tb)).done,
    );
    assert.deepEqual(tb.getClientAttributes(DEVICE), {
      model: "TH-100",
      firmwareVersion: "1.4.2",
      sampleRateHz: 1,
    });
    assert.equal(tb.getLatestTelemetry(DEVICE).temperature?.value, 22.1);
  });
});

Deno.test("examples/request_attributes.ts prints what the server answered", async () => {
  await withEmulator(async (tb) => {
    tb.setSharedAttributes(DEVICE, { targetTemperature: 19, mode: "away" });
    const run = await spawnExample("request_attributes.ts", envPermissions(tb), envFor(tb)).done;
    assertOk(run);
    assert.match(run.stdout, /client attributes: \{"location":"lab-3"\}/);
    assert.match(run.stdout, /shared attributes: \{"targetTemperature":19,"mode":"away"\}/);
  });
});

Deno.test("examples/attribute_updates.ts receives pushed updates and deletions", async () => {
  await withEmulator(async (tb) => {
    const subscribed = tb.waitFor("subscribe", (e) => e.topicFilter === "v1/devices/me/attributes");
    const child = spawnExample("attribute_updates.ts", envPermissions(tb), envFor(tb), [
      "--updates=2",
    ]);
    await subscribed;
    tb.setSharedAttributes(DEVICE, { targetTemperature: 24 });
    tb.deleteSharedAttributes(DEVICE, ["targetTemperature"]);
    const run = await child.done;
    assertOk(run);
    assert.match(run.stdout, /targetTemperature is now 24/);
    assert.match(run.stdout, /deleted: \["targetTemperature"\]/);
  });
});

Deno.test("examples/rpc_server_side.ts answers a two-way RPC", async () => {
  await withEmulator(async (tb) => {
    const subscribed = tb.waitFor(
      "subscribe",
      (e) => e.topicFilter === "v1/devices/me/rpc/request/+",
    );
    const child = spawnExample("rpc_server_side.ts", envPermissions(tb), envFor(tb));
    await subscribed;
    const reply = await tb.sendRpc(DEVICE, "setValve", { open: true }, { timeout: 10_000 });
    assert.deepEqual(reply, { open: true });
    assertOk(await child.done);
  });
});

Deno.test("examples/rpc_poll_loop.ts answers from its poll loop", async () => {
  await withEmulator(async (tb) => {
    const subscribed = tb.waitFor(
      "subscribe",
      (e) => e.topicFilter === "v1/devices/me/rpc/request/+",
    );
    const child = spawnExample("rpc_poll_loop.ts", envPermissions(tb), envFor(tb));
    await subscribed;
    assert.equal(await tb.sendRpc(DEVICE, "ping", {}, { timeout: 10_000 }), "pong");
    const run = await child.done;
    assertOk(run);
    assert.match(run.stdout, /checkForMsg\(\) dispatched 1 message/);
  });
});

Deno.test("examples/client_side_rpc.ts gets the server's answer", async () => {
  await withEmulator(async (tb) => {
    tb.onClientRpc("getCurrentTime", () => ({ time: 1234 }));
    const run = await spawnExample("client_side_rpc.ts", envPermissions(tb), envFor(tb)).done;
    assertOk(run);
    assert.match(run.stdout, /getCurrentTime answered: \{"time":1234\}/);
    assert.match(run.stdout, /"maxPayloadSize":65536/);
  });
});

Deno.test("examples/gateway.ts connects two devices, answers RPC and stores their data", async () => {
  await using tb = await startEmulator({ port: 0 });
  tb.createDevice({ name: "example-gateway", accessToken: TOKEN, gateway: true });
  const run = await spawnExample(
    "gateway.ts",
    [`--allow-net=127.0.0.1:${tb.port}`, "--allow-env=TB_HOST,TB_PORT,TB_GATEWAY_TOKEN"],
    { TB_HOST: "127.0.0.1", TB_PORT: String(tb.port), TB_GATEWAY_TOKEN: TOKEN },
  ).done;
  assertOk(run);
  assert.deepEqual(
    tb.getTelemetry("Thermometer 1").temperature?.map((e) => e.value).sort(),
    [21.1, 21.4, 21.5],
  );
  assert.equal(tb.getClientAttributes("Valve 7").model, "V-200");
  assert.match(run.stdout, /Devices still connected: Thermometer 1/);
});

Deno.test("examples/firmware_update.ts installs the assigned firmware, then the next one pushed", async () => {
  await withEmulator(async (tb) => {
    const image = (n: number) => Uint8Array.from({ length: 40_000 }, (_, i) => (i * n) % 256);
    tb.assignOtaPackage(DEVICE, { title: "thermostat", version: "1.1.0", data: image(3) });
    const updated = (version: string) =>
      tb.waitFor(
        "telemetry",
        (e) =>
          e.values.fw_state?.some((v) => v.value === "UPDATED") === true &&
          e.values.current_fw_version?.some((v) => v.value === version) === true,
        {
          timeout: 20_000,
        },
      );
    const first = updated("1.1.0");
    const run = spawnExample("firmware_update.ts", envPermissions(tb), envFor(tb));
    await first;
    const second = updated("1.2.0");
    tb.assignOtaPackage(DEVICE, {
      title: "thermostat",
      version: "1.2.0",
      data: image(5),
      checksumAlgorithm: "CRC32",
    });
    await second;
    assertOk(await run.done);
    const states = tb.getTelemetry(DEVICE).fw_state?.map((e) => e.value) ?? [];
    // QUEUED and INITIATED are the server's (as ThingsBoard writes them on assignment).
    assert.deepEqual(states.slice(0, 7), [
      "QUEUED",
      "INITIATED",
      "DOWNLOADING",
      "DOWNLOADED",
      "VERIFIED",
      "UPDATING",
      "UPDATED",
    ]);
  });
});

Deno.test("examples/claim_device.ts records a claim", async () => {
  await withEmulator(async (tb) => {
    const run = await spawnExample("claim_device.ts", envPermissions(tb), envFor(tb)).done;
    assertOk(run);
    const claim = tb.getClaims(DEVICE);
    assert.equal(claim?.durationMs, 60_000);
    assert.match(run.stdout, new RegExp(`secret key ${claim?.secretKey}`));
  });
});

Deno.test("examples/provision_device.ts provisions and connects as the new device", async () => {
  await withEmulator(async (tb) => {
    tb.createProvisionProfile({
      name: "p",
      provisionKey: "K1",
      provisionSecret: "S1",
      strategy: "allowCreateNewDevices",
    });
    const provisioned = tb.waitFor("provision", (e) => e.status === "SUCCESS");
    const run = await spawnExample(
      "provision_device.ts",
      envPermissions(tb, ["TB_PROVISION_KEY", "TB_PROVISION_SECRET"]),
      {
        TB_HOST: "127.0.0.1",
        TB_PORT: String(tb.port),
        TB_PROVISION_KEY: "K1",
        TB_PROVISION_SECRET: "S1",
      },
    ).done;
    assertOk(run);
    const { deviceName } = await provisioned;
    assert.equal(tb.getLatestTelemetry(deviceName).provisioned?.value, true);
  });
});

Deno.test("examples/telemetry_batch.ts stores every row with its timestamp", async () => {
  await withEmulator(async (tb) => {
    const run = await spawnExample("telemetry_batch.ts", envPermissions(tb), envFor(tb), [
      "--rows=250",
    ]).done;
    assertOk(run);
    assert.match(run.stdout, /Sent 250 rows in 3 messages/);
    const stored = tb.getTelemetry(DEVICE);
    for (const key of ["temperature", "humidity", "vibration"]) {
      assert.equal(stored[key]?.length, 250, key);
    }
    const ts = stored.temperature!.map((e) => e.ts).sort((a, b) => a - b);
    assert.equal(ts[249]! - ts[0]!, 249 * 100);
  });
});

Deno.test("examples run on the embedded emulator when no ThingsBoard is named", async () => {
  for (const name of ["send_telemetry.ts", "rpc_server_side.ts", "provision_device.ts"]) {
    const run = await spawnExample(name, ["--allow-net=127.0.0.1"]).done;
    assertOk(run);
    assert.match(run.stdout, /using the emulator/);
  }
});

Deno.test("examples/tls.ts connects over verified TLS", async () => {
  const openssl = await new Deno.Command("openssl", {
    args: ["version"],
    stdout: "null",
    stderr: "null",
  })
    .output().catch(() => undefined);
  assert.ok(openssl?.success, "openssl is required (installed by .ci/run)");
  const run = await spawnExample("tls.ts", [
    "--allow-net=127.0.0.1",
    "--allow-run=openssl",
    "--allow-read",
    "--allow-write",
  ]).done;
  assertOk(run);
  assert.match(run.stdout, /Connected over TLS/);
});
