/**
 * End-to-end publish throughput: tbwasm's MqttClient vs MQTT.js (npm:mqtt@5)
 * against a local Mosquitto and against a minimal sink server (answers
 * CONNACK and PUBACKs, nothing else), QoS 1 with 100 in flight and QoS 0.
 *
 * Run: `deno run -A bench/e2e_bench.ts [--n 50000] [--reps 3] [--target mosquitto|sink]
 * [--qos 0|1] [--write]` (`--target` and `--qos` keep only some rows; `--write` stores the
 * table in bench/E2E_RESULTS.md). The sink runs in a
 * child process so it does not share the client's event loop, and so does
 * every measured run (after warm-up runs in the same process).
 *
 * @module
 */

import process from "node:process";
import os from "node:os";
import mqtt from "mqtt";
import type { Codec } from "../core/codec/mod.ts";
import { MqttClient } from "../core/mqtt/mod.ts";
import { wasmCodec } from "../wasm/mod.ts";
import { startMosquitto } from "../tests/_mosquitto.ts";

// ---- sink server (child process mode) ------------------------------------

async function runSink(): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`PORT ${(listener.addr as Deno.NetAddr).port}`);
  for await (const conn of listener) serveSink(conn).catch(() => {});
}

async function serveSink(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(256 * 1024);
  let pending = new Uint8Array(0);
  let v5 = false;
  const out = new Uint8Array(512 * 1024);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    let data = buf.subarray(0, n);
    if (pending.length) {
      const joined = new Uint8Array(pending.length + n);
      joined.set(pending);
      joined.set(data, pending.length);
      data = joined;
    }
    let off = 0;
    let o = 0;
    while (off < data.length) {
      const start = off;
      const type = data[off]! >> 4;
      const qos = (data[off]! >> 1) & 3;
      let len = 0, mul = 1, i = off + 1, ok = false;
      for (; i < data.length && i < off + 5; i++) {
        len += (data[i]! & 127) * mul;
        mul *= 128;
        if ((data[i]! & 128) === 0) {
          ok = true;
          i++;
          break;
        }
      }
      if (!ok || i + len > data.length) {
        off = start;
        break;
      }
      const body = i;
      off = i + len;
      if (type === 1) {
        v5 = data[body + 6] === 5;
        out.set(v5 ? [0x20, 3, 0, 0, 0] : [0x20, 2, 0, 0], o);
        o += v5 ? 5 : 4;
      } else if (type === 3 && qos > 0) {
        const tl = (data[body]! << 8) | data[body + 1]!;
        out[o++] = 0x40;
        out[o++] = 2;
        out[o++] = data[body + 2 + tl]!;
        out[o++] = data[body + 3 + tl]!;
      } else if (type === 12) {
        out[o++] = 0xd0;
        out[o++] = 0;
      } else if (type === 14) {
        conn.close();
        return;
      }
      if (o > out.length - 16) {
        await writeAll(conn, out.subarray(0, o));
        o = 0;
      }
    }
    pending = off < data.length ? data.slice(off) : new Uint8Array(0);
    if (o > 0) await writeAll(conn, out.subarray(0, o));
  }
  conn.close();
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

// ---- drivers ---------------------------------------------------------------

const TOPIC = "v1/devices/me/telemetry";
const PAYLOAD = new TextEncoder().encode(
  '{"temperature":21.5,"humidity":48,"active":true,"fw":"1.4.2"}',
);

interface Result {
  seconds: number;
  cpuMicros: number;
  /** The broker's CPU time (user + system), when it can be read from /proc. */
  brokerMicros: number | undefined;
}

/** Process whose CPU time is reported beside the client's (the broker). */
let brokerPid: number | undefined;

/** User + system CPU time of process `pid` in microseconds, from /proc (Linux). */
function processCpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat (utime, stime), counted from after the command name, in clock ticks.
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function measure<T>(fn: () => Promise<T>): Promise<Result> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const b0 = processCpuMicros(brokerPid);
  return fn().then(() => {
    const c = process.cpuUsage(c0);
    const b1 = processCpuMicros(brokerPid);
    return {
      seconds: (performance.now() - t0) / 1000,
      cpuMicros: c.user + c.system,
      brokerMicros: b0 === undefined || b1 === undefined ? undefined : b1 - b0,
    };
  });
}

async function tbwasm(port: number, qos: 0 | 1, n: number, codec?: Codec): Promise<Result> {
  const client = new MqttClient({
    ...(codec ? { codec } : {}),
    host: "127.0.0.1",
    port,
    maxInflight: 100,
    queue: { maxSize: n + 1 },
    reconnect: false,
  });
  await client.connect();
  const r = await measure(async () => {
    const batch = 10_000;
    for (let i = 0; i < n; i += batch) {
      const end = Math.min(n, i + batch);
      for (let j = i; j < end; j++) client.publishNoWait(TOPIC, PAYLOAD, { qos });
      if (qos === 0) await client.flush({ timeout: 60_000 });
    }
    // A final QoS 1 message: its PUBACK proves the server processed everything before it.
    await client.publish(TOPIC, PAYLOAD, { qos: 1 });
    await client.flush({ timeout: 60_000 });
  });
  await client.disconnect();
  return r;
}

async function tbwasmAwait(port: number, n: number): Promise<Result> {
  const client = new MqttClient({ host: "127.0.0.1", port, maxInflight: 100, reconnect: false });
  await client.connect();
  const r = await measure(async () => {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        await client.publish(TOPIC, PAYLOAD, { qos: 1 });
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));
  });
  await client.disconnect();
  return r;
}

async function mqttjs(port: number, qos: 0 | 1, n: number): Promise<Result> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  // deno-lint-ignore no-explicit-any
  const payload: any = Buffer.from(PAYLOAD);
  const r = await measure(() =>
    new Promise<void>((resolve, reject) => {
      let sent = 0, done = 0, inflight = 0;
      const finish = () =>
        client.publish(TOPIC, payload, { qos: 1 }, (err) => err ? reject(err) : resolve());
      if (qos === 0) {
        const step = () => {
          const end = Math.min(n, sent + 10_000);
          while (sent < end) {
            sent++;
            client.publish(TOPIC, payload, { qos: 0 }, sent === end ? after : undefined);
          }
        };
        const after = () => (sent < n ? step() : finish());
        step();
        return;
      }
      const onAck = (err?: Error) => {
        if (err) return reject(err);
        inflight--;
        done++;
        if (done === n) return finish();
        pump();
      };
      const pump = () => {
        while (inflight < 100 && sent < n) {
          inflight++;
          sent++;
          client.publish(TOPIC, payload, { qos: 1 }, onAck);
        }
      };
      pump();
    })
  );
  await client.endAsync();
  return r;
}

// ---- main ------------------------------------------------------------------

async function startSink(): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--sink"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("sink exited");
    text += value;
  }
  const port = Number(/PORT (\d+)/.exec(text)![1]);
  return {
    port,
    stop: async () => {
      child.kill("SIGTERM");
      await reader.cancel();
      await child.status;
    },
  };
}

/** A client implementation a child process measures. */
type Client = "mqttjs" | "ts" | "wasm" | "await";

/** What one child process measures. */
interface ChildSpec {
  client: Client;
  port: number;
  qos: 0 | 1;
  n: number;
  brokerPid: number | undefined;
}

/**
 * Measures one run in a fresh process: warm-up runs (not reported), then
 * the measured one. No client pays for the heap another one left behind.
 */
async function runChild(spec: ChildSpec): Promise<Result> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--child", JSON.stringify(spec)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const line = new TextDecoder().decode(out.stdout).split("\n").find((l) =>
    l.startsWith("RESULT ")
  );
  if (!out.success || line === undefined) throw new Error(`${spec.client} run failed`);
  return JSON.parse(line.slice("RESULT ".length));
}

async function child(): Promise<void> {
  const spec: ChildSpec = JSON.parse(Deno.args[Deno.args.indexOf("--child") + 1]!);
  brokerPid = spec.brokerPid;
  const { client, port, qos, n } = spec;
  const run = () =>
    client === "mqttjs"
      ? mqttjs(port, qos, n)
      : client === "await"
      ? tbwasmAwait(port, n)
      : tbwasm(port, qos, n, client === "wasm" ? wasmCodec : undefined);
  // Warm-up runs, at least two and three seconds: V8's optimizing compiler
  // is not done with a client's publish path after a single run of 100,000.
  const start = performance.now();
  for (let i = 0; i < 2 || performance.now() - start < 3000; i++) await run();
  console.log(`RESULT ${JSON.stringify(await run())}`);
}

async function main(): Promise<void> {
  const args = Deno.args;
  const nArg = args.indexOf("--n");
  const n = nArg >= 0 ? Number(args[nArg + 1]) : 50_000;
  const repsArg = args.indexOf("--reps");
  const reps = repsArg >= 0 ? Number(args[repsArg + 1]) : 3;
  const broker = await startMosquitto();
  const sink = await startSink();
  const rows: string[] = [];
  const targetArg = args.indexOf("--target");
  const only = targetArg >= 0 ? args[targetArg + 1]?.toLowerCase() : undefined;
  const qosArg = args.indexOf("--qos");
  const qosList = qosArg >= 0 ? [Number(args[qosArg + 1]) as 0 | 1] : [1, 0] as const;
  const targets = ([["Mosquitto", broker.port], ["sink", sink.port]] as [string, number][])
    .filter(([name]) => only === undefined || name.toLowerCase() === only);
  try {
    for (const [target, port] of targets) {
      for (const qos of qosList) {
        const clients: [string, Client][] = [
          ["MQTT.js", "mqttjs"],
          ["tbwasm (ts codec)", "ts"],
          ["tbwasm (wasm codec)", "wasm"],
        ];
        if (qos === 1) clients.push(["tbwasm (ts codec, await each)", "await"]);
        const pid = target === "Mosquitto" ? broker.pid : undefined;
        const runs = clients.map(([name, client]) =>
          [name, () => runChild({ client, port, qos, n, brokerPid: pid })] as const
        );
        // Rounds: every client once per round, in an order that rotates, so a
        // slow spell of the shared machine lands on all of them alike. The
        // ratio is taken within each round, then the median over rounds.
        const results: Result[][] = runs.map(() => []);
        for (let k = 0; k < reps; k++) {
          for (let j = 0; j < runs.length; j++) {
            const i = (j + k) % runs.length;
            const r = await runs[i]![1]();
            results[i]!.push(r);
            console.error(`  round ${k + 1}: ${runs[i]![0]}: ${Math.round(n / r.seconds)} msgs/s`);
          }
        }
        const base = results[0]!;
        runs.forEach(([name], i) => {
          const mine = results[i]!;
          const rate = median(mine.map((r) => n / r.seconds));
          const ratio = median(mine.map((r, k) => base[k]!.seconds / r.seconds));
          const cpu = median(mine.map((r) => r.cpuMicros / n));
          const brokerCpu = mine.every((r) => r.brokerMicros !== undefined)
            ? median(mine.map((r) => r.brokerMicros! / n))
            : undefined;
          const busy = brokerCpu === undefined
            ? undefined
            : median(mine.map((r) => r.brokerMicros! / (r.seconds * 1e6)));
          const row = `| ${target} | ${qos === 1 ? "1 (100 in flight)" : "0"} | ${name} | ${
            Math.round(rate).toLocaleString("en-US")
          } | ${cpu.toFixed(2)} | ${brokerCpu === undefined ? "–" : brokerCpu.toFixed(1)} | ${
            busy === undefined ? "–" : `${Math.round(busy * 100)} %`
          } | ${ratio.toFixed(2)}x |`;
          rows.push(row);
          console.log(row);
        });
      }
    }
  } finally {
    await sink.stop();
    await broker.close();
  }
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const table = [
    `# End-to-end publish throughput`,
    "",
    `Machine: ${cpu}, ${os.cpus().length} cores, ${os.type()} ${os.release()}; Deno ${Deno.version.deno}; ` +
    `${new Date().toISOString().slice(0, 10)}. ${
      n.toLocaleString("en-US")
    } messages of ${PAYLOAD.length} bytes ` +
    `per run to "${TOPIC}"; ${reps} rounds in which every client runs once, in an order ` +
    'that rotates; each column is the median over rounds, and "vs MQTT.js" the median of the ratios within a round. ' +
    "Each run is a fresh process that warms up first (at least two runs and 3 s). Broker busy is the broker's CPU time over the run's wall time. CPU is the client process's user+system time per message " +
    `(the sink runs in a child process; Mosquitto is a separate process). Command: ` +
    `\`deno run -A bench/e2e_bench.ts ${
      args.join(" ")
    }\`. The machine is shared with other jobs: ` +
    "rates vary " +
    "by up to ±40% from run to run; compare rows of the same run. Against Mosquitto, a client that " +
    "is fast enough meets Mosquitto's own limit (one broker thread): the msgs/s column then shows " +
    "the broker, and the CPU column the client's cost.",
    "",
    "| server | QoS | client | msgs/s | client CPU µs/msg | broker CPU µs/msg | broker busy | vs MQTT.js |",
    "|---|---|---|---:|---:|---:|---:|---:|",
    ...rows,
    "",
  ].join("\n");
  if (args.includes("--write")) {
    const file = new URL("./E2E_RESULTS.md", import.meta.url);
    await Deno.writeTextFile(file, table);
    // As `deno task check` wants it (aligned table columns).
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", file.pathname] }).output();
  }
  console.log("\n" + table);
}

if (Deno.args.includes("--sink")) await runSink();
else if (Deno.args.includes("--child")) await child();
else await main();
