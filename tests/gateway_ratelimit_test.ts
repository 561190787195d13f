import assert from "node:assert/strict";
import type { Logger } from "../core/mqtt/mod.ts";
import { nextEvent, setup } from "./gateway_harness.ts";

function recorder(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const log = (msg: string) => void messages.push(msg);
  return { logger: { debug: log, info: log, warn: log, error: log }, messages };
}

const PACING = "Pacing by ThingsBoard's gateway rate limits";

for (const rateLimits of [true, false]) {
  Deno.test(`TBGatewayMqttClient paces devices by gatewayRateLimits [rateLimits: ${rateLimits}]`, async () => {
    const { logger, messages } = recorder();
    await using s = await setup({ engine: "ts", protocolVersion: 5 }, { logger, rateLimits }, {
      rateLimits: { telemetryMessages: "10:1" },
    });
    const { tb, gateway } = s;
    const limits = nextEvent(gateway, "sessionlimits");
    await gateway.connect();
    await limits;
    // 80 % of 10 per second: the ninth message has to wait.
    for (let i = 0; i < 9; i++) await gateway.sendTelemetry("A", { n: i });
    assert.equal(tb.getTelemetry("A").n?.length, 9);
    assert.equal(messages.includes(PACING), rateLimits);
  });
}

Deno.test("TBGatewayMqttClient stops pacing waits on abort and disconnect", async () => {
  await using s = await setup({ engine: "wasm", protocolVersion: 4 }, {}, {
    rateLimits: { telemetryMessages: "1:60" },
  });
  const { tb, gateway } = s;
  const limits = nextEvent(gateway, "sessionlimits");
  await gateway.connect();
  await limits;
  await gateway.sendTelemetry("A", { n: 1 });
  const controller = new AbortController();
  const aborted = gateway.sendTelemetry("A", { n: 2 }, { signal: controller.signal });
  controller.abort();
  await assert.rejects(aborted, (e: unknown) => e instanceof Error && e.name === "AbortError");
  const closed = gateway.sendAttributes("A", { x: 1 });
  await gateway.disconnect();
  await assert.rejects(
    closed,
    (e: unknown) => e instanceof Error && e.name === "ConnectionClosedError",
  );
  assert.deepEqual(tb.getTelemetry("A").n?.map((e) => e.value), [1]);
  assert.deepEqual(tb.getClientAttributes("A"), {});
});
