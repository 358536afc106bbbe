/**
 * What the browser tests share: Debian's Chromium and the flags that keep a
 * headless run quiet and offline (no first-run page, no background network,
 * no component updates or sync).
 */
export const CHROMIUM = "/usr/bin/chromium";

export const QUIET_CHROMIUM_ARGS = [
  "--no-sandbox",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Headless Chromium with WebGPU on SwiftShader (a CPU implementation: right
 * answers, no GPU speed), quiet and offline; the page must be served from
 * http://127.0.0.1 (a secure context).
 */
export const WEBGPU_CHROMIUM_ARGS = [
  "--headless=new",
  "--enable-unsafe-webgpu",
  "--use-webgpu-adapter=swiftshader",
  ...QUIET_CHROMIUM_ARGS,
];
