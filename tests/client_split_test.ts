/**
 * `sendTelemetry(data, { split: true })` and `sendAttributes(…, { split: true })`
 * against the emulator: data over ThingsBoard's limits of one message arrives
 * whole, in as many messages as needed, without the session being closed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { matrix, setup } from "./client_harness.ts";

function keys(n: number, prefix = "k"): Record<string, number> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, i]));
}

matrix(
  "sendTelemetry({ split: true }) sends what the data point limit admits per message",
  async (v) => {
    // Limits reported but neither enforced nor paced by: this test is about the split only.
    await using s = await setup(v, { rateLimits: false }, {
      rateLimits: { telemetryDataPoints: "20:1,6000:60" },
      enforceRateLimits: false,
    });
    const { tb, device, client } = s;
    const messages: number[] = [];
    tb.on((e) => {
      if (e.type === "telemetry") messages.push(Object.keys(e.values).length);
    });
    const limits = new Promise((resolve) => client.addEventListener("sessionlimits", resolve));
    await client.connect();
    await limits;
    await client.sendTelemetry({ ts: 1_700_000_000_000, values: keys(45) }, { split: true });
    assert.deepEqual(messages, [20, 20, 5]);
    const stored = tb.getTelemetry(device);
    assert.equal(Object.keys(stored).length, 45);
    assert.equal(stored.k44?.[0]?.ts, 1_700_000_000_000, "every part keeps the entry's ts");
    await client.sendAttributes(keys(21, "a"), { split: true });
    assert.equal(Object.keys(tb.getClientAttributes(device)).length, 21);
  },
);

matrix("sendTelemetry({ split: true }) stays within the payload size limit", async (v) => {
  await using s = await setup(v, {}, { maxPayloadSize: 2048 });
  const { tb, device, client } = s;
  const closed: string[] = [];
  tb.on((e) => {
    if (e.type === "disconnect") closed.push(e.reason);
  });
  const limits = new Promise((resolve) => client.addEventListener("sessionlimits", resolve));
  await client.connect();
  await limits;
  const data = Object.fromEntries(
    Array.from({ length: 100 }, (_, i) => [`reading_${i}`, `value ${"#".repeat(i)}`]),
  );
  await assert.rejects(client.sendTelemetry(data), { name: "PayloadTooLargeError" });
  await client.sendTelemetry(data, { split: true });
  const latest = tb.getLatestTelemetry(device);
  assert.equal(Object.keys(latest).length, 100);
  assert.equal(latest.reading_99?.value, `value ${"#".repeat(99)}`);
  // One value larger than a message: refused, and none of the others was sent.
  const tooBig = { before: 1, huge: "x".repeat(3000) };
  await assert.rejects(client.sendTelemetry(tooBig, { split: true }), {
    name: "PayloadTooLargeError",
    message: /the value of "huge" alone makes a \d+-byte message, the limit is 2048 bytes/,
  });
  assert.equal(tb.getLatestTelemetry(device).before, undefined);
  assert.deepEqual(closed, []);
  assert.equal(client.connected, true);
});

matrix("sendTelemetry({ split: true }) paces the parts by the enforced limits", async (v) => {
  await using s = await setup(v, {}, { rateLimits: { telemetryDataPoints: "20:1" } });
  const { tb, device, client } = s;
  const limited: string[] = [];
  tb.on((e) => {
    if (e.type === "rateLimited") limited.push(e.limit);
  });
  const limits = new Promise((resolve) => client.addEventListener("sessionlimits", resolve));
  await client.connect();
  await limits;
  await client.sendTelemetry(keys(30), { split: true });
  assert.equal(Object.keys(tb.getLatestTelemetry(device)).length, 30);
  assert.deepEqual(limited, []);
});

matrix("sendTelemetry({ split: true }) right after connecting waits for the limits", async (v) => {
  await using s = await setup(v, { rateLimits: false }, {
    rateLimits: { telemetryDataPoints: "20:1,6000:60" },
    enforceRateLimits: false,
  });
  const { tb, client } = s;
  const messages: number[] = [];
  tb.on((e) => {
    if (e.type === "telemetry") messages.push(Object.keys(e.values).length);
  });
  // Sent as the connection is made: the limits request is out, its answer cannot be back yet.
  let sent: Promise<void> | undefined;
  client.addEventListener("connect", () => {
    sent = client.sendTelemetry(keys(45), { split: true });
  }, { once: true });
  await client.connect();
  await sent;
  assert.deepEqual(messages, [20, 20, 5]);
});
