/**
 * The live page's script (bundled by esbuild into tour-live.js): for every
 * live section on the page, Run reruns the section with the text in its
 * editor (tour/lib/live.ts evaluates it, as the report run did in Node) and
 * replaces the section's notes, checks and figures with the new results;
 * Reset puts the original code back. An error (a syntax error, a thrown
 * chainrule error, a missing name) is shown under the editor and the old
 * results are greyed out, never silently kept as if current.
 */
import { LIVE_SECTIONS } from "../sections/live.js";
import { resultsHtml } from "./html.js";

function messageOf(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The header's "n of m checks pass", recounted from the page's tables after a rerun. */
function updateScore(): void {
  const score = document.getElementById("score");
  if (!score) return;
  const rows = document.querySelectorAll("tr.check");
  const passed = document.querySelectorAll('tr.check[data-passed="true"]').length;
  score.dataset.passed = String(passed);
  score.dataset.total = String(rows.length);
  score.textContent = `${passed} of ${rows.length} checks pass.`;
}

function attach(el: HTMLElement): void {
  const id = el.dataset.section ?? "";
  const section = LIVE_SECTIONS.find((s) => s.id === id);
  const editor = el.querySelector<HTMLTextAreaElement>("textarea.live-source");
  const runButton = el.querySelector<HTMLButtonElement>("button.live-run");
  const resetButton = el.querySelector<HTMLButtonElement>("button.live-reset");
  const status = el.querySelector<HTMLElement>(".live-status");
  const errorBox = el.querySelector<HTMLElement>("pre.live-error");
  const results = el.querySelector<HTMLElement>(".results");
  if (!section || !editor || !runButton || !resetButton || !status || !errorBox || !results) {
    return;
  }
  const original = editor.value;
  const quick = document.body.dataset.quick === "true";
  const run = async () => {
    runButton.disabled = true;
    status.textContent = "running…";
    errorBox.hidden = true;
    // Let the browser paint "running…" before the (synchronous) computation starts.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const t0 = performance.now();
    try {
      const result = await section.run({ quick }, editor.value);
      result.seconds = (performance.now() - t0) / 1000;
      results.innerHTML = resultsHtml(result);
      results.classList.remove("stale");
      updateScore();
      const failed = result.checks.filter((c) => !c.passed).length;
      status.textContent = `done in ${result.seconds.toFixed(2)} s; ${
        failed === 0 ? "all checks pass" : `${failed} check(s) fail`
      }`;
      status.dataset.state = "done";
    } catch (err) {
      errorBox.textContent = messageOf(err);
      errorBox.hidden = false;
      results.classList.add("stale");
      status.textContent = "error (the results below are from the last good run)";
      status.dataset.state = "error";
    } finally {
      runButton.disabled = false;
    }
  };
  runButton.addEventListener("click", () => void run());
  resetButton.addEventListener("click", () => {
    editor.value = original;
    void run();
  });
  // Ctrl/Cmd + Enter in the editor runs it.
  editor.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void run();
    }
  });
  // Tab inserts two spaces instead of leaving the editor.
  editor.addEventListener("keydown", (e) => {
    if (e.key !== "Tab" || e.shiftKey) return;
    e.preventDefault();
    const { selectionStart: a, selectionEnd: b } = editor;
    editor.setRangeText("  ", a, b, "end");
  });
  el.dataset.ready = "true";
}

document.querySelectorAll<HTMLElement>("section[data-live]").forEach(attach);
document.body.dataset.liveReady = "true";
