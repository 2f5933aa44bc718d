// Small helpers over node:http for the emulator's three route sets.

import type { IncomingMessage, ServerResponse } from "node:http";
import { EmulatorError } from "./errors.js";

/** Bodies larger than this are refused with 413 (no SIEM call comes close). */
export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        reject(new BodyTooLargeError(`request body is larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!tooLarge) resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}

/** JSON body or a 400 naming the problem; an empty body reads as `emptyValue`. */
export function parseJsonBody(text: string, emptyValue: unknown = undefined): unknown {
  if (text.trim() === "") return emptyValue;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EmulatorError(400, `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

export function sendRaw(res: ServerResponse, status: number, contentType: string, payload: string): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(payload) });
  res.end(payload);
}

export function sendNoContent(res: ServerResponse): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(204);
  res.end();
}

/** Resolves after `ms`; the timer is tracked so that closing the emulator can cancel it. */
export function trackedDelay(ms: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timers.add(timer);
  });
}

export function pathOf(req: IncomingMessage): { path: string; query: URLSearchParams } {
  const url = new URL(req.url ?? "/", "http://emulator.invalid");
  return { path: url.pathname, query: url.searchParams };
}
