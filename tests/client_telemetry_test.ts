import assert from "node:assert/strict";
import { InvalidPayloadError } from "../core/errors.ts";
import { ConnectionClosedError } from "../core/mqtt/mod.ts";
import { TelemetryBatch } from "../core/telemetry/mod.ts";
import { matrix, setup } from "./client_harness.ts";

matrix("TBDeviceMqttClient.sendTelemetry() stores every shape as ThingsBoard does", async (v) => {
  await using s = await setup(v);
  const { tb, client } = s;
  await client.connect();
  await client.sendTelemetry({ temp: 21.5, on: true, name: "a", obj: { x: [1, 2] }, skip: null });
  await client.sendTelemetry({ ts: 1000, values: { temp: 20 } });
  await client.sendTelemetry([{ ts: 2000, values: { hum: 40 } }, { hum: 41, count: 3 }]);
  const stored = tb.getTelemetry("d1");
  assert.deepEqual(stored.temp?.map((e) => [e.value, e.type]), [[21.5, "DOUBLE"], [20, "LONG"]]);
  assert.equal(stored.temp?.[1]?.ts, 1000);
  assert.deepEqual(stored.hum?.map((e) => e.value), [40, 41]);
  assert.equal(stored.hum?.[0]?.ts, 2000);
  assert.equal(stored.on?.[0]?.type, "BOOLEAN");
  assert.equal(stored.name?.[0]?.type, "STRING");
  assert.equal(stored.obj?.[0]?.type, "JSON");
  assert.deepEqual(stored.obj?.[0]?.value, { x: [1, 2] });
  assert.equal(stored.count?.[0]?.value, 3);
  assert.equal(stored.skip, undefined, "null values are skipped by ThingsBoard");
});

matrix("TBDeviceMqttClient.sendTelemetry() with QoS 0 is written and stored", async (v) => {
  await using s = await setup(v, { qos: 0 });
  const { tb, client } = s;
  await client.connect();
  const seen = tb.waitFor("telemetry", (e) => "q0" in e.values);
  await client.sendTelemetry({ q0: 1 });
  await client.sendTelemetry({ q1: 2 }, { qos: 1 });
  await seen;
  assert.equal(tb.getLatestTelemetry("d1").q0?.value, 1);
  assert.equal(tb.getLatestTelemetry("d1").q1?.value, 2);
});

matrix(
  "TBDeviceMqttClient.sendTelemetry() rejects NaN and friends before sending anything",
  async (v) => {
    await using s = await setup(v);
    const { tb, client } = s;
    await client.connect();
    const bad: unknown[] = [
      { t: NaN },
      { t: Infinity },
      [{ ts: 1, values: { t: undefined } }],
      { f: () => 1 },
      { b: 10n },
      { ts: "x", values: {} },
      "text",
    ];
    for (const data of bad) {
      await assert.rejects(client.sendTelemetry(data as never), InvalidPayloadError);
    }
    await assert.rejects(
      client.sendTelemetry({ deep: { t: NaN } }),
      (e: unknown) => e instanceof InvalidPayloadError && e.key === "deep.t",
    );
    await assert.rejects(client.sendAttributes([{ a: 1 }] as never), InvalidPayloadError);
    await assert.rejects(client.sendAttributes({ a: NaN }), InvalidPayloadError);
    await assert.rejects(client.sendTelemetry({ a: 1 }, { qos: 2 as never }), RangeError);
    await assert.rejects(
      client.sendTelemetry({ a: 1 }, { qos: 2 as never }),
      /Cannot publish: QoS 2 is not supported .*; use qos 0 or 1$/,
    );
    // Nothing reached the emulator: the marker is the only telemetry and no attributes exist.
    await client.sendTelemetry({ marker: 1 });
    assert.deepEqual(Object.keys(tb.getTelemetry("d1")), ["marker"]);
    assert.deepEqual(tb.getClientAttributes("d1"), {});
    assert.equal(
      tb.events().filter((e) => e.type === "publishRejected").length,
      0,
    );
    assert.equal(client.connected, true);
  },
);

matrix("TBDeviceMqttClient.sendAttributes() stores client attributes", async (v) => {
  await using s = await setup(v);
  const { tb, client } = s;
  await client.connect();
  await client.sendAttributes({ fw: "1.2.0", model: { rev: 3 }, count: 2 });
  assert.deepEqual(tb.getClientAttributes("d1"), { fw: "1.2.0", model: { rev: 3 }, count: 2 });
});

matrix("TBDeviceMqttClient.claimDevice() sends the claim ThingsBoard records", async (v) => {
  await using s = await setup(v);
  const { tb, client } = s;
  await client.connect();
  await client.claimDevice("s3cr3t", { durationMs: 60_000 });
  const claim = tb.getClaims("d1");
  assert.equal(claim?.secretKey, "s3cr3t");
  assert.equal(claim?.durationMs, 60_000);
  await client.claimDevice();
  assert.equal(tb.getClaims("d1")?.secretKey, "");
  assert.equal(tb.getClaims("d1")?.durationMs, 0);
  await assert.rejects(client.claimDevice("k", { durationMs: -1 }), TypeError);
  await assert.rejects(client.claimDevice(5 as never), TypeError);
});

matrix(
  "TBDeviceMqttClient.sendTelemetry() while offline is queued and delivered after connect",
  async (v) => {
    await using s = await setup(v);
    const { tb, client } = s;
    await client.connect();
    const kicked = tb.waitFor("disconnect", (e) => e.device === "d1");
    const back = tb.waitFor("connect", (e) => e.device === "d1", { since: tb.lastSeq });
    tb.disconnect("d1");
    await kicked;
    const sends = [client.sendTelemetry({ seq: 1 }), client.sendTelemetry({ seq: 2 })];
    await back;
    await Promise.all(sends);
    assert.deepEqual(tb.getTelemetry("d1").seq?.map((e) => e.value), [1, 2]);
  },
);

matrix(
  "TBDeviceMqttClient.sendTelemetry() while offline can be aborted and is then never sent",
  async (v) => {
    await using s = await setup(v, { sessionLimits: false });
    const { tb, client } = s;
    const controller = new AbortController();
    const dropped = client.sendTelemetry({ aborted: 1 }, { signal: controller.signal });
    const kept = client.sendTelemetry({ kept: 1 });
    controller.abort();
    await assert.rejects(dropped, { name: "AbortError" });
    await client.connect();
    await kept;
    assert.deepEqual(Object.keys(tb.getTelemetry("d1")), ["kept"]);
  },
);

matrix("TBDeviceMqttClient paces telemetry by the rate limits ThingsBoard reports", async (v) => {
  // 5 telemetry messages an hour, used at 80 %: 4 go now, the 5th waits about 15 minutes.
  await using s = await setup(v, { sessionLimits: false }, {
    rateLimits: { telemetryMessages: "5:3600", messages: "1000:1" },
  });
  const { tb, client } = s;
  tb.onClientRpc(() => "pong");
  await client.connect();
  const limits = await client.getSessionLimits();
  assert.equal(limits.rateLimits.telemetryMessages, "5:3600");
  for (let i = 0; i < 4; i++) await client.sendTelemetry({ n: i });
  let fifthDone = false;
  const fifth = client.sendTelemetry({ n: 4 }).finally(() => fifthDone = true);
  // Other messages use another limit and are not held back.
  assert.equal(await client.sendRpcCall("ping"), "pong");
  assert.equal(fifthDone, false);
  assert.deepEqual(tb.getTelemetry("d1").n?.map((e) => e.value), [0, 1, 2, 3]);
  await client.disconnect();
  await assert.rejects(fifth, ConnectionClosedError);
  assert.equal(tb.getTelemetry("d1").n?.length, 4, "the paced message was never sent");
});

matrix("TBDeviceMqttClient counts data points against the data point limit", async (v) => {
  await using s = await setup(v, { sessionLimits: false }, {
    rateLimits: { telemetryDataPoints: "10:3600" },
  });
  const { tb, client } = s;
  await client.connect();
  await client.getSessionLimits();
  // 8 data points an hour (80 % of 10); nulls do not count.
  await client.sendAttributes({ a: 1, b: 2, c: 3, d: 4, skip: null });
  await client.sendTelemetry([{ e: 5 }, { ts: 1, values: { f: 6, g: 7, h: 8 } }]);
  const controller = new AbortController();
  let ninthDone = false;
  const ninth = client.sendTelemetry({ i: 9 }, { signal: controller.signal })
    .finally(() => ninthDone = true);
  await client.claimDevice("k"); // another limit: goes through
  assert.equal(tb.getClaims("d1")?.secretKey, "k");
  assert.equal(ninthDone, false);
  controller.abort();
  await assert.rejects(ninth, { name: "AbortError" });
  assert.equal(tb.getTelemetry("d1").i, undefined);
  assert.deepEqual(Object.keys(tb.getClientAttributes("d1")).sort(), ["a", "b", "c", "d"]);
});

matrix(
  "TBDeviceMqttClient.sendTelemetryBatch() sends columnar rows as timestamped telemetry",
  async (v) => {
    await using s = await setup(v, { sessionLimits: false });
    const { tb, client } = s;
    await client.connect();
    const batch = new TelemetryBatch(["temperature", "humidity"]);
    await client.sendTelemetryBatch(batch); // empty: nothing is sent
    batch.append(1000, [21.5, 40]);
    batch.append(2000, [22, 41.25]);
    await client.sendTelemetryBatch(batch);
    const stored = tb.getTelemetry("d1");
    assert.deepEqual(stored.temperature?.map((e) => [e.ts, e.value]), [[1000, 21.5], [2000, 22]]);
    assert.deepEqual(stored.humidity?.map((e) => [e.ts, e.value]), [[1000, 40], [2000, 41.25]]);
    assert.equal(tb.events().filter((e) => e.type === "telemetry").length, 1, "one message");
    await assert.rejects(client.sendTelemetryBatch({} as never), TypeError);
  },
);
