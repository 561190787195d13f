/**
 * Routing of inbound PUBLISHes to the device client's pieces: attribute
 * pushes to the subscription registry, responses to the correlation tables,
 * server-side RPC to the handler. Nothing here throws into the caller's
 * loop: bad messages and failing callbacks are logged and reported.
 *
 * @module
 */

import type { PublishPacket } from "../codec/types.ts";
import type { Logger } from "../mqtt/mod.ts";
import type { JsonValue } from "../payload.ts";
import {
  type AttributesResponse,
  AttributeSubscriptions,
  parseAttributeResponse,
  parseAttributeUpdate,
} from "./attributes.ts";
import { InvalidMessageError } from "./errors.ts";
import { Inbox } from "./poll.ts";
import { RequestTable, type Timers } from "./requests.ts";
import { parseRpcRequest, type RpcHandler, type RpcRequest } from "./rpc.ts";
import { runGuarded, runRpcHandler } from "./_callbacks.ts";
import { type DeviceTopics, parseTopicId, Topics } from "./topics.ts";

/** What the router needs from the client. */
export interface RouterHost {
  /** Diagnostics. */
  logger: Logger;
  /** Reports an error nobody awaits (the client's `error` event). */
  report(error: Error): void;
  /** Publishes a reply to a server-side RPC. */
  reply(id: number, value: unknown): Promise<void>;
  /** The client's topic family. */
  topics: DeviceTopics;
  /** `"poll"` queues callbacks in the inbox. */
  dispatch: "auto" | "poll";
  /** Inbox capacity. */
  pollQueueSize: number;
  /** Timers. */
  timers: Timers;
}

/** Where OTA messages go (binary chunks: never JSON-parsed here). */
export interface OtaRoute {
  /** Handles one `v2/fw/…` or `v2/sw/…` message. */
  route(packet: PublishPacket): void;
  /** Fails running downloads (the client is closing). */
  close(error: Error): void;
}

const decoder = new TextDecoder();

/** The inbound side of a device client. */
export class Router {
  /** Pending attribute requests. */
  readonly attributeRequests: RequestTable<AttributesResponse>;
  /** Pending client-side RPC calls. */
  readonly rpcCalls: RequestTable<JsonValue>;
  /** Shared-attribute subscriptions. */
  readonly subscriptions = new AttributeSubscriptions();
  /** The poll inbox. */
  readonly inbox: Inbox;
  /** The server-side RPC handler. */
  rpcHandler: RpcHandler | undefined;
  /** Receives `v2/fw/…` and `v2/sw/…` messages (OTA chunks and errors). */
  ota: OtaRoute | undefined;
  #host: RouterHost;

  /**
   * Creates the router.
   *
   * @param host Logger, error reporting, RPC reply and dispatch mode.
   */
  constructor(host: RouterHost) {
    this.#host = host;
    this.attributeRequests = new RequestTable(host.timers);
    this.rpcCalls = new RequestTable(host.timers);
    this.inbox = new Inbox(host.pollQueueSize, (n) => {
      host.logger.warn("Dropped the oldest message from the full poll inbox", {
        dropped: n,
        capacity: host.pollQueueSize,
      });
    }, host.timers);
  }

  /**
   * Runs `task` now (`"auto"`) or queues it for `checkForMsg()` (`"poll"`).
   *
   * @param task Runs user callbacks; must not throw.
   */
  dispatch(task: () => void): void {
    if (this.#host.dispatch === "poll") this.inbox.push(task);
    else task();
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

  /**
   * Handles one inbound PUBLISH.
   *
   * @param packet The message.
   */
  route(packet: PublishPacket): void {
    const { topic } = packet;
    const topics = this.#host.topics;
    if (topic === topics.attributes) return this.#onAttributeUpdate(packet);
    if (this.ota && (topic.startsWith("v2/fw/") || topic.startsWith("v2/sw/"))) {
      return this.ota.route(packet);
    }
    let id = parseTopicId(topic, topics.attributeResponse);
    if (id !== undefined) return this.#onAttributeResponse(id, packet);
    id = parseTopicId(topic, topics.rpcRequest);
    if (id !== undefined) return this.#onRpcRequest(id, packet);
    // Replies come in the family of the newest call, and the session-limits
    // call always goes out on v1: accept both (ids never collide).
    id = parseTopicId(topic, topics.rpcResponse) ?? parseTopicId(topic, Topics.rpcResponse);
    if (id !== undefined) return this.#onRpcResponse(id, packet);
    this.#host.logger.debug("Ignored a message on an unexpected topic", { topic });
  }

  #parse(packet: PublishPacket, what: string): JsonValue | InvalidMessageError {
    try {
      return JSON.parse(decoder.decode(packet.payload));
    } catch (cause) {
      return new InvalidMessageError(`Cannot parse ${what}: not JSON`, packet.topic, { cause });
    }
  }

  #invalid(error: InvalidMessageError): void {
    this.#host.logger.warn("Dropped an invalid message", {
      topic: error.topic,
      error: error.message,
    });
    this.#host.report(error);
  }

  #onAttributeUpdate(packet: PublishPacket): void {
    const json = this.#parse(packet, "attribute update");
    if (json instanceof InvalidMessageError) return this.#invalid(json);
    let update;
    try {
      update = parseAttributeUpdate(json);
    } catch (e) {
      return this.#invalid(
        new InvalidMessageError(
          `Cannot parse attribute update: ${(e as Error).message}`,
          packet.topic,
        ),
      );
    }
    const matches = this.subscriptions.match(update);
    if (matches.length === 0) {
      this.#host.logger.debug("Attribute update matched no subscription", {
        keys: Object.keys(update.values),
        deleted: update.deleted,
      });
      return;
    }
    this.dispatch(() => {
      for (const [callback, value] of matches) {
        this.guard("Attribute callback", () => callback(value));
      }
    });
  }

  #onAttributeResponse(id: number, packet: PublishPacket): void {
    if (!this.attributeRequests.has(id)) {
      this.#host.logger.warn("Ignored a late or unknown attribute response", { id });
      return;
    }
    const json = this.#parse(packet, "attribute response");
    if (json instanceof InvalidMessageError) {
      this.attributeRequests.reject(id, json);
      return;
    }
    try {
      this.attributeRequests.resolve(id, parseAttributeResponse(json));
    } catch (e) {
      this.attributeRequests.reject(
        id,
        new InvalidMessageError(
          `Cannot parse attribute response: ${(e as Error).message}`,
          packet.topic,
        ),
      );
    }
  }

  #onRpcResponse(id: number, packet: PublishPacket): void {
    if (!this.rpcCalls.has(id)) {
      this.#host.logger.warn("Ignored a late or unknown RPC response", { id });
      return;
    }
    const json = this.#parse(packet, "RPC response");
    // ThingsBoard passes the rule chain's reply through unchecked: a reply that
    // is not JSON is delivered as its text.
    this.rpcCalls.resolve(
      id,
      json instanceof InvalidMessageError ? decoder.decode(packet.payload) : json,
    );
  }

  #onRpcRequest(id: number, packet: PublishPacket): void {
    const json = this.#parse(packet, "RPC request");
    if (json instanceof InvalidMessageError) return this.#invalid(json);
    let request: RpcRequest;
    try {
      request = parseRpcRequest(id, json);
    } catch (e) {
      return this.#invalid(
        new InvalidMessageError(`Cannot parse RPC request: ${(e as Error).message}`, packet.topic),
      );
    }
    this.dispatch(() => this.#handleRpc(request));
  }

  #handleRpc(request: RpcRequest): void {
    const handler = this.rpcHandler;
    if (!handler) {
      this.#host.logger.warn("Received a server-side RPC but no handler is set; not replying", {
        id: request.id,
        method: request.method,
      });
      return;
    }
    runRpcHandler(handler, request, {
      reply: (value) => this.#host.reply(request.id, value),
      report: (error) => this.#host.report(error),
      logger: this.#host.logger,
      name: "RPC",
      fields: { id: request.id, method: request.method },
    });
  }

  /**
   * Fails every pending request and releases poll waiters (the client is closing).
   *
   * @param error The rejection reason.
   */
  close(error: Error): void {
    this.attributeRequests.rejectAll(error);
    this.rpcCalls.rejectAll(error);
    this.ota?.close(error);
    this.inbox.close();
  }
}
