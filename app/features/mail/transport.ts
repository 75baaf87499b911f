import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import type * as Nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { ImapFlowOptions } from 'imapflow';
import type { ImapConfig, MailConfig, SmtpConfig } from '../../config/schema';

/** What the sender needs of an SMTP client: nodemailer's transporter has this shape. */
export interface MailTransport {
  sendMail(message: SendMailOptions): Promise<{ response?: string }>;
  close(): void;
}

/**
 * The CAs the mail servers' certificates are checked against: Node's public ones and the
 * configured enterprise CA (a `ca` option alone would replace the public ones, and Microsoft
 * 365 would then fail to verify).
 */
export function trustedCas(caFile: string | undefined): string[] | undefined {
  return caFile ? [...rootCertificates, readFileSync(caFile, 'utf8')] : undefined;
}

/** The name TLS checks the certificate against: the host as configured (never an IP address, which SNI does not carry). */
function serverName(host: string): string | undefined {
  return isIP(host) ? undefined : host;
}

/** Timeouts that end every send well inside the sender's lease (sender.ts). */
export const SMTP_TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 } as const;

/** A pooled nodemailer transport for the configured server. Opening it does no I/O. */
export function smtpTransport(smtp: SmtpConfig, caFile: string | undefined): MailTransport {
  const options: SMTPPool.Options = {
    pool: true,
    maxConnections: 2,
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: smtp.requireTls,
    auth: smtp.user !== undefined ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    tls: { ca: trustedCas(caFile), servername: serverName(smtp.host) },
    logger: false,
    ...SMTP_TIMEOUTS,
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, so a process with mail off never loads it (decision 0019)
  return (require('nodemailer') as typeof Nodemailer).createTransport(options);
}

/** How /admin/mail and the logs name the SMTP server: never its password. */
export function describeSmtp(mail: Pick<MailConfig, 'smtp'>): string {
  const s = mail.smtp;
  const how = s.secure ? 'TLS' : s.requireTls ? 'STARTTLS' : 'STARTTLS if offered';
  return `${s.host}:${s.port} (${how}${s.user !== undefined ? `, as ${s.user}` : ', no sign-in'})`;
}

/** ImapFlow's options for the desk's mailbox: STARTTLS required on imap://, logging off. */
export function imapOptions(imap: ImapConfig, caFile: string | undefined): ImapFlowOptions {
  return {
    host: imap.host,
    port: imap.port,
    secure: imap.secure,
    ...(imap.secure ? {} : { doSTARTTLS: true }),
    servername: serverName(imap.host),
    auth: { user: imap.user, pass: imap.password },
    tls: { ca: trustedCas(caFile) },
    logger: false,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    // Without IDLE (or when it is quiet), check at the configured interval.
    maxIdleTime: Math.min(imap.pollSeconds * 1000, 120_000),
    missingIdleCommand: 'STATUS',
    clientInfo: { name: 'Deskside' },
  };
}

export function describeImap(imap: ImapConfig): string {
  return `${imap.host}:${imap.port} (${imap.secure ? 'TLS' : 'STARTTLS'}, as ${imap.user}), folder ${imap.mailbox}`;
}
