// The chaos run drives the built service (dist/cli.js), as an operator runs it. `npm test` and
// `npm run chaos` build first; a bare `vitest run test/chaos` builds here when dist/ is older than src/.

import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { CLI_PATH, REPO } from "./scenario.js";

function newestChange(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestChange(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Compiles src/ to dist/ (types are `npm run typecheck`'s job) unless dist/cli.js is newer than src/. */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(CLI_PATH) && statSync(CLI_PATH).mtimeMs >= newestChange(join(REPO, "src"))) return;
  await new Promise<void>((done) => {
    execFile(
      process.execPath,
      [join(REPO, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--noCheck"],
      { cwd: REPO, timeout: 120_000 },
      () => done(),
    );
  });
  if (!existsSync(CLI_PATH)) throw new Error("tsc -p tsconfig.build.json did not produce dist/cli.js");
}
