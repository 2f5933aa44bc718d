// The chaos run drives the built service (dist/cli.js), as an operator runs it.
export { ensureBuilt } from "../helpers/build.js";
