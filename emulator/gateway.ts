/**
 * The gateway API of a gateway device's session (`GatewaySessionHandler`,
 * `AbstractGatewaySessionHandler`): sub-devices connected on `v1/gateway/...`,
 * their telemetry, attributes, attribute requests, RPC and claims.
 *
 * @module
 */

import { type PublishPacket, ReasonCode } from "../core/codec/mod.ts";
import { asString, type JNode, JsonSyntaxError, parseJson, quote, stringify } from "./_json.ts";
import type { Endpoint } from "./core.ts";
import type { Session } from "./session.ts";
import {
  type DeviceRecord,
  pointCount,
  storeClientAttributes,
  storeTelemetryGroups,
} from "./store.ts";
import { parseTelemetry, type TsGroup, typeObject, writeObject } from "./typing.ts";
import type { DisconnectReason, RateLimits } from "./types.ts";
import type { DeviceRateLimits } from "./rate_limits.ts";

const utf8 = new TextDecoder();

/** A `RuntimeException` in ThingsBoard's gateway handler: PUBACK 0x83, then DISCONNECT 0x83. */
class GatewayFault extends Error {}

/** A sub-device could not be created: PUBACK 0x80 (`processFailure`), the session stays. */
class CreateFailure extends Error {}

/** Over the gateway's rate limits (`TbRateLimitsException`): PUBACK 0x97, then the connection closes. */
class RateLimited extends Error {
  constructor(readonly device: string, readonly limit: keyof RateLimits) {
    super(`${device} is over the ${limit} rate limit`);
  }
}

/** One device behind a gateway session. */
class SubDevice implements Endpoint {
  readonly attributesSubscribed = true;
  readonly rpcSubscribed = true;
  constructor(readonly handler: GatewayHandler, readonly record: DeviceRecord) {}

  get session(): Session {
    return this.handler.session;
  }

  pushAttributes(body: string): void {
    this.session.publish(
      "v1/gateway/attributes",
      `{"device":${quote(this.record.device.name)},"data":${body}}`,
    );
  }

  sendRpc(id: number, method: string, params: string): void {
    this.session.publish(
      "v1/gateway/rpc",
      `{"device":${quote(this.record.device.name)},"data":{"id":${id},"method":${
        quote(method)
      },"params":${params}}}`,
    );
  }

  close(_reason: DisconnectReason): void {
    this.handler.release(this.record.device.name);
  }
}

function field(obj: Map<string, JNode>, name: string): JNode {
  const node = obj.get(name);
  if (node === undefined || node.t === "null") throw new GatewayFault(`Missing "${name}"`);
  return node;
}

function str(node: JNode, name: string): string {
  const s = asString(node);
  if (s === undefined || node.t === "arr") throw new GatewayFault(`"${name}" is not a string`);
  return s;
}

function int(node: JNode, name: string): number {
  const n = Number(str(node, name));
  if (!Number.isFinite(n)) throw new GatewayFault(`"${name}" is not a number`);
  return Math.trunc(n);
}

/** `JsonConverter.convertToGatewayTelemetry`: an array of objects, `metadata` removed and checked. */
function gatewayTelemetry(node: JNode, now: number): TsGroup[] {
  if (node.t !== "arr") throw new JsonSyntaxError("Gateway telemetry is not an array");
  const items = node.v.map((item) => {
    if (item.t !== "obj") throw new JsonSyntaxError("Gateway telemetry item is not an object");
    const metadata = item.v.get("metadata");
    if (metadata === undefined) return item;
    if (metadata.t !== "obj") throw new JsonSyntaxError("Can't parse gateway metadata");
    for (const key of ["connector", "receivedTs", "publishedTs"]) {
      const v = metadata.v.get(key);
      if (v === undefined || v.t === "null") throw new JsonSyntaxError(`Missing metadata ${key}`);
    }
    const rest = new Map(item.v);
    rest.delete("metadata");
    return { t: "obj", v: rest } as JNode;
  });
  return parseTelemetry({ t: "arr", v: items }, now);
}

/** Handles the gateway topics of a gateway device's session. */
export class GatewayHandler {
  readonly #devices = new Map<string, SubDevice>();

  constructor(readonly session: Session) {}

  /** Connects (gets or creates) a sub-device. */
  connect(name: string, type = "default"): SubDevice {
    let sub = this.#devices.get(name);
    if (sub) return sub;
    const core = this.session.core;
    let record = core.store.find(name);
    if (!record) {
      try {
        record = core.store.createDevice({ name, profile: type });
      } catch (e) {
        throw new CreateFailure(e instanceof Error ? e.message : String(e));
      }
    }
    sub = new SubDevice(this, record);
    this.#devices.set(name, sub);
    core.bind(record, sub);
    core.emit({ type: "subDeviceConnect", device: name, gateway: this.#gatewayName }, this.session);
    core.rpc.flush(record, true);
    return sub;
  }

  get #gatewayName(): string {
    return this.session.record!.device.name;
  }

  /** Disconnects a sub-device. */
  release(name: string): void {
    const sub = this.#devices.get(name);
    if (!sub) return;
    this.#devices.delete(name);
    const core = this.session.core;
    core.release(sub.record, sub);
    core.emit(
      { type: "subDeviceDisconnect", device: name, gateway: this.#gatewayName },
      this.session,
    );
  }

  /** Disconnects every sub-device (the gateway session ended). */
  releaseAll(): void {
    for (const name of [...this.#devices.keys()]) this.release(name);
  }

  /** Handles a PUBLISH on `v1/gateway/...` (`MqttTransportHandler.handleGatewayPublishMsg`). */
  handle(p: PublishPacket): void {
    const s = this.session;
    const packetId = p.packetId ?? 0;
    try {
      switch (p.topic) {
        case "v1/gateway/connect": {
          const body = this.#object(p);
          const name = str(field(body, "device"), "device");
          if (name === "") throw new GatewayFault("Device name is empty!");
          const type = body.get("type");
          this.connect(
            name,
            type === undefined || type.t === "null" ? "default" : str(type, "type"),
          );
          return s.ack(packetId);
        }
        case "v1/gateway/disconnect": {
          const name = str(field(this.#object(p), "device"), "device");
          if (name === "") throw new GatewayFault("Device name is empty!");
          this.release(name);
          return s.ack(packetId);
        }
        case "v1/gateway/telemetry":
          return this.#perDevice(p, "arr", (sub, value) => {
            const groups = gatewayTelemetry(value, Date.now());
            this.#admit(sub, (l) => l.telemetry(pointCount(groups)));
            const values = storeTelemetryGroups(sub.record, groups);
            s.core.emit({ type: "telemetry", device: sub.record.device.name, values }, s);
          });
        case "v1/gateway/attributes":
          return this.#perDevice(p, "obj", (sub, value) => {
            const attrs = typeObject(value);
            this.#admit(sub, (l) => l.telemetry(attrs.size));
            const values = storeClientAttributes(sub.record, attrs, Date.now());
            s.core.emit({ type: "attributes", device: sub.record.device.name, values }, s);
          });
        case "v1/gateway/claim":
          return this.#perDevice(p, "obj", (sub, value) => {
            if (value.t !== "obj") throw new JsonSyntaxError("Claim is not an object");
            this.#admit(sub, (l) => l.message());
            const key = value.v.get("secretKey");
            const duration = value.v.get("durationMs");
            const secretKey = key === undefined ? "" : str(key, "secretKey");
            const durationMs = duration === undefined ? 0 : int(duration, "durationMs");
            sub.record.claim = { secretKey, durationMs, ts: Date.now() };
            s.core.emit(
              { type: "claim", device: sub.record.device.name, secretKey, durationMs },
              s,
            );
          });
        case "v1/gateway/attributes/request":
          return this.#attributeRequest(p);
        case "v1/gateway/rpc": {
          const body = this.#object(p);
          const name = str(field(body, "device"), "device");
          const id = int(field(body, "id"), "id");
          const data = stringify(field(body, "data"));
          const sub = this.connect(name);
          this.#admit(sub, (l) => l.message());
          s.core.emit({ type: "rpcResponse", device: name, requestId: id, payload: data }, s);
          s.core.rpc.reply(sub.record, id, data);
          return s.ack(packetId);
        }
        default:
          return s.reject(p, ReasonCode.TopicNameInvalid, "Unknown topic");
      }
    } catch (e) {
      if (e instanceof JsonSyntaxError) return s.invalidPayload(p, e.message);
      if (e instanceof CreateFailure) return s.ack(packetId, ReasonCode.UnspecifiedError);
      if (e instanceof RateLimited) {
        s.core.emit({ type: "rateLimited", device: e.device, topic: p.topic, limit: e.limit }, s);
        s.ack(packetId, ReasonCode.QuotaExceeded);
        return s.close("rateLimited"); // a plain close: the reason-150 notice would follow it
      }
      if (e instanceof GatewayFault) {
        s.reject(p, ReasonCode.ImplementationSpecificError, e.message);
        return s.close("protocolError", ReasonCode.ImplementationSpecificError);
      }
      throw e;
    }
  }

  /** Takes tokens from the gateway's aggregate limits for a message of `sub`. */
  #admit(
    sub: SubDevice,
    take: (limits: DeviceRateLimits) => keyof RateLimits | undefined,
  ): void {
    const limits = this.session.core.gatewayRateLimitsOf(this.session.record!);
    const broken = limits === undefined ? undefined : take(limits);
    if (broken !== undefined) throw new RateLimited(sub.record.device.name, broken);
  }

  /** The payload as a JSON object: bad JSON is an invalid payload, another value a fault. */
  #object(p: PublishPacket): Map<string, JNode> {
    const json = parseJson(utf8.decode(p.payload));
    if (json.t !== "obj") throw new GatewayFault("Payload is not a JSON object");
    return json.v;
  }

  /**
   * `{"Device A": value, ...}`: entries of the wrong shape are skipped; none left is a
   * fault; a value that fails gets PUBACK 0x99 on v5 (once) or closes the connection on
   * 3.1.1; else one PUBACK when all are stored. With QoS 0, v5 gateways get a
   * `v1/gateway/disconnect` notice (reason 129) per device, as ThingsBoard sends.
   */
  #perDevice(p: PublishPacket, shape: "arr" | "obj", apply: (sub: SubDevice, v: JNode) => void) {
    const s = this.session;
    const entries = [...this.#object(p)].filter(([, v]) => v.t === shape);
    if (entries.length === 0) throw new GatewayFault("Devices message is empty");
    const packetId = p.packetId ?? 0;
    for (const [name, value] of entries) {
      const sub = this.connect(name);
      try {
        apply(sub, value);
      } catch (e) {
        if (e instanceof RateLimited) throw e;
        if (!(e instanceof JsonSyntaxError || e instanceof GatewayFault)) throw e;
        if (s.version === 5) s.ack(packetId, ReasonCode.PayloadFormatInvalid);
        else s.close("invalidPayload");
        return;
      }
    }
    if (packetId > 0) return s.ack(packetId);
    if (s.version !== 5) return;
    for (const [name] of entries) {
      s.publish("v1/gateway/disconnect", `{"device":${quote(name)},"reason":129}`);
    }
  }

  /** `{"id","device","client","key"|"keys"}` answered on `v1/gateway/attributes/response`. */
  #attributeRequest(p: PublishPacket): void {
    const s = this.session;
    const body = this.#object(p);
    const id = int(field(body, "id"), "id");
    const name = str(field(body, "device"), "device");
    const client = str(field(body, "client"), "client").toLowerCase() === "true";
    let keys: string[];
    const key = body.get("key");
    if (key !== undefined) keys = [str(key, "key")];
    else {
      const list = field(body, "keys");
      if (list.t !== "arr") throw new GatewayFault('"keys" is not an array');
      keys = [...new Set(list.v.map((k) => str(k, "keys")))];
    }
    const sub = this.connect(name);
    this.#admit(sub, (l) => l.message());
    const record = sub.record;
    s.core.emit({
      type: "attributeRequest",
      device: name,
      requestId: id,
      clientKeys: client ? keys : null,
      sharedKeys: client ? null : keys,
    }, s);
    s.ack(p.packetId ?? 0);
    const all = keys.length === 0;
    const pick = (scope: Map<string, { text: string }>, wanted: boolean) =>
      wanted ? [...scope].filter(([k]) => all || keys.includes(k)) : [];
    // JsonConverter.getJsonObjectForGateway: a single value of a single-key request is
    // "value", anything else is merged into "values"; fields keep insertion order.
    const multiple = keys.length > 1;
    const result = new Map<string, string | Map<string, string>>([
      ["id", String(id)],
      ["device", quote(name)],
    ]);
    const found = [
      pick(record.clientAttributes, client || all),
      pick(record.sharedAttributes, !client || all),
    ];
    for (const list of found) {
      if (list.length === 0) continue;
      if (list.length === 1 && !multiple) {
        result.set("value", list[0]![1].text);
        continue;
      }
      let values = result.get("values");
      if (!(values instanceof Map)) result.set("values", values = new Map());
      for (const [k, v] of list) values.set(k, v.text);
    }
    const parts = [...result].map(([k, v]) =>
      `${quote(k)}:${
        typeof v === "string" ? v : writeObject([...v].map(([a, b]) => [a, { text: b }]))
      }`
    );
    s.publish("v1/gateway/attributes/response", `{${parts.join(",")}}`);
  }
}
