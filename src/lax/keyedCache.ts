/**
 * Two-level caches of the loop primitives' derived programs: per loop
 * parameters (held weakly, so a dropped loop frees its programs) and per
 * string key (which operands are differentiated or batched).
 */

/** The per-key map of `owner` in `cache`, created empty on first use. */
export function entriesFor<K extends object, V>(
  cache: WeakMap<K, Map<string, V>>,
  owner: K,
): Map<string, V> {
  let byKey = cache.get(owner);
  if (byKey === undefined) cache.set(owner, (byKey = new Map<string, V>()));
  return byKey;
}
