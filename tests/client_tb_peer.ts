/**
 * A test peer that plays ThingsBoard's role on a plain MQTT broker: it
 * subscribes to everything a device sends ThingsBoard, records it, and
 * publishes what ThingsBoard would publish to the device. Also a TCP gate
 * that can refuse connections, to hold a device back while a restarted
 * broker gets its peer again.
 *
 * @module
 */

import { MqttClient, type PublishPacket } from "../core/mqtt/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a device sends ThingsBoard. */
const DEVICE_TO_SERVER = [
  "v1/devices/me/telemetry",
  "v1/devices/me/attributes",
  "v1/devices/me/attributes/request/+",
  "v1/devices/me/rpc/request/+",
  "v1/devices/me/rpc/response/+",
  "v1/devices/me/claim",
  "/provision/request",
];

/** Options of {@linkcode startPeer}. */
export interface PeerOptions {
  /**
   * How to treat the device's `getSessionLimits` calls: `"ignore"` (a plain
   * broker), or a JSON value to answer with. They never show up in
   * {@linkcode Peer.next}; they are counted in {@linkcode Peer.limitsRequests}.
   */
  sessionLimits?: "ignore" | unknown;
  /** User name on a broker that wants one. */
  username?: string;
  /** Password on a broker that wants one. */
  password?: string;
}

/** The ThingsBoard-role peer; `await using` disconnects it. */
export interface Peer extends AsyncDisposable {
  /** The peer's MQTT client. */
  mqtt: MqttClient;
  /** Ids of the `getSessionLimits` calls seen. */
  limitsRequests: number[];
  /**
   * Waits for the next recorded message whose topic passes `test`.
   *
   * @param test Topic predicate (a string means equality).
   * @returns The message, removed from the record.
   */
  next(test: string | ((topic: string) => boolean)): Promise<PublishPacket>;
  /** Messages recorded and not yet taken, by topic. */
  pending(): string[];
  /**
   * Publishes JSON (or raw bytes) at QoS 1.
   *
   * @param topic Topic.
   * @param value JSON value, or bytes as they are.
   */
  publish(topic: string, value: unknown): Promise<void>;
}

/**
 * Parses a message's JSON payload.
 *
 * @param packet A recorded message.
 * @returns The value.
 */
export function json(packet: PublishPacket): unknown {
  return JSON.parse(decoder.decode(packet.payload));
}

/**
 * The numeric id at the end of a topic.
 *
 * @param packet A message on `…/{id}`.
 * @returns The id.
 */
export function topicId(packet: PublishPacket): number {
  return Number(packet.topic.slice(packet.topic.lastIndexOf("/") + 1));
}

/**
 * Connects a ThingsBoard-role peer (MQTT 5, No Local) to a broker.
 *
 * @param port The broker's port on 127.0.0.1.
 * @param options Treatment of `getSessionLimits`.
 * @returns The connected, subscribed peer.
 */
export async function startPeer(port: number, options: PeerOptions = {}): Promise<Peer> {
  const mqtt = new MqttClient({
    host: "127.0.0.1",
    port,
    clientId: `tb-role-${crypto.randomUUID().slice(0, 8)}`,
    reconnect: false,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
  });
  const inbox: PublishPacket[] = [];
  const limitsRequests: number[] = [];
  let wake = Promise.withResolvers<void>();
  const publish = (topic: string, value: unknown) => {
    const payload = value instanceof Uint8Array ? value : encoder.encode(JSON.stringify(value));
    return mqtt.publish(topic, payload, { qos: 1 }).then(() => {});
  };
  mqtt.addEventListener("message", (e) => {
    const packet = e.detail;
    if (packet.topic.startsWith("v1/devices/me/rpc/request/")) {
      let method: unknown;
      try {
        method = (json(packet) as { method?: unknown }).method;
      } catch {
        // recorded as it is
      }
      if (method === "getSessionLimits") {
        const id = topicId(packet);
        limitsRequests.push(id);
        const answer = options.sessionLimits ?? "ignore";
        if (answer !== "ignore") publish(`v1/devices/me/rpc/response/${id}`, answer);
        return;
      }
    }
    inbox.push(packet);
    wake.resolve();
    wake = Promise.withResolvers<void>();
  });
  await mqtt.connect();
  await mqtt.subscribe(DEVICE_TO_SERVER.map((topicFilter) => ({
    topicFilter,
    qos: 1 as const,
    noLocal: true,
  })));
  return {
    mqtt,
    limitsRequests,
    async next(test) {
      const match = typeof test === "string" ? (t: string) => t === test : test;
      for (;;) {
        const i = inbox.findIndex((p) => match(p.topic));
        if (i >= 0) return inbox.splice(i, 1)[0]!;
        await wake.promise;
      }
    },
    pending: () => inbox.map((p) => p.topic),
    publish,
    async [Symbol.asyncDispose]() {
      await mqtt.disconnect({ timeout: 1000 }).catch(() => {});
    },
  };
}

/** A TCP forwarder that can be closed to new connections; `await using` stops it. */
export interface Gate extends AsyncDisposable {
  /** The port to connect to. */
  port: number;
  /** Whether new connections are forwarded (else closed at once). */
  open: boolean;
}

/**
 * Forwards connections on a free loopback port to `targetPort`.
 *
 * @param targetPort The broker's port.
 * @returns The gate, open.
 */
export function startGate(targetPort: number): Gate {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const tasks: Promise<void>[] = [];
  const close = (c: Deno.Conn) => {
    if (conns.delete(c)) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
  };
  const copy = async (from: Deno.Conn, to: Deno.Conn) => {
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
      }
    } catch {
      // either side went away
    }
    close(from);
    close(to);
  };
  const forward = async (down: Deno.Conn) => {
    conns.add(down);
    let up: Deno.Conn;
    try {
      up = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    } catch {
      close(down);
      return;
    }
    conns.add(up);
    await Promise.all([copy(down, up), copy(up, down)]);
  };
  const gate: Gate = {
    port: (listener.addr as Deno.NetAddr).port,
    open: true,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      for (const c of [...conns]) close(c);
      await Promise.all(tasks);
    },
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        if (gate.open) tasks.push(forward(conn));
        else conn.close();
      }
    } catch {
      // listener closed
    }
  })();
  return gate;
}
