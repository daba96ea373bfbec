// Types of scripts/node24.mjs for the TypeScript tests that import it.
/** The Node 24 binary's path (fetched from the npm registry the first time), or null and the reason there is none. */
export function node24(): { path: string | null; reason: string };
