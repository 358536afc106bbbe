/**
 * The webgpu backend's runtime: the device, a pool of storage buffers,
 * GPU-resident arrays (`GpuArray`) and the dispatch of compiled pipelines.
 *
 * Every operation is encoded and submitted at once, without waiting; the
 * queue runs submissions in order, so a buffer whose last use was submitted
 * can be rewritten by a later submission (the pool relies on this). Arrays
 * own their buffer through a shared `GpuStorage` (reshape shares it); a
 * FinalizationRegistry returns the buffer to the pool when no array holds
 * it any more, so users free nothing.
 */
import { ConcreteArray } from "../../core/array.js";
import type { DType, TypedArray } from "../../core/dtype.js";
import { ChainruleError } from "../../core/errors.js";
import { type Shape, shapeSize } from "../../core/shape.js";
import {
  BufferUsage,
  type Gpu,
  type GpuBuffer,
  type GpuCommandEncoder,
  type GpuComputePipeline,
  type GpuDevice,
  MAP_READ_MODE,
} from "./gpuTypes.js";
import { WORKGROUP } from "./kernels.js";

/** Thrown by `setBackend("webgpu")` where no WebGPU device can be had. */
export function unavailable(why: string): ChainruleError {
  return new ChainruleError(
    `setBackend("webgpu"): WebGPU is not available here (${why}); ` +
      `use setBackend("wasm") or setBackend("js") instead. In Node, install a WebGPU ` +
      `implementation that provides navigator.gpu; in a browser, WebGPU needs a secure ` +
      `context (https or http://127.0.0.1).`,
  );
}

/** The device and its per-device caches. */
export interface GpuContext {
  readonly device: GpuDevice;
  readonly pipelines: Map<string, GpuComputePipeline>;
  /** Free buffers by byte size. */
  readonly pool: Map<number, GpuBuffer[]>;
  /** The first error the device reported (shader compilation, validation), if any. */
  error: string | null;
}

let context: GpuContext | null = null;
let pending: Promise<GpuContext> | null = null;

/** The acquired device, or null before `acquireDevice` resolved. */
export function gpuContext(): GpuContext | null {
  return context;
}

/** Requests an adapter and a device once; later calls return the same context. */
export function acquireDevice(): Promise<GpuContext> {
  if (context !== null) return Promise.resolve(context);
  pending ??= (async () => {
    const nav = (globalThis as { navigator?: { gpu?: Gpu } }).navigator;
    const gpu = nav?.gpu;
    if (gpu === undefined) throw unavailable("navigator.gpu is undefined");
    const adapter = await gpu.requestAdapter();
    if (adapter === null) throw unavailable("navigator.gpu.requestAdapter() returned null");
    const device = await adapter.requestDevice();
    const ctx: GpuContext = { device, pipelines: new Map(), pool: new Map(), error: null };
    device.addEventListener("uncapturederror", (ev) => {
      ctx.error ??= ev.error.message;
    });
    context = ctx;
    return ctx;
  })();
  // A failed attempt may be retried (for example after enabling WebGPU).
  pending.catch(() => {
    pending = null;
  });
  return pending;
}

function ctx(): GpuContext {
  if (context === null) throw new ChainruleError(`webgpu: no device; await setBackend("webgpu")`);
  return context;
}

// ------------------------------------------------------------------ pool --

/** Bytes of pooled (free) buffers kept at most; beyond it freed buffers are destroyed. */
const POOL_LIMIT_BYTES = 256 * 1024 * 1024;
let pooledBytes = 0;
let createdBuffers = 0;

/** Buffer sizes are rounded up to powers of two (at least 256 bytes) so that the pool reuses them. */
function sizeClass(bytes: number): number {
  let size = 256;
  while (size < bytes) size *= 2;
  return size;
}

function acquireBuffer(bytes: number): GpuBuffer {
  const c = ctx();
  const size = sizeClass(bytes);
  const free = c.pool.get(size);
  const reused = free?.pop();
  if (reused !== undefined) {
    pooledBytes -= size;
    return reused;
  }
  createdBuffers++;
  return c.device.createBuffer({
    size,
    usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
  });
}

function releaseBuffer(buffer: GpuBuffer): void {
  const c = context;
  if (c === null) return;
  if (pooledBytes + buffer.size > POOL_LIMIT_BYTES) {
    buffer.destroy();
    return;
  }
  let free = c.pool.get(buffer.size);
  if (free === undefined) c.pool.set(buffer.size, (free = []));
  free.push(buffer);
  pooledBytes += buffer.size;
}

let dispatches = 0;

/**
 * Counters of the webgpu backend: storage buffers created so far, those now
 * free in the pool, and compute dispatches encoded so far (a fused jit group
 * is one dispatch). Internal (not exported from the package): for tests and
 * for seeing what a program costs.
 */
export function gpuBufferStats(): { created: number; pooled: number; dispatches: number } {
  let pooled = 0;
  for (const list of context?.pool.values() ?? []) pooled += list.length;
  return { created: createdBuffers, pooled, dispatches };
}

/**
 * Device memory owned by one or more arrays (a reshape shares its input's).
 * Pooled storage returns to the pool when no array holds it; a jitted
 * program's arena buffers (`pooled` false) belong to the program instead.
 */
export class GpuStorage {
  constructor(
    readonly buffer: GpuBuffer,
    pooled = true,
  ) {
    if (pooled) storageRegistry.register(this, buffer);
  }
}

/**
 * A buffer owned by a jitted program (its arena): never pooled, rewritten by
 * each call of the program (safe: the queue runs submissions in order).
 */
export function arenaBuffer(elements: number): GpuBuffer {
  createdBuffers++;
  return ctx().device.createBuffer({
    size: sizeClass(Math.max(elements, 1) * 4),
    usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
  });
}

/** The device's limit on storage buffers bound to one shader. */
export function storageBufferLimit(): number {
  return ctx().device.limits.maxStorageBuffersPerShaderStage;
}

const storageRegistry = new FinalizationRegistry<GpuBuffer>(releaseBuffer);

// ------------------------------------------------------------- arrays --

function syncReadError(method: string): ChainruleError {
  return new ChainruleError(
    `${method}: this array lives on the webgpu backend and cannot be read synchronously ` +
      `(by data(), item(), toArray(), printing, or a CPU backend's kernels); ` +
      `use await x.dataAsync(), await x.toArrayAsync() or await x.itemAsync() instead`,
  );
}

/**
 * A concrete array whose elements are in a GPU buffer. Synchronous reads
 * (`data()`, `item()`, `toArray()`, printing) throw an error naming the
 * asynchronous ones; `readAsync` downloads.
 */
export class GpuArray extends ConcreteArray {
  constructor(
    shape: Shape,
    dtype: DType,
    readonly storage: GpuStorage,
  ) {
    super(shape, dtype, undefined);
  }

  override get onHost(): boolean {
    return false;
  }

  override get buffer(): TypedArray {
    throw syncReadError("data");
  }

  override get scalarValue(): number {
    throw syncReadError("item");
  }

  override async readAsync(): Promise<TypedArray> {
    if (batch !== null) throw new Error("internal error: a GPU read inside a batched submission");
    const c = ctx();
    const n = shapeSize(this.shape);
    const bytes = n * 4;
    const staging = c.device.createBuffer({
      size: Math.max(bytes, 4),
      usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
    });
    if (bytes > 0) {
      const enc = c.device.createCommandEncoder();
      enc.copyBufferToBuffer(this.storage.buffer, 0, staging, 0, bytes);
      c.device.queue.submit([enc.finish()]);
    }
    await staging.mapAsync(MAP_READ_MODE);
    const raw = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    if (c.error !== null) {
      const error = c.error;
      c.error = null;
      throw new ChainruleError(`webgpu: the device reported an error: ${error}`);
    }
    switch (this.dtype) {
      case "float32":
        return new Float32Array(raw);
      case "int32":
        return new Int32Array(raw);
      case "bool":
        return Uint8Array.from(new Uint32Array(raw));
      case "float64":
        throw new Error("internal error: float64 GPU array");
    }
  }
}

/** A fresh GPU array of `shape` (contents undefined until a kernel writes it). */
export function emptyGpuArray(shape: Shape, dtype: DType): GpuArray {
  const buffer = acquireBuffer(Math.max(shapeSize(shape), 1) * 4);
  return new GpuArray(shape, dtype, new GpuStorage(buffer));
}

/** The same storage seen with another shape (reshape). */
export function reshapedGpuArray(x: GpuArray, shape: Shape): GpuArray {
  return new GpuArray(shape, x.dtype, x.storage);
}

// Host arrays used by GPU operations are uploaded once (constants reused in a loop).
const uploads = new WeakMap<ConcreteArray, GpuArray>();

/** `x` on the GPU: itself, or its upload (cached for the host array's lifetime). */
export function onGpu(x: ConcreteArray): GpuArray {
  if (x instanceof GpuArray) return x;
  const cached = uploads.get(x);
  if (cached !== undefined) return cached;
  const out = emptyGpuArray(x.shape, x.dtype);
  const host = x.buffer;
  const data = x.dtype === "bool" ? Uint32Array.from(host) : host;
  if (data.length > 0) ctx().device.queue.writeBuffer(out.storage.buffer, 0, data);
  uploads.set(x, out);
  return out;
}

/** A small buffer holding kernel parameters (released to the pool after the submit). */
function metaBuffer(values: readonly number[], signed: boolean): GpuBuffer {
  const data = signed ? Int32Array.from(values) : Uint32Array.from(values);
  const buffer = acquireBuffer(data.byteLength);
  ctx().device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

function pipeline(source: string): GpuComputePipeline {
  const c = ctx();
  let p = c.pipelines.get(source);
  if (p === undefined) {
    const module = c.device.createShaderModule({ code: source });
    p = c.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
    c.pipelines.set(source, p);
  }
  return p;
}

/**
 * Encodes and submits one dispatch of `source` with `buffers` bound to
 * bindings 0, 1, ... and `meta` bound last; does not wait.
 */
export function dispatch(
  source: string,
  buffers: readonly GpuBuffer[],
  meta: readonly number[],
  signedMeta: boolean,
  groups: readonly [number, number, number],
): void {
  const c = ctx();
  const p = pipeline(source);
  dispatches++;
  const metaBuf = metaBuffer(meta, signedMeta);
  const entries = [...buffers, metaBuf].map((buffer, binding) => ({
    binding,
    resource: { buffer },
  }));
  const group = c.device.createBindGroup({ layout: p.getBindGroupLayout(0), entries });
  const enc = batch?.encoder ?? c.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(p);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
  pass.end();
  if (batch !== null) {
    // Released after the batch's submit: queue.writeBuffer runs before the batch's
    // commands, so a parameter buffer reused inside the batch would be overwritten early.
    batch.held.push(metaBuf);
    return;
  }
  submit(enc);
  releaseBuffer(metaBuf);
}

let submits = 0;

function submit(enc: GpuCommandEncoder): void {
  submits++;
  ctx().device.queue.submit([enc.finish()]);
}

/** Command buffers submitted so far (a jitted program's call is one). For tests. */
export function gpuSubmitCount(): number {
  return submits;
}

/** The open batch: one command encoder collecting every dispatch until `endBatch`. */
let batch: { encoder: GpuCommandEncoder; held: GpuBuffer[]; depth: number } | null = null;

/**
 * Runs `body` with every dispatch and clear it encodes collected into one
 * command buffer, submitted at the end (also when body throws): a jitted
 * program's call is one submission instead of one per dispatch. Uploads
 * (queue.writeBuffer) inside still run before the batch's commands, which
 * is what they need (fresh buffers); nothing inside may read back.
 */
export function inOneSubmission<T>(body: () => T): T {
  if (batch !== null) {
    batch.depth++;
  } else {
    batch = { encoder: ctx().device.createCommandEncoder(), held: [], depth: 1 };
  }
  const open = batch;
  try {
    return body();
  } finally {
    open.depth--;
    if (open.depth === 0) {
      batch = null;
      submit(open.encoder);
      for (const b of open.held) releaseBuffer(b);
    }
  }
}

/** A GPU array over a buffer the caller owns (a jitted program's arena). */
export function arenaGpuArray(shape: Shape, dtype: DType, buffer: GpuBuffer): GpuArray {
  return new GpuArray(shape, dtype, new GpuStorage(buffer, false));
}

/** Sets every element of `x` to zero (a fresh pooled buffer holds old contents). */
export function clearGpuArray(x: GpuArray): void {
  if (batch !== null) {
    batch.encoder.clearBuffer(x.storage.buffer);
    return;
  }
  const enc = ctx().device.createCommandEncoder();
  enc.clearBuffer(x.storage.buffer);
  submit(enc);
}

/** The device's limit on workgroups along one dispatch dimension. */
export function gpuLimit(): number {
  return ctx().device.limits.maxComputeWorkgroupsPerDimension;
}

/** Workgroup grid of a 1-D kernel over `count` workgroups (2-D past the per-dimension limit). */
export function grid1d(count: number): [number, number, number] {
  const limit = gpuLimit();
  if (count <= limit) return [Math.max(count, 1), 1, 1];
  return [limit, Math.ceil(count / limit), 1];
}

/** Workgroups needed for `n` threads of a 1-D kernel. */
export function groupsFor(n: number): [number, number, number] {
  return grid1d(Math.ceil(n / WORKGROUP));
}
