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
