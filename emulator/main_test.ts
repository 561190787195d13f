import assert from "node:assert/strict";
import { formatEvent } from "./main.ts";

Deno.test("formatEvent() prints one concise line per device event", () => {
  const base = { seq: 1, time: 0, session: 3 };
  assert.equal(
    formatEvent({ ...base, type: "connect", device: "d1", clientId: "c", protocolVersion: 4 }),
    "d1 connected (MQTT 3.1.1, client c)",
  );
  assert.equal(
    formatEvent({
      ...base,
      type: "telemetry",
      device: "d1",
      values: { t: [{ ts: 0, value: 21.5, type: "DOUBLE" }] },
    }),
    "d1 telemetry t=21.5",
  );
  assert.equal(
    formatEvent({
      ...base,
      type: "connectRefused",
      clientId: "x",
      protocolVersion: 5,
      reasonCode: 0x86,
    }),
    "#3 connection refused (code 134, client x)",
  );
  assert.equal(
    formatEvent({
      ...base,
      type: "rateLimited",
      device: "d1",
      topic: "v1/devices/me/telemetry",
      limit: "telemetryMessages",
    }),
    "d1 over the telemetryMessages rate limit on v1/devices/me/telemetry",
  );
  assert.equal(formatEvent({ ...base, type: "listening", port: 1 }), undefined);
});
