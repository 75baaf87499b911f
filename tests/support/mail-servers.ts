/**
 * Real mail servers for tests, on loopback, each in its own temporary folder:
 *
 * - `startDovecot()`: Debian's Dovecot IMAP server as a child process with a generated
 *   configuration (`dovecot -F -c FILE`), implicit TLS (`imaps://`) and STARTTLS (`imap://`)
 *   listeners, one user from a passwd-file, maildir storage; `deliver(raw)` puts a message in
 *   through Dovecot's own delivery agent (`dovecot-lda`), exactly as a mail server would.
 * - `startSmtpPeer()`: `smtp-server` from npm speaking real SMTP with STARTTLS or implicit
 *   TLS and AUTH PLAIN/LOGIN (or an open relay), recording what arrives; it can be told to
 *   refuse the next messages (4xx or 5xx) and to go away and come back on the same port.
 *
 * Both present a certificate signed by a throwaway CA (`caFile`): trust it with `tls: { ca }`
 * as the app will with its CA file setting; a client that does not is refused, as in production.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ImapFlowOptions } from 'imapflow';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { freePort } from './http-client';
import { describeWithComponent, makeTestCertificates, run, stopChild, tail, trackChild, which, type TestCertificates } from './real-components';

export const DOVECOT_INSTALL = 'apt-get install -y dovecot-core dovecot-imapd openssl';
const DOVECOT = '/usr/sbin/dovecot';
const DOVECOT_LDA = '/usr/lib/dovecot/dovecot-lda';
const LOOPBACK = '127.0.0.1';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function uidOf(user: string): number | null {
  try {
    return Number(run('id', ['-u', user]).trim());
  } catch {
    return null;
  }
}

/** Why the test SMTP peer cannot start here (it needs openssl for its certificate), or null. */
export function smtpPeerUnavailableReason(): string | null {
  return which('openssl') ? null : 'openssl not found; apt-get install -y openssl';
}

/** Why Dovecot cannot be started here, or null when it can. */
export function dovecotUnavailableReason(): string | null {
  if (!existsSync(DOVECOT) || !existsSync(path.join('/usr/lib/dovecot', 'imap'))) return `Dovecot's IMAP server not found; ${DOVECOT_INSTALL}`;
  if (!existsSync(DOVECOT_LDA)) return `${DOVECOT_LDA} not found; ${DOVECOT_INSTALL}`;
  const version = run(DOVECOT, ['--version']).trim();
  // 2.4 renamed most settings (mail_location, passdb blocks, …); this file writes 2.3's.
  if (!version.startsWith('2.3.')) return `Dovecot ${version} found; the test configuration is written for Dovecot 2.3 (Debian 12)`;
  if (isRoot && (uidOf('dovenull') === null || uidOf('nobody') === null)) return `the users dovenull and nobody are needed to run Dovecot as root; ${DOVECOT_INSTALL}`;
  return smtpPeerUnavailableReason();
}

/** `describe` that needs Dovecot: fails under CI=true when it cannot start, else skips with one line. */
export function describeWithDovecot(name: string, fn: () => void): void {
  describeWithComponent({ key: 'dovecot', what: 'Dovecot IMAP', reason: dovecotUnavailableReason() }, name, fn);
}

/** `describe` that needs the test SMTP peer (smtp-server plus an openssl-made certificate). */
export function describeWithSmtpPeer(name: string, fn: () => void): void {
  describeWithComponent({ key: 'smtp-peer', what: 'test SMTP server', reason: smtpPeerUnavailableReason() }, name, fn);
}

/** A certificate for 127.0.0.1 and localhost, signed by a CA made for it. */
function loopbackCertificates(dir: string): TestCertificates {
  return makeTestCertificates(dir, { cn: 'localhost', dnsNames: ['localhost'], ips: [LOOPBACK] });
}

// ---------------------------------------------------------------------------------------
// Dovecot

export interface Dovecot {
  host: string;
  /** Cleartext port offering STARTTLS (`imap://`). */
  imapPort: number;
  /** Implicit TLS port (`imaps://`). */
  imapsPort: number;
  user: string;
  password: string;
  /** The CA that signed the server's certificate (names 127.0.0.1 and localhost). */
  caFile: string;
  /** The mailbox hierarchy separator this server was configured with. */
  separator: string;
  /** `imaps://user:password@127.0.0.1:PORT/INBOX` or `imap://…` (STARTTLS), as the app's setting will read. */
  url(tls: 'implicit' | 'starttls'): string;
  /**
   * ImapFlow options for this server, trusting its CA. STARTTLS is required (`doSTARTTLS`), not
   * opportunistic, and logging is off; `overrides` are merged last.
   */
  imapFlowOptions(tls: 'implicit' | 'starttls', overrides?: Partial<ImapFlowOptions>): ImapFlowOptions;
  /** How many messages each folder holds now (undefined for one that does not exist), read over IMAP. */
  messages(folders: string[]): Promise<(number | undefined)[]>;
  /** Deliver a raw RFC 5322 message to the user with dovecot-lda (to INBOX unless a mailbox is named). */
  deliver(raw: string | Buffer, opts?: { mailbox?: string; envelopeFrom?: string }): Promise<void>;
  /** Dovecot's master process (the one `stop()` ends) and its temporary folder (config, certificates, mail). */
  pid: number;
  dir: string;
  /** Dovecot's log, for failure messages. */
  log(): string;
  /** Stop the Dovecot this call started and delete its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Running as root (CI, this machine), Dovecot refuses two things: a login process as root
 * ("imap-login: This process must not be run as root") and mail access as root ("Mail access
 * not allowed for root", whatever first_valid_uid says). So auth/config/log run as root
 * (default_internal_user, which can read our 0700 files), login processes as Debian's
 * `dovenull`, and mailboxes belong to `nobody`. Not root: everything runs as the current user.
 */
function dovecotUsers(): { internal: string; login: string; mailUid: number; mailGid: number } {
  if (isRoot) {
    const uid = uidOf('nobody') as number;
    return { internal: 'root', login: 'dovenull', mailUid: uid, mailGid: Number(run('id', ['-g', 'nobody']).trim()) };
  }
  const me = os.userInfo();
  return { internal: me.username, login: me.username, mailUid: me.uid, mailGid: me.gid };
}

async function waitForGreeting(port: number, child: ChildProcess, logFile: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dovecot exited (${child.exitCode ?? child.signalCode}) before answering:\n${tail(logFile)}`);
    const greeted = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, LOOPBACK);
      let seen = '';
      const done = (ok: boolean) => {
        s.destroy();
        resolve(ok);
      };
      s.setTimeout(1000, () => done(false));
      s.on('data', (d) => {
        seen += d.toString('latin1');
        if (seen.includes('\r\n')) done(seen.startsWith('* OK'));
      });
      s.on('error', () => done(false));
    });
    if (greeted) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dovecot did not greet on ${LOOPBACK}:${port} within ${timeoutMs} ms:\n${tail(logFile)}`);
}

export async function startDovecot(opts: { user?: string; password?: string; separator?: '/' | '.' } = {}): Promise<Dovecot> {
  const reason = dovecotUnavailableReason();
  if (reason) throw new Error(reason);
  const user = opts.user ?? 'helpdesk';
  const password = opts.password ?? `imap-${randomBytes(6).toString('hex')}`;
  const separator = opts.separator ?? '/';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-dovecot-'));
  let child: ChildProcess | null = null;
  try {
    const users = dovecotUsers();
    // The mailbox owner (`nobody` under root) must get through the temp folder to its mail.
    chmodSync(dir, 0o711);
    const mailRoot = path.join(dir, 'mail');
    mkdirSync(mailRoot);
    if (isRoot) chownSync(mailRoot, users.mailUid, users.mailGid);
    const certs = loopbackCertificates(path.join(dir, 'tls'));
    const passwdFile = path.join(dir, 'passwd');
    // user:{scheme}password:uid:gid:gecos:home:shell:extra — uid/gid come from mail_uid/mail_gid:
    // passwd-file refuses uid 0 outright, so the file stays the same whoever runs it.
    writeFileSync(passwdFile, `${user}:{PLAIN}${password}::::${path.join(mailRoot, user)}::\n`, { mode: 0o600 });
    const [imapPort, imapsPort] = [await freePort(), await freePort()];
    const logFile = path.join(dir, 'dovecot.log');
    const confFile = path.join(dir, 'dovecot.conf');
    writeFileSync(
      confFile,
      [
        `# Deskside test IMAP server (Dovecot 2.3), generated by tests/support/mail-servers.ts`,
        `protocols = imap`,
        `listen = ${LOOPBACK}`,
        // Own run/state folders and instance name: nothing touches /run/dovecot or a system Dovecot.
        `base_dir = ${path.join(dir, 'run')}`,
        `state_dir = ${path.join(dir, 'state')}`,
        `instance_name = deskside-test-${path.basename(dir)}`,
        `log_path = ${logFile}`,
        `default_internal_user = ${users.internal}`,
        `default_login_user = ${users.login}`,
        `mail_uid = ${users.mailUid}`,
        `mail_gid = ${users.mailGid}`,
        `first_valid_uid = ${Math.min(users.mailUid, 500)}`,
        `first_valid_gid = ${Math.min(users.mailGid, 1)}`,
        `ssl = yes`,
        `ssl_cert = <${certs.certFile}`,
        `ssl_key = <${certs.keyFile}`,
        `auth_mechanisms = plain login`,
        `passdb {`,
        `  driver = passwd-file`,
        `  args = scheme=PLAIN username_format=%u ${passwdFile}`,
        `}`,
        `userdb {`,
        `  driver = passwd-file`,
        `  args = username_format=%u ${passwdFile}`,
        `}`,
        `mail_location = maildir:~/Maildir`,
        `namespace inbox {`,
        `  inbox = yes`,
        `  separator = ${separator}`,
        `}`,
        // IDLE: inotify sees new maildir files at once; the 1 s check is the fallback without it.
        `mailbox_idle_check_interval = 1 secs`,
        // dovecot-lda refuses to start without it; -e (below) makes it report rather than bounce.
        `postmaster_address = postmaster@deskside.test`,
        // Dovecot slows logins from an address after a failed one (2 s, doubling to 15 s): every
        // test connects from 127.0.0.1, so one wrong-password test would slow all that follow.
        // Mode 0 on anvil's penalty socket turns the penalty off (Dovecot's documented switch).
        `service anvil {`,
        `  unix_listener anvil-auth-penalty {`,
        `    mode = 0`,
        `  }`,
        `}`,
        `service imap-login {`,
        `  inet_listener imap {`,
        `    port = ${imapPort}`,
        `  }`,
        `  inet_listener imaps {`,
        `    port = ${imapsPort}`,
        `    ssl = yes`,
        `  }`,
        `}`,
        '',
      ].join('\n'),
    );

    const out = openSync(logFile, 'a');
    const p = trackChild(spawn(DOVECOT, ['-F', '-c', confFile], { stdio: ['ignore', out, out] }));
    closeSync(out);
    child = p;
    await waitForGreeting(imapPort, p, logFile);

    let stopped = false;
    const server: Dovecot = {
      host: LOOPBACK,
      imapPort,
      imapsPort,
      user,
      password,
      caFile: certs.caFile,
      separator,
      url: (tls) =>
        `${tls === 'implicit' ? 'imaps' : 'imap'}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${LOOPBACK}:${tls === 'implicit' ? imapsPort : imapPort}/INBOX`,
      imapFlowOptions: (tls, overrides = {}) => ({
        host: LOOPBACK,
        port: tls === 'implicit' ? imapsPort : imapPort,
        secure: tls === 'implicit',
        ...(tls === 'starttls' ? { doSTARTTLS: true } : {}),
        auth: { user, pass: password },
        tls: { ca: [readFileSync(certs.caFile)] },
        logger: false,
        ...overrides,
      }),
      async messages(folders) {
        const { ImapFlow } = await import('imapflow');
        const look = new ImapFlow(server.imapFlowOptions('implicit'));
        look.on('error', () => undefined);
        await look.connect();
        try {
          const out: (number | undefined)[] = [];
          for (const f of folders) out.push(await look.status(f, { messages: true }).then((st) => (st ? st.messages : undefined), () => undefined));
          return out;
        } finally {
          await look.logout();
        }
      },
      async deliver(raw, o = {}) {
        const args = ['-c', confFile, '-e', '-d', user, '-f', o.envelopeFrom ?? 'sender@example.com'];
        if (o.mailbox) args.push('-m', o.mailbox);
        const lda = spawn(DOVECOT_LDA, args, { stdio: ['pipe', 'pipe', 'pipe'] });
        let err = '';
        lda.stdout.on('data', (d) => (err += d));
        lda.stderr.on('data', (d) => (err += d));
        const code = await new Promise<number | null>((resolve, reject) => {
          lda.once('error', reject);
          lda.once('close', (c) => resolve(c));
          lda.stdin.end(raw);
        });
        if (code !== 0) throw new Error(`dovecot-lda exited ${code}: ${err.trim()}\n${tail(logFile, 10)}`);
      },
      pid: p.pid as number,
      dir,
      log: () => tail(logFile),
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopChild(p);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return server;
  } catch (err) {
    if (child) await stopChild(child, 1000);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// SMTP

export interface ReceivedMail {
  /** The message exactly as it came through DATA (dot-unstuffed), CRLF line ends. */
  raw: Buffer;
  envelope: { mailFrom: string | null; rcptTo: string[] };
  /** The AUTH user, or null on an open relay. */
  user: string | null;
  /** The session was encrypted (implicit TLS or after STARTTLS) when the message came. */
  secure: boolean;
}

export interface RefusedMail {
  envelope: ReceivedMail['envelope'];
  code: number;
  message: string;
}

export interface SmtpPeer {
  host: string;
  port: number;
  tls: 'starttls' | 'implicit';
  /** The credentials AUTH accepts, or null for an open relay (no AUTH offered). */
  auth: { user: string; pass: string } | null;
  caFile: string;
  /** `smtp://user:pass@127.0.0.1:PORT` (STARTTLS) or `smtps://…`, as DESKSIDE_SMTP_URL will read. */
  url: string;
  /** Every accepted message, in order. */
  received: ReceivedMail[];
  /** Every message answered with an injected error. */
  refused: RefusedMail[];
  /** Resolves with `received` once it holds at least `count` messages. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Answer the next `count` messages' DATA with `code` (4xx: try again later; 5xx: never). */
  failNext(count: number, code: number, message?: string): void;
  /** Stop listening and drop open sessions (421), as a server that goes down would. */
  goAway(): Promise<void>;
  /** Listen again on the same port, with the same settings and records. */
  comeBack(): Promise<void>;
  listening(): boolean;
  /** Stop and delete the certificate folder. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * One PEM file trusting both servers' throwaway CAs, as a site's enterprise CA file
 * (DESKSIDE_MAIL_CA_FILE) trusts its SMTP and IMAP servers; written into `dir`.
 */
export function bothCas(dir: string, ...servers: { caFile: string }[]): string {
  const file = path.join(dir, `cas-${randomBytes(4).toString('hex')}.pem`);
  writeFileSync(file, servers.map((s) => readFileSync(s.caFile, 'utf8')).join(''));
  return file;
}

function address(a: { address: string } | false): string | null {
  return a ? a.address : null;
}

export async function startSmtpPeer(opts: { tls?: 'starttls' | 'implicit'; auth?: { user: string; pass: string } | false } = {}): Promise<SmtpPeer> {
  const reason = smtpPeerUnavailableReason();
  if (reason) throw new Error(reason);
  const tlsMode = opts.tls ?? 'starttls';
  const auth = opts.auth === false ? null : (opts.auth ?? { user: 'deskside', pass: `smtp-${randomBytes(6).toString('hex')}` });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deskside-smtp-'));
  const certs = loopbackCertificates(dir);
  const port = await freePort();
  const received: ReceivedMail[] = [];
  const refused: RefusedMail[] = [];
  const arrivals = new EventEmitter();
  const failures: { code: number; message: string }[] = [];

  const options: SMTPServerOptions = {
    secure: tlsMode === 'implicit',
    key: readFileSync(certs.keyFile),
    cert: readFileSync(certs.certFile),
    name: 'smtp.deskside.test',
    logger: false,
    // AUTH is offered only once the session is encrypted (the library's default), so a
    // client that authenticates has necessarily done STARTTLS or implicit TLS.
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: auth === null,
    disabledCommands: auth === null ? ['AUTH'] : [],
    // goAway(): open sessions are dropped at once instead of after the default 30 s.
    closeTimeout: 1,
    onAuth(a, _session, cb) {
      if (auth && a.username === auth.user && a.password === auth.pass) cb(null, { user: a.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const envelope = { mailFrom: address(session.envelope.mailFrom), rcptTo: session.envelope.rcptTo.map((r) => r.address) };
        const failure = failures.shift();
        if (failure) {
          refused.push({ envelope, ...failure });
          cb(Object.assign(new Error(failure.message), { responseCode: failure.code }));
          return;
        }
        received.push({ raw: Buffer.concat(chunks), envelope, user: typeof session.user === 'string' ? session.user : null, secure: session.secure });
        arrivals.emit('mail');
        cb(null, 'Queued');
      });
    },
  };

  let server: SMTPServer | null = null;
  const listen = async () => {
    const s = new SMTPServer(options);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, LOOPBACK, () => {
        s.off('error', reject);
        resolve();
      });
    });
    // After start-up, a failing client connection must not crash the test worker.
    s.on('error', () => undefined);
    server = s;
  };
  const close = async () => {
    const s = server;
    server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  try {
    await listen();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  return {
    host: LOOPBACK,
    port,
    tls: tlsMode,
    auth,
    caFile: certs.caFile,
    url: `${tlsMode === 'implicit' ? 'smtps' : 'smtp'}://${auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@` : ''}${LOOPBACK}:${port}`,
    received,
    refused,
    waitFor(count, timeoutMs = 5000) {
      if (received.length >= count) return Promise.resolve(received);
      return new Promise((resolve, reject) => {
        const onMail = () => {
          if (received.length < count) return;
          clearTimeout(timer);
          arrivals.off('mail', onMail);
          resolve(received);
        };
        const timer = setTimeout(() => {
          arrivals.off('mail', onMail);
          reject(new Error(`expected ${count} message(s) at the SMTP peer within ${timeoutMs} ms; ${received.length} arrived, ${refused.length} refused`));
        }, timeoutMs);
        arrivals.on('mail', onMail);
      });
    },
    failNext(count, code, message) {
      if (!(code >= 400 && code < 600)) throw new Error(`failNext wants a 4xx or 5xx code, not ${code}`);
      const text = message ?? (code < 500 ? 'Try again later (injected by the test)' : 'Rejected (injected by the test)');
      for (let i = 0; i < count; i++) failures.push({ code, message: text });
    },
    goAway: close,
    async comeBack() {
      if (stopped) throw new Error('this SMTP peer was stopped');
      if (!server) await listen();
    },
    listening: () => server !== null,
    async stop() {
      if (stopped) return;
      stopped = true;
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
