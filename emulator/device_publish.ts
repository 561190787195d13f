/**
 * A device session's PUBLISH, routed like `MqttTransportHandler.processDevicePublish`:
 * telemetry, attributes, attribute requests, RPC replies, client-side RPC,
 * claims and OTA chunk requests.
 *
 * @module
 */

import { type PublishPacket, ReasonCode } from "../core/codec/mod.ts";
import { asString, type JNode, JsonSyntaxError, parseJson } from "./_json.ts";
import { runClientRpc, sessionLimits } from "./client_rpc.ts";
import { handleChunkRequest, OtaRequestFault } from "./ota.ts";
import type { Session } from "./session.ts";
import { pointCount, storeClientAttributes, storeTelemetryGroups } from "./store.ts";
import { FAMILY_TOPICS, parseJavaInt, routeTopic, type TopicFamily } from "./topics.ts";
import { parseAttributes, parseTelemetry } from "./typing.ts";
import type { RateLimits } from "./types.ts";

const utf8 = new TextDecoder();

/** A fault ThingsBoard does not catch (it closes the session with 0x8B). */
class ServerFault extends Error {}

function payloadText(p: PublishPacket): string {
  return utf8.decode(p.payload);
}

function json(p: PublishPacket, family: TopicFamily): JNode {
  if (family === "v2p") throw new JsonSyntaxError("Protobuf payloads are not supported");
  return parseJson(payloadText(p));
}

/** Java `String.split(",")`: trailing empty strings are removed (but `""` stays `[""]`). */
function javaSplit(s: string): string[] {
  if (s === "") return [""];
  const parts = s.split(",");
  while (parts.length > 0 && parts.at(-1) === "") parts.pop();
  return parts;
}

function keySet(obj: Map<string, JNode>, field: string): Set<string> {
  const node = obj.get(field);
  if (node === undefined) return new Set();
  const s = asString(node);
  if (s === undefined) throw new JsonSyntaxError(`${field} is not a string`);
  return new Set(javaSplit(s));
}

/** Handles one PUBLISH of an authenticated device session. */
export function handleDevicePublish(s: Session, p: PublishPacket): void {
  const record = s.record!;
  const core = s.core;
  const packetId = p.packetId ?? 0;
  const route = routeTopic(p.topic);
  try {
    switch (route.kind) {
      case "gateway":
        // Without a gateway session ThingsBoard logs an error and sends no PUBACK.
        return s.gateway?.handle(p);
      case "telemetry":
      case "attributes":
        break; // counted against the telemetry limits once their data points are known
      case "unknown":
        break; // never reaches the device service
      default:
        if (overLimit(s, p, core.rateLimitsOf(record)?.message())) return;
    }
    switch (route.kind) {
      case "unknown":
        return s.reject(p, ReasonCode.TopicNameInvalid, "Unknown topic");
      case "telemetry": {
        const groups = parseTelemetry(json(p, route.family), Date.now());
        if (overLimit(s, p, core.rateLimitsOf(record)?.telemetry(pointCount(groups)))) return;
        core.emit({ type: "telemetry", values: storeTelemetryGroups(record, groups) }, s);
        return s.ack(packetId);
      }
      case "attributes": {
        const attrs = parseAttributes(json(p, route.family));
        if (overLimit(s, p, core.rateLimitsOf(record)?.telemetry(attrs.size))) return;
        const values = storeClientAttributes(record, attrs, Date.now());
        core.emit({ type: "attributes", values }, s);
        return s.ack(packetId);
      }
      case "attributeRequest": {
        const id = parseJavaInt(route.id);
        if (id === undefined) throw new JsonSyntaxError(`Invalid request id "${route.id}"`);
        const body = json(p, route.family);
        if (body.t !== "obj") throw new JsonSyntaxError("Attribute request is not an object");
        const client = keySet(body.v, "clientKeys");
        const shared = keySet(body.v, "sharedKeys");
        core.emit({
          type: "attributeRequest",
          requestId: id,
          clientKeys: body.v.has("clientKeys") ? [...client] : null,
          sharedKeys: body.v.has("sharedKeys") ? [...shared] : null,
        }, s);
        s.ack(packetId);
        if (id >= 0) {
          const topic = FAMILY_TOPICS[route.family].attrResponse + id;
          s.publish(topic, core.attributeResponse(record, client, shared));
        }
        return;
      }
      case "rpcResponse": {
        const id = parseJavaInt(route.id);
        if (id === undefined) throw new JsonSyntaxError(`Invalid request id "${route.id}"`);
        if (route.family === "v2p") {
          throw new JsonSyntaxError("Protobuf payloads are not supported");
        }
        const payload = payloadText(p);
        core.emit({ type: "rpcResponse", requestId: id, payload }, s);
        core.rpc.reply(record, id, payload);
        return s.ack(packetId);
      }
      case "clientRpc":
        return clientRpc(s, p, route.family, route.id);
      case "claim": {
        const text = payloadText(p);
        let secretKey = "";
        let durationMs = 0;
        if (text !== "") {
          const body = parseJson(text);
          if (body.t !== "obj") throw new JsonSyntaxError("Claim request is not an object");
          const key = body.v.get("secretKey");
          const duration = body.v.get("durationMs");
          if (key !== undefined) secretKey = stringField(key, "secretKey");
          if (duration !== undefined) durationMs = longField(duration);
        }
        record.claim = { secretKey, durationMs, ts: Date.now() };
        core.emit({ type: "claim", secretKey, durationMs }, s);
        return s.ack(packetId);
      }
      case "firmware":
        return handleChunkRequest(
          s,
          packetId,
          route.ota === "fw" ? "firmware" : "software",
          route.requestId,
          route.chunk,
          payloadText(p),
        );
    }
  } catch (e) {
    if (e instanceof ServerFault || e instanceof OtaRequestFault) {
      core.emit({ type: "protocolError", message: e.message }, s);
      return s.close("protocolError", ReasonCode.ServerShuttingDown);
    }
    if (e instanceof JsonSyntaxError) return s.invalidPayload(p, e.message);
    throw e;
  }
}

/** Drops a message over a rate limit and closes the session, like `DTS.checkLimits`. */
function overLimit(s: Session, p: PublishPacket, limit: keyof RateLimits | undefined): boolean {
  if (limit === undefined) return false;
  s.core.emit({ type: "rateLimited", topic: p.topic, limit }, s);
  s.close("rateLimited", ReasonCode.ImplementationSpecificError);
  return true;
}

function stringField(node: JNode, name: string): string {
  const s = asString(node);
  if (s === undefined || node.t === "arr") throw new JsonSyntaxError(`${name} is not a string`);
  return s;
}

function longField(node: JNode): number {
  const s = stringField(node, "durationMs");
  const n = Number(s);
  if (!/^[+-]?[0-9]+$/.test(s) && !Number.isFinite(n)) {
    throw new ServerFault(`Bad durationMs "${s}"`);
  }
  return Math.trunc(n);
}

function clientRpc(s: Session, p: PublishPacket, family: TopicFamily, rawId: string): void {
  const id = parseJavaInt(rawId);
  // Integer.parseInt and a missing "method" throw outside the adaptor's catch in ThingsBoard.
  if (id === undefined) throw new ServerFault(`Invalid request id "${rawId}"`);
  const body = json(p, family);
  if (body.t !== "obj") throw new JsonSyntaxError("RPC request is not an object");
  const methodNode = body.v.get("method");
  const method = methodNode === undefined ? undefined : asString(methodNode);
  if (method === undefined || methodNode?.t === "arr") {
    throw new ServerFault("RPC request has no method");
  }
  s.clientRpcFamily = family;
  const core = s.core;
  core.emit({ type: "clientRpc", requestId: id, method }, s);
  s.ack(p.packetId ?? 0);
  if (method === "getSessionLimits" && family === "v1") {
    const payload = sessionLimits(core, s.record!.device.gateway);
    s.publish(FAMILY_TOPICS[family].rpcResponse + id, payload);
    core.emit({ type: "clientRpcResponse", requestId: id, payload }, s);
    return;
  }
  runClientRpc(core, s, id, method, body.v.get("params") ?? { t: "null" });
}
