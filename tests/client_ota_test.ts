/**
 * Firmware and software updates (OTA) of the device client against the
 * emulator: chunked download, every checksum algorithm (expected values
 * computed independently: node:crypto and published test vectors), the
 * `fw_state` telemetry the server stored, and the failure paths.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { computeChecksum, createHasher } from "../core/client/_checksum.ts";
import { OtaError } from "../core/client/errors.ts";
import type { ChecksumAlgorithm, OtaPackageInfo } from "../core/client/ota.ts";
import { TBDeviceMqttClient } from "../core/client/client.ts";
import { MqttClient } from "../core/mqtt/mod.ts";
import { mosquittoPath, startMosquitto } from "./_mosquitto.ts";
import { matrix, recordingLogger, setup } from "./client_harness.ts";
import { blob, chunkRequests, states } from "./_ota_helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const FOX = enc("The quick brown fox jumps over the lazy dog");
/** Guava writes CRC32/Murmur3 hash bytes little-endian: reverse the usual big-endian hex. */
const le = (hex: string) => hex.match(/../g)!.reverse().join("");

Deno.test("computeChecksum() matches published vectors and node:crypto", () => {
  // CRC-32 check value "123456789" → cbf43926; MurmurHash3 vectors (seed 0).
  assert.equal(computeChecksum("CRC32", enc("123456789")), le("cbf43926"));
  assert.equal(computeChecksum("MURMUR3_32", enc("hello")), le("248bfa47"));
  assert.equal(computeChecksum("MURMUR3_32", FOX), le("2e4ff723"));
  assert.equal(computeChecksum("MURMUR3_32", new Uint8Array(0)), "00000000");
  assert.equal(
    computeChecksum("MURMUR3_128", FOX),
    le("e34bbc7bbc071b6c") + le("7a433ca9c49a9347"),
  );
  assert.equal(
    computeChecksum("MURMUR3_128", enc("hell")),
    le("629942693e10f867") + le("92db0b82baeb5347"),
  );
  assert.equal(computeChecksum("MURMUR3_128", new Uint8Array(0)), "0".repeat(32));
  const data = blob(1000);
  for (const a of ["MD5", "SHA256", "SHA384", "SHA512"] as const) {
    assert.equal(computeChecksum(a, data), createHash(a.toLowerCase()).update(data).digest("hex"));
  }
});

Deno.test("createHasher() gives the same result for any chunking", () => {
  const data = blob(777);
  for (const a of ["CRC32", "MURMUR3_32", "MURMUR3_128", "SHA256"] as const) {
    for (const step of [1, 3, 5, 15, 16, 17, 100]) {
      const h = createHasher(a);
      for (let i = 0; i < data.length; i += step) h.update(data.subarray(i, i + step));
      assert.equal(h.digest(), computeChecksum(a, data), `${a} in steps of ${step}`);
    }
  }
});

matrix("updateFirmware() downloads, verifies, applies and reports each state", async (v) => {
  await using s = await setup(v);
  const data = blob(5000);
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data });
  await s.client.connect();
  const applied: Uint8Array[] = [];
  const progress: number[] = [];
  const pkg = await s.client.updateFirmware({
    currentTitle: "app",
    currentVersion: "1.0.0",
    chunkSize: 1024, // does not divide 5000: the last chunk is shorter
    onProgress: ({ received, total }) => {
      assert.equal(total, 5000);
      progress.push(received);
    },
    onPackage: (p) => void applied.push(p.data),
  });
  assert.ok(pkg);
  assert.deepEqual(pkg.data, data);
  assert.deepEqual(applied, [data]);
  assert.equal(pkg.version, "1.0.1");
  assert.equal(pkg.checksumAlgorithm, "SHA256");
  assert.deepEqual(progress, [1024, 2048, 3072, 4096, 5000]);
  assert.deepEqual(chunkRequests(s.tb), [0, 1, 2, 3, 4]);
  assert.deepEqual(states(s.tb), [
    "DOWNLOADING",
    "DOWNLOADED",
    "VERIFIED",
    "UPDATING",
    "UPDATED",
  ]);
  const latest = s.tb.getLatestTelemetry("d1");
  assert.equal(latest.current_fw_version?.value, "1.0.1");
  assert.equal(latest.current_fw_title?.value, "app");
  // The next call finds the package installed: it downloads nothing and reports UPDATED.
  assert.equal(await s.client.updateFirmware(), undefined);
  assert.equal(chunkRequests(s.tb).length, 5);
  assert.equal(states(s.tb).at(-1), "UPDATED");
});

Deno.test("updateFirmware() verifies every checksum algorithm", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 5 });
  await s.client.connect();
  const big = blob(3000);
  const cases: Array<[ChecksumAlgorithm, Uint8Array, string]> = [
    ["MD5", big, createHash("md5").update(big).digest("hex")],
    ["SHA256", big, createHash("sha256").update(big).digest("hex")],
    ["SHA384", big, createHash("sha384").update(big).digest("hex")],
    ["SHA512", big, createHash("sha512").update(big).digest("hex")],
    ["CRC32", enc("123456789"), le("cbf43926")],
    ["MURMUR3_32", FOX, le("2e4ff723")],
    ["MURMUR3_128", FOX, le("e34bbc7bbc071b6c") + le("7a433ca9c49a9347")],
  ];
  let n = 0;
  for (const [algorithm, data, expected] of cases) {
    for (const chunkSize of [4, 16, 1000]) {
      const version = `2.0.${n++}`;
      let pkg: OtaPackageInfo | undefined;
      if (algorithm === "MURMUR3_128") {
        // The emulator does not offer MURMUR3_128: describe the package ourselves.
        s.tb.assignOtaPackage("d1", { title: "app", version, data });
        pkg = {
          type: "firmware",
          title: "app",
          version,
          size: data.length,
          checksumAlgorithm: algorithm,
          checksum: expected,
        };
      } else {
        s.tb.assignOtaPackage("d1", { title: "app", version, data, checksumAlgorithm: algorithm });
        assert.equal(s.tb.getSharedAttributes("d1").fw_checksum, expected);
      }
      const got = await s.client.updateFirmware({
        chunkSize,
        ...(pkg ? { package: pkg } : {}),
        onPackage: () => {},
      });
      assert.deepEqual(got?.data, data, `${algorithm}, chunks of ${chunkSize}`);
      assert.equal(got?.checksum, expected);
      assert.equal(states(s.tb).at(-1), "UPDATED");
    }
  }
});

Deno.test("updateFirmware() reads until a short chunk when fw_size is missing", async () => {
  await using s = await setup({ engine: "wasm", protocolVersion: 4 });
  await s.client.connect();
  for (const [size, chunks] of [[4096, 5], [4000, 4]] as const) {
    const data = blob(size);
    const version = `3.0.${size}`;
    s.tb.assignOtaPackage("d1", { title: "app", version, data, checksumAlgorithm: "CRC32" });
    const before = chunkRequests(s.tb).length;
    const { fw_checksum: checksum } = s.tb.getSharedAttributes("d1");
    const got = await s.client.updateFirmware({
      chunkSize: 1024,
      package: {
        type: "firmware",
        title: "app",
        version,
        checksumAlgorithm: "CRC32",
        checksum: String(checksum),
      },
    });
    assert.deepEqual(got?.data, data);
    assert.equal(chunkRequests(s.tb).length - before, chunks); // 4096: an empty 5th chunk ends it
    assert.equal(states(s.tb).at(-1), "VERIFIED"); // no onPackage: stops at VERIFIED
  }
});

matrix("updateFirmware() fails with CHECKSUM_MISMATCH and reports FAILED", async (v) => {
  await using s = await setup(v);
  const data = blob(300);
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data, checksumAlgorithm: "MD5" });
  await s.client.connect();
  let applied = false;
  await assert.rejects(
    s.client.updateFirmware({
      chunkSize: 128,
      package: {
        type: "firmware",
        title: "app",
        version: "1.0.1",
        size: 300,
        checksumAlgorithm: "MD5",
        checksum: "0".repeat(32),
      },
      onPackage: () => void (applied = true),
    }),
    (e: unknown) => e instanceof OtaError && e.code === "CHECKSUM_MISMATCH",
  );
  assert.equal(applied, false);
  assert.deepEqual(states(s.tb), ["DOWNLOADING", "DOWNLOADED", "FAILED"]);
  const error = s.tb.getLatestTelemetry("d1").fw_error?.value;
  assert.match(String(error), /MD5 checksum is [0-9a-f]{32}, expected 0{32}/);
});

Deno.test("updateFirmware() reports a server error from v2/fw/error as OtaError", async () => {
  // The client believes in a larger limit than the server: the server refuses the chunk size.
  await using s = await setup(
    { engine: "ts", protocolVersion: 5 },
    { sessionLimits: false, maxPayloadSize: 1_000_000 },
  );
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data: blob(100) });
  await s.client.connect();
  const error = await s.client.updateFirmware({ chunkSize: 70_000 }).catch((e) => e);
  assert.ok(error instanceof OtaError, String(error));
  assert.equal(error.code, "SERVER_ERROR");
  assert.equal(error.serverError, "PAYLOAD_TOO_LARGE");
  // The FAILED report went out after the client reconnected.
  assert.equal(states(s.tb).at(-1), "FAILED");
  assert.match(String(s.tb.getLatestTelemetry("d1").fw_error?.value), /PAYLOAD_TOO_LARGE/);
});

Deno.test("updateFirmware() refuses bad input and a missing package before downloading", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 5 });
  await s.client.connect();
  await assert.rejects(s.client.updateFirmware({ chunkSize: 70_000 }), RangeError);
  await assert.rejects(
    s.client.updateFirmware({ chunkSize: 70_000 }),
    /chunkSize 70000 is larger than .* 65536; use a chunkSize of at most 65536$/,
  );
  await assert.rejects(s.client.updateFirmware({ chunkSize: 0 }), RangeError);
  await assert.rejects(s.client.updateFirmware({ timeout: -1 }), RangeError);
  await assert.rejects(
    s.client.updateFirmware(),
    (e: unknown) => e instanceof OtaError && e.code === "NO_PACKAGE",
  );
  assert.deepEqual(chunkRequests(s.tb), []);
  assert.ok(s.client.connected);
});

Deno.test("updateFirmware() stops when aborted and reports FAILED", async () => {
  await using s = await setup({ engine: "wasm", protocolVersion: 5 });
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data: blob(4096) });
  await s.client.connect();
  const controller = new AbortController();
  const error = await s.client.updateFirmware({
    chunkSize: 1024,
    signal: controller.signal,
    onProgress: () => controller.abort(),
  }).catch((e) => e);
  assert.equal((error as Error).name, "AbortError");
  assert.deepEqual(chunkRequests(s.tb), [0]);
  assert.equal(states(s.tb).at(-1), "FAILED");
});

Deno.test("updateFirmware() continues after a reconnect in the middle of a download", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 4 });
  const data = blob(3000);
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data });
  await s.client.connect();
  let dropped = false;
  const got = await s.client.updateFirmware({
    chunkSize: 1000,
    onProgress: ({ received }) => {
      if (received === 1000 && !dropped) dropped = s.tb.disconnect("d1");
    },
  });
  assert.ok(dropped);
  assert.deepEqual(got?.data, data);
  // The request lost with the connection was sent again on reconnect, not after a timeout.
  assert.ok(!s.entries.some((e) => e.msg.startsWith("OTA chunk did not arrive")));
});

matrix("updateFirmware() updates software with sw_* keys and v2/sw topics", async (v) => {
  await using s = await setup(v);
  const data = blob(2500);
  s.tb.assignOtaPackage("d1", { type: "software", title: "tool", version: "0.9.1", data });
  await s.client.connect();
  const got = await s.client.updateFirmware({
    type: "software",
    chunkSize: 1000,
    onPackage: () => {},
  });
  assert.deepEqual(got?.data, data);
  assert.equal(got?.type, "software");
  const otaTypes = s.tb.events().flatMap((e) => e.type === "otaChunkRequest" ? [e.otaType] : []);
  assert.deepEqual(otaTypes, ["software", "software", "software"]);
  assert.deepEqual(states(s.tb, "sw_state"), [
    "DOWNLOADING",
    "DOWNLOADED",
    "VERIFIED",
    "UPDATING",
    "UPDATED",
  ]);
  assert.deepEqual(states(s.tb, "fw_state"), []);
  assert.equal(s.tb.getLatestTelemetry("d1").current_sw_version?.value, "0.9.1");
});

matrix(
  "onFirmwareAssigned() fires on a pushed assignment, not on attribute responses",
  async (v) => {
    await using s = await setup(v);
    s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.0", data: blob(10) });
    await s.client.connect();
    const seen: OtaPackageInfo[] = [];
    const updated = Promise.withResolvers<Uint8Array | undefined>();
    s.client.onFirmwareAssigned(async (info) => {
      seen.push(info);
      const pkg = await s.client.updateFirmware({ package: info, chunkSize: 512 }).catch((e) => {
        updated.reject(e);
        return undefined;
      });
      updated.resolve(pkg?.data);
    });
    // A response carrying fw_* keys must not trigger the watcher (the Python SDK's bug).
    const { shared } = await s.client.requestAttributes({ sharedKeys: ["fw_title", "fw_version"] });
    assert.equal(shared.fw_version, "1.0.0");
    const data = blob(1500);
    s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data });
    assert.deepEqual(await updated.promise, data);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.version, "1.0.1");
    assert.equal(seen[0]?.size, 1500);
    assert.equal(seen[0]?.checksumAlgorithm, "SHA256");
  },
);

const haveMosquitto = mosquittoPath() !== undefined;

Deno.test({
  name: "updateFirmware() asks again for a lost chunk, then fails with TIMEOUT (broker peer)",
  ignore: !haveMosquitto,
  async fn() {
    // Mosquitto with a peer playing ThingsBoard: it drops requests on purpose.
    await using broker = await startMosquitto();
    const peer = new MqttClient({ host: "127.0.0.1", port: broker.port, reconnect: false });
    const requests: Array<{ topic: string; payload: string }> = [];
    const data = blob(20);
    let answer = (_index: number, _attempt: number) => true;
    peer.addEventListener("message", ({ detail: { topic, payload } }) => {
      const [, , , rid, , index] = topic.split("/");
      const attempt = requests.filter((r) => r.topic === topic).length;
      requests.push({ topic, payload: new TextDecoder().decode(payload) });
      if (!answer(Number(index), attempt)) return;
      const start = Number(index) * 8;
      peer.publish(`v2/fw/response/${rid}/chunk/${index}`, data.subarray(start, start + 8), {
        qos: 1,
      }).catch(() => {});
    });
    await peer.connect();
    await peer.subscribe([{ topicFilter: "v2/fw/request/+/chunk/+", qos: 1 }]);
    const { logger, entries } = recordingLogger();
    await using client = new TBDeviceMqttClient({
      host: "127.0.0.1",
      port: broker.port,
      accessToken: "T",
      engine: "ts",
      sessionLimits: false,
      logger,
    });
    await client.connect();
    const info: OtaPackageInfo = {
      type: "firmware",
      title: "app",
      version: "1.0.1",
      size: 20,
      checksumAlgorithm: "SHA256",
      checksum: createHash("sha256").update(data).digest("hex"),
    };
    // The first request for chunk 1 is lost; the retry gets it.
    answer = (index, attempt) => !(index === 1 && attempt === 0);
    const got = await client.updateFirmware({
      package: info,
      chunkSize: 8,
      timeout: 1000,
      retries: 2,
    });
    assert.deepEqual(got?.data, data);
    assert.deepEqual(
      requests.map((r) => r.topic.replace(/request\/\d+/, "request/R")),
      [0, 1, 1, 2].map((i) => `v2/fw/request/R/chunk/${i}`),
    );
    assert.ok(requests.every((r) => r.payload === "8")); // the chunk size in ASCII
    const firstRid = requests[0]!.topic.split("/")[3];
    assert.equal(entries.filter((e) => e.msg.startsWith("OTA chunk did not arrive")).length, 1);

    // Nothing answers: 1 + 2 retries, then TIMEOUT; a fresh request id for the new attempt.
    requests.length = 0;
    answer = () => false;
    const error = await client.updateFirmware({
      package: info,
      force: true,
      chunkSize: 8,
      timeout: 50,
      retries: 2,
    }).catch((e) => e);
    assert.ok(error instanceof OtaError && error.code === "TIMEOUT", String(error));
    assert.equal(requests.length, 3);
    assert.notEqual(requests[0]!.topic.split("/")[3], firstRid);
    await peer.disconnect();
  },
});

Deno.test("updateFirmware() fails with ConnectionClosedError when the client disconnects", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 5 });
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data: blob(4096) });
  await s.client.connect();
  let closing: Promise<void> | undefined;
  const error = await s.client.updateFirmware({
    chunkSize: 1024,
    onProgress: () => void (closing ??= s.client.disconnect()),
  }).catch((e) => e);
  await closing;
  assert.equal((error as Error).name, "ConnectionClosedError", String(error));
});

Deno.test("updateFirmware() checks a given package and compares checksums case-insensitively", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 5 });
  const data = blob(100);
  s.tb.assignOtaPackage("d1", {
    title: "app",
    version: "1.0.1",
    data,
    checksumAlgorithm: "SHA512",
  });
  await s.client.connect();
  const base = { type: "firmware" as const, title: "app", version: "1.0.1" };
  await assert.rejects(
    s.client.updateFirmware({ type: "software", package: base }),
    /package is of type "firmware"/,
  );
  await assert.rejects(s.client.updateFirmware({ package: { ...base, size: -1 } }), RangeError);
  const checksum = createHash("sha512").update(data).digest("hex").toUpperCase();
  const got = await s.client.updateFirmware({
    package: { ...base, size: 100, checksumAlgorithm: "SHA512", checksum },
  });
  assert.deepEqual(got?.data, data);
});

Deno.test("updateFirmware() calls of one type run one after another", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 4 });
  const data = blob(3000);
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data });
  await s.client.connect();
  const order: string[] = [];
  const first = s.client.updateFirmware({
    chunkSize: 1000,
    onPackage: () => void order.push("first installed"),
  });
  // The second call waits for the first, then finds its package installed.
  const second = s.client.updateFirmware({ chunkSize: 1000 }).then((r) => {
    order.push("second done");
    return r;
  });
  assert.deepEqual((await first)?.data, data);
  assert.equal(await second, undefined);
  assert.deepEqual(order, ["first installed", "second done"]);
  assert.deepEqual(chunkRequests(s.tb), [0, 1, 2]);
});
