// The service as `node dist/cli.js run` starts it, with the routing world's filters: BENCH_ROUTES
// (JSON: chat id → { filter, silent } MATCHERS) become the `route` hook of every ingest, and the time
// spent matching is written to BENCH_ROUTE_STATS (JSON) after each ingest that routed something.
//
// A stand-in until the routing branch is merged: intake does not pass a route of its own yet, so the
// hook is added to IncidentsRepository.ingest here (a route the caller gives wins). Once routing is in,
// give the same MATCHERS to its YAML `routes:` and start the service plainly (see routing.ts).
import { writeFileSync } from "node:fs";
import { configSecrets, loadConfig } from "../../dist/config/load.js";
import { createLogger } from "../../dist/log/logger.js";
import { IncidentsRepository } from "../../dist/store/incidents.js";
import { routeFromRules } from "./route-filters.mjs";

const route = routeFromRules(JSON.parse(process.env.BENCH_ROUTES ?? "{}"));
const statsPath = process.env.BENCH_ROUTE_STATS;
const stats = { incidents: 0, pairs: 0, ns: 0 };

/** The route, timed: incidents routed, (incident × chat) pairs looked at, nanoseconds spent. */
function timedRoute(incident, recipients) {
  const started = process.hrtime.bigint();
  try {
    return route(incident, recipients);
  } finally {
    stats.ns += Number(process.hrtime.bigint() - started);
    stats.incidents++;
    stats.pairs += recipients.length;
  }
}

const ingest = IncidentsRepository.prototype.ingest;
IncidentsRepository.prototype.ingest = async function routedIngest(incidents, watermark, opts = {}) {
  const before = stats.incidents;
  const result = await ingest.call(this, incidents, watermark, { ...opts, route: opts.route ?? timedRoute });
  if (statsPath && stats.incidents !== before) writeFileSync(statsPath, JSON.stringify(stats));
  return result;
};

const config = loadConfig();
const { logger, ring } = createLogger({ level: config.logLevel, secrets: configSecrets(config) });
const { startService } = await import("../../dist/app.js");
const service = await startService(config, { logger, ring });
logger.info("service started (routed by the benchmark's filters)");

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    service.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
// Like `run`: alive until a signal.
setInterval(() => {}, 2 ** 31 - 1);
