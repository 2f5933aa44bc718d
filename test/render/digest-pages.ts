// Pages a flood the way delivery does (delivery/new-messages.ts): each digest takes the longest prefix of
// what is still queued that fits one message, and the next one starts after it.

import { type DigestMessage, renderDigestPage } from "../../src/render/index.js";
import type { RenderOptions } from "../../src/render/types.js";
import type { IncidentSummary } from "../../src/siem/types.js";

export function digestPages(items: readonly IncidentSummary[], opts: RenderOptions): DigestMessage[] {
  const pages: DigestMessage[] = [];
  let rest = items.slice();
  // Bounded: a page holds at least one incident, so there are never more pages than incidents.
  while (rest.length > 0 && pages.length < items.length) {
    const page = renderDigestPage(rest, opts);
    if (page === undefined) throw new Error(`no page for ${rest.length} incidents`);
    pages.push(page);
    rest = rest.slice(page.included.length);
  }
  if (rest.length > 0) throw new Error(`${rest.length} incidents left after ${pages.length} pages`);
  return pages;
}
