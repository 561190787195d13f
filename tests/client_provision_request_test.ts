import assert from "node:assert/strict";
import { InvalidMessageError, ProvisionError } from "../core/client/errors.ts";
import { getProvisionRequest, parseProvisionResponse } from "../core/provision.ts";

Deno.test("getProvisionRequest() builds every credentials kind of the seed SDK", () => {
  assert.deepEqual(getProvisionRequest("K", "S"), {
    provisionDeviceKey: "K",
    provisionDeviceSecret: "S",
  });
  assert.deepEqual(
    getProvisionRequest("K", "S", { deviceName: "d1", accessToken: "tok", gateway: true }),
    {
      provisionDeviceKey: "K",
      provisionDeviceSecret: "S",
      deviceName: "d1",
      credentialsType: "ACCESS_TOKEN",
      token: "tok",
      gateway: true,
    },
  );
  assert.deepEqual(getProvisionRequest("K", "S", { clientId: "c", username: "u", password: "p" }), {
    provisionDeviceKey: "K",
    provisionDeviceSecret: "S",
    credentialsType: "MQTT_BASIC",
    clientId: "c",
    username: "u",
    password: "p",
  });
  assert.deepEqual(getProvisionRequest("K", "S", { username: "u" }), {
    provisionDeviceKey: "K",
    provisionDeviceSecret: "S",
    credentialsType: "MQTT_BASIC",
    username: "u",
  });
  assert.deepEqual(getProvisionRequest("K", "S", { hash: "PEM", gateway: false }), {
    provisionDeviceKey: "K",
    provisionDeviceSecret: "S",
    credentialsType: "X509_CERTIFICATE",
    hash: "PEM",
  });
});

Deno.test("getProvisionRequest() refuses empty keys, wrong types and mixed credentials", () => {
  assert.throws(() => getProvisionRequest("", "S"), /provision key must be a non-empty string/);
  assert.throws(() => getProvisionRequest("K", 5 as never), /provision secret must be/);
  assert.throws(
    () => getProvisionRequest("K", "S", { deviceName: 1 as never }),
    /deviceName must be a string/,
  );
  assert.throws(
    () => getProvisionRequest("K", "S", { gateway: "yes" as never }),
    /gateway must be a boolean/,
  );
  assert.throws(
    () => getProvisionRequest("K", "S", { accessToken: "t", username: "u" }),
    /give one kind of credentials/,
  );
  assert.throws(() => getProvisionRequest("K", "S", { password: "p", hash: "h" }), TypeError);
  assert.throws(
    () => getProvisionRequest("K", "S", { password: "p", hash: "h" }),
    /give one kind of credentials/,
  );
});

Deno.test("parseProvisionResponse() maps ThingsBoard's answers to credentials or ProvisionError", () => {
  assert.deepEqual(
    parseProvisionResponse({
      status: "SUCCESS",
      credentialsType: "ACCESS_TOKEN",
      credentialsValue: "t0k",
    }),
    { credentialsType: "ACCESS_TOKEN", accessToken: "t0k" },
  );
  assert.deepEqual(
    parseProvisionResponse({
      status: "SUCCESS",
      credentialsType: "MQTT_BASIC",
      credentialsValue: { clientId: "c", userName: "u", password: "p" },
    }),
    { credentialsType: "MQTT_BASIC", clientId: "c", username: "u", password: "p" },
  );
  assert.deepEqual(
    parseProvisionResponse({
      status: "SUCCESS",
      credentialsType: "X509_CERTIFICATE",
      credentialsValue: "PEM",
    }),
    { credentialsType: "X509_CERTIFICATE", certificate: "PEM" },
  );
  assert.throws(
    () =>
      parseProvisionResponse({ status: "NOT_FOUND", errorMsg: "Provision data was not found!" }),
    (e: unknown) =>
      e instanceof ProvisionError && e.status === "NOT_FOUND" &&
      e.errorMsg === "Provision data was not found!" &&
      e.message ===
        "Cannot provision device: the server answered NOT_FOUND (Provision data was not found!)",
  );
  assert.throws(
    () => parseProvisionResponse({ status: "FAILURE" }),
    (e: unknown) => e instanceof ProvisionError && e.errorMsg === undefined,
  );
  assert.throws(() => parseProvisionResponse([]), InvalidMessageError);
  assert.throws(
    () => parseProvisionResponse({ status: "SUCCESS", credentialsType: "X" }),
    InvalidMessageError,
  );
  assert.throws(
    () =>
      parseProvisionResponse({
        status: "SUCCESS",
        credentialsType: "ACCESS_TOKEN",
        credentialsValue: 1,
      }),
    InvalidMessageError,
  );
});
