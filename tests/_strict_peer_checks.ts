/**
 * The protocol conformance checks of the strict MQTT peer (`_strict_peer.ts`):
 * the normative statements a server can observe in what a client sends, from
 * the raw frame (fixed header flags, fixed sizes, UTF-8 strings, CONNECT
 * flags) to the parsed packet against the connection's state (packet order,
 * keepalive, the CONNACK's limits, Packet Identifiers in flight).
 *
 * Each check reports a breach through a {@linkcode Violate} callback naming
 * the statement; the packet-level checks also keep the connection's
 * bookkeeping (Packet Identifiers in flight, protocol level, DISCONNECT time)
 * on a {@linkcode CheckedConn}, which the peer's `PeerConn` satisfies.
 *
 * Where `mqtt-packet` is laxer than the specification these checks add what
 * it leaves out (see {@linkcode checkRemainingLength}, {@linkcode checkFrame},
 * {@linkcode checkConnect}, {@linkcode checkProperties}):
 * - its parser ignores bytes left over inside a packet's Remaining Length;
 * - it accepts non-minimal Variable Byte Integers [MQTT-1.5.5-1];
 * - it accepts a 3.1.1 password without a user name [MQTT-3.1.2-22 (3.1.1)];
 * - it decodes ill-formed UTF-8 with replacement characters instead of
 *   refusing it [MQTT-1.5.4-1], and accepts U+0000 [MQTT-1.5.4-2];
 * - it accepts QoS > 0 PUBLISH / SUBSCRIBE / UNSUBSCRIBE with Packet
 *   Identifier 0 [MQTT-2.2.1-3];
 * - it turns a property that may appear once into an array instead of
 *   refusing it (Protocol Error), and accepts Receive Maximum / Maximum
 *   Packet Size 0;
 * - it accepts protocol name "MQIsdp" with any level, and wildcards in a
 *   PUBLISH topic [MQTT-3.3.2-2].
 *
 * @module
 */

import mqtt from "mqtt-packet";
import {
  bytesOf,
  type MP,
  MULTI,
  readVbi,
  type Rec,
  sameBytes,
  strictUtf8,
  vbiSize,
} from "./_strict_peer_wire.ts";

/** Records a breach of the normative `statement`; `what` says what the client did. */
export type Violate = (statement: string, what: string) => void;

/** The connection state the checks read, and the bookkeeping they keep up to date. */
export interface CheckedConn {
  /** Protocol level from the CONNECT (5 until then); set by {@linkcode checkConnect}. */
  version: 4 | 5;
  /** The CONNECT, once received; set by {@linkcode checkConnect}. */
  connect: MP | undefined;
  /** The CONNACK the peer sent, once sent. */
  readonly connackSent: MP | undefined;
  /** Effective keepalive in seconds. */
  readonly keepalive: number;
  /** Packets recorded so far (the one being checked not yet among them). */
  readonly packets: readonly Rec[];
  /** When the client sent DISCONNECT; set by {@linkcode checkPacket}. */
  disconnectAt: number | undefined;
  /** Client QoS 1 PUBLISH not yet acknowledged: id -> packet. */
  readonly unacked: Map<number, MP>;
  /** Highest number of unacknowledged client QoS 1 PUBLISH seen at once. */
  maxUnacked: number;
  /** Client SUBSCRIBE/UNSUBSCRIBE ids awaiting SUBACK/UNSUBACK. */
  readonly pendingSubIds: Set<number>;
  /** Server PUBLISH (QoS > 0) ids awaiting PUBACK/PUBREC from the client. */
  readonly serverInflight: Map<number, MP>;
  /** Server QoS 2 ids for which the client sent PUBREC and the peer PUBREL. */
  readonly serverReleased: Set<number>;
}

/** Checks that a Remaining Length of `value` took the fewest `bytes` [MQTT-1.5.5-1]. */
export function checkRemainingLength(value: number, bytes: number, violate: Violate): void {
  if (bytes !== vbiSize(value)) {
    violate("MQTT-1.5.5-1", "Remaining Length not encoded in the fewest bytes");
  }
}

/** Checks the fixed header flags of a frame of packet type `type` [MQTT-2.2.2-1]. */
export function checkHeaderFlags(type: string, flags: number, violate: Violate): void {
  if (type === "subscribe" && flags !== 2) {
    violate("MQTT-3.8.1-1", `SUBSCRIBE fixed header flags 0b${flags.toString(2)}`);
  } else if (type === "unsubscribe" && flags !== 2) {
    violate("MQTT-3.10.1-1", `UNSUBSCRIBE fixed header flags 0b${flags.toString(2)}`);
  } else if (type === "pubrel" && flags !== 2) {
    violate("MQTT-3.6.1-1", `PUBREL fixed header flags 0b${flags.toString(2)}`);
  } else if (type !== "publish" && !["subscribe", "unsubscribe", "pubrel"].includes(type)) {
    if (flags !== 0) violate("MQTT-2.2.2-1", `${type} fixed header flags ${flags}`);
  }
}

/**
 * Checks a client frame's bytes where mqtt-packet is lax: PUBLISH QoS and DUP flags, the size of
 * fixed-size packets, then the strings and Packet Identifiers ({@linkcode checkStrings}).
 * `version` is the protocol level negotiated so far.
 */
export function checkFrame(
  type: string,
  flags: number,
  body: Uint8Array,
  version: 4 | 5,
  violate: Violate,
): void {
  if (type === "publish") {
    const qos = (flags >> 1) & 3;
    if (qos === 3) violate("MQTT-3.3.1-4", "PUBLISH with QoS 3");
    if (qos === 0 && (flags & 8)) violate("MQTT-3.3.1-2", "QoS 0 PUBLISH with DUP=1");
  }
  // Fixed-size packets mqtt-packet does not measure.
  if ((type === "pingreq" || (type === "disconnect" && version === 4)) && body.length) {
    violate("MQTT-3.12.1 / 3.14.1", `${type} with Remaining Length ${body.length}`);
  }
  if (["puback", "pubrec", "pubrel", "pubcomp"].includes(type)) {
    if (version === 4 ? body.length !== 2 : body.length < 2) {
      violate("MQTT-3.4.2", `${type} with Remaining Length ${body.length}`);
    }
    if (version === 5 && body.length >= 4) {
      const pl = readVbi(body, 3);
      if (!pl || pl.bytes < 0 || 3 + pl.bytes + pl.value !== body.length) {
        violate("MQTT-3.4.2.2", `${type} property length does not fill the packet`);
      }
    }
  }
  // UTF-8 strings checked on raw bytes: mqtt-packet decodes them leniently.
  checkStrings(type, flags, body, violate);
}

/**
 * Checks the UTF-8 strings and Packet Identifiers of a PUBLISH, SUBSCRIBE or UNSUBSCRIBE on its raw
 * `body` (mqtt-packet decodes strings leniently and accepts Packet Identifier 0).
 */
export function checkStrings(
  type: string,
  flags: number,
  body: Uint8Array,
  violate: Violate,
): void {
  const str = (off: number, statementField: string): number => {
    if (off + 2 > body.length) return off;
    const len = (body[off]! << 8) | body[off + 1]!;
    const s = body.subarray(off + 2, off + 2 + len);
    try {
      const text = strictUtf8.decode(s);
      if (text.includes("\u0000")) {
        violate("MQTT-1.5.4-2", `${statementField} contains U+0000`);
      }
    } catch {
      violate("MQTT-1.5.4-1", `${statementField} is ill-formed UTF-8`);
    }
    return off + 2 + len;
  };
  if (type === "publish") {
    str(0, "PUBLISH topic");
    if (((flags >> 1) & 3) > 0 && body.length >= 2) {
      const tl = (body[0]! << 8) | body[1]!;
      if (body.length >= tl + 4 && ((body[tl + 2]! << 8) | body[tl + 3]!) === 0) {
        violate("MQTT-2.2.1-3", "QoS > 0 PUBLISH with Packet Identifier 0");
      }
    }
  } else if (type === "subscribe" || type === "unsubscribe") {
    if (body.length >= 2 && ((body[0]! << 8) | body[1]!) === 0) {
      violate("MQTT-2.2.1-3", `${type.toUpperCase()} with Packet Identifier 0`);
    }
  }
}

/**
 * Checks one parsed packet against the connection's state (`lastT`: arrival of the previous packet,
 * 0 for none; `connectFlags`: the CONNECT flags byte as sent) and keeps `conn`'s bookkeeping.
 */
export function checkPacket(
  rec: Rec,
  conn: CheckedConn,
  lastT: number,
  connectFlags: number,
  violate: Violate,
): void {
  const p = rec.p;
  if (conn.disconnectAt !== undefined) {
    violate("MQTT-3.14.4-1", `${p.cmd} sent after the client's DISCONNECT`);
  }
  if (conn.packets.length === 0) {
    if (p.cmd !== "connect") {
      violate("MQTT-3.1.0-1", `first packet is ${p.cmd}, not CONNECT`);
      return;
    }
  } else if (p.cmd === "connect") {
    violate("MQTT-3.1.0-2", "second CONNECT on one connection");
  }
  if (!["connect", "disconnect", "auth"].includes(p.cmd) && !rec.afterConnack) {
    // The strict expectation of this suite: a client waits for CONNACK (MQTT 5 only allows
    // AUTH/DISCONNECT before it when authenticating [MQTT-3.1.2-30]; a refusing server
    // ignores everything after the CONNECT [MQTT-3.1.4-6]).
    violate("MQTT-3.1.0-1/3.1.4-6 (strict)", `${p.cmd} sent before CONNACK`);
  }
  const k = conn.keepalive;
  if (
    // 250 ms of slack for a busy machine's timers (CI shares its two cores).
    conn.connackSent && k > 0 && lastT > 0 && rec.t - lastT > k * 1000 + 250
  ) {
    violate(
      conn.version === 5 ? "MQTT-3.1.2-20" : "MQTT-3.1.2-23",
      `${Math.round(rec.t - lastT)} ms between client packets, keepalive ${k} s`,
    );
  }
  if (p.properties) checkProperties(p, violate);
  if (conn.connackSent?.properties?.maximumPacketSize !== undefined) {
    const max = conn.connackSent.properties.maximumPacketSize as number;
    if (rec.raw.length > max) {
      violate("MQTT-3.2.2-15", `${p.cmd} of ${rec.raw.length} bytes > Maximum ${max}`);
    }
  }
  switch (p.cmd) {
    case "connect":
      return checkConnect(rec, conn, connectFlags, violate);
    case "publish":
      return checkPublish(p, conn, violate);
    case "subscribe":
    case "unsubscribe": {
      const id = p.messageId ?? 0;
      if (conn.unacked.has(id) || conn.pendingSubIds.has(id)) {
        violate("MQTT-2.2.1-3", `${p.cmd} reuses in-flight Packet Identifier ${id}`);
      }
      conn.pendingSubIds.add(id);
      const n = p.cmd === "subscribe" ? p.subscriptions?.length : p.unsubscriptions?.length;
      if (!n) {
        violate(
          p.cmd === "subscribe" ? "MQTT-3.8.3-2" : "MQTT-3.10.3-2",
          `${p.cmd} without topic filters`,
        );
      }
      for (const s of p.subscriptions ?? []) {
        if (conn.version === 4 && (s.nl || s.rap || s.rh)) {
          violate("MQTT-3.8.3-4 (3.1.1)", "3.1.1 SUBSCRIBE reserved option bits set");
        }
      }
      return;
    }
    case "puback": {
      const id = p.messageId ?? 0;
      const sent = conn.serverInflight.get(id);
      if (!sent || sent.qos !== 1) {
        violate(
          conn.version === 5 ? "MQTT-4.3.2-4" : "MQTT-4.3.2-2",
          `PUBACK ${id} matches no QoS 1 PUBLISH in flight from the server`,
        );
      } else conn.serverInflight.delete(id);
      return;
    }
    case "pubrec": {
      const id = p.messageId ?? 0;
      const sent = conn.serverInflight.get(id);
      if (!sent || sent.qos !== 2) {
        violate("MQTT-4.3.3-8", `PUBREC ${id} matches no QoS 2 PUBLISH from the server`);
      }
      return;
    }
    case "pubcomp": {
      const id = p.messageId ?? 0;
      if (!conn.serverReleased.delete(id)) {
        violate("MQTT-4.3.3-11", `PUBCOMP ${id} without a PUBREL`);
      }
      return;
    }
    case "disconnect":
      conn.disconnectAt = rec.t;
      return;
  }
}

/**
 * Checks the CONNECT flags byte as sent (mqtt-packet stops at the first fault it sees).
 * @returns The flags byte, for {@linkcode checkConnect}.
 */
export function checkConnectFlags(body: Uint8Array, violate: Violate): number {
  const nameLen = (body[0]! << 8) | body[1]!;
  const level = body[2 + nameLen] ?? 0;
  const flags = body[2 + nameLen + 1] ?? 0;
  if (flags & 1) violate("MQTT-3.1.2-3", "CONNECT reserved flag is 1");
  const will = (flags & 0x04) !== 0;
  if (!will && (flags & 0x18)) {
    violate(level === 5 ? "MQTT-3.1.2-11" : "MQTT-3.1.2-13", "Will QoS != 0 without Will");
  }
  if (!will && (flags & 0x20)) {
    violate(level === 5 ? "MQTT-3.1.2-13" : "MQTT-3.1.2-15", "Will Retain without Will");
  }
  if (will && ((flags >> 3) & 3) === 3) violate("MQTT-3.1.2-12", "Will QoS 3");
  if (level === 4 && (flags & 0x40) && !(flags & 0x80)) {
    violate("MQTT-3.1.2-22 (3.1.1)", "password flag without user name flag");
  }
  return flags;
}

/**
 * Checks a CONNECT (protocol name and level, user name and password against their flags, the
 * whole packet consumed) and records it and its protocol level on `conn`.
 */
export function checkConnect(
  rec: Rec,
  conn: CheckedConn,
  connectFlags: number,
  violate: Violate,
): void {
  const p = rec.p;
  conn.connect = p;
  const level = p.protocolVersion;
  if (!(p.protocolId === "MQTT" && (level === 4 || level === 5))) {
    violate("MQTT-3.1.2-1", `protocol name/level ${p.protocolId}/${level}`);
  }
  conn.version = level === 4 ? 4 : 5;
  const flags = connectFlags;
  const user = (flags & 0x80) !== 0;
  const pass = (flags & 0x40) !== 0;
  if ((p.username !== undefined) !== user) {
    violate("MQTT-3.1.2-16/17", "user name presence does not match its flag");
  }
  if ((p.password !== undefined) !== pass) {
    violate("MQTT-3.1.2-18/19", "password presence does not match its flag");
  }
  if (level === 4 && p.clientId === "" && !p.clean) {
    violate("MQTT-3.1.3-7 (3.1.1)", "empty Client Identifier with CleanSession 0");
  }
  // The whole packet must be consumed (mqtt-packet ignores leftovers): regenerate and compare.
  // mqtt-packet's generate refuses a password without a user name, which MQTT 5 allows
  // (3.1.2.9): regenerate without it and add its length back.
  const alone = level === 5 && pass && !user && p.password !== undefined;
  let size: number;
  try {
    const q = alone ? { ...p, password: undefined } : p;
    size = mqtt.generate(q as never, { protocolVersion: level } as never).length;
  } catch (e) {
    violate("MQTT-3.1", `mqtt-packet cannot re-encode the CONNECT: ${e}`);
    return;
  }
  if (alone) size += 2 + p.password!.length + (rec.raw.length - 2 > 127 ? 1 : 0);
  const again = { length: size };
  if (again.length !== rec.raw.length) {
    violate(
      "MQTT-3.1 length",
      `CONNECT is ${rec.raw.length} bytes, its fields make ${again.length}`,
    );
  }
}

/**
 * Checks a client PUBLISH against the CONNACK's limits and the Packet Identifiers in flight, and
 * tracks it in `conn.unacked` while QoS > 0.
 */
export function checkPublish(p: MP, conn: CheckedConn, violate: Violate): void {
  const topic = p.topic ?? "";
  const alias = p.properties?.topicAlias;
  if (/[+#]/.test(topic)) violate("MQTT-3.3.2-2", `wildcard in PUBLISH topic "${topic}"`);
  if (topic === "" && alias === undefined) {
    violate("MQTT-3.3.2-1", "empty topic without Topic Alias");
  }
  const props = conn.connackSent?.properties ?? {};
  if (alias !== undefined) {
    const tam = (props.topicAliasMaximum as number | undefined) ?? 0;
    if (tam === 0) {
      violate("MQTT-3.2.2-18", "Topic Alias sent, the server allows none");
    } else if ((alias as number) > tam || alias === 0) {
      violate("MQTT-3.2.2-17", `Topic Alias ${alias} out of 1..${tam}`);
    }
  }
  if (p.properties?.subscriptionIdentifier !== undefined) {
    violate("MQTT-3.3.4-6", "client PUBLISH with Subscription Identifier");
  }
  const maxQos = props.maximumQoS as number | undefined;
  if (maxQos !== undefined && (p.qos ?? 0) > maxQos) {
    violate("MQTT-3.2.2-11", `PUBLISH QoS ${p.qos} > Maximum QoS ${maxQos}`);
  }
  if (props.retainAvailable === false && p.retain) {
    violate("MQTT-3.2.2-14", "retained PUBLISH, Retain Available is 0");
  }
  if ((p.qos ?? 0) === 0) return;
  const id = p.messageId ?? 0;
  const prev = conn.unacked.get(id);
  if (p.dup) {
    if (prev && (prev.topic !== p.topic || !sameBytes(bytesOf(prev), bytesOf(p)))) {
      violate("MQTT-4.3.2 / 3.3.1-1", `DUP PUBLISH ${id} differs from the original`);
    }
  } else if (prev || conn.pendingSubIds.has(id)) {
    violate("MQTT-2.2.1-3", `new PUBLISH reuses in-flight Packet Identifier ${id}`);
  }
  conn.unacked.set(id, p);
  conn.maxUnacked = Math.max(conn.maxUnacked, conn.unacked.size);
  const rm = (props.receiveMaximum as number | undefined) ?? 65535;
  if (conn.version === 5 && conn.unacked.size > rm) {
    violate(
      "MQTT-3.3.4-7",
      `${conn.unacked.size} QoS 1 PUBLISH unacknowledged, Receive Maximum ${rm}`,
    );
  }
}

/** Checks that no single-use property repeats and Receive Maximum / Maximum Packet Size are not 0. */
export function checkProperties(p: MP, violate: Violate): void {
  for (const [name, value] of Object.entries(p.properties ?? {})) {
    if (Array.isArray(value) && !MULTI.has(name)) {
      violate("MQTT-2.2.2 properties", `${p.cmd} repeats property ${name}`);
    }
    if ((name === "receiveMaximum" || name === "maximumPacketSize") && value === 0) {
      violate("MQTT-3.1.2 properties", `${p.cmd} ${name} is 0`);
    }
  }
}
