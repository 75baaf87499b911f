/**
 * The pure core of the per-sender rate limit on incoming mail: a sliding window of N
 * messages per M minutes. The store (a table of sender and arrival time, shared by every
 * process) comes with the inbound worker; it keeps the arrivals `windowStart` says are still
 * in the window and asks `decideSenderRate` about each new message.
 *
 * Every arrival counts, refused ones too: a loop or a flood that keeps going stays refused
 * until it pauses for a whole window, instead of getting N more through each window.
 */

export interface SenderRateLimit {
  maxMessages: number;
  windowMinutes: number;
}

export interface SenderRateDecision {
  allowed: boolean;
  /** Arrivals in the window, this one included. */
  count: number;
  /** When refused: the earliest time the sender would be let through if they sent nothing more. */
  retryAfter: Date | null;
}

/** The form a sender address is counted under: trimmed, lower-case. */
export function senderKey(address: string): string {
  return address.trim().toLowerCase();
}

function windowMs(limit: SenderRateLimit): number {
  if (!Number.isSafeInteger(limit.maxMessages) || limit.maxMessages < 1) throw new Error(`maxMessages must be a positive integer, not ${limit.maxMessages}`);
  if (!(limit.windowMinutes > 0)) throw new Error(`windowMinutes must be positive, not ${limit.windowMinutes}`);
  return limit.windowMinutes * 60_000;
}

/** Arrivals at or before this time have left the window (the store may forget them). */
export function windowStart(now: Date, limit: SenderRateLimit): Date {
  return new Date(now.getTime() - windowMs(limit));
}

/**
 * May a message from a sender that arrived `now` go on, given that sender's earlier
 * arrivals (any order; ones outside the window are ignored, future ones count as now)?
 */
export function decideSenderRate(earlier: readonly Date[], now: Date, limit: SenderRateLimit): SenderRateDecision {
  const start = windowStart(now, limit).getTime();
  const inWindow = earlier
    .map((d) => Math.min(d.getTime(), now.getTime()))
    .filter((t) => t > start)
    .sort((a, b) => a - b);
  const count = inWindow.length + 1;
  if (count <= limit.maxMessages) return { allowed: true, count, retryAfter: null };
  // With this one recorded too, the sender is under the limit again once all but
  // maxMessages - 1 of the window's arrivals have aged out.
  const all = [...inWindow, now.getTime()];
  const mustAgeOut = all[all.length - limit.maxMessages];
  return { allowed: false, count, retryAfter: new Date(mustAgeOut + windowMs(limit)) };
}
