// TELEGRAM_PROXY: every Bot API client (the bot, delivery, `check`) goes through the same agent.
import { HttpsProxyAgent } from "https-proxy-agent";
import { SocksProxyAgent } from "socks-proxy-agent";

/** grammY client options for the configured proxy, or none. */
export function proxyFetchConfig(proxy: string | undefined): { baseFetchConfig?: { agent: unknown } } {
  if (!proxy) return {};
  const agent = /^socks/i.test(proxy) ? new SocksProxyAgent(proxy) : new HttpsProxyAgent(proxy);
  return { baseFetchConfig: { agent } };
}
