/**
 * Browser benchmark page, the libraries: chainrule (webgpu, wasm), TF.js
 * (webgpu, wasm) and jax-js (webgpu), each behind the same small interface
 * so the page can check and time them alike. Every read that ends a timed
 * call is an awaited download (chainrule `itemAsync`/`dataAsync`, TF.js
 * `data()`, jax-js `data()`), so a GPU call is timed to its completion.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { getThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import {
  defaultDevice as jaxDefaultDevice,
  init as jaxInit,
  jit as jaxJit,
  numpy as jnp,
  tree as jtree,
} from "@jax-js/jax";
import { wasmThreadCount } from "../../src/backends/wasm/index.js";
import { getBackend, jit, np, setBackend } from "../../src/index.js";
import type { MlpData } from "./workloads.js";
import {
  type JaxMlpParams,
  type MlpParams,
  jaxMlpArrays,
  jaxMlpStep,
  mlpArrays,
  mlpStep,
  tfMlp,
} from "../mlpModel.js";

export const LIB_IDS = [
  "chainrule-webgpu",
  "chainrule-wasm",
  "tfjs-webgpu",
  "tfjs-wasm",
  "jax-webgpu",
] as const;
export type LibId = (typeof LIB_IDS)[number];

/** How a timed W3 call ends: reading the sum of C (one number) or all of C. */
export type ReadMode = "sum" | "full";

/** One W3 product prepared in a library: its operands live on the library's device. */
export interface MatmulCase {
  /** C = A B, read back in full (for the checks). */
  product: () => Promise<Float32Array>;
  /** The timed call: C = A B, then the read chosen by `ReadMode`. */
  timed: () => Promise<unknown>;
  dispose: () => void;
}

/** One W2 training loop: each step trains once and resolves to the loss. */
export interface Trainer {
  step: () => Promise<number>;
  dispose: () => void;
}

export interface Lib {
  id: LibId;
  /** Display name, e.g. "chainrule webgpu". */
  label: string;
  /** Acquires the backend; rejects with the reason where it is unavailable. */
  init: () => Promise<void>;
  /** Makes this library's backend the current one (before every call). */
  select: () => Promise<void>;
  matmul: (n: number, a: Float32Array, b: Float32Array, read: ReadMode) => MatmulCase;
  /** `jit`: compile the step where the library can (chainrule and jax-js). */
  trainer: (d: MlpData, jitted: boolean) => Trainer;
  /** How the library ran, for the record (e.g. its Wasm threads), asked after the run. */
  details?: () => Promise<string>;
}

// ---------------------------------------------------------------- chainrule

function chainrule(backend: "webgpu" | "wasm"): Lib {
  const select = async () => {
    if (getBackend() !== backend) await Promise.resolve(setBackend(backend));
  };
  return {
    id: `chainrule-${backend}`,
    label: `chainrule ${backend}`,
    init: select,
    select,
    ...(backend === "wasm"
      ? {
          details: () =>
            Promise.resolve(`worker threads beside the page's thread: ${wasmThreadCount()}`),
        }
      : {}),
    matmul: (n, aData, bData, read) => {
      // Arrays made while this backend is selected; webgpu uploads on first use.
      const a = np.array(aData, { shape: [n, n] });
      const b = np.array(bData, { shape: [n, n] });
      return {
        product: async () => Float32Array.from(await np.matmul(a, b).dataAsync()),
        timed: () =>
          read === "full" ? np.matmul(a, b).dataAsync() : np.sum(np.matmul(a, b)).itemAsync(),
        dispose: () => {},
      };
    },
    trainer: (d, jitted) => {
      const { x, y, params } = mlpArrays(d);
      let p: MlpParams = params;
      const step = jitted ? (jit(mlpStep) as unknown as typeof mlpStep) : mlpStep;
      return {
        step: async () => {
          const [loss, next] = step(p, x, y);
          p = next;
          return loss.itemAsync();
        },
        dispose: () => {},
      };
    },
  };
}

// ---------------------------------------------------------------- TF.js

let tfWasmPathsSet = false;

function tfjs(backend: "webgpu" | "wasm"): Lib {
  const select = async () => {
    if (tf.getBackend() !== backend) {
      const ok = await tf.setBackend(backend);
      if (!ok) throw new Error(`tf.setBackend("${backend}") failed`);
    }
  };
  return {
    id: `tfjs-${backend}`,
    label: `TF.js ${backend}`,
    init: async () => {
      if (backend === "wasm" && !tfWasmPathsSet) {
        // served from node_modules/@tensorflow/tfjs-backend-wasm/dist by bench/web/server.ts
        setWasmPaths(new URL("/tfjs-wasm/", location.href).href);
        tfWasmPathsSet = true;
      }
      await select();
    },
    select,
    ...(backend === "wasm"
      ? {
          details: async () => {
            const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
            const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
            await select();
            return `SIMD ${simd ? "yes" : "no"}, threads ${threads ? getThreadsCount() : "none"}`;
          },
        }
      : {}),
    matmul: (n, aData, bData, read) => {
      const a = tf.tensor2d(aData, [n, n]);
      const b = tf.tensor2d(bData, [n, n]);
      // Read outside tf.tidy: reading inside it is very slow in TF.js wasm (see bench/peers.ts).
      const readOut = async (t: tf.Tensor) => {
        const data = await t.data();
        t.dispose();
        return data;
      };
      return {
        product: async () => Float32Array.from(await readOut(tf.tidy(() => tf.matMul(a, b)))),
        timed: () =>
          readOut(tf.tidy(() => (read === "full" ? tf.matMul(a, b) : tf.sum(tf.matMul(a, b))))),
        dispose: () => {
          a.dispose();
          b.dispose();
        },
      };
    },
    trainer: (d) => {
      const model = tfMlp(d);
      return {
        step: async () => {
          const loss = model.step();
          const out = (await loss.data())[0]!;
          loss.dispose();
          return out;
        },
        dispose: model.dispose,
      };
    },
  };
}

// ---------------------------------------------------------------- jax-js

function jaxWebgpu(): Lib {
  const select = () => {
    jaxDefaultDevice("webgpu");
    return Promise.resolve();
  };
  return {
    id: "jax-webgpu",
    label: "jax-js webgpu",
    init: async () => {
      const found = await jaxInit("webgpu");
      if (!found.includes("webgpu"))
        throw new Error("jax-js init('webgpu') found no WebGPU device");
      await select();
    },
    select,
    matmul: (n, aData, bData, read) => {
      const arr = (data: Float32Array) =>
        jnp.array(data, { dtype: jnp.float32, device: "webgpu" }).reshape([n, n]);
      const a = arr(aData);
      const b = arr(bData);
      return {
        product: async () => Float32Array.from(await jnp.matmul(a.ref, b.ref).data()),
        timed: () =>
          read === "full"
            ? jnp.matmul(a.ref, b.ref).data()
            : jnp.sum(jnp.matmul(a.ref, b.ref)).data(),
        dispose: () => {
          a.dispose();
          b.dispose();
        },
      };
    },
    trainer: (d, jitted) => {
      const { x, y, params } = jaxMlpArrays(d, "webgpu");
      let p: JaxMlpParams = params;
      const step = jitted
        ? (jaxJit(
            jaxMlpStep as unknown as Parameters<typeof jaxJit>[0],
          ) as unknown as typeof jaxMlpStep)
        : jaxMlpStep;
      return {
        step: async () => {
          const [loss, next] = step(p, x.ref, y.ref);
          p = next;
          return (await loss.data())[0]!;
        },
        dispose: () => {
          jtree.dispose(p);
          x.dispose();
          y.dispose();
        },
      };
    },
  };
}

/** The adapter of each library id. */
export function makeLib(id: LibId): Lib {
  switch (id) {
    case "chainrule-webgpu":
      return chainrule("webgpu");
    case "chainrule-wasm":
      return chainrule("wasm");
    case "tfjs-webgpu":
      return tfjs("webgpu");
    case "tfjs-wasm":
      return tfjs("wasm");
    case "jax-webgpu":
      return jaxWebgpu();
  }
}
