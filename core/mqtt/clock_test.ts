import assert from "node:assert/strict";
import { type Clock, defer, deferWith, realClock, type TimerHandle } from "./clock.ts";

/** Resolves after `ms` of real time (a plain timer, which keeps the test alive). */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

Deno.test("realClock.defer() calls its function once", async () => {
  let calls = 0;
  await new Promise<void>((resolve) => {
    realClock.defer!(() => {
      calls++;
      resolve();
    });
  });
  await sleep(10);
  assert.equal(calls, 1);
});

Deno.test("realClock.clearTimeout() cancels a deferred call", async () => {
  let calls = 0;
  const handle = realClock.defer!(() => calls++);
  realClock.clearTimeout(handle);
  await sleep(20);
  assert.equal(calls, 0);
});

Deno.test("deferWith() falls back to setTimeout(fn, 0) where Atomics.waitAsync is missing", async () => {
  let calls = 0;
  const fired = new Promise<void>((resolve) => deferWith({}, () => (calls++, resolve())));
  realClock.clearTimeout(deferWith({}, () => calls++));
  await fired;
  await sleep(10);
  assert.equal(calls, 1);
});

Deno.test("deferWith() uses Atomics.waitAsync with a timeout when it exists", async () => {
  const seen: number[] = [];
  const atomics = {
    waitAsync: (cell: Int32Array, index: number, value: number, timeout: number) => {
      seen.push(timeout);
      return Atomics.waitAsync(cell, index, value, timeout);
    },
  };
  let calls = 0;
  await new Promise<void>((resolve) => deferWith(atomics, () => (calls++, resolve())));
  await sleep(10); // the setTimeout beside it must not call again
  assert.equal(calls, 1);
  assert.equal(seen.length, 1);
  assert.ok(seen[0]! > 0 && seen[0]! < 0.5, `timeout ${seen[0]} ms`);
});

Deno.test("defer() uses setTimeout(fn, 0) on a clock without defer", () => {
  const delays: number[] = [];
  const clock: Clock = {
    now: () => 0,
    setTimeout: (_fn, ms): TimerHandle => (delays.push(ms), delays.length),
    clearTimeout: () => {},
  };
  assert.equal(defer(clock, () => {}), 1);
  assert.deepEqual(delays, [0]);
});
