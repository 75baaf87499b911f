import { appendFileSync } from 'node:fs';

/**
 * Record one figure of the hardening run with the bound it is held to. The summary
 * reporter prints them all at the end; the calling test asserts the bound itself.
 */
export function recordFigure(name: string, value: number | string, bound: string, ok: boolean): void {
  const file = process.env.DESKSIDE_HARDENING_FIGURES;
  if (file) appendFileSync(file, `${JSON.stringify({ name, value, bound, ok })}\n`);
}
