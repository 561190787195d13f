/**
 * One MQTT connection: CONNECT and authentication, SUBSCRIBE/UNSUBSCRIBE with
 * ThingsBoard's whitelist, provision-only sessions, and server publishes.
 * Device PUBLISHes are handled in `device_publish.ts`.
 *
 * @module
 */

import {
  type ConnectPacket,
  ConnectReturnCode,
  encode,
  MqttDecodeError,
  MqttDecoder,
  type Packet,
  type ProtocolVersion,
  type PublishPacket,
  ReasonCode,
} from "../core/codec/mod.ts";
import { type Connection, SlowClientError } from "./_connection.ts";
import { handleDevicePublish } from "./device_publish.ts";
import { handleProvisionPublish } from "./provision_session.ts";
import type { Core, Endpoint } from "./core.ts";
import { GatewayHandler } from "./gateway.ts";
import { quote } from "./_json.ts";
import type { OtaPackage } from "./ota.ts";
import type { DeviceRecord } from "./store.ts";
import { FAMILY_TOPICS, filterMatches, type TopicFamily } from "./topics.ts";
import { handleSubscribe, handleUnsubscribe } from "./subscriptions.ts";
import type { DisconnectReason, SessionInfo } from "./types.ts";

const utf8 = new TextDecoder();
const enc = new TextEncoder();

/** State of a connection. */
export type SessionState = "new" | "device" | "provision" | "closed";

/** One client connection. */
export class Session implements SessionInfo, Endpoint {
  readonly id: number;
  readonly tls: boolean;
  readonly core: Core;
  readonly #conn: Connection;
  readonly #decoder: MqttDecoder;
  state: SessionState = "new";
  version: ProtocolVersion = 4;
  clientId = "";
  record: DeviceRecord | undefined;
  readonly subscriptions = new Map<string, number>();
  /** Family of the attribute-update subscription, if any. */
  attrFamily: TopicFamily | undefined;
  /** Family of the RPC-request subscription, if any. */
  rpcFamily: TopicFamily | undefined;
  /** Family of the latest client-side RPC request (where replies go). */
  clientRpcFamily: TopicFamily = "v1";
  /** OTA chunk size per request id (`chunkSizes`). */
  readonly otaChunkSizes = new Map<string, number>();
  /** OTA package per request id (`otaPackSessions`). */
  readonly otaRequests = new Map<string, OtaPackage>();
  #packetId = 0;
  #connectSeen = false;
  #closeReason: DisconnectReason | undefined;
  #closeCode: number | undefined;
  #provisionTimer: ReturnType<typeof setTimeout> | undefined;
  #inactivityTimer: ReturnType<typeof setTimeout> | undefined;
  #lastActivity = 0;

  constructor(core: Core, id: number, conn: Connection, tls: boolean) {
    this.core = core;
    this.id = id;
    this.tls = tls;
    this.#conn = conn;
    // ThingsBoard's netty decoder refuses a remaining length above max_payload_size.
    const max = core.options.maxPayloadSize;
    this.#decoder = new MqttDecoder({ maxPacketSize: 1 + varintLength(max) + max });
    conn.setHandler({
      onData: (chunk) => this.#onData(chunk),
      onClose: (error) => this.#onClose(error),
    });
  }

  /** Sub-devices, when this is a gateway session. */
  gateway: GatewayHandler | undefined;

  /** This session itself, as the {@linkcode Endpoint} of its device. */
  get session(): Session {
    return this;
  }

  /** Whether attribute updates are subscribed. */
  get attributesSubscribed(): boolean {
    return this.attrFamily !== undefined;
  }

  /** Whether RPC requests are subscribed. */
  get rpcSubscribed(): boolean {
    return this.rpcFamily !== undefined;
  }

  /** Publishes an attribute update on the subscribed family's topic. */
  pushAttributes(body: string): void {
    if (this.attrFamily !== undefined) {
      this.publish(FAMILY_TOPICS[this.attrFamily].attributes, body);
    }
  }

  /** Publishes an RPC request on the subscribed family's topic. */
  sendRpc(id: number, method: string, params: string): void {
    if (this.rpcFamily === undefined) return;
    const topic = FAMILY_TOPICS[this.rpcFamily].rpcRequest + id;
    this.publish(topic, `{"method":${quote(method)},"params":${params}}`);
  }

  /** Ends the sub-device sessions of a gateway session. */
  releaseSubDevices(): void {
    this.gateway?.releaseAll();
  }

  /** Device name, for {@linkcode SessionInfo}. */
  get device(): string | undefined {
    return this.record?.device.name;
  }

  /** Kind, for {@linkcode SessionInfo}. */
  get kind(): "device" | "provision" | "pending" {
    return this.state === "device"
      ? "device"
      : this.state === "provision"
      ? "provision"
      : "pending";
  }

  /** Protocol level, for {@linkcode SessionInfo} (0 before CONNECT). */
  get protocolVersion(): number {
    return this.state === "new" ? 0 : this.version;
  }

  #onData(chunk: Uint8Array): void {
    let packets: Packet[];
    try {
      packets = this.#decoder.push(chunk);
    } catch (e) {
      const tooLarge = e instanceof MqttDecodeError && e.code === "PACKET_TOO_LARGE";
      const message = e instanceof Error ? e.message : String(e);
      this.core.emit({ type: "protocolError", message }, this);
      this.close(tooLarge ? "payloadTooLarge" : "protocolError", ReasonCode.MalformedPacket);
      return;
    }
    for (const p of packets) {
      if (this.state === "closed" || this.#conn.closed) return;
      try {
        this.#onPacket(p);
      } catch (e) {
        // A bug or an unencodable reply must not take the server down: drop this client.
        const message = e instanceof Error ? e.message : String(e);
        this.core.emit({ type: "protocolError", message: `Internal error: ${message}` }, this);
        this.close("serverError", ReasonCode.ImplementationSpecificError);
        return;
      }
    }
  }

  #onPacket(p: Packet): void {
    this.#lastActivity = Date.now();
    if (this.state === "new") {
      if (p.type === "connect") return this.#onConnect(p);
      this.core.emit({ type: "protocolError", message: `Expected CONNECT, got ${p.type}` }, this);
      return this.close("protocolError");
    }
    switch (p.type) {
      case "publish":
        if (this.state === "provision") return handleProvisionPublish(this, p);
        return handleDevicePublish(this, p);
      case "subscribe":
        return handleSubscribe(this, p);
      case "unsubscribe":
        return handleUnsubscribe(this, p);
      case "pingreq":
        return this.send({ type: "pingresp" });
      case "disconnect":
        // ThingsBoard answers with DISCONNECT 0x00 (v5) and closes.
        return this.close("client", ReasonCode.NormalDisconnection);
      case "connect":
        this.core.emit({ type: "protocolError", message: "Second CONNECT" }, this);
        return this.close("protocolError", ReasonCode.ProtocolError);
      default:
        return; // PUBREC, PUBREL, PUBCOMP, AUTH: ignored, as ThingsBoard does
    }
  }

  #onConnect(p: ConnectPacket): void {
    this.#connectSeen = true;
    this.version = p.protocolVersion;
    this.clientId = p.clientId;
    const base = { clientId: p.clientId, protocolVersion: p.protocolVersion };
    if (this.core.options.mqtt311Only && p.protocolVersion === 5) {
      this.version = 4; // answer in 3.1.1: return code 1, unacceptable protocol version
      const code = ConnectReturnCode.UnacceptableProtocolVersion;
      this.send({ type: "connack", sessionPresent: false, reasonCode: code });
      this.core.emit({ type: "connectRefused", ...base, reasonCode: code }, this);
      return this.close("refused");
    }
    const sessionPresent = !p.clean;
    if (p.username === "provision" || p.clientId === "provision") {
      this.state = "provision";
      this.send({ type: "connack", sessionPresent, reasonCode: 0 });
      this.core.emit({ type: "provisionConnect", ...base }, this);
      return;
    }
    const password = p.password === undefined ? undefined : utf8.decode(p.password);
    const record = this.core.store.authenticate({
      clientId: p.clientId,
      userName: p.username,
      password,
    });
    if (!record) {
      // MqttTransportHandler.onValidateDeviceResponse + ReturnCodeResolver
      let v5: number = ReasonCode.NotAuthorized;
      if (p.username !== undefined || password !== undefined) {
        v5 = ReasonCode.BadUserNameOrPassword;
      } else if (p.clientId.trim() !== "") v5 = ReasonCode.ClientIdentifierNotValid;
      const code = this.version === 5
        ? v5
        : v5 === ReasonCode.ClientIdentifierNotValid
        ? ConnectReturnCode.IdentifierRejected
        : ConnectReturnCode.NotAuthorized;
      this.send({ type: "connack", sessionPresent: false, reasonCode: code });
      this.core.emit({ type: "connectRefused", ...base, reasonCode: code }, this);
      return this.close("refused", v5);
    }
    this.state = "device";
    this.record = record;
    if (record.device.gateway) this.gateway = new GatewayHandler(this);
    this.core.bind(record, this);
    this.send({ type: "connack", sessionPresent, reasonCode: 0 });
    this.#watchInactivity(this.core.options.inactivityTimeout);
    this.core.emit({ type: "connect", device: record.device.name, ...base }, this);
  }

  /** Encodes and queues a packet for the client. */
  send(packet: Packet): void {
    if (this.#conn.closed) return;
    this.#conn.write(encode(packet, { protocolVersion: this.version }));
  }

  /** PUBACK (only for packet ids > 0, as ThingsBoard); the reason code is sent on v5 only. */
  ack(packetId: number, reasonCode = 0): void {
    if (packetId > 0) {
      this.send({
        type: "puback",
        packetId,
        ...(this.version === 5 && reasonCode !== 0 ? { reasonCode } : {}),
      });
    }
  }

  /**
   * Publishes to the client with the QoS of the first matching subscription,
   * or QoS 1 when none matches. Returns the packet id (0 for QoS 0).
   */
  publish(topic: string, payload: string | Uint8Array): number {
    let qos: 0 | 1 = 1;
    for (const [filter, granted] of this.subscriptions) {
      if (filterMatches(filter, topic)) {
        qos = granted === 0 ? 0 : 1;
        break;
      }
    }
    this.#packetId = this.#packetId >= 0xffff ? 1 : this.#packetId + 1;
    const packet: PublishPacket = {
      type: "publish",
      topic,
      payload: typeof payload === "string" ? enc.encode(payload) : payload,
      qos,
      retain: false,
      dup: false,
      ...(qos > 0 ? { packetId: this.#packetId } : {}),
    };
    this.send(packet);
    return qos > 0 ? this.#packetId : 0;
  }

  /** Reports a rejected PUBLISH (`publishRejected` event) and PUBACKs it with `reasonCode`. */
  reject(p: PublishPacket, reasonCode: number, message: string): void {
    this.core.emit({ type: "publishRejected", topic: p.topic, reasonCode, message }, this);
    this.ack(p.packetId ?? 0, reasonCode);
  }

  /**
   * Rejects an invalid payload like `sendResponseForAdaptorErrorOrCloseContext`:
   * PUBACK 0x99 on v5 (QoS > 0), otherwise the connection is closed.
   */
  invalidPayload(p: PublishPacket, message: string): void {
    this.core.emit({
      type: "publishRejected",
      topic: p.topic,
      reasonCode: ReasonCode.PayloadFormatInvalid,
      message,
    }, this);
    if (this.version === 5 && (p.packetId ?? 0) > 0) {
      this.ack(p.packetId!, ReasonCode.PayloadFormatInvalid);
    } else this.close("invalidPayload", ReasonCode.PayloadFormatInvalid);
  }

  /** Closes a device session that stays silent for `inactivityTimeout` ms. */
  #watchInactivity(delay: number): void {
    const timeout = this.core.options.inactivityTimeout;
    if (timeout <= 0) return;
    this.#inactivityTimer = setTimeout(() => {
      this.#inactivityTimer = undefined;
      const idle = Date.now() - this.#lastActivity;
      if (idle >= timeout) this.close("inactivity", ReasonCode.MaximumConnectTime);
      else this.#watchInactivity(timeout - idle);
    }, delay);
  }

  /** Closes the provision session after the configured delay (once). */
  scheduleProvisionClose(): void {
    if (this.#provisionTimer !== undefined) return;
    this.#provisionTimer = setTimeout(() => {
      this.#provisionTimer = undefined;
      this.close("server");
    }, this.core.options.provisionSessionTimeout);
  }

  /**
   * Closes the connection: on v5 sessions a DISCONNECT with `v5ReasonCode`
   * goes first (when given), then the socket is flushed and closed.
   */
  close(reason: DisconnectReason, v5ReasonCode?: number): void {
    if (this.#closeReason !== undefined || this.state === "closed") return;
    this.#closeReason = reason;
    if (this.version === 5 && v5ReasonCode !== undefined && this.#connectSeen) {
      this.#closeCode = v5ReasonCode;
      // Written by hand: ThingsBoard also sends CONNACK codes (0x85..0x87) in DISCONNECT,
      // which the codec (rightly) refuses to encode.
      this.#conn.write(
        v5ReasonCode === 0
          ? new Uint8Array([0xe0, 0x00])
          : new Uint8Array([0xe0, 0x01, v5ReasonCode]),
      );
    }
    this.#conn.end();
  }

  #onClose(error: Error | undefined): void {
    const previous = this.state;
    this.state = "closed";
    if (this.#provisionTimer !== undefined) clearTimeout(this.#provisionTimer);
    if (this.#inactivityTimer !== undefined) clearTimeout(this.#inactivityTimer);
    this.#provisionTimer = undefined;
    this.#inactivityTimer = undefined;
    const reason = this.#closeReason ??
      (error instanceof SlowClientError ? "slowClient" : "connectionLost");
    this.core.unbind(this, previous, {
      reason,
      ...(this.#closeCode !== undefined ? { reasonCode: this.#closeCode } : {}),
      ...(error && reason === "connectionLost" ? { error: error.message } : {}),
    });
  }
}

function varintLength(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}
