/**
 * Live sections: the part of a section worth editing is a file of plain
 * JavaScript (tour/sections/sNN-*.live.js) that defines named values (the
 * functions, grids and derivatives of the experiment) with chainrule's
 * functions in scope. The same evaluator runs that text in Node for the
 * report (the file as it is) and in the live page (the text as the reader
 * edited it), so the code on the page is the code that ran; the section's
 * TypeScript then turns the named values into checks and figures, in Node
 * and in the page alike. Nothing here is Node-only.
 */
import {
  GradientTape,
  InvalidArgumentError,
  emitSource,
  grad,
  hessian,
  jacfwd,
  jacrev,
  jit,
  jvp,
  lax,
  makeJaxpr,
  nn,
  noGrad,
  np,
  optim,
  toDot,
  tree,
  valueAndGrad,
  vjp,
  vmap,
} from "../../src/index.js";
import { grid, logGrid } from "./plot.js";

/** What a live section's code must define, by name, with the kind of value expected. */
export type LiveOutputs = Record<string, "function" | "number" | "object">;

export interface LiveCode {
  /** The file of plain JavaScript next to the section's module, e.g. "s03-control-flow.live.js". */
  file: string;
  /** Caption above the code on the page. */
  caption: string;
  /** The names the code defines and the section uses. */
  outputs: LiveOutputs;
}

/**
 * The names in scope in a live section's code: chainrule's transformations
 * and namespaces, the tour's grid helpers, and `quick` (true in the test's
 * smaller run).
 */
export const LIVE_SCOPE = {
  np,
  lax,
  nn,
  optim,
  tree,
  grad,
  valueAndGrad,
  jvp,
  vjp,
  vmap,
  jacfwd,
  jacrev,
  hessian,
  jit,
  GradientTape,
  noGrad,
  toDot,
  makeJaxpr,
  emitSource,
  grid,
  logGrid,
};

/**
 * Runs a live section's code and returns the values it defines. The code is
 * a function body (strict mode) with LIVE_SCOPE and `quick` as parameters;
 * a `return` of the listed names is appended. A missing name or a value of
 * the wrong kind is an InvalidArgumentError that names the section and what
 * to define.
 */
export function runLiveCode(
  sectionId: string,
  live: LiveCode,
  source: string,
  quick: boolean,
): Record<string, unknown> {
  const names = Object.keys(live.outputs);
  const collect = names
    .map((n) => `${n}: typeof ${n} === "undefined" ? undefined : ${n}`)
    .join(", ");
  const scopeNames = [...Object.keys(LIVE_SCOPE), "quick"];
  const scopeValues = [...Object.values(LIVE_SCOPE), quick];
  // The reader's code, run as written: this is the point of the live page (and of the report,
  // which runs the same file), so it gets chainrule's functions and nothing else by name.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const body = new Function(...scopeNames, `"use strict";\n${source}\n;return { ${collect} };`) as (
    ...args: unknown[]
  ) => Record<string, unknown>;
  const values = body(...scopeValues);
  for (const name of names) {
    const want = live.outputs[name]!;
    const v = values[name];
    const kind = v === null ? "null" : typeof v;
    if (kind !== want) {
      throw new InvalidArgumentError(
        `tour section "${sectionId}": its code must define \`${name}\` (a ${want}), ` +
          `got ${v === undefined ? "nothing" : `a ${kind}`}; the section needs ${names.join(", ")}`,
      );
    }
  }
  return values;
}
