/**
 * SUBSCRIBE and UNSUBSCRIBE with ThingsBoard's whitelist
 * (`MqttTransportHandler.processSubscribe`, `processUnsubscribe`).
 *
 * @module
 */

import { ReasonCode, type SubscribePacket, type UnsubscribePacket } from "../core/codec/mod.ts";
import type { Session } from "./session.ts";
import { classifySubscription, filterMatches } from "./topics.ts";

/**
 * SUBSCRIBE: whitelisted filters are granted at QoS <= 1, others get 0x80
 * (3.1.1) or 0x8F (5.0); the connection stays. Subscribing to attributes or
 * RPC starts pushes in that topic family (and sends pending RPCs).
 */
export function handleSubscribe(s: Session, p: SubscribePacket): void {
  const failure = s.version === 5 ? ReasonCode.TopicFilterInvalid : ReasonCode.UnspecifiedError;
  const codes: number[] = [];
  let rpcSubscribed = false;
  for (const { topicFilter, qos } of p.subscriptions) {
    const granted = Math.min(qos, 1);
    const kind = s.state === "provision"
      ? (topicFilter === "/provision/response" ? { kind: "plain" as const } : undefined)
      : classifySubscription(topicFilter);
    if (!kind) {
      codes.push(failure);
    } else {
      if (kind.kind === "attributes") s.attrFamily = kind.family;
      if (kind.kind === "rpc") {
        s.rpcFamily = kind.family;
        rpcSubscribed = true;
      }
      s.subscriptions.set(topicFilter, granted);
      codes.push(granted);
    }
    s.core.emit({ type: "subscribe", topicFilter, reasonCode: codes.at(-1)! }, s);
  }
  s.send({ type: "suback", packetId: p.packetId, reasonCodes: codes });
  if (rpcSubscribed && s.record) s.core.rpc.flush(s.record, true);
}

/**
 * UNSUBSCRIBE (`processUnsubscribe`): 0 for a granted filter, 0x11 for one never
 * subscribed (reason codes on v5 only).
 */
export function handleUnsubscribe(s: Session, p: UnsubscribePacket): void {
  const codes: number[] = [];
  for (const filter of p.topicFilters) {
    let code: number = ReasonCode.NoSubscriptionExisted;
    if (s.subscriptions.delete(filter)) {
      const kind = s.state === "provision"
        ? (filterMatches(filter, "/provision/response") ? { kind: "plain" as const } : undefined)
        : classifySubscription(filter);
      code = kind ? ReasonCode.Success : ReasonCode.TopicFilterInvalid;
      if (kind?.kind === "attributes") s.attrFamily = undefined;
      if (kind?.kind === "rpc") s.rpcFamily = undefined;
    }
    codes.push(code);
    s.core.emit({ type: "unsubscribe", topicFilter: filter, reasonCode: code }, s);
  }
  s.send({
    type: "unsuback",
    packetId: p.packetId,
    ...(s.version === 5 ? { reasonCodes: codes } : {}),
  });
}
