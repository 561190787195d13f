// Conformance of MqttClient where timing or exact silence matters: scripted transport, fake clock.
import assert from "node:assert/strict";
import { ConnectionClosedError, type MqttClientOptions } from "../core/mqtt/mod.ts";
import { fakeClient, settle } from "./_fake_transport.ts";

const X = new TextEncoder().encode("x");

async function connected(options: Partial<MqttClientOptions>, connack = "20 03 00 00 00") {
  const { net, clock, client } = fakeClient(options);
  const p = client.connect();
  const t = await net.connection(0);
  t.respond(connack);
  await p;
  await t.expect(t.unchecked); // the CONNECT
  return { net, clock, client, t };
}

for (const version of [5, 4] as const) {
  Deno.test(`MqttClient.disconnect() sends nothing after DISCONNECT, whatever arrives meanwhile (level ${version})`, async () => {
    const { client, clock, t } = await connected(
      { protocolVersion: version, maxInflight: 1 },
      version === 5 ? "20 03 00 00 00" : "20 02 00 00",
    );
    const a = client.publish("t", X, { qos: 1 }).catch((e) => e);
    const b = client.publish("t", X, { qos: 1 }).catch((e) => e); // queued: the window is full
    await t.expect(version === 5 ? "32 07 00 01 74 00 01 00 78" : "32 06 00 01 74 00 01 78");
    const d = client.disconnect({ timeout: 100 });
    t.hold(); // the DISCONNECT is still being written when the server's packets arrive
    await clock.advance(100);
    // A late PUBACK (it would free the window for the queued message) and a QoS 1 PUBLISH (it
    // would be acknowledged).
    t.respond(
      version === 5
        ? "40 02 00 01 32 07 00 01 74 00 05 00 78"
        : "40 02 00 01 32 06 00 01 74 00 05 78",
    );
    await settle();
    t.release();
    await d;
    await t.expect("e0 00");
    await t.expectNothing(); // [MQTT-3.14.4-1]
    assert.equal(t.closed, true); // [MQTT-3.14.4-2]
    assert.ok((await a) instanceof ConnectionClosedError);
    assert.ok((await b) instanceof ConnectionClosedError);
    assert.equal(clock.pending, 0);
  });
}

Deno.test("MqttClient with Server Keep Alive 0 sends no PINGREQ [MQTT-3.2.2-21]", async () => {
  const { client, clock, t } = await connected({ keepalive: 5 }, "20 06 00 00 03 13 00 00");
  await clock.advance(600_000);
  await t.expectNothing();
  assert.equal(client.state, "connected");
  await client.disconnect();
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient uses the Server Keep Alive for PINGREQ and for declaring the server dead [MQTT-3.2.2-21]", async () => {
  const { client, clock, t } = await connected({ keepalive: 60 }, "20 06 00 00 03 13 00 0a");
  await clock.advance(7_499);
  await t.expectNothing();
  await clock.advance(1); // 3/4 of 10 s: within the keepalive even if the timer fires late
  await t.expect("c0 00");
  await clock.advance(7_499);
  assert.equal(t.closed, false);
  await clock.advance(1);
  assert.equal(t.closed, true);
  assert.match(client.lastError!.message, /1\.5 x keepalive \(15 s\)/);
  assert.equal(client.state, "reconnecting");
  await client.disconnect();
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient.disconnect() closes the socket even when the DISCONNECT cannot be written", async () => {
  const { client, clock, t } = await connected({});
  t.hold(); // the server stopped reading: the write never completes
  let done = false;
  const d = client.disconnect().then(() => done = true);
  await clock.advance(999);
  assert.equal(done, false);
  await clock.advance(1);
  await d;
  assert.equal(t.closed, true);
  assert.equal(client.state, "disconnected");
  assert.equal(clock.pending, 0);
});

Deno.test("MqttClient keeps the packet id of an aborted SUBSCRIBE in use until its SUBACK [MQTT-2.2.1-3]", async () => {
  const { client, clock, net, t } = await connected({});
  const errors: Error[] = [];
  client.addEventListener("error", (e) => errors.push(e.detail));
  const ac = new AbortController();
  const sub = client.subscribe([{ topicFilter: "a", qos: 1 }], { signal: ac.signal });
  await t.expect("82 07 00 01 00 00 01 61 01");
  ac.abort();
  await assert.rejects(sub, (e: unknown) => e instanceof DOMException && e.name === "AbortError");
  const p = client.publish("t", X, { qos: 1 });
  await t.expect("32 07 00 01 74 00 02 00 78"); // not id 1: the SUBSCRIBE is still unacknowledged
  t.respond("90 04 00 01 00 01 40 02 00 02");
  assert.equal((await p).packetId, 2);
  assert.deepEqual(errors, []); // the late SUBACK of the aborted request is not an error
  // The aborted subscription is not made again after a reconnect.
  t.end();
  await clock.advance(1000);
  const t1 = await net.connection(1);
  await t1.expect("10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 63");
  t1.respond("20 03 00 00 00");
  await t1.expectNothing();
  await client.disconnect();
  assert.equal(clock.pending, 0);
});
