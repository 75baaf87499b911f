import type { Request } from 'express';

/**
 * The posted form's fields. The body parser gives `any`, and nothing at all when a post
 * had no form body; handlers read fields from this and check each one's type.
 */
export function formOf(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  return body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
}
