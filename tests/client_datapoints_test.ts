/**
 * A message with more data points than ThingsBoard's `telemetryDataPoints`
 * limit admits in one message is refused before sending: ThingsBoard would
 * close the session for it, and a resend after every reconnect would loop for
 * ever (found with the emulator: 22 disconnects in 4 s before the check).
 *
 * @module
 */

import assert from "node:assert/strict";
import { TooManyDataPointsError } from "../core/client/errors.ts";
import { TBDeviceMqttClient } from "../core/client/client.ts";
import { type Emulator, startEmulator } from "../emulator/mod.ts";
import { largestRequest } from "../core/client/ratelimit.ts";
import { TelemetryBatch } from "../core/telemetry/mod.ts";
import { matrix, setup } from "./client_harness.ts";
import { until, within } from "./_mqttjs_peer.ts";

/** The limits the emulator closed sessions for, as they happen. */
function rateLimitClosures(tb: Emulator): string[] {
  const closed: string[] = [];
  tb.on((e) => {
    if (e.type === "rateLimited") closed.push(e.limit);
  });
  return closed;
}

function keys(n: number, prefix = "k"): Record<string, number> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, i]));
}

matrix(
  "TBDeviceMqttClient refuses a message over the data point limit of one message",
  async (v) => {
    await using s = await setup(v, {}, { rateLimits: { telemetryDataPoints: "20:1,600:60" } });
    const { tb, device, client } = s;
    const closed: string[] = [];
    tb.on((e) => {
      if (e.type === "disconnect" || e.type === "rateLimited") closed.push(e.type);
    });
    const limits = new Promise((resolve) => client.addEventListener("sessionlimits", resolve));
    await client.connect();
    await limits;

    const refused = (dataPoints: number) => ({
      name: "TooManyDataPointsError",
      dataPoints,
      limit: 20,
      message: new RegExp(`has ${dataPoints} data points, .* at most 20 in one message`),
    });
    await assert.rejects(client.sendTelemetry(keys(30)), refused(30));
    await assert.rejects(
      client.sendTelemetry([{ ts: 1, values: keys(15, "a") }, { ts: 2, values: keys(10, "b") }]),
      refused(25),
    );
    await assert.rejects(client.sendAttributes(keys(21)), refused(21));
    const batch = new TelemetryBatch(["x", "y", "z"]);
    for (let i = 0; i < 7; i++) batch.append(i + 1, [i, i, i]);
    await assert.rejects(client.sendTelemetryBatch(batch), refused(21));

    // Nulls are not data points; exactly the limit goes through.
    await client.sendTelemetry({ ...keys(20), skipped: null });
    assert.equal(Object.keys(tb.getLatestTelemetry(device)).length, 20);
    assert.deepEqual(closed, [], "nothing over the limit reached the server");
    assert.equal(client.connected, true);
  },
);

matrix(
  "TBDeviceMqttClient withdraws a message sent before the limits arrived instead of resending it",
  async (v) => {
    await using s = await setup(v, {}, { rateLimits: { telemetryDataPoints: "20:1,600:60" } });
    const { tb, device, client } = s;
    const closed = rateLimitClosures(tb);
    // Sent as the connection is made: behind the limits request, before its answer.
    let big: Promise<Error | undefined> | undefined;
    client.addEventListener("connect", () => {
      big = client.sendTelemetry(keys(30)).then(() => undefined, (e: Error) => e);
    }, { once: true });
    await client.connect();
    const error = await within(big!, 3000, "the withdrawal");
    assert.ok(error instanceof TooManyDataPointsError, String(error));
    assert.equal(error.dataPoints, 30);
    assert.equal(error.limit, 20);
    await until(() => client.connected && tb.isConnected(device), "a working connection");
    await client.sendTelemetry(keys(5, "small"));
    // The server closed the session for it at most once; it never came again.
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(closed.length <= 1, `closed ${closed.length} times`);
    assert.equal(tb.getLatestTelemetry(device).k0, undefined);
    assert.equal(tb.getLatestTelemetry(device).small4?.value, 4);
  },
);

matrix(
  "TBDeviceMqttClient withdraws a message queued before the first connection when the limits forbid it",
  async (v) => {
    await using s = await setup(v, {}, { rateLimits: { telemetryDataPoints: "20:1,600:60" } });
    const { tb, device, client } = s;
    const closed = rateLimitClosures(tb);
    // Queued offline: on the first connection it would go out right after the CONNACK, and
    // without the limits request ahead of it the session would be closed before the answer,
    // after every reconnect.
    const big = client.sendTelemetry(keys(30)).then(() => undefined, (e: Error) => e);
    const small = client.sendTelemetry(keys(3, "s"));
    await client.connect();
    const error = await within(big, 3000, "the withdrawal");
    assert.ok(error instanceof TooManyDataPointsError, String(error));
    assert.equal(error.dataPoints, 30);
    await small;
    await until(() => client.connected && tb.isConnected(device), "a working connection");
    await client.sendTelemetry({ after: 1 });
    assert.ok(closed.length <= 1, `closed ${closed.length} times`);
    assert.equal(tb.getLatestTelemetry(device).k0, undefined);
    assert.equal(tb.getLatestTelemetry(device).s2?.value, 2);
  },
);

Deno.test("TBDeviceMqttClient re-checks a paced message against limits that came while it waited", async () => {
  let tb = await startEmulator({ port: 0, rateLimits: { telemetryDataPoints: "100:2" } });
  const port = tb.port;
  tb.createDevice({ name: "d1", accessToken: "PACED_TOKEN" });
  const client = new TBDeviceMqttClient({
    host: tb.host,
    port,
    accessToken: "PACED_TOKEN",
    reconnect: { initialDelay: 20, maxDelay: 100 },
  });
  try {
    const first = new Promise((r) => client.addEventListener("sessionlimits", r, { once: true }));
    await client.connect();
    await first;
    await client.sendTelemetry(keys(80, "a")); // empties the client's bucket (80 % of 100)
    // 60 points pass the limit known now, then wait about 1.5 s for tokens.
    const paced = client.sendTelemetry(keys(60, "b")).then(() => undefined, (e: Error) => e);
    await tb.close(); // the server comes back with a lower limit while the message waits
    tb = await startEmulator({ port, rateLimits: { telemetryDataPoints: "20:1" } });
    tb.createDevice({ name: "d1", accessToken: "PACED_TOKEN" });
    const closed = rateLimitClosures(tb);
    const error = await within(paced, 5000, "the paced message");
    assert.ok(error instanceof TooManyDataPointsError, String(error));
    assert.equal(error.limit, 20);
    assert.deepEqual(closed, []);
  } finally {
    await client.disconnect({ timeout: 100 }).catch(() => {});
    await tb.close();
  }
});

matrix(
  "TBDeviceMqttClient sends large messages while the limit is unknown or absent",
  async (v) => {
    await using s = await setup(v, {}, { rateLimits: { messages: "100:1" } });
    const { tb, device, client } = s;
    const limits = new Promise((resolve) => client.addEventListener("sessionlimits", resolve));
    await client.connect();
    await limits;
    await client.sendTelemetry(keys(500));
    assert.equal(Object.keys(tb.getLatestTelemetry(device)).length, 500);
  },
);

Deno.test("largestRequest() is the capacity of the smallest bucket", () => {
  assert.equal(largestRequest("200:1,6000:60"), 200);
  assert.equal(largestRequest("6000:60, 50:1"), 50);
  assert.equal(largestRequest(null), Infinity);
  assert.equal(largestRequest("not a limit"), Infinity);
});

Deno.test("TooManyDataPointsError names the count and the limit", () => {
  const e = new TooManyDataPointsError("attributes", 12, 10);
  assert.ok(e instanceof RangeError);
  assert.equal(e.name, "TooManyDataPointsError");
  assert.match(e.message, /^Cannot send attributes: the message has 12 data points/);
});
