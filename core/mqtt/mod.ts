/**
 * A generic, robust MQTT 5 / 3.1.1 client (QoS 0 and 1) for Deno: TLS,
 * keepalive, reconnect with backoff, resubscription, DUP resend, bounded
 * offline queue, batched writes. The ThingsBoard client is built on it.
 *
 * @example
 * ```ts ignore
 * import { MqttClient } from "@tbwasm/sdk/mqtt";
 * await using client = new MqttClient({ host: "127.0.0.1" });
 * await client.connect();
 * await client.publish("a/b", new TextEncoder().encode("hi"), { qos: 1 });
 * ```
 *
 * @module
 */

export * from "./client.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./options.ts";
export type { ReconnectOptions } from "./backoff.ts";
export { Backoff } from "./backoff.ts";
export type { Clock, TimerHandle } from "./clock.ts";
export { realClock } from "./clock.ts";
export type { PublishResult } from "./inflight.ts";
export type { QueueOptions } from "./queue.ts";
export type { TlsOptions, Transport, TransportFactory, TransportOptions } from "./transport.ts";
export { connectTransport } from "./transport.ts";
export { describeReasonCode } from "./reason_codes.ts";
export type * from "../codec/types.ts";
