// Types of http.js (for test/js-runtimes/workerd.test.ts, and for a Worker written in TypeScript).

/** A request's array under the name the client wrote it, its data, and its row width (0 for a flat array). */
export type Field = [name: string, data: Float32Array | undefined, width: number];

export class HttpError extends Error {
  constructor(status: number, message: string, headers?: Record<string, string>);
  status: number;
  headers: Record<string, string>;
}
export function json(body: unknown, status?: number, headers?: Record<string, string>): Response;
export function errorResponse(e: HttpError): Response;
export function requireJson(request: Request): void;
export function readCapped(request: Request, limit: number): Promise<Uint8Array>;
export function readJson(request: Request, limit: number): Promise<unknown>;
export function libraryError(e: { code: string; message: string }, fields: Field[]): HttpError;
export function requireFinite(fields: Field[]): void;
export function clip(s: string): string;
