// Reads Bot API call parameters the way Telegram accepts them: a JSON body, an urlencoded or
// multipart form (grammY switches to multipart when a file is uploaded), or the query string.
import type { IncomingMessage } from "node:http";

/** Form fields that carry JSON-serialised objects; grammY and other clients stringify them. */
const JSON_FIELDS = new Set([
  "reply_markup",
  "entities",
  "caption_entities",
  "allowed_updates",
  "commands",
  "scope",
  "link_preview_options",
  "reply_parameters",
]);

export class BadRequestBody extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) throw new BadRequestBody(413, "Request Entity Too Large");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** An uploaded file, recorded by name and size rather than by content. */
export interface UploadedFile {
  upload: string;
  size: number;
}

function fromFormValue(key: string, value: string | File): unknown {
  if (typeof value !== "string") return { upload: value.name, size: value.size } satisfies UploadedFile;
  if (JSON_FIELDS.has(key)) {
    try {
      return JSON.parse(value);
    } catch {
      return value; // left as text; the method's own validation reports it
    }
  }
  return value;
}

export async function parseParams(
  contentType: string | undefined,
  body: Buffer,
  query: URLSearchParams,
): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of query) params[key] = fromFormValue(key, value);
  if (body.length === 0) return params;
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw new BadRequestBody(400, "Bad Request: can't parse JSON request body");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new BadRequestBody(400, "Bad Request: request body must be a JSON object");
    }
    return { ...params, ...(parsed as Record<string, unknown>) };
  }
  if (type === "application/x-www-form-urlencoded" || type === "multipart/form-data") {
    let form: FormData;
    try {
      form = await new Response(body, { headers: { "content-type": contentType! } }).formData();
    } catch {
      throw new BadRequestBody(400, "Bad Request: can't parse form request body");
    }
    for (const [key, value] of form) params[key] = fromFormValue(key, value);
    return params;
  }
  throw new BadRequestBody(400, `Bad Request: unsupported content type "${type}"`);
}
