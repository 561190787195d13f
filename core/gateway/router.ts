/**
 * Routing of the gateway topics' inbound messages: attribute pushes to the
 * subscriptions, attribute responses to their requests, server-side RPC to
 * the handler, disconnect notices to an event. Nothing here throws into the
 * MQTT client: bad messages and failing callbacks are logged and reported.
 *
 * @module
 */

import type { PublishPacket } from "../codec/types.ts";
import type { Logger } from "../mqtt/mod.ts";
import type { JsonObject, JsonValue } from "../payload.ts";
import { isObject } from "../client/_json.ts";
import { InvalidMessageError } from "../client/errors.ts";
import { RequestTable, type Timers } from "../client/requests.ts";
import { runGuarded, runRpcHandler } from "../client/_callbacks.ts";
import {
  type GatewayRpcRequest,
  parseDisconnectNotice,
  parseGatewayAttributeUpdate,
  parseGatewayRpcRequest,
  parseId,
} from "./messages.ts";
import { GatewaySubscriptions } from "./subscriptions.ts";
import { GatewayTopics } from "./topics.ts";

/**
 * Handles server-side RPC to devices behind the gateway. What it returns (or
 * its Promise resolves to) is the reply; `undefined` sends nothing (reply
 * later with {@linkcode TBGatewayMqttClient.sendRpcReply}); a throw (or
 * rejection) replies `{"error":"<message>"}`.
 *
 * @example
 * ```ts
 * import type { GatewayRpcHandler } from "@tbwasm/sdk/gateway";
 * const handler: GatewayRpcHandler = ({ device, method }) => {
 *   if (method === "ping") return { pong: device };
 *   throw new Error(`unknown method ${method}`);
 * };
 * ```
 */
export type GatewayRpcHandler = (request: GatewayRpcRequest) => unknown;

/** What the router needs from the client. */
export interface GatewayRouterHost {
  /** Diagnostics. */
  logger: Logger;
  /** Timers of the request table. */
  timers: Timers;
  /** Reports an error nobody awaits (the `error` event). */
  report(error: Error): void;
  /** Dispatches the `devicedisconnect` event. */
  notice(device: string, reason: number): void;
  /** Publishes an RPC reply. */
  reply(device: string, id: number, value: unknown): Promise<void>;
}

const decoder = new TextDecoder();

/** The inbound side of a gateway client. */
export class GatewayRouter {
  /** Pending attribute requests. */
  readonly attributeRequests: RequestTable<JsonObject>;
  /** Attribute subscriptions. */
  readonly subscriptions = new GatewaySubscriptions();
  /** The server-side RPC handler. */
  rpcHandler: GatewayRpcHandler | undefined;
  #host: GatewayRouterHost;

  /**
   * Creates the router.
   *
   * @param host Logger, reporting, replies.
   */
  constructor(host: GatewayRouterHost) {
    this.#host = host;
    this.attributeRequests = new RequestTable(host.timers);
  }

  /**
   * Handles one inbound PUBLISH.
   *
   * @param packet The message.
   * @returns `false` when the topic is not a gateway topic.
   */
  route(packet: PublishPacket): boolean {
    switch (packet.topic) {
      case GatewayTopics.attributes:
        this.#parsed(packet, "gateway attribute update", (json) => this.#onUpdate(json));
        return true;
      case GatewayTopics.attributeResponse:
        this.#parsed(packet, "gateway attribute response", (json) => this.#onResponse(json));
        return true;
      case GatewayTopics.rpc:
        this.#parsed(packet, "gateway RPC request", (json) => this.#onRpc(json));
        return true;
      case GatewayTopics.disconnect:
        this.#parsed(packet, "gateway disconnect notice", (json) => {
          const { device, reason } = parseDisconnectNotice(json);
          this.#host.logger.warn("ThingsBoard disconnected a device behind the gateway", {
            device,
            reason,
          });
          this.#host.notice(device, reason);
        });
        return true;
      default:
        return false;
    }
  }

  #parsed(packet: PublishPacket, what: string, handle: (json: JsonValue) => void): void {
    let json: JsonValue;
    try {
      json = JSON.parse(decoder.decode(packet.payload));
    } catch (cause) {
      return this.#invalid(
        new InvalidMessageError(`Cannot parse ${what}: not JSON`, packet.topic, { cause }),
      );
    }
    try {
      handle(json);
    } catch (e) {
      this.#invalid(
        new InvalidMessageError(`Cannot parse ${what}: ${(e as Error).message}`, packet.topic),
      );
    }
  }

  #invalid(error: InvalidMessageError): void {
    this.#host.logger.warn("Dropped an invalid message", {
      topic: error.topic,
      error: error.message,
    });
    this.#host.report(error);
  }

  /**
   * Runs a user callback, catching what it throws or rejects with.
   *
   * @param what Description for the log.
   * @param fn The callback.
   */
  guard(what: string, fn: () => unknown): void {
    runGuarded(this.#host.logger, (error) => this.#host.report(error), what, fn);
  }

  #onUpdate(json: JsonValue): void {
    const update = parseGatewayAttributeUpdate(json);
    const callbacks = this.subscriptions.match(update.device);
    if (callbacks.length === 0) {
      this.#host.logger.debug("Gateway attribute update matched no subscription", {
        device: update.device,
      });
    }
    for (const callback of callbacks) {
      this.guard("Gateway attribute callback", () => callback(update));
    }
  }

  #onResponse(json: JsonValue): void {
    const id = isObject(json) ? parseId(json.id) : undefined;
    if (!isObject(json) || id === undefined) throw new TypeError('expected an object with an "id"');
    if (!this.attributeRequests.resolve(id, json)) {
      this.#host.logger.warn("Ignored a late or unknown gateway attribute response", { id });
    }
  }

  #onRpc(json: JsonValue): void {
    const request = parseGatewayRpcRequest(json);
    const handler = this.rpcHandler;
    if (!handler) {
      this.#host.logger.warn("Received a gateway RPC but no handler is set; not replying", {
        device: request.device,
        id: request.id,
        method: request.method,
      });
      return;
    }
    const { device, id } = request;
    runRpcHandler(handler, request, {
      reply: (value) => this.#host.reply(device, id, value),
      report: (error) => this.#host.report(error),
      logger: this.#host.logger,
      name: "Gateway RPC",
      fields: { device, id, method: request.method },
    });
  }
}
