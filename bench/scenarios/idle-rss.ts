// Resident memory of an idle `run`, this build beside an earlier commit's (by default adb736a, the one
// before the layout change that stopped `run` from loading the emulator, the fake and the demo). The
// earlier commit is unpacked with `git archive` into a temporary folder, built there with this
// checkout's TypeScript and node_modules, measured, and deleted: nothing is left behind.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, type ServiceProcess, sleep, standardChats, World } from "../lib/world.js";

export const IDLE_RSS_BASELINE_COMMIT = "adb736a";

export interface IdleRssRow {
  label: string;
  commit: string;
  /** Seconds from spawn to the first SIEM poll. */
  startupSec: number;
  rssAfterStartBytes: number | null;
  rssEndBytes: number | null;
  rssMaxBytes: number;
  /** Mean of the samples in the second half of the stretch. */
  rssSecondHalfMeanBytes: number;
  samples: Array<[number, number]>;
}

export interface IdleRssResult {
  idleSec: number;
  buildSec: number;
  rows: IdleRssRow[];
}

function git(...args: string[]): string {
  return execFileSync("git", args, { cwd: REPO, encoding: "utf8" }).trim();
}

export interface BaselineBuild {
  commit: string;
  dir: string;
  dist: string;
  buildSec: number;
}

/** Unpacks `commit` into a temporary folder and builds it (runIdleRss deletes the folder). */
export function buildBaseline(commit = IDLE_RSS_BASELINE_COMMIT): BaselineBuild {
  const started = Date.now();
  const built = buildCommit(commit);
  return { commit, ...built, buildSec: (Date.now() - started) / 1000 };
}

/** Unpacks `commit` into a temporary folder and builds it; returns the folder and its CLI. */
function buildCommit(commit: string): { dir: string; dist: string } {
  const dir = mkdtempSync(join(tmpdir(), `mpsiem-bench-${commit}-`));
  try {
    execFileSync("sh", ["-c", `git archive ${commit} | tar -x -C "${dir}"`], { cwd: REPO });
    symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
    execFileSync(
      process.execPath,
      [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
      {
        cwd: dir,
      },
    );
    return { dir, dist: join(dir, "dist") };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startIdle(
  label: string,
  seed: number,
  dist: string,
): Promise<{ world: World; service: ServiceProcess; startupSec: number }> {
  const world = await World.create({ name: `idle-rss-${label}`, seed, chats: standardChats() });
  try {
    // With that build's own store: its database must hold its migrations, not this build's.
    const { openStore } = (await import(
      join(dist, "store", "index.js")
    )) as typeof import("../../src/store/index.js");
    await world.allowChats(openStore);
    const service = await world.spawn({ pollIntervalSec: 3, command: [join(dist, "cli.js"), "run"] });
    const firstPoll = await world.waitFirstPoll(60_000);
    if (firstPoll === null) throw new Error(`${label}: the service did not poll the SIEM within 60 s`);
    return { world, service, startupSec: (firstPoll - service.spawnedAt) / 1000 };
  } catch (error) {
    await world.close();
    throw error;
  }
}

export async function runIdleRss(opts: {
  idleSec: number;
  seed: number;
  /** Built beforehand (buildBaseline), so the build does not run beside timed scenarios. */
  built?: BaselineBuild;
}): Promise<IdleRssResult> {
  const built = opts.built ?? buildBaseline();
  const baseline = built.commit;
  const buildSec = built.buildSec;
  const head = git("rev-parse", "--short", "HEAD");
  const dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src") !== "";
  const runs: Array<{
    label: string;
    commit: string;
    world: World;
    service: ServiceProcess;
    startupSec: number;
  }> = [];
  try {
    // One after the other to start (start-up is timed), then idle side by side.
    for (const [label, commit, dist] of [
      ["this build", dirty ? `${head} + changes` : head, join(REPO, "dist")],
      [`commit ${baseline}`, baseline, built.dist],
    ] as const) {
      const started = await startIdle(label, opts.seed, dist);
      runs.push({ label, commit, ...started });
    }
    await sleep(5_000);
    const afterStart = runs.map((r) => r.service.rss());
    const samples: Array<Array<[number, number]>> = runs.map(() => []);
    const t0 = Date.now();
    while (Date.now() - t0 < opts.idleSec * 1000) {
      await sleep(Math.min(5_000, opts.idleSec * 1000 - (Date.now() - t0)));
      runs.forEach((r, i) => {
        const rss = r.service.rss();
        if (rss !== null) samples[i]!.push([(Date.now() - t0) / 1000, rss]);
      });
    }
    return {
      idleSec: (Date.now() - t0) / 1000,
      buildSec,
      rows: runs.map((r, i) => {
        const own = samples[i]!;
        const secondHalf = own.filter(([t]) => t >= opts.idleSec / 2).map(([, b]) => b);
        return {
          label: r.label,
          commit: r.commit,
          startupSec: r.startupSec,
          rssAfterStartBytes: afterStart[i] ?? null,
          rssEndBytes: own.at(-1)?.[1] ?? null,
          rssMaxBytes: Math.max(...own.map(([, b]) => b)),
          rssSecondHalfMeanBytes: secondHalf.reduce((a, b) => a + b, 0) / Math.max(1, secondHalf.length),
          samples: own,
        };
      }),
    };
  } finally {
    await Promise.allSettled(runs.map((r) => r.world.close()));
    rmSync(built.dir, { recursive: true, force: true });
  }
}
