// English texts of looking an incident up by its key (/inc). Plain text.

import type { LookupMessages } from "./lookup-ru.js";
import { inline } from "./shared.js";

export const lookupEn: LookupMessages = {
  usage: "Which incident? Write /inc INC-123 or /inc 123 (or tap /inc_123 in a digest).",
  invalid: (arg) =>
    `“${inline(arg, 40)}” is not an incident key. Write /inc INC-123 or /inc 123: the number in digits only.`,
  tooLarge: (max) => `No incident has a number that large: at most ${max}.`,
  notFound: (key) => `The SIEM has no incident ${key}.`,
  notAllowed:
    "Incidents are shown only in chats that receive them and to people an admin allowed. Send /start to ask for access.",
  failed: (reason) => `Could not look the incident up in the SIEM: ${inline(reason, 200)}. Try again later.`,
  tooMany: "Too many incident lookups in a row. Wait a minute.",
};
