// Types of workerd/index.js: the same API as every other entry.
export * from "../dist/src/index.js";
