import addressparser from 'nodemailer/lib/addressparser';
import { caFileSetting, isSet, type Env, type Values } from './keys';
import type { MAIL_KEYS } from './table';

/** Where notifications are handed over: an SMTP server (Exchange's relay, Microsoft 365's submission port, …). */
export interface SmtpConfig {
  host: string;
  port: number;
  /** smtps://: TLS from the first byte. */
  secure: boolean;
  /** smtp://: refuse to go on unless the server offers STARTTLS (always true when there is a password). */
  requireTls: boolean;
  /** Absent: an anonymous relay (no AUTH). */
  user: string | undefined;
  password: string | undefined;
}

/** The desk's mailbox, read over IMAP. */
export interface ImapConfig {
  host: string;
  port: number;
  /** imaps://: TLS from the first byte; imap:// always upgrades with STARTTLS (never a password in clear). */
  secure: boolean;
  user: string;
  password: string;
  /** The folder new mail arrives in (the URL's path), INBOX by default. */
  mailbox: string;
  pollSeconds: number;
}

export type UnknownSenders = 'create' | 'reject';

/** E-mail both ways; null in Config when DESKSIDE_SMTP_URL is not set (mail off, nothing else changes). */
export interface MailConfig {
  smtp: SmtpConfig;
  /** DESKSIDE_MAIL_FROM as given: `Deskside <helpdesk@corp.example>`. */
  from: string;
  /** Its address alone, lower-case: mail from it is the desk's own and is never answered. */
  fromAddress: string;
  /** DESKSIDE_PUBLIC_URL without a trailing slash: links in mail start with it. */
  publicUrl: string;
  /** PEM file trusted for both servers' certificates, besides Node's public CAs. */
  caFile: string | undefined;
  imap: ImapConfig | null;
  unknownSenders: UnknownSenders;
  /** The desk's address is itself a mailing list: mail carrying List-Id is a person's, not a list's. */
  acceptListMail: boolean;
  senderLimit: { maxMessages: number; windowMinutes: number };
  /** How long a notification keeps being retried after temporary failures. */
  retryMs: number;
  /** Larger incoming messages are not read: they go to Deskside/Failed. */
  maxMessageBytes: number;
}

const MB = 1024 * 1024;

interface ParsedServerUrl {
  scheme: string;
  host: string;
  port: number | null;
  user: string | undefined;
  password: string | undefined;
  path: string;
}

/**
 * A server URL with credentials. Problems never repeat the URL: it may hold a password.
 * Percent-encoded user names and passwords (a password with @ or :) are decoded.
 */
function parseServerUrl(key: string, raw: string, schemes: readonly string[], problems: string[]): ParsedServerUrl | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    problems.push(`${key} is not a URL; write it like ${schemes[0]}://host${key.startsWith('DESKSIDE_IMAP') ? '/INBOX' : ''} (the value is not shown: it may hold a password)`);
    return null;
  }
  const scheme = u.protocol.replace(/:$/, '').toLowerCase();
  if (!schemes.includes(scheme)) {
    problems.push(`${key} must start with ${schemes.map((s) => `${s}://`).join(' or ')}, not ${scheme}://`);
    return null;
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) {
    problems.push(`${key} names no server`);
    return null;
  }
  if (u.search || u.hash) {
    problems.push(`${key} must not have a ?query or #fragment`);
    return null;
  }
  let user: string | undefined;
  let password: string | undefined;
  try {
    user = u.username ? decodeURIComponent(u.username) : undefined;
    password = u.password ? decodeURIComponent(u.password) : undefined;
  } catch {
    problems.push(`${key} has a user name or password that is not valid percent-encoding (write @ as %40, : as %3A, % as %25)`);
    return null;
  }
  let mailboxPath = '';
  try {
    mailboxPath = decodeURIComponent(u.pathname.replace(/^\/+/, ''));
  } catch {
    problems.push(`${key} has a path that is not valid percent-encoding`);
    return null;
  }
  return { scheme, host, port: u.port ? Number(u.port) : null, user, password, path: mailboxPath };
}

/** The one address in a From setting, lower-case, or null. */
export function singleAddress(value: string): string | null {
  const found = addressparser(value, { flatten: true });
  if (found.length !== 1 || !found[0].address) return null;
  const address = found[0].address.trim();
  return /^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$|^[^\s@<>()",;]+@[A-Za-z0-9-]+$/.test(address) ? address.toLowerCase() : null;
}

/** DESKSIDE_PUBLIC_URL as links will use it: http(s), no query, no trailing slash. */
function parsePublicUrl(raw: string, problems: string[]): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    problems.push(`DESKSIDE_PUBLIC_URL="${raw}" is not a URL; write the address people open Deskside at, e.g. https://helpdesk.corp.example`);
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    problems.push(`DESKSIDE_PUBLIC_URL="${raw}" must start with https:// or http://`);
    return null;
  }
  if (u.search || u.hash || u.username || u.password) {
    problems.push(`DESKSIDE_PUBLIC_URL="${raw}" must be just the site's address (no user, ?query or #fragment)`);
    return null;
  }
  // The host also ends Message-IDs (features/mail/threading.ts), which want a DNS name.
  if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i.test(u.hostname)) {
    problems.push(`DESKSIDE_PUBLIC_URL="${raw}" must name the site by a DNS name or IPv4 address (its host name also ends the Message-IDs of Deskside's mail)`);
    return null;
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/**
 * The mail keys and the rules between them. Without DESKSIDE_SMTP_URL mail is off and every
 * other mail key must be unset: a half-configured mailbox is an error, not a silent nothing.
 * Reading mail needs sending it (acknowledgements), so DESKSIDE_IMAP_URL needs the SMTP keys.
 */
export function parseMailConfig(env: Env, v: Values<typeof MAIL_KEYS>, keys: readonly string[], problems: string[], appRoot: string): MailConfig | null {
  if (!v.DESKSIDE_SMTP_URL) {
    const stray = keys.filter((k) => k !== 'DESKSIDE_SMTP_URL' && isSet(env, k));
    if (stray.length) {
      problems.push(
        `${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} set but DESKSIDE_SMTP_URL is not; mail is off without it. Set it to your SMTP server (smtp://relay.corp.example) or remove the mail keys`,
      );
    }
    return null;
  }
  const before = problems.length;

  let smtp: SmtpConfig | null = null;
  const s = parseServerUrl('DESKSIDE_SMTP_URL', v.DESKSIDE_SMTP_URL, ['smtp', 'smtps'], problems);
  if (s) {
    if (s.path) problems.push('DESKSIDE_SMTP_URL must not have a path; write it like smtp://relay.corp.example:25');
    if (s.password !== undefined && s.user === undefined) problems.push('DESKSIDE_SMTP_URL has a password but no user name');
    const secure = s.scheme === 'smtps';
    if (!secure && s.password !== undefined && !v.DESKSIDE_SMTP_STARTTLS) {
      problems.push('DESKSIDE_SMTP_STARTTLS=false is refused with a password in DESKSIDE_SMTP_URL: the password would cross the network in clear text. Use STARTTLS or smtps://');
    }
    smtp = { host: s.host, port: s.port ?? (secure ? 465 : 25), secure, requireTls: !secure && (v.DESKSIDE_SMTP_STARTTLS || s.password !== undefined), user: s.user, password: s.password };
  }

  const from = v.DESKSIDE_MAIL_FROM ?? '';
  const fromAddress = from ? singleAddress(from) : null;
  if (!from) problems.push('DESKSIDE_MAIL_FROM is required with DESKSIDE_SMTP_URL: the address notifications come from, e.g. "IT Helpdesk <helpdesk@corp.example>" (make it the mailbox DESKSIDE_IMAP_URL reads, so replies come back)');
  else if (!fromAddress) problems.push(`DESKSIDE_MAIL_FROM="${from}" is not one e-mail address; write it like IT Helpdesk <helpdesk@corp.example>`);

  let publicUrl: string | null = null;
  if (!v.DESKSIDE_PUBLIC_URL) problems.push('DESKSIDE_PUBLIC_URL is required with DESKSIDE_SMTP_URL: the address people open Deskside at (links in mail point there), e.g. https://helpdesk.corp.example');
  else publicUrl = parsePublicUrl(v.DESKSIDE_PUBLIC_URL, problems);

  const caFile = caFileSetting('DESKSIDE_MAIL_CA_FILE', v.DESKSIDE_MAIL_CA_FILE, appRoot, problems);

  let imap: ImapConfig | null = null;
  if (v.DESKSIDE_IMAP_URL) {
    const i = parseServerUrl('DESKSIDE_IMAP_URL', v.DESKSIDE_IMAP_URL, ['imaps', 'imap'], problems);
    if (i) {
      if (!i.user || !i.password) problems.push('DESKSIDE_IMAP_URL needs the mailbox\'s user name and password: imaps://user:password@host/INBOX (percent-encode @ and : in them)');
      else {
        const secure = i.scheme === 'imaps';
        imap = { host: i.host, port: i.port ?? (secure ? 993 : 143), secure, user: i.user, password: i.password, mailbox: i.path || 'INBOX', pollSeconds: v.DESKSIDE_IMAP_POLL_SECONDS };
      }
    }
  } else {
    const stray = ['DESKSIDE_IMAP_POLL_SECONDS', 'DESKSIDE_MAIL_UNKNOWN_SENDERS', 'DESKSIDE_MAIL_ACCEPT_LIST_MAIL', 'DESKSIDE_MAIL_SENDER_LIMIT', 'DESKSIDE_MAIL_SENDER_WINDOW_MINUTES', 'DESKSIDE_MAIL_MAX_MB'].filter((k) => isSet(env, k));
    if (stray.length) problems.push(`${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} about reading the desk's mailbox, but DESKSIDE_IMAP_URL is not set`);
  }

  if (problems.length > before || !smtp || !fromAddress || !publicUrl) return null;
  return {
    smtp,
    from,
    fromAddress,
    publicUrl,
    caFile,
    imap,
    unknownSenders: v.DESKSIDE_MAIL_UNKNOWN_SENDERS,
    acceptListMail: v.DESKSIDE_MAIL_ACCEPT_LIST_MAIL,
    senderLimit: { maxMessages: v.DESKSIDE_MAIL_SENDER_LIMIT, windowMinutes: v.DESKSIDE_MAIL_SENDER_WINDOW_MINUTES },
    retryMs: Math.round(v.DESKSIDE_MAIL_RETRY_HOURS * 3_600_000),
    maxMessageBytes: Math.round(v.DESKSIDE_MAIL_MAX_MB * MB),
  };
}

/** Things worth a warning at start, not an error. */
export function mailStartupWarnings(mail: MailConfig): string[] {
  const out: string[] = [];
  if (!mail.smtp.secure && !mail.smtp.requireTls) out.push(`DESKSIDE_SMTP_STARTTLS=false: notifications go to ${mail.smtp.host} in clear text when it offers no STARTTLS.`);
  if (mail.imap && mail.fromAddress !== mail.imap.user.toLowerCase() && mail.imap.user.includes('@')) {
    out.push(`DESKSIDE_MAIL_FROM (${mail.fromAddress}) is not the mailbox DESKSIDE_IMAP_URL reads (${mail.imap.user}): replies to notifications will only come back if ${mail.fromAddress} delivers there.`);
  }
  return out;
}
