/**
 * Type helpers for the API shapes the server and the web UI share (`*.api.ts` modules).
 * Those modules hold types only: no runtime import, no Node type, so the web type-check
 * (tsconfig.web.json, DOM libs) reads them too. Both sides import them with `import type`.
 */

/**
 * What a server value becomes once sent as JSON and parsed in the browser: `Date`s turn
 * into ISO strings (JSON.stringify calls toISOString), everything else keeps its shape.
 */
export type Wire<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

/**
 * Compiles only when A and B are the same union: ties a runtime list (`as const`) on the
 * server to the union declared in a shared module, so neither can gain or lose a member alone.
 */
export type SameUnion<A extends B, B extends C, C = A> = [A, B, C];
