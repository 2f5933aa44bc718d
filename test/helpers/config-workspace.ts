// A fresh folder per test for loadConfig's working directory and its YAML files, removed after the test.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.js";

export interface ConfigWorkspace {
  /** The current test's folder. */
  readonly dir: string;
  /** The problems loadConfig reports, or fails the test if it accepts the input. */
  problemsOf(env: NodeJS.ProcessEnv, configFile?: string): string[];
  /** Writes a file into the folder and returns its path. */
  writeFile(name: string, text: string): string;
}

/** Call at the top of a test file (or a describe block): registers the folder's setup and removal. */
export function configWorkspace(prefix = "mpsiem-config-"): ConfigWorkspace {
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    problemsOf(env, configFile) {
      try {
        loadConfig({ env, cwd: dir, configFile });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
      throw new Error("expected a ConfigError");
    },
    writeFile(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}
