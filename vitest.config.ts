import { defineConfig } from "vitest/config";

const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One throw-away PostgreSQL cluster per run for the store's PostgreSQL dialect (test/helpers/postgres.ts).
    globalSetup: ["test/helpers/postgres-global-setup.ts"],
    // Integration tests start real servers and child processes; a 2-core CI box needs room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    // A focused test (.only) must fail the run instead of silently skipping the rest.
    allowOnly: false,
    // .ci/run reads the JSON report to print its "N passed, N failed" line.
    reporters: jsonReport ? ["default", ["json", { outputFile: jsonReport }]] : ["default"],
  },
});
