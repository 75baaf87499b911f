/**
 * Errors that carry their HTTP meaning. Handlers throw them; the one error handler
 * (web/error-handler.ts) renders them in the site's look, or as JSON for API callers.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Shown to the person; `message` may hold more for the log. */
    readonly publicMessage: string = message,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (msg: string, extra?: Record<string, unknown>) => new HttpError(400, msg, msg, extra);
export const notFound = (msg = 'We could not find that page.') => new HttpError(404, msg);

/** The sign-in dance: rendered as the 401 help page with WWW-Authenticate challenges. */
export class SignInRequired extends HttpError {
  /** `extra`: more for the help page, e.g. why a ticket or a password was not accepted. */
  constructor(
    readonly returnTo: string,
    extra: Record<string, unknown> = {},
    /**
     * Send the WWW-Authenticate challenges. Not on the answer to the password form: a
     * browser that tries Negotiate there and has no ticket re-sends the POST by itself,
     * which would check (and count against) the password twice.
     */
    readonly challenge = true,
  ) {
    super(401, 'Sign-in required', 'Please sign in to continue.', extra);
  }
}

export class ServiceUnavailable extends HttpError {
  constructor(message = 'Deskside cannot reach its database right now. Please try again in a minute.') {
    super(503, message);
  }
}
