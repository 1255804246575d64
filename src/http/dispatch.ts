/**
 * Finds the route for a request without scanning every route. @koa/router tests each request against
 * every registered path's regexp in turn (a few hundred) and composes a middleware chain per request;
 * this index keeps its layers, and so its exact matching rules (case-insensitive, one optional
 * trailing slash, decoded parameters, first registered wins), but only tries the layers that can
 * match: those of the request's method whose leading literal segments equal the request's.
 */
import type { Layer } from '@koa/router';

/** Leading path segments used as the index key (`/_matrix/client/v3/rooms`). */
const KEY_SEGMENTS = 4;

interface Entry<T> {
  /** Registration order: among several matching layers the first registered wins. */
  order: number;
  layer: Layer;
  value: T;
}

interface MethodIndex<T> {
  /** Layers whose first KEY_SEGMENTS segments are literal, by those segments lower-cased. */
  keyed: Map<string, Entry<T>[]>;
  /** The rest (a parameter among the leading segments, or fewer segments): always tried. */
  others: Entry<T>[];
}

export interface RouteMatch<T> {
  value: T;
  params: Record<string, string>;
}

export class RouteIndex<T> {
  private readonly methods = new Map<string, MethodIndex<T>>();
  private count = 0;

  /** Layers must be added in the router's registration order. */
  add(layer: Layer, value: T): void {
    const entry: Entry<T> = { order: this.count++, layer, value };
    const key = typeof layer.path === 'string' ? literalKey(layer.path) : undefined;
    for (const method of layer.methods) {
      let index = this.methods.get(method);
      if (!index) {
        index = { keyed: new Map(), others: [] };
        this.methods.set(method, index);
      }
      if (key === undefined) index.others.push(entry);
      else {
        const list = index.keyed.get(key);
        if (list) list.push(entry);
        else index.keyed.set(key, [entry]);
      }
    }
  }

  match(method: string, path: string): RouteMatch<T> | undefined {
    const index = this.methods.get(method);
    if (!index) return undefined;
    const keyed = index.keyed.get(requestKey(path)) ?? NONE;
    const others = index.others as Entry<T>[];
    // Merge the two lists in registration order, stopping at the first layer that matches.
    let i = 0;
    let j = 0;
    while (i < keyed.length || j < others.length) {
      const takeKeyed = j >= others.length || (i < keyed.length && keyed[i].order < others[j].order);
      const entry = (takeKeyed ? keyed[i++] : others[j++]) as Entry<T>;
      if (entry.layer.match(path)) {
        return { value: entry.value, params: entry.layer.params(path, entry.layer.captures(path), {}) };
      }
    }
    return undefined;
  }
}

const NONE: readonly Entry<never>[] = [];

/** The lower-cased first KEY_SEGMENTS segments of a route path, when they are all literal. */
function literalKey(routePath: string): string | undefined {
  const segments = routePath.split('/');
  // A leading '' before the first '/', then the segments. A shorter path stays unkeyed: the request
  // key of its trailing-slash form would then include the slash.
  if (segments[0] !== '' || segments.length < KEY_SEGMENTS + 1) return undefined;
  const lead = segments.slice(1, KEY_SEGMENTS + 1);
  if (lead.some((s) => s === '' || /[:*?+!{}()[\]\\]/.test(s))) return undefined;
  return `/${lead.join('/')}`.toLowerCase();
}

/** The same key for a request path: its first KEY_SEGMENTS segments, lower-cased. */
function requestKey(path: string): string {
  let end = 0;
  for (let n = 0; n <= KEY_SEGMENTS; n++) {
    end = path.indexOf('/', end + 1);
    if (end === -1) return path.toLowerCase();
    if (n === KEY_SEGMENTS - 1) return path.slice(0, end).toLowerCase();
  }
  return path.toLowerCase();
}
