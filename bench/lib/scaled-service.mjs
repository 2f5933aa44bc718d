// The service as `node dist/cli.js run` starts it (same settings from the environment, same build),
// but with Telegram's pacing scaled up: BENCH_PACER_LIMITS and BENCH_DELIVERY_TUNING (JSON) are passed
// to startService, as the integration tests do in-process. Used by the soak, where the fake's flood
// limits are off and 200,000 calls must fit in minutes. Plain JavaScript on purpose: the child loads
// no TypeScript loader, so its memory is the service's own.
import { configSecrets, loadConfig } from "../../dist/config/load.js";
import { createLogger } from "../../dist/log/logger.js";

const config = loadConfig();
const { logger, ring } = createLogger({ level: config.logLevel, secrets: configSecrets(config) });
const { startService } = await import("../../dist/app.js");
const service = await startService(config, {
  logger,
  ring,
  pacerLimits: JSON.parse(process.env.BENCH_PACER_LIMITS ?? "{}"),
  deliveryTuning: JSON.parse(process.env.BENCH_DELIVERY_TUNING ?? "{}"),
});
logger.info("service started");

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
