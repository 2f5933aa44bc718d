import { formatReport, runChaos } from "./scenario.js";
const report = await runChaos({ seed: 20_240_611, durationMs: 30_000, settleTimeoutMs: 90_000, keepOnFailure: true, log: () => undefined });
process.stdout.write(`${formatReport(report)}\n`);
process.exit(0);
