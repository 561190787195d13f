import assert from "node:assert/strict";
import { MqttClient, type MqttClientOptions } from "./mod.ts";
import { FakeClock, FakeNetwork, settle } from "../../tests/_fake_transport.ts";

const X = new TextEncoder().encode("x");

/** An MQTT 5 client on a fake connection, past its CONNACK (keepalive 60 s). */
async function connected<C extends FakeClock>(clock: C, options: Partial<MqttClientOptions> = {}) {
  const net = new FakeNetwork();
  const client = new MqttClient({
    host: "broker",
    clientId: "c",
    transport: net.factory,
    clock,
    ...options,
  });
  const p = client.connect();
  const t = await net.connection(0);
  const keepalive = (options.keepalive ?? 60).toString(16).padStart(2, "0");
  await t.expect(`10 0e 00 04 4d 51 54 54 05 02 00 ${keepalive} 00 00 01 63`);
  t.respond("20 03 00 00 00");
  await p;
  return { clock, client, t };
}

Deno.test("Outbox.received() sends a PINGREQ one timer tick after a partial PUBACK, when idle", async () => {
  const { clock, client, t } = await connected(new FakeClock());
  const acks = [1, 2, 3].map(() => client.publish("t", X, { qos: 1 }));
  await t.expect(
    "32 07 00 01 74 00 01 00 78 32 07 00 01 74 00 02 00 78 32 07 00 01 74 00 03 00 78",
  );
  await clock.advance(0);
  await t.expectNothing(); // no PUBACK yet: the server is not holding any back
  // A Nagle server sends the first PUBACK at once and holds the others until it is acknowledged.
  t.respond("40 02 00 01");
  await acks[0];
  await t.expectNothing();
  await clock.advance(0);
  await t.expect("c0 00"); // the PINGREQ carries the acknowledgement
  await clock.advance(0);
  await t.expectNothing(); // once
  t.respond("40 02 00 02 40 02 00 03 d0 00");
  await Promise.all(acks);
  await clock.advance(0);
  await t.expectNothing(); // nothing in flight: nothing to nudge
  await settle();
  await client.disconnect();
  assert.equal(clock.pending, 0);
});

/** A fake clock with `defer`, counting its calls. */
class DeferClock extends FakeClock {
  deferCalls = 0;
  defer(fn: () => void) {
    this.deferCalls++;
    return this.setTimeout(fn, 0);
  }
}

Deno.test("Outbox waits for the clock's defer(), not setTimeout, before a declined refill", async () => {
  const { clock, client, t } = await connected(new DeferClock(), {
    maxInflight: 64, // refills take 2 free slots at least
    keepalive: 0,
  });
  for (let i = 0; i < 66; i++) client.publishNoWait("t", X, { qos: 1 });
  const id = (i: number) =>
    `${(i >> 8).toString(16).padStart(2, "0")} ${(i & 255).toString(16).padStart(2, "0")}`;
  const publish = (i: number) => `32 07 00 01 74 ${id(i)} 00 78`;
  // The window fills up to its last slot at once; the last waits for a short wait.
  await t.expect(Array.from({ length: 63 }, (_, i) => publish(i + 1)).join(" "));
  await t.expectNothing();
  assert.equal(clock.deferCalls, 1);
  assert.deepEqual(clock.delays, [0]);
  await clock.advance(0);
  await t.expect(publish(64));
  await t.expectNothing();
  assert.equal(clock.deferCalls, 1); // a full window waits for a PUBACK, not for a timer
  assert.equal(clock.pending, 0);
  t.respond("40 02 00 01"); // one slot free: too few for a write under load
  await t.expectNothing();
  assert.equal(clock.deferCalls, 2);
  await clock.advance(0);
  await t.expect(publish(65)); // after the short wait
  t.respond("40 02 00 02 40 02 00 03"); // two free: written at once
  await t.expect(publish(66)); // without advancing the clock
  t.respond(Array.from({ length: 63 }, (_, i) => `40 02 ${id(i + 4)}`).join(" "));
  await client.flush();
  await client.disconnect();
});

Deno.test("Outbox sends one PINGREQ, not a ping-pong, while a PUBACK is slow", async () => {
  const { clock, client, t } = await connected(new FakeClock());
  const acks = [1, 2].map(() => client.publish("t", X, { qos: 1 }));
  await t.expect("32 07 00 01 74 00 01 00 78 32 07 00 01 74 00 02 00 78");
  t.respond("40 02 00 01");
  await acks[0];
  await clock.advance(0);
  await t.expect("c0 00"); // the nudge
  t.respond("d0 00"); // its PINGRESP alone: the server holds nothing back
  for (let i = 0; i < 20; i++) await clock.advance(1);
  await t.expectNothing();
  t.respond("40 02 00 02"); // the slow PUBACK
  await acks[1];
  await clock.advance(0);
  await t.expectNothing(); // nothing in flight
  await client.disconnect();
});
