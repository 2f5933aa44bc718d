// The layout is the architecture: folders are concerns, data flows one way, and `run` carries only
// what the service needs. These checks read the real import statements of src/.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Relative imports of a file that exist at run time (type-only imports are erased by the compiler). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?([^;]*?)\s+from\s+"(\.[^"]+)";/gms)) {
    if (m[2]) continue;
    found.push(normalize(join(dirname(file), m[4]!.replace(/\.js$/, ".ts"))));
  }
  for (const m of text.matchAll(/^import\s+"(\.[^"]+)";/gm)) {
    found.push(normalize(join(dirname(file), m[1]!.replace(/\.js$/, ".ts"))));
  }
  return found;
}

/** Every relative import, type-only included: folder dependencies count even when erased. */
function allImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/from\s+"(\.[^"]+)"/g)].map((m) =>
    normalize(join(dirname(file), m[1]!.replace(/\.js$/, ".ts"))),
  );
}

function folderOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes("/") ? rel.split("/")[0]! : rel.replace(/\.ts$/, "");
}

describe("source layout", () => {
  it("has no import cycles between folders", () => {
    const edges = new Map<string, Set<string>>();
    for (const file of sourceFiles(SRC)) {
      const from = folderOf(file);
      for (const target of allImports(file)) {
        const to = folderOf(target);
        if (to === from) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
      }
    }
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      for (const next of edges.get(node) ?? []) {
        if (path.includes(next)) {
          cycles.push([...path.slice(path.indexOf(next)), next].join(" → "));
          continue;
        }
        visit(next, [...path, next]);
      }
    };
    for (const start of edges.keys()) visit(start, [start]);
    expect(cycles).toEqual([]);
  });

  it("keeps delivery away from the SIEM: intake reads incidents, delivery only sends what the store holds", () => {
    const delivery = sourceFiles(join(SRC, "delivery"));
    const reachesSiem = delivery.flatMap((file) =>
      runtimeImports(file)
        .filter((target) => folderOf(target) === "siem" || folderOf(target) === "intake")
        .map((target) => `${relative(SRC, file)} → ${relative(SRC, target)}`),
    );
    expect(reachesSiem).toEqual([]);
  });

  it("loads neither the emulator, the fake Bot API nor the demo for `run`", () => {
    // `run` loads cli.ts, then app.ts (dynamically); everything they import statically comes along.
    const loaded = new Set<string>();
    const queue = [join(SRC, "cli.ts"), join(SRC, "app.ts")];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (loaded.has(file)) continue;
      loaded.add(file);
      queue.push(...runtimeImports(file));
    }
    const folders = new Set([...loaded].map(folderOf));
    expect(folders.has("app")).toBe(true);
    expect(folders.has("delivery")).toBe(true);
    for (const standIn of ["emulator", "botapi-fake", "demo"]) expect(folders.has(standIn)).toBe(false);
  });
});
