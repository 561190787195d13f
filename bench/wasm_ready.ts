/**
 * Time to a ready wasm engine in a fresh process: import the embedded
 * module, compile, instantiate, encode and decode one PUBLISH (and, as a
 * second figure, the float formatter's tables for the first telemetry).
 * Runs 15 fresh processes and prints the median and the minimum.
 *
 * ```sh
 * deno run --allow-run --allow-read bench/wasm_ready.ts
 * ```
 *
 * @module
 */

const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
const CHILD = `
const t0 = performance.now();
const { createInstance } = await import(${url("../wasm/_instance.ts")});
createInstance(false);
const t1 = performance.now();
const { wasmCodec } = await import(${url("../wasm/mod.ts")});
const bytes = wasmCodec.encode({ type: "publish", topic: "t", payload: new Uint8Array(1), qos: 0, retain: false, dup: false });
wasmCodec.createDecoder().push(bytes);
const t2 = performance.now();
const { encodeTelemetryJson } = await import(${url("../core/telemetry/mod.ts")});
encodeTelemetryJson({ t: 21.5 });
const t3 = performance.now();
console.log(JSON.stringify([t1 - t0, t2 - t1, t3 - t2]));
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

if (import.meta.main) {
  const runs: number[][] = [[], [], []];
  for (let i = 0; i < 15; i++) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", CHILD],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const times = JSON.parse(new TextDecoder().decode(out.stdout)) as number[];
    times.forEach((t, k) => runs[k]!.push(t));
  }
  const labels = [
    "wasm ready (decode base64, compile, instantiate)",
    "+ first encode/decode through wasmCodec (loads the TS codec modules)",
    "+ first telemetry JSON (float tables, telemetry modules)",
  ];
  runs.forEach((times, k) => {
    console.log(
      `${labels[k]}: median ${median(times).toFixed(2)} ms, min ${
        Math.min(...times).toFixed(2)
      } ms`,
    );
  });
}
