/**
 * Typed errors of the generic MQTT client. Every error that carries a code
 * from the server exposes it as a number; messages never contain user names,
 * passwords or tokens.
 *
 * @module
 */

import { describeReasonCode } from "./reason_codes.ts";

const V4_TO_V5: Readonly<Record<number, number>> = { 1: 0x84, 2: 0x85, 3: 0x88, 4: 0x86, 5: 0x87 };
const V5_TO_V4: Readonly<Record<number, 1 | 2 | 3 | 4 | 5>> = {
  0x84: 1,
  0x85: 2,
  0x86: 4,
  0x87: 5,
  0x8a: 5,
  0x8c: 5,
};

/**
 * The server answered CONNECT with a refusal (CONNACK return code 1..5 on
 * MQTT 3.1.1, reason code >= 0x80 on MQTT 5).
 *
 * @example Telling a bad access token from other failures
 * ```ts
 * import { ConnectionRefusedError } from "./errors.ts";
 * const e = new ConnectionRefusedError(5, 4);
 * console.log(e.returnCode, e.reasonCode.toString(16)); // 5 "87"
 * ```
 */
export class ConnectionRefusedError extends Error {
  /** MQTT 5 reason code (on 3.1.1, the v5 code equivalent to the return code). */
  readonly reasonCode: number;
  /** MQTT 3.1.1 return code 1..5 (on MQTT 5, the closest equivalent; 3 when none is closer). */
  readonly returnCode: 1 | 2 | 3 | 4 | 5;
  /** Protocol level the refusal was received on. */
  readonly protocolVersion: 4 | 5;

  /**
   * Creates the error from the code as received.
   *
   * @param code CONNACK return code (level 4) or reason code (level 5).
   * @param protocolVersion Level of the CONNACK.
   * @param detail Optional explanation appended to the message (e.g. a ThingsBoard meaning).
   */
  constructor(code: number, protocolVersion: 3 | 4 | 5, detail?: string) {
    const level = protocolVersion === 5 ? 5 : 4;
    super(
      `Cannot connect: the server refused the connection (${describeReasonCode(code, level)})` +
        (detail ? `: ${detail}` : ""),
    );
    this.name = "ConnectionRefusedError";
    this.protocolVersion = level;
    if (level === 5) {
      this.reasonCode = code;
      this.returnCode = V5_TO_V4[code] ?? 3;
    } else {
      this.reasonCode = V4_TO_V5[code] ?? 0x80;
      this.returnCode = code >= 1 && code <= 5 ? code as 1 | 2 | 3 | 4 | 5 : 3;
    }
  }
}

/**
 * The connection ended: the socket closed, the server sent DISCONNECT (its
 * MQTT 5 reason code is in `reasonCode`), keepalive expired, or the client
 * was disconnected before an operation completed.
 *
 * @example
 * ```ts
 * import { ConnectionClosedError } from "./errors.ts";
 * const e = new ConnectionClosedError("Connection closed by the server (0x8E session taken over)", 0x8e);
 * console.log(e.reasonCode); // 142
 * ```
 */
export class ConnectionClosedError extends Error {
  /** MQTT 5 DISCONNECT reason code, when the server sent one. */
  readonly reasonCode: number | undefined;
  /**
   * The server's Server Reference (MQTT 5 DISCONNECT 0x9C use another server,
   * 0x9D server moved): where it asks the client to connect instead.
   */
  readonly serverReference: string | undefined;

  /**
   * Creates the error.
   *
   * @param message Message in std style, without trailing period.
   * @param reasonCode The server's DISCONNECT reason code, if any.
   * @param options Standard error options (`cause`), and the server's Server Reference.
   */
  constructor(
    message: string,
    reasonCode?: number,
    options?: ErrorOptions & { serverReference?: string },
  ) {
    super(message, options);
    this.name = "ConnectionClosedError";
    this.reasonCode = reasonCode;
    this.serverReference = options?.serverReference;
  }
}

/**
 * The server answered a QoS 1 PUBLISH with an MQTT 5 PUBACK reason code
 * >= 0x80 (e.g. 0x99 payload format invalid, 0x90 topic name invalid).
 *
 * @example
 * ```ts
 * import { PublishError } from "./errors.ts";
 * const e = new PublishError("v1/devices/me/telemetry", 0x99);
 * console.log(e.message); // Cannot publish to "v1/devices/me/telemetry": the server answered 0x99 payload format invalid
 * ```
 */
export class PublishError extends Error {
  /** The MQTT 5 PUBACK reason code. */
  readonly reasonCode: number;
  /** Topic of the refused message. */
  readonly topic: string;

  /**
   * Creates the error.
   *
   * @param topic Topic of the refused message.
   * @param reasonCode The PUBACK reason code.
   * @param reasonString The server's Reason String property, if any.
   */
  constructor(topic: string, reasonCode: number, reasonString?: string) {
    super(
      `Cannot publish to "${topic}": the server answered ${describeReasonCode(reasonCode, 5)}` +
        (reasonString ? ` (${reasonString})` : ""),
    );
    this.name = "PublishError";
    this.reasonCode = reasonCode;
    this.topic = topic;
  }
}

/**
 * The server refused one or more topic filters of a SUBSCRIBE (SUBACK code
 * >= 0x80). The accepted filters of the same call stay subscribed.
 *
 * @example
 * ```ts
 * import { SubscribeError } from "./errors.ts";
 * const e = new SubscribeError(["a/#", "b"], [0x80, 1]);
 * console.log(e.failedTopicFilters); // ["a/#"]
 * ```
 */
export class SubscribeError extends Error {
  /** All SUBACK codes of the call, in request order. */
  readonly reasonCodes: number[];
  /** The refused topic filters. */
  readonly failedTopicFilters: string[];
  /** The first failure code. */
  readonly reasonCode: number;

  /**
   * Creates the error.
   *
   * @param topicFilters Topic filters of the SUBSCRIBE, in order.
   * @param reasonCodes SUBACK codes, in the same order.
   * @param protocolVersion Level of the SUBACK (for the message).
   */
  constructor(topicFilters: string[], reasonCodes: number[], protocolVersion: 4 | 5 = 5) {
    const failed = topicFilters.filter((_, i) => (reasonCodes[i] ?? 0x80) >= 0x80);
    const code = reasonCodes.find((c) => c >= 0x80) ?? 0x80;
    const why = protocolVersion === 5 ? describeReasonCode(code, 5) : "0x80 failure";
    super(
      `Cannot subscribe to ${failed.map((f) => `"${f}"`).join(", ")}: the server answered ${why}`,
    );
    this.name = "SubscribeError";
    this.reasonCodes = reasonCodes;
    this.failedTopicFilters = failed;
    this.reasonCode = code;
  }
}

/**
 * A packet is larger than the server accepts (its MQTT 5 Maximum Packet
 * Size, or the client's configured limit). Thrown before anything is sent.
 *
 * @example
 * ```ts
 * import { PayloadTooLargeError } from "./errors.ts";
 * const e = new PayloadTooLargeError(70_000, 65_536);
 * console.log(e.size, e.limit); // 70000 65536
 * ```
 */
export class PayloadTooLargeError extends RangeError {
  /** Size of the packet in bytes. */
  readonly size: number;
  /** Largest packet size allowed, in bytes. */
  readonly limit: number;

  /**
   * Creates the error.
   *
   * @param size Packet size in bytes.
   * @param limit Limit in bytes.
   * @param what What was refused, for the message.
   */
  constructor(size: number, limit: number, what = "PUBLISH") {
    const hint = /^(UN)?SUBSCRIBE\b/.test(what)
      ? "use fewer or shorter topic filters per request, or raise the server's limit"
      : "send less data per message (split it) or raise the server's limit";
    super(`Cannot send ${what}: the packet is ${size} bytes, the limit is ${limit} bytes; ${hint}`);
    this.name = "PayloadTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The offline queue is full and its policy is `"reject"`; the message was
 * not accepted.
 *
 * @example
 * ```ts
 * import { QueueFullError } from "./errors.ts";
 * console.log(new QueueFullError(1000).maxSize); // 1000
 * ```
 */
export class QueueFullError extends RangeError {
  /** Capacity of the queue. */
  readonly maxSize: number;

  /**
   * Creates the error.
   *
   * @param maxSize Capacity of the queue.
   */
  constructor(maxSize: number) {
    super(
      `Cannot queue message: the queue is full (${maxSize} messages); await publish() or flush() before sending more, or raise queue.maxSize`,
    );
    this.name = "QueueFullError";
    this.maxSize = maxSize;
  }
}

/**
 * A queued message was dropped to make room for a newer one (queue policy
 * `"drop-oldest"`). It was never sent.
 *
 * @example
 * ```ts
 * import { MessageDroppedError } from "./errors.ts";
 * const e = new MessageDroppedError("t", 1000);
 * console.log(e.topic); // "t"
 * ```
 */
export class MessageDroppedError extends Error {
  /** Topic of the dropped message. */
  readonly topic: string;

  /**
   * Creates the error.
   *
   * @param topic Topic of the dropped message.
   * @param maxSize Capacity of the queue.
   */
  constructor(topic: string, maxSize: number) {
    super(
      `Cannot send message to "${topic}": dropped from the full queue (${maxSize} messages) for a newer one; await flush() between batches or raise queue.maxSize`,
    );
    this.name = "MessageDroppedError";
    this.topic = topic;
  }
}

/**
 * The server broke the MQTT protocol (a packet a server may not send, a
 * second CONNACK, a Topic Alias the client did not allow, Session Present
 * after a clean start). On MQTT 5 the client tells the server with a
 * DISCONNECT carrying `reasonCode` (0x82 protocol error, 0x94 topic alias
 * invalid), then closes the connection and reconnects.
 *
 * @example
 * ```ts
 * import { ProtocolViolationError } from "./errors.ts";
 * const e = new ProtocolViolationError("Unexpected CONNACK on an open connection");
 * console.log(e.name, e.reasonCode); // "ProtocolViolationError" 130
 * ```
 */
export class ProtocolViolationError extends Error {
  /** MQTT 5 reason code the client sends in its DISCONNECT (0x82 unless more specific). */
  readonly reasonCode: number;

  /**
   * Creates the error.
   *
   * @param message Message in std style.
   * @param reasonCode DISCONNECT reason code for the server (MQTT 5). @default {0x82}
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, reasonCode = 0x82, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolViolationError";
    this.reasonCode = reasonCode;
  }
}
