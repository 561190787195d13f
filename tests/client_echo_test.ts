/**
 * The 3.1.1 echo filter of the device client, driven through a scripted
 * transport and a fake clock (no sockets, no sleeps).
 */

import assert from "node:assert/strict";
import { Session } from "../core/client/session.ts";
import { EchoFilter } from "../core/client/echo.ts";
import { TBDeviceMqttClient } from "../core/client/client.ts";
import type { AttributeUpdate } from "../core/client/attributes.ts";
import type { TBDeviceMqttClientOptions } from "../core/client/options.ts";
import { FakeClock, FakeNetwork, settle } from "./_fake_transport.ts";
import { connectScripted as connect } from "./_scripted_broker.ts";

const encoder = new TextEncoder();

function options(net: FakeNetwork, clock: FakeClock, protocolVersion: 4 | 5) {
  return {
    host: "broker",
    accessToken: "T",
    engine: "ts",
    protocolVersion,
    sessionLimits: false,
    transport: net.factory,
    clock,
    reconnect: { initialDelay: 15_000, maxDelay: 15_000, jitter: 0 },
  } satisfies TBDeviceMqttClientOptions;
}

for (const protocolVersion of [4, 5] as const) {
  Deno.test(
    `Session.publish() remembers messages for the echo filter only on MQTT ${
      protocolVersion === 5 ? "5" : "3.1.1"
    }`,
    async () => {
      const net = new FakeNetwork();
      const clock = new FakeClock();
      const session = new Session(options(net, clock, protocolVersion), () => {});
      const broker = await connect(session.connect({}), net, 0);
      const sent = session.sendJson("attributes", "v1/devices/me/attributes", { a: 1 }, 1);
      const reply = session.sendJson("RPC reply", "v1/devices/me/rpc/response/3", "ok", 1);
      await broker.pump();
      await Promise.all([sent, reply]);
      assert.equal(session.echoBacklog, protocolVersion === 4 ? 2 : 0);
      if (protocolVersion === 4) {
        broker.deliver("v1/devices/me/attributes", encoder.encode('{"a":1}'));
        await settle();
        assert.equal(session.echoBacklog, 1, "the echo consumed its entry");
      }
      await session.disconnect({ timeout: 0 });
    },
  );
}

Deno.test(
  "TBDeviceMqttClient on MQTT 3.1.1 drops the echo of attributes queued offline longer than the echo window",
  async () => {
    const net = new FakeNetwork();
    const clock = new FakeClock();
    const client = new TBDeviceMqttClient(options(net, clock, 4));
    const updates: AttributeUpdate[] = [];
    client.subscribeToAllAttributes((u) => void updates.push(u));
    const first = await connect(client.connect(), net, 0);
    first.t.end(); // the broker goes away
    await settle();
    assert.equal(client.state, "reconnecting");
    const queued = client.sendAttributes({ a: 1 });
    await clock.advance(15_000); // longer offline than the 10 s echo window
    const second = await connect(Promise.resolve(), net, 1);
    await second.pump(); // the queued PUBLISH
    await queued;
    const echo = second.published.find((p) => p.topic === "v1/devices/me/attributes");
    assert.ok(echo, "the queued attributes were sent after the reconnect");
    second.deliver(echo.topic, echo.payload); // a 3.1.1 broker sends them back
    second.deliver("v1/devices/me/attributes", encoder.encode('{"b":2}'));
    await settle();
    assert.deepEqual(updates, [{ values: { b: 2 }, deleted: [] }]);
    const closing = client.disconnect({ timeout: 0 });
    await second.pump();
    await closing;
  },
);

Deno.test(
  "TBDeviceMqttClient on MQTT 3.1.1 drops the echo of an RPC call re-sent after a long outage",
  async () => {
    const net = new FakeNetwork();
    const clock = new FakeClock();
    const client = new TBDeviceMqttClient(options(net, clock, 4));
    const handled: string[] = [];
    client.setServerSideRpcRequestHandler((r) => void handled.push(r.method));
    const first = await connect(client.connect(), net, 0);
    const call = client.sendRpcCall("getTime", {}, { timeout: 60_000 });
    await settle();
    await first.t.expect(first.t.unchecked); // written, never acknowledged
    first.t.end();
    await settle();
    await clock.advance(15_000); // longer than the 10 s echo window
    const second = await connect(Promise.resolve(), net, 1);
    await second.pump(); // the PUBLISH again, with DUP
    const resent = second.published.find((p) => p.topic.startsWith("v1/devices/me/rpc/request/"));
    assert.ok(resent?.dup, "re-sent with DUP");
    second.deliver(resent.topic, resent.payload); // a 3.1.1 broker sends it back
    second.deliver(resent.topic.replace("request", "response"), encoder.encode('{"t":1}'));
    assert.deepEqual(await call, { t: 1 });
    assert.deepEqual(handled, [], "its own call never reached the server-RPC handler");
    const closing = client.disconnect({ timeout: 0 });
    await second.pump();
    await closing;
  },
);

Deno.test(
  "EchoFilter concludes from a window without an echo that the server does not echo",
  () => {
    let now = 0;
    const filter = new EchoFilter(() => now);
    const bytes = encoder.encode('{"ok":true}');
    filter.connected(true);
    const reply = filter.record("v1/devices/me/rpc/response/3", bytes); // our reply to RPC 3
    now = 60_000; // a window without an acknowledgement does not count
    assert.equal(filter.size, 1);
    filter.started(reply!); // its PUBACK
    now = 70_001; // ThingsBoard never sent it back
    // ThingsBoard's answer to our RPC call 3 happens to have the same bytes: not an echo.
    assert.equal(filter.isEcho("v1/devices/me/rpc/response/3", bytes), false);
    assert.equal(filter.record("v1/devices/me/rpc/response/3", bytes), undefined);
    assert.equal(filter.size, 0, "nothing remembered for a server that does not echo");
    assert.equal(filter.isEcho("v1/devices/me/rpc/response/3", bytes), false);
    filter.disconnected();
    filter.record("v1/devices/me/attributes", bytes, true); // queued offline
    filter.connected(true); // a new connection (maybe a broker): remembering again
    filter.started(filter.record("v1/devices/me/rpc/response/4", bytes)!);
    assert.equal(filter.size, 2);
    assert.equal(filter.isEcho("v1/devices/me/attributes", bytes), true);
    now = 90_000;
    filter.record("v1/devices/me/rpc/response/5", bytes);
    assert.equal(filter.size, 1, "a connection that echoed keeps the filter on");
    filter.connected(false); // MQTT 5: No Local, nothing to remember
    assert.equal(filter.size, 0);
  },
);

Deno.test(
  "TBDeviceMqttClient on MQTT 3.1.1 drops the echo of a message a stalled broker handled after 10 s",
  async () => {
    const net = new FakeNetwork();
    const clock = new FakeClock();
    const client = new TBDeviceMqttClient({ ...options(net, clock, 4), keepalive: 0 });
    const updates: AttributeUpdate[] = [];
    client.subscribeToAllAttributes((u) => void updates.push(u));
    const broker = await connect(client.connect(), net, 0);
    const sent = client.sendAttributes({ fw: "1.0" });
    await settle();
    await clock.advance(11_000); // the broker is stalled: no PUBACK, no echo yet
    await broker.pump(); // it wakes up, handles the PUBLISH and acknowledges it
    const own = broker.published.find((p) => p.topic === "v1/devices/me/attributes");
    assert.ok(own);
    broker.deliver(own.topic, own.payload); // ... and sends it back
    await sent;
    // The filter stays on: the next message's echo is dropped too.
    const next = client.sendAttributes({ fw: "1.1" });
    await broker.pump();
    await next;
    broker.deliver("v1/devices/me/attributes", broker.published.at(-1)!.payload);
    broker.deliver("v1/devices/me/attributes", encoder.encode('{"shared":1}'));
    await settle();
    assert.deepEqual(updates, [{ values: { shared: 1 }, deleted: [] }]);
    const closing = client.disconnect({ timeout: 0 });
    await broker.pump();
    await closing;
  },
);
