/**
 * Live memory for the tour's measurements: V8 heap in use plus ArrayBuffer
 * bytes (chainrule's array data) right after a full garbage collection, so
 * that only reachable data counts. The gc function is exposed at run time
 * through V8's flag (no node flag needed).
 */
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";

let exposedGc: (() => void) | undefined;

/** global.gc when node runs with --expose-gc, otherwise exposed now through V8's flag (first use only). */
function gc(): void {
  if (exposedGc === undefined) {
    const global = (globalThis as { gc?: () => void }).gc;
    if (global !== undefined) exposedGc = global;
    else {
      setFlagsFromString("--expose-gc");
      exposedGc = runInNewContext("gc") as () => void;
    }
  }
  exposedGc();
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Bytes reachable now (heap plus ArrayBuffers), after collecting garbage. */
export function liveBytes(): number {
  gc();
  // V8 frees the memory of dead ArrayBuffers on a background thread: wait for
  // it (20 ms) so that arrayBuffers counts live buffers only, then collect again.
  Atomics.wait(pause, 0, 0, 20);
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
