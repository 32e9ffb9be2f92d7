/**
 * `#backend` is resolved by package.json "imports" per runtime condition (backend-node.ts under
 * `node`, backend-none.ts elsewhere); tests alias it to the Node module. Typed loosely here and
 * narrowed where it is loaded (backend.ts).
 */
declare module '#backend' {
  export const backend: unknown;
}
