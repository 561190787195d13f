/**
 * PUBLISH in a provision-only session (`MqttTransportHandler.processProvisionSessionMsg`).
 *
 * @module
 */

import { type PublishPacket, ReasonCode } from "../core/codec/mod.ts";
import { JsonSyntaxError, parseJson } from "./_json.ts";
import { provision, ProvisionRequestError, readProvisionRequest } from "./provision.ts";
import type { Session } from "./session.ts";

const utf8 = new TextDecoder();

/**
 * Handles `/provision/request`: PUBACK, then the response on
 * `/provision/response`, and the session is closed after the configured delay.
 * Another topic gets PUBACK 0x90 and DISCONNECT 0x90; a request without key or
 * secret gets PUBACK 0x83 and DISCONNECT 0x83; a payload that is not a JSON
 * object is an invalid payload (v5 PUBACK 0x99, 3.1.1 close).
 */
export function handleProvisionPublish(s: Session, p: PublishPacket): void {
  if (p.topic !== "/provision/request") {
    s.reject(p, ReasonCode.TopicNameInvalid, "Unknown topic");
    return s.close("protocolError", ReasonCode.TopicNameInvalid);
  }
  let result;
  try {
    const body = parseJson(utf8.decode(p.payload));
    if (body.t !== "obj") throw new JsonSyntaxError("Provision request is not an object");
    result = provision(s.core.store, readProvisionRequest(body.v));
  } catch (e) {
    if (e instanceof JsonSyntaxError) return s.invalidPayload(p, e.message);
    if (e instanceof ProvisionRequestError) {
      s.reject(p, ReasonCode.ImplementationSpecificError, e.message);
      return s.close("protocolError", ReasonCode.ImplementationSpecificError);
    }
    throw e;
  }
  s.ack(p.packetId ?? 0);
  s.publish("/provision/response", result.payload);
  s.core.emit({ type: "provision", deviceName: result.deviceName, status: result.status }, s);
  s.scheduleProvisionClose();
}
