/**
 * No secret is observable while provisioning (success with each kind of
 * wanted credentials, refusal, closed port, timeout, abort, malformed
 * answers) or when building a request from invalid options.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import {
  getProvisionRequest,
  InvalidMessageError,
  ProvisionError,
  type ProvisionRequestOptions,
  TBDeviceMqttClient,
} from "../mod.ts";
import { MATRIX, needlesFor, Recorder, SECRET, SECRET_NEEDLES } from "./_secrets_independent.ts";
import { closedPort, provisionServer, silentServer } from "./_secrets_independent_servers.ts";

const HOST = "127.0.0.1";
const KEY = SECRET.provisionKey;
const SECRET_ = SECRET.provisionSecret;

Deno.test("secrets: provisioning succeeds (token, basic, generated) and fails (wrong secret)", async () => {
  await using tb = await startEmulator({
    profiles: [{
      name: "p",
      provisionKey: KEY,
      provisionSecret: SECRET_,
      strategy: "allowCreateNewDevices",
    }],
  });
  let n = 0;
  for (const { engine, protocolVersion } of MATRIX) {
    const rec = new Recorder();
    const options = { engine, protocolVersion, logger: rec.logger, timeout: 3000 };
    const kinds: ProvisionRequestOptions[] = [
      { accessToken: `${SECRET.wantedToken}-${n}` },
      { clientId: `c${n}`, username: `u${n}`, password: SECRET.wantedPassword },
      {},
    ];
    for (const wanted of kinds) {
      const request = TBDeviceMqttClient.getProvisionRequest(KEY, SECRET_, {
        ...wanted,
        deviceName: `dev-${n++}`,
      });
      const creds = await TBDeviceMqttClient.provision(HOST, tb.port, request, options);
      // The issued credentials are the result (by design); they must not be logged.
      if (creds.credentialsType === "ACCESS_TOKEN") {
        if (wanted.accessToken) assert.equal(creds.accessToken, wanted.accessToken);
        rec.assertClean([...SECRET_NEEDLES, ...needlesFor({ issued: creds.accessToken })]);
      } else {
        assert.equal(creds.credentialsType, "MQTT_BASIC");
        assert.equal(creds.password, SECRET.wantedPassword);
      }
    }
    const wrong = getProvisionRequest(KEY, `${SECRET_}x`, { accessToken: SECRET.wantedToken });
    const e = await rec.rejection(
      "wrong secret",
      TBDeviceMqttClient.provision(HOST, tb.port, wrong, options),
    );
    assert.ok(e instanceof ProvisionError, String(e));
    const unknown = getProvisionRequest(`${KEY}x`, SECRET_, { password: SECRET.wantedPassword });
    await rec.rejection(
      "unknown key",
      TBDeviceMqttClient.provision(HOST, tb.port, unknown, options),
    );
    assert.ok(rec.logCounts.info > 0, "the logger saw nothing");
    rec.assertClean();
  }
});

Deno.test("secrets: provisioning against a closed port, a silent server, and aborted", async () => {
  await using silent = silentServer();
  const request = getProvisionRequest(KEY, SECRET_, { accessToken: SECRET.wantedToken });
  await Promise.all(MATRIX.map(async ({ engine, protocolVersion }) => {
    const rec = new Recorder();
    const o = { engine, protocolVersion, logger: rec.logger };
    await rec.rejection("closed", TBDeviceMqttClient.provision(HOST, closedPort(), request, o));
    await rec.rejection(
      "timeout",
      TBDeviceMqttClient.provision(HOST, silent.port, request, { ...o, timeout: 200 }),
    );
    const ac = new AbortController();
    const aborted = TBDeviceMqttClient.provision(HOST, silent.port, request, {
      ...o,
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(), 20);
    await rec.rejection("abort", aborted);
    rec.assertClean();
  }));
});

Deno.test("secrets: malformed provisioning answers carrying the issued credentials", async () => {
  const issued = SECRET.issuedToken;
  const answers = [
    // Not JSON: the parser's message quotes the text it could not parse.
    `{"credentialsValue":"${issued}","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"`,
    `{"credentialsValue":"${issued}", oops}`,
    `{"credentialsValue":${issued},"credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}`,
    `{"status":"SUCCESS","credentialsType":"ACCESS_TOKEN","credentialsValue":"${issued}"x}`,
    `{"credentialsValue":{"password":"${issued}"},"credentialsType":"X509_CERTIFICATE","status":"SUCCESS"}`,
    `{"credentialsValue":"${issued}","credentialsType":"NEW_KIND","status":"SUCCESS"}`,
    `{"credentialsValue":"${issued}","credentialsType":"MQTT_BASIC","status":"SUCCESS"}`,
    `{"credentialsValue":["${issued}"],"credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}`,
    `{"credentialsValue":"${issued}","status":7}`,
  ];
  // A parser's message may quote a few characters around the fault: look for fragments too.
  const fragments: Record<string, string> = {};
  for (let i = 0; i + 8 <= issued.length; i++) fragments[`issued[${i}..]`] = issued.slice(i, i + 8);
  const needles = [...SECRET_NEEDLES, ...needlesFor(fragments)];
  for (const answer of answers) {
    await using server = provisionServer(answer);
    for (const { engine, protocolVersion } of MATRIX) {
      const rec = new Recorder();
      const request = getProvisionRequest(KEY, SECRET_, { accessToken: SECRET.wantedToken });
      const e = await rec.rejection(
        "malformed",
        TBDeviceMqttClient.provision(HOST, server.port, request, {
          engine,
          protocolVersion,
          logger: rec.logger,
          timeout: 3000,
        }),
      );
      assert.ok(e instanceof InvalidMessageError, `${answer}: ${String(e)}`);
      rec.assertClean(needles);
    }
  }
});

Deno.test("secrets: invalid provisioning requests are reported without the secrets", () => {
  const rec = new Recorder();
  const bad: [string, () => unknown][] = [
    ["empty key", () => getProvisionRequest("", SECRET_)],
    ["empty secret", () => getProvisionRequest(KEY, "")],
    ["secret type", () => getProvisionRequest(KEY, [SECRET_] as unknown as string)],
    ["key type", () => getProvisionRequest({ k: KEY } as unknown as string, SECRET_)],
    [
      "two kinds",
      () => getProvisionRequest(KEY, SECRET_, { accessToken: SECRET.wantedToken, password: "x" }),
    ],
    [
      "three kinds",
      () =>
        getProvisionRequest(KEY, SECRET_, {
          accessToken: SECRET.wantedToken,
          password: SECRET.wantedPassword,
          hash: "h",
        }),
    ],
    [
      "password type",
      () =>
        getProvisionRequest(KEY, SECRET_, {
          password: { p: SECRET.wantedPassword } as unknown as string,
        }),
    ],
    [
      "token type",
      () =>
        getProvisionRequest(KEY, SECRET_, {
          accessToken: [SECRET.wantedToken] as unknown as string,
        }),
    ],
    ["gateway type", () => getProvisionRequest(KEY, SECRET_, { gateway: "yes" as never })],
  ];
  for (const [name, fn] of bad) rec.thrown(name, fn);
  rec.assertClean();
});
