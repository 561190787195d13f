/**
 * Device provisioning as ThingsBoard decides it (`DeviceProvisionServiceImpl`)
 * with its exact response JSON (`JsonConverter.toJson(ProvisionDeviceResponseMsg)`).
 *
 * @module
 */

import { asString, type JNode, quote } from "./_json.ts";
import { randomAlphanumeric, type Store, validateBasic } from "./store.ts";
import type { DeviceCredentials } from "./types.ts";

/** The fields of a provisioning request (missing strings are `""`, as protobuf defaults). */
export interface ProvisionRequest {
  deviceName: string;
  credentialsType: "ACCESS_TOKEN" | "MQTT_BASIC" | "X509_CERTIFICATE";
  token: string;
  clientId: string;
  username: string;
  password: string;
  hash: string;
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  gateway: boolean;
}

/** The request is unusable in a way that makes ThingsBoard answer PUBACK 0x83 and disconnect. */
export class ProvisionRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProvisionRequestError";
  }
}

const CREDENTIALS_TYPES = new Set(["ACCESS_TOKEN", "MQTT_BASIC", "X509_CERTIFICATE"]);

function str(obj: Map<string, JNode>, field: string, required: boolean): string {
  const node = obj.get(field);
  if (node === undefined) {
    if (required) throw new ProvisionRequestError(`Failed to find the field ${field} in JSON body`);
    return "";
  }
  const s = asString(node);
  if (s === undefined) throw new ProvisionRequestError(`Field ${field} is not a string`);
  return s;
}

/**
 * Reads a provisioning request object (`JsonConverter.buildProvisionRequestMsg`).
 *
 * @throws {ProvisionRequestError} when `provisionDeviceKey`/`provisionDeviceSecret`
 * are missing, a field is not a primitive, or `credentialsType` is unknown.
 */
export function readProvisionRequest(obj: Map<string, JNode>): ProvisionRequest {
  const type = obj.get("credentialsType") !== undefined
    ? str(obj, "credentialsType", false)
    : "ACCESS_TOKEN";
  if (!CREDENTIALS_TYPES.has(type)) {
    throw new ProvisionRequestError(`Unknown credentials type ${type}`);
  }
  const gatewayNode = obj.get("gateway");
  return {
    deviceName: str(obj, "deviceName", false),
    credentialsType: type as ProvisionRequest["credentialsType"],
    token: str(obj, "token", false),
    clientId: str(obj, "clientId", false),
    username: str(obj, "username", false),
    password: str(obj, "password", false),
    hash: str(obj, "hash", false),
    provisionDeviceKey: str(obj, "provisionDeviceKey", true),
    provisionDeviceSecret: str(obj, "provisionDeviceSecret", true),
    gateway: gatewayNode !== undefined && asString(gatewayNode)?.toLowerCase() === "true",
  };
}

/** The outcome: the status, the response payload, and the device name involved. */
export interface ProvisionResult {
  status: "SUCCESS" | "NOT_FOUND" | "FAILURE";
  payload: string;
  deviceName: string;
}

const NOT_FOUND = '{"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}';
const FAILURE = '{"errorMsg":"Failed to provision device!","status":"FAILURE"}';

function fail(status: "NOT_FOUND" | "FAILURE", deviceName: string): ProvisionResult {
  return { status, payload: status === "NOT_FOUND" ? NOT_FOUND : FAILURE, deviceName };
}

/** The success payload for a device's credentials. */
function successPayload(c: DeviceCredentials): string {
  if (c.type === "ACCESS_TOKEN") {
    return `{"credentialsValue":${
      quote(c.accessToken)
    },"credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}`;
  }
  const field = (v: string | undefined) => v === undefined ? "null" : quote(v);
  const value = `{"clientId":${field(c.clientId)},"userName":${field(c.userName)},"password":${
    field(c.password)
  }}`;
  return `{"credentialsValue":${value},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}`;
}

/**
 * Decides a provisioning request against the store, creating or marking the
 * device on success (`DeviceProvisionServiceImpl.provisionDevice`).
 */
export function provision(store: Store, req: ProvisionRequest): ProvisionResult {
  let name = req.deviceName;
  if (name !== "") {
    name = name.trim();
    if (name === "") return fail("FAILURE", name);
  }
  if (req.provisionDeviceKey === "" || req.provisionDeviceSecret === "") {
    return fail("NOT_FOUND", name);
  }
  const profile = store.profileByKey(req.provisionDeviceKey);
  if (!profile || profile.provisionSecret !== req.provisionDeviceSecret) {
    return fail("NOT_FOUND", name);
  }
  const existing = name === "" ? undefined : store.find(name);
  if (profile.strategy === "checkPreProvisionedDevices") {
    if (!existing || existing.device.profile !== profile.name || existing.device.provisioned) {
      return fail("FAILURE", name);
    }
    store.markProvisioned(existing);
    return {
      status: "SUCCESS",
      payload: successPayload(existing.device.credentials),
      deviceName: name,
    };
  }
  if (existing) return fail("FAILURE", name);
  if (name === "") name = randomAlphanumeric(20);
  const credentials = requestedCredentials(req);
  if (credentials === undefined) return fail("FAILURE", name);
  if (store.credentialsTaken(credentials)) return fail("FAILURE", name);
  const record = store.createDevice({
    name,
    ...(credentials.type === "ACCESS_TOKEN" ? { accessToken: credentials.accessToken } : {
      credentials: {
        clientId: credentials.clientId ?? "",
        userName: credentials.userName ?? "",
        password: credentials.password ?? "",
      },
    }),
    gateway: req.gateway,
    profile: profile.name,
  }, true);
  return {
    status: "SUCCESS",
    payload: successPayload(record.device.credentials),
    deviceName: name,
  };
}

/**
 * The credentials a new device gets: a random token when the request carries
 * no credential field at all (whatever its `credentialsType`), else those of
 * the requested type; `undefined` when they would be invalid.
 */
function requestedCredentials(req: ProvisionRequest): DeviceCredentials | undefined {
  if (!req.token && !req.hash && !req.username && !req.password && !req.clientId) {
    return { type: "ACCESS_TOKEN", accessToken: randomAlphanumeric(20) };
  }
  if (req.credentialsType === "ACCESS_TOKEN") {
    return req.token ? { type: "ACCESS_TOKEN", accessToken: req.token } : undefined;
  }
  if (req.credentialsType === "MQTT_BASIC") {
    const c = { clientId: req.clientId, userName: req.username, password: req.password };
    if (validateBasic(c)) return undefined;
    return { type: "MQTT_BASIC", ...c };
  }
  return undefined; // X.509 is not supported by the emulator
}
