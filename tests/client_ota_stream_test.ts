/**
 * OTA packages streamed to a sink instead of memory, and the size limit
 * (`maxSize`), against the emulator.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { OtaError } from "../core/client/errors.ts";
import { setup } from "./client_harness.ts";
import { blob, chunkRequests, states } from "./_ota_helpers.ts";

/** A sink that records its chunks, whether it was closed, and why it was aborted. */
function recordingSink(failAt = Infinity) {
  const chunks: Uint8Array[] = [];
  const state = { closed: false, abortReason: undefined as unknown };
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      if (chunks.length === failAt) throw new Error("disk full");
      chunks.push(chunk.slice());
    },
    close() {
      state.closed = true;
    },
    abort(reason) {
      state.abortReason = reason;
    },
  });
  const bytes = () => {
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const c of chunks) out.set(c, offset), offset += c.length;
    return out;
  };
  return { stream, chunks, state, bytes };
}

const isOtaError = (code: string) => (e: unknown) => e instanceof OtaError && e.code === code;

Deno.test("updateFirmware() streams a package to a sink and closes it before onPackage", async () => {
  await using s = await setup({ engine: "wasm", protocolVersion: 5 });
  const data = blob(5000);
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data });
  await s.client.connect();
  const sink = recordingSink();
  let closedBeforeApply: boolean | undefined;
  const pkg = await s.client.updateFirmware({
    chunkSize: 1024,
    sink: sink.stream,
    onPackage: (p) => {
      closedBeforeApply = sink.state.closed;
      assert.equal(p.data.length, 0); // the bytes went to the sink
    },
  });
  assert.equal(closedBeforeApply, true);
  assert.deepEqual(sink.bytes(), data);
  assert.deepEqual(sink.chunks.map((c) => c.length), [1024, 1024, 1024, 1024, 904]);
  assert.equal(pkg?.data.length, 0);
  assert.equal(pkg?.size, 5000);
  assert.deepEqual(states(s.tb), ["DOWNLOADING", "DOWNLOADED", "VERIFIED", "UPDATING", "UPDATED"]);
});

Deno.test("updateFirmware() streams to a Deno file", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 4 });
  const data = blob(70_000);
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data, checksumAlgorithm: "MD5" });
  await s.client.connect();
  const path = await Deno.makeTempFile();
  try {
    const file = await Deno.open(path, { write: true, truncate: true });
    await s.client.updateFirmware({ chunkSize: 16_384, sink: file.writable });
    const written = await Deno.readFile(path);
    assert.equal(
      createHash("md5").update(written).digest("hex"),
      s.tb.getSharedAttributes("d1").fw_checksum,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("updateFirmware() aborts the sink when the checksum does not match", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 5 });
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data: blob(300) });
  await s.client.connect();
  const sink = recordingSink();
  const error = await s.client.updateFirmware({
    chunkSize: 128,
    sink: sink.stream,
    package: {
      type: "firmware",
      title: "app",
      version: "1.0.1",
      size: 300,
      checksumAlgorithm: "SHA256",
      checksum: "0".repeat(64),
    },
  }).catch((e) => e);
  assert.ok(isOtaError("CHECKSUM_MISMATCH")(error), String(error));
  assert.equal(sink.state.closed, false);
  assert.equal(sink.state.abortReason, error);
  assert.equal(states(s.tb).at(-1), "FAILED");
});

Deno.test("updateFirmware() stops with WRITE_FAILED when the sink refuses a chunk", async () => {
  await using s = await setup({ engine: "wasm", protocolVersion: 4 });
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data: blob(4096) });
  await s.client.connect();
  const sink = recordingSink(1); // the second chunk fails
  const error = await s.client.updateFirmware({ chunkSize: 1024, sink: sink.stream })
    .catch((e) => e);
  assert.ok(isOtaError("WRITE_FAILED")(error), String(error));
  assert.equal(
    error.message,
    "Cannot update firmware: the sink refused 1024 bytes at offset 1024: disk full; " +
      "fix where it writes (e.g. free disk space) and update again with a new sink",
  );
  assert.equal((error.cause as Error).message, "disk full");
  assert.deepEqual(chunkRequests(s.tb), [0, 1]); // nothing more was asked for
  assert.equal(states(s.tb).at(-1), "FAILED");
  assert.match(String(s.tb.getLatestTelemetry("d1").fw_error?.value), /disk full/);
  assert.ok(s.client.connected);
});

Deno.test("updateFirmware() refuses a package over maxSize before downloading", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 5 });
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data: blob(5000) });
  await s.client.connect();
  const sink = recordingSink();
  await assert.rejects(
    s.client.updateFirmware({ maxSize: 4999, sink: sink.stream }),
    (e: unknown) =>
      isOtaError("TOO_LARGE")(e) &&
      (e as Error).message ===
        "Cannot update firmware: the package has 5000 bytes, over the limit of 4999 bytes; raise maxSize or stream it to a sink",
  );
  assert.deepEqual(chunkRequests(s.tb), []);
  assert.deepEqual(states(s.tb), ["FAILED"]);
  assert.ok(isOtaError("TOO_LARGE")(sink.state.abortReason));
  // Exactly the limit is accepted.
  const pkg = await s.client.updateFirmware({ maxSize: 5000 });
  assert.equal(pkg?.data.length, 5000);
});

Deno.test("updateFirmware() stops a package without fw_size once it grows past maxSize", async () => {
  await using s = await setup({ engine: "wasm", protocolVersion: 5 });
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data: blob(5000) });
  await s.client.connect();
  await assert.rejects(
    s.client.updateFirmware({
      chunkSize: 1024,
      maxSize: 3000,
      package: { type: "firmware", title: "app", version: "1.0.1" }, // no size, no checksum
    }),
    /the package grew past the limit of 3000 bytes/,
  );
  assert.deepEqual(chunkRequests(s.tb), [0, 1, 2]);
  assert.equal(states(s.tb).at(-1), "FAILED");
});

Deno.test("updateFirmware() keeps at most 64 MiB in memory unless told otherwise", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 5 });
  s.tb.assignOtaPackage("d1", { title: "app", version: "1.0.1", data: blob(100) });
  await s.client.connect();
  const huge = {
    type: "firmware" as const,
    title: "app",
    version: "1.0.1",
    size: 64 * 2 ** 20 + 1,
  };
  await assert.rejects(
    s.client.updateFirmware({ package: huge }),
    /has 67108865 bytes, over the limit of 67108864 bytes/,
  );
  assert.deepEqual(chunkRequests(s.tb), []);
  // With a sink there is no default limit: the download starts (and finds the real package shorter).
  await assert.rejects(
    s.client.updateFirmware({ package: huge, sink: recordingSink().stream, chunkSize: 1024 }),
    isOtaError("SIZE_MISMATCH"),
  );
  assert.deepEqual(chunkRequests(s.tb), [0]);
});

Deno.test("updateFirmware() refuses a bad maxSize or sink before anything is sent", async () => {
  await using s = await setup({ engine: "ts", protocolVersion: 5 });
  await s.client.connect();
  await assert.rejects(
    s.client.updateFirmware({ maxSize: -1 }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot update firmware: maxSize must be a non-negative integer (bytes), got -1",
  );
  await assert.rejects(s.client.updateFirmware({ maxSize: 1.5 }), RangeError);
  await assert.rejects(
    // @ts-expect-error: not a stream
    s.client.updateFirmware({ sink: { write() {} } }),
    /sink must be a WritableStream, e\.g\. an open file's writable$/,
  );
  const locked = new WritableStream<Uint8Array>();
  const writer = locked.getWriter();
  await assert.rejects(s.client.updateFirmware({ sink: locked }), /sink is locked/);
  writer.releaseLock();
  assert.deepEqual(states(s.tb), []);
});
