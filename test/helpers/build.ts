// Tests that run the service as an operator does (`node dist/cli.js …`) need dist/. `npm test` builds
// it first; a bare `vitest run` of one folder rebuilds it here when it is missing or older than src/.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "../..");
/** What the package's `bin` points at. */
export const CLI_PATH = join(REPO, "dist", "cli.js");

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
      { cwd: REPO, timeout: 110_000 },
      () => done(),
    );
  });
  if (!existsSync(CLI_PATH)) throw new Error("tsc -p tsconfig.build.json did not emit dist/cli.js");
}
