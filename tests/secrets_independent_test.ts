/**
 * No secret reaches a log line, an event, an error or a client's string
 * form: the device client's connection paths (refused token, wrong basic
 * credentials, closed port, connect timeout, invalid credentials options,
 * session taken over, reconnect cycles, refused reconnects, disconnect),
 * on MQTT 5 and 3.1.1 with both engines; and self-checks of the detector.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { ConnectionRefusedError, TBDeviceMqttClient } from "../mod.ts";
import {
  deviceClient,
  encodingsOf,
  failedConnect,
  findSecrets,
  MATRIX,
  Recorder,
  SECRET,
  SECRET_NEEDLES,
} from "./_secrets_independent.ts";
import { closedPort, silentServer, until } from "./_secrets_independent_servers.ts";

const HOST = "127.0.0.1";

/** Options of a device client on `port` with the token secret, for one cell of {@linkcode MATRIX}. */
function tokenOptions(
  port: number,
  { engine, protocolVersion }: (typeof MATRIX)[number],
): ConstructorParameters<typeof TBDeviceMqttClient>[0] {
  return { host: HOST, port, accessToken: SECRET.token, engine, protocolVersion };
}

/** An emulator with the device "meter", which takes MQTT basic credentials with `password`. */
function meterEmulator(password: string) {
  return startEmulator({
    devices: [{
      name: "meter",
      credentials: { clientId: "meter-1", userName: "meter-user", password },
    }],
  });
}

/** Options of a device client on `port` with the meter's basic credentials but `password`. */
function meterOptions(
  port: number,
  { engine, protocolVersion }: (typeof MATRIX)[number],
  password: string | Uint8Array,
): ConstructorParameters<typeof TBDeviceMqttClient>[0] {
  return {
    host: HOST,
    port,
    clientId: "meter-1",
    username: "meter-user",
    password,
    engine,
    protocolVersion,
  };
}

/** Asserts that `e` is a refusal of the credentials. */
function refused(e: unknown): void {
  assert.ok(e instanceof ConnectionRefusedError, String(e));
}

Deno.test("secrets: the detector finds every encoding it claims to", () => {
  const s = SECRET.password;
  const bytes = new TextEncoder().encode(s);
  const embedded = new TextEncoder().encode("xx" + s + "yyy");
  let bin = "";
  for (const b of embedded) bin += String.fromCharCode(b);
  const forms = [
    `prefix ${s} suffix`,
    btoa(bin),
    btoa(bin.slice(1)),
    btoa(bin.slice(2)),
    Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase(),
    JSON.stringify({ password: bytes }),
    Deno.inspect({ password: bytes }),
    JSON.stringify(Array.from(bytes)),
    encodeURIComponent(`a/${s}`),
  ];
  for (const text of forms) {
    const found = findSecrets([{ source: "t", text }], SECRET_NEEDLES);
    assert.ok(found.some((f) => f.needle.label === "password"), `not found in ${text}`);
  }
  assert.ok(encodingsOf(s).length > 8);
  // A recorder flags a secret in a log field, an event detail and an error cause.
  const rec = new Recorder();
  rec.logger.debug("x", { nested: { deep: [SECRET.token] } });
  assert.throws(() => rec.assertClean(), /token/);
  const rec2 = new Recorder();
  const target = new EventTarget();
  rec2.listen(target, ["error"]);
  const err = new Error("outer", { cause: new Error("inner") });
  (err.cause as Record<string, unknown>).extra = new TextEncoder().encode(SECRET.claimKey);
  target.dispatchEvent(new CustomEvent("error", { detail: err }));
  assert.throws(() => rec2.assertClean(), /claimKey/);
  // DOMException properties live on the prototype: still seen.
  const rec3 = new Recorder();
  rec3.add("x", new DOMException(`t ${SECRET.provisionSecret}`, "TimeoutError"));
  assert.throws(() => rec3.assertClean(), /provisionSecret/);
});

Deno.test("secrets: refused access token (all engines and levels)", async () => {
  await using tb = await startEmulator();
  await Promise.all(MATRIX.map(async (cell) => {
    const rec = new Recorder();
    const client = deviceClient(rec, { ...tokenOptions(tb.port, cell), connectTimeout: 3000 });
    rec.client("before", client);
    await failedConnect(rec, client, (e) => {
      refused(e);
      assert.match((e as Error).message, /access token not accepted/);
    });
    rec.client("closed", client);
    rec.assertClean();
  }));
});

Deno.test("secrets: wrong MQTT basic credentials, string and byte passwords", async () => {
  await using tb = await meterEmulator(SECRET.wantedPassword);
  await Promise.all(
    MATRIX.flatMap((cell) =>
      [SECRET.password, new TextEncoder().encode(SECRET.password)].map(async (password) => {
        const rec = new Recorder();
        const client = deviceClient(rec, {
          ...meterOptions(tb.port, cell, password),
          connectTimeout: 3000,
        });
        await failedConnect(rec, client, refused);
        rec.assertClean();
      })
    ),
  );
});

Deno.test("secrets: right MQTT basic credentials (bytes), connected and disconnected", async () => {
  await using tb = await meterEmulator(SECRET.password);
  for (const cell of MATRIX) {
    const rec = new Recorder();
    const client = deviceClient(
      rec,
      meterOptions(tb.port, cell, new TextEncoder().encode(SECRET.password)),
    );
    await client.connect();
    await client.sendTelemetry({ t: 1 });
    rec.client("connected", client);
    await client.disconnect();
    assert.ok(rec.logCounts.info > 0, "no info log line: the logger is not wired");
    rec.assertClean();
  }
});

Deno.test("secrets: closed port and connect timeout", async () => {
  await using silent = silentServer();
  const port = closedPort();
  await Promise.all(
    MATRIX.flatMap((cell) =>
      [port, silent.port].map(async (p) => {
        const rec = new Recorder();
        const client = deviceClient(rec, { ...tokenOptions(p, cell), connectTimeout: 300 });
        await failedConnect(rec, client, (e) => {
          assert.ok(e instanceof Error || e instanceof DOMException);
        });
        rec.assertClean();
      })
    ),
  );
});

Deno.test("secrets: invalid credential options are reported without their value", () => {
  const rec = new Recorder();
  const base = { host: HOST, port: 1 };
  rec.thrown(
    "token+username",
    () => new TBDeviceMqttClient({ ...base, accessToken: SECRET.token, username: "u" }),
  );
  rec.thrown(
    "token NUL",
    () => new TBDeviceMqttClient({ ...base, accessToken: `${SECRET.token}\u0000` }),
  );
  rec.thrown(
    "token lone surrogate",
    () => new TBDeviceMqttClient({ ...base, accessToken: `${SECRET.token}\ud800` }),
  );
  rec.thrown(
    "token too long",
    () => new TBDeviceMqttClient({ ...base, accessToken: SECRET.token.repeat(4000) }),
  );
  rec.thrown(
    "password too long",
    () =>
      new TBDeviceMqttClient({ ...base, username: "u", password: SECRET.password.repeat(4000) }),
  );
  rec.thrown("password type", () =>
    new TBDeviceMqttClient({
      ...base,
      username: "u",
      password: [SECRET.password] as unknown as string,
    }));
  rec.thrown(
    "3.1.1 password alone",
    () => new TBDeviceMqttClient({ ...base, password: SECRET.password, protocolVersion: 4 }),
  );
  rec.thrown(
    "token type",
    () =>
      new TBDeviceMqttClient({ ...base, accessToken: { t: SECRET.token } as unknown as string }),
  );
  rec.thrown(
    "tls key without cert",
    () =>
      new TBDeviceMqttClient({ ...base, accessToken: SECRET.token, tls: { key: SECRET.password } }),
  );
  rec.assertClean();
});

Deno.test("secrets: session taken over by a twin with the same token", async () => {
  await using tb = await startEmulator({
    devices: [{ name: "twin", accessToken: SECRET.token }],
  });
  for (const cell of MATRIX) {
    const rec = new Recorder();
    const options = {
      ...tokenOptions(tb.port, cell),
      reconnect: { initialDelay: 30, maxDelay: 60 },
    };
    const first = deviceClient(rec, options);
    const second = deviceClient(rec, options);
    await first.connect();
    await second.connect();
    await until(() => (rec.eventCounts.disconnect ?? 0) > 0, 3000, "the takeover");
    await until(() => (rec.eventCounts.reconnecting ?? 0) > 0, 3000, "a reconnect");
    rec.client("first", first);
    rec.client("second", second);
    await first.disconnect();
    await second.disconnect();
    assert.ok(rec.logCounts.warn > 0);
    rec.assertClean();
  }
});

Deno.test("secrets: reconnect cycles, then refused reconnects, then disconnect()", async () => {
  await using tb = await startEmulator();
  for (const cell of MATRIX) {
    const name = `cycler-${cell.engine}-${cell.protocolVersion}`;
    tb.createDevice({ name, accessToken: SECRET.token });
    const rec = new Recorder();
    const client = deviceClient(rec, {
      ...tokenOptions(tb.port, cell),
      reconnect: { initialDelay: 10, maxDelay: 40 },
      requestTimeout: 200,
    });
    await client.connect();
    for (let i = 1; i <= 3; i++) {
      tb.disconnect(name);
      await until(() => (rec.eventCounts.connect ?? 0) > i, 3000, `reconnect ${i}`);
    }
    // The device goes away: every reconnect attempt is refused and reported.
    tb.deleteDevice(name);
    await until(() => (rec.eventCounts.error ?? 0) >= 2, 3000, "refused reconnects");
    assert.ok(rec.logCounts.error >= 2);
    // Offline work that disconnect() fails, with a claim secret in its body.
    const claim = client.claimDevice(SECRET.claimKey, { durationMs: 1000 });
    const telemetry = client.sendTelemetry({ pwd: 1 });
    rec.client("reconnecting", client);
    const closing = client.disconnect({ timeout: 50 });
    await rec.rejection("claim", claim);
    await rec.rejection("telemetry", telemetry);
    await closing;
    await rec.rejection("connect after delete", client.connect());
    await client.disconnect();
    rec.client("closed", client);
    rec.assertClean();
  }
});

Deno.test("secrets: claim, requests and a clean disconnect on a live session", async () => {
  await using tb = await startEmulator({
    devices: [{ name: "live", accessToken: SECRET.token }],
  });
  for (const cell of MATRIX) {
    const rec = new Recorder();
    const client = deviceClient(rec, { ...tokenOptions(tb.port, cell), requestTimeout: 100 });
    await client.connect();
    await client.claimDevice(SECRET.claimKey, { durationMs: 60_000 });
    await rec.rejection("rpc timeout", client.sendRpcCall("nobodyAnswers", {}, { timeout: 50 }));
    await rec.rejection("bad claim", client.claimDevice(SECRET.claimKey, { durationMs: -1 }));
    rec.client("connected", client);
    await client.disconnect();
    // Offline, a message waits for a later connect; an abort ends the wait.
    const late = client.claimDevice(SECRET.claimKey, { signal: AbortSignal.timeout(30) });
    await rec.rejection("claim after", late);
    rec.client("closed", client);
    rec.assertClean();
  }
});

Deno.test("secrets: the emulator's own event log", async () => {
  const events: unknown[] = [];
  await using tb = await startEmulator({ onEvent: (e) => events.push(e) });
  tb.createDevice({ name: "d", accessToken: SECRET.gatewayToken });
  const rec = new Recorder();
  const bad = deviceClient(rec, { host: HOST, port: tb.port, accessToken: SECRET.token });
  await rec.rejection("connect", bad.connect());
  await bad.disconnect();
  const good = deviceClient(rec, { host: HOST, port: tb.port, accessToken: SECRET.gatewayToken });
  await good.connect();
  await good.disconnect();
  rec.add("emulator events", events);
  rec.assertClean();
});
