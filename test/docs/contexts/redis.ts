/** ts-context `redis`: docs/ACCESS.md's Redis quota store; SCRIPT is the Lua script shown above it. */
export declare const SCRIPT: string;
