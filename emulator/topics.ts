/**
 * ThingsBoard's device topics: routing of device PUBLISHes
 * (`MqttTransportHandler.processDevicePublish`), the SUBSCRIBE whitelist
 * (`processSubscribe`) and the topic families (`TopicType`).
 *
 * @module
 */

/** A topic family: v1, v2 short, v2 forced-JSON (`/j`), v2 forced-protobuf (`/p`). */
export type TopicFamily = "v1" | "v2" | "v2j" | "v2p";

/** Topics the server publishes on, per family. */
export const FAMILY_TOPICS: Record<
  TopicFamily,
  { attributes: string; attrResponse: string; rpcRequest: string; rpcResponse: string }
> = {
  v1: {
    attributes: "v1/devices/me/attributes",
    attrResponse: "v1/devices/me/attributes/response/",
    rpcRequest: "v1/devices/me/rpc/request/",
    rpcResponse: "v1/devices/me/rpc/response/",
  },
  v2: {
    attributes: "v2/a",
    attrResponse: "v2/a/res/",
    rpcRequest: "v2/r/req/",
    rpcResponse: "v2/r/res/",
  },
  v2j: {
    attributes: "v2/a/j",
    attrResponse: "v2/a/res/j/",
    rpcRequest: "v2/r/req/j/",
    rpcResponse: "v2/r/res/j/",
  },
  v2p: {
    attributes: "v2/a/p",
    attrResponse: "v2/a/res/p/",
    rpcRequest: "v2/r/req/p/",
    rpcResponse: "v2/r/res/p/",
  },
};

/** What a device PUBLISH is, by topic. `id` is the raw topic suffix. */
export type Route =
  | { kind: "telemetry"; family: TopicFamily }
  | { kind: "attributes"; family: TopicFamily }
  | { kind: "attributeRequest"; family: TopicFamily; id: string }
  | { kind: "rpcResponse"; family: TopicFamily; id: string }
  | { kind: "clientRpc"; family: TopicFamily; id: string }
  | { kind: "claim" }
  | { kind: "firmware"; ota: "fw" | "sw"; requestId: string; chunk: string }
  | { kind: "gateway" }
  | { kind: "unknown" };

const PREFIXES: [string, Route["kind"], TopicFamily][] = [
  ["v1/devices/me/attributes/request/", "attributeRequest", "v1"],
  ["v1/devices/me/rpc/response/", "rpcResponse", "v1"],
  ["v1/devices/me/rpc/request/", "clientRpc", "v1"],
];

const V2_PREFIXES: [string, Route["kind"], TopicFamily][] = [
  ["v2/r/res/j/", "rpcResponse", "v2j"],
  ["v2/r/res/p/", "rpcResponse", "v2p"],
  ["v2/r/res/", "rpcResponse", "v2"],
  ["v2/r/req/j/", "clientRpc", "v2j"],
  ["v2/r/req/p/", "clientRpc", "v2p"],
  ["v2/r/req/", "clientRpc", "v2"],
  ["v2/a/req/j/", "attributeRequest", "v2j"],
  ["v2/a/req/p/", "attributeRequest", "v2p"],
  ["v2/a/req/", "attributeRequest", "v2"],
];

const EXACT: Record<string, Route> = {
  "v2/t": { kind: "telemetry", family: "v2" },
  "v2/t/j": { kind: "telemetry", family: "v2j" },
  "v2/t/p": { kind: "telemetry", family: "v2p" },
  "v2/a": { kind: "attributes", family: "v2" },
  "v2/a/j": { kind: "attributes", family: "v2j" },
  "v2/a/p": { kind: "attributes", family: "v2p" },
};

const OTA = /v2\/(fw|sw)\/request\/([0-9]+)\/chunk\/([0-9]+)/;

/** Routes a device PUBLISH topic, in ThingsBoard's order of checks. */
export function routeTopic(topic: string): Route {
  if (topic.startsWith("v1/gateway")) return { kind: "gateway" };
  if (topic === "v1/devices/me/attributes") return { kind: "attributes", family: "v1" };
  if (topic === "v1/devices/me/telemetry") return { kind: "telemetry", family: "v1" };
  for (const [prefix, kind, family] of PREFIXES) {
    if (topic.startsWith(prefix)) {
      return { kind, family, id: topic.slice(prefix.length) } as Route;
    }
  }
  if (topic === "v1/devices/me/claim") return { kind: "claim" };
  const ota = OTA.exec(topic);
  if (ota) {
    return { kind: "firmware", ota: ota[1] as "fw" | "sw", requestId: ota[2]!, chunk: ota[3]! };
  }
  const exact = EXACT[topic];
  if (exact) return exact;
  for (const [prefix, kind, family] of V2_PREFIXES) {
    if (topic.startsWith(prefix)) {
      return { kind, family, id: topic.slice(prefix.length) } as Route;
    }
  }
  return { kind: "unknown" };
}

/** What subscribing to a filter does: start attribute pushes, start RPC, or just register. */
export type SubscribeKind = { kind: "attributes" | "rpc"; family: TopicFamily } | {
  kind: "plain";
};

const SUBSCRIBE: Record<string, SubscribeKind> = {};
for (const family of Object.keys(FAMILY_TOPICS) as TopicFamily[]) {
  const t = FAMILY_TOPICS[family];
  SUBSCRIBE[t.attributes] = { kind: "attributes", family };
  SUBSCRIBE[`${t.rpcRequest}+`] = { kind: "rpc", family };
  SUBSCRIBE[`${t.rpcResponse}+`] = { kind: "plain" };
  SUBSCRIBE[`${t.attrResponse}+`] = { kind: "plain" };
}
const GATEWAY_AND_OTA = [
  "v1/gateway/attributes",
  "v1/gateway/rpc",
  "v1/gateway/attributes/response",
  "v2/fw/response/+/chunk/+",
  "v2/fw/error",
  "v2/sw/response/+/chunk/+",
  "v2/sw/error",
];
for (const f of GATEWAY_AND_OTA) SUBSCRIBE[f] = { kind: "plain" };

/** The whitelist: what a subscription to `filter` means, or `undefined` if it is refused. */
export function classifySubscription(filter: string): SubscribeKind | undefined {
  return Object.hasOwn(SUBSCRIBE, filter) ? SUBSCRIBE[filter] : undefined;
}

/** Java's `Integer.parseInt` for request ids; `undefined` when it would throw. */
export function parseJavaInt(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}

/**
 * Whether a granted filter matches a topic, as ThingsBoard's `MqttTopicMatcher`
 * (a `+` level must not be empty; `#` matches one or more characters).
 */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return t.slice(i).join("/") !== "";
    if (i >= t.length) return false;
    if (f[i] === "+" ? t[i] === "" : f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
