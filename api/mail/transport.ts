// The one seam for mail: a pooled SMTP transport from SMTP_URL, or .eml files under the data folder when there is none.
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import nodemailer, { type NodemailerError } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { systemClock } from '../clock.ts';

/** One composed email, independent of nodemailer: compose.ts builds it, a transport sends it. */
export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** With angle brackets, e.g. <u.abc.update.def@status.example.com>. */
  messageId: string;
  inReplyTo?: string | undefined;
  references?: string[] | undefined;
  /** Extra headers; values must already be single lines. */
  headers: Record<string, string>;
  /**
   * The whole RFC 5322 message, already composed from the fields above (api/mail/bulk.ts): a transport sends it as it
   * is, with the envelope taken from `from` and `to`, instead of composing the fields again.
   */
  raw?: string | undefined;
}

export interface MailTransport {
  /** Resolves once the server accepted the message; throws a SendFailure otherwise. */
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
  /** What the transport is, for the start-up log line. */
  readonly description: string;
}

/**
 * Why a send failed, in the words the outbox worker acts on:
 * - `permanent`: the server refused this message for good (5xx); retrying gets the same answer.
 * - `bounce`: the refusal names the recipient (a 5xx to RCPT TO), so it counts towards suppressing the address.
 * - `server`: the mail server as a whole is unreachable or closing (no reply, 421); the worker pauses instead of
 *   burning every queued message's attempts against it.
 */
export class SendFailure extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly bounce: boolean,
    readonly server: boolean,
  ) {
    super(message);
  }
}

/** Maps a nodemailer error onto SendFailure: 5xx permanent, 4xx transient, no reply at all means the server is away. */
export function classifyError(error: unknown): SendFailure {
  if (error instanceof SendFailure) return error;
  const e = error as NodemailerError;
  const reason = oneLine(e?.message ?? String(error));
  const code = e?.responseCode;
  // Refused credentials or a refused sender address would fail every message alike: that is for the operator to
  // fix, so treat it as the server being unavailable (pause and retry) rather than failing the whole fan-out.
  if (e?.code === 'EAUTH' || e?.code === 'ENOAUTH' || e?.command === 'MAIL FROM') return new SendFailure(reason, false, false, true);
  if (typeof code === 'number' && code >= 500 && e.permanent !== false) {
    // 5.7.x is policy (relay denied, authentication): the sender's problem, not a bad mailbox.
    const policy = /\b5\.7\.\d+\b/.test(e.response ?? '');
    return new SendFailure(reason, true, e.command === 'RCPT TO' && !policy, false);
  }
  if (typeof code === 'number' && code !== 421) return new SendFailure(reason, false, false, false);
  // No SMTP reply (refused, reset, timeout, DNS, TLS, auth) or 421 "closing channel": a server-wide problem.
  const local = !code && (e?.code === 'EENVELOPE' || e?.code === 'EMESSAGE');
  return new SendFailure(reason, local, false, !local);
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 500);

/** The address part of a From value, for the SMTP envelope of a precomposed message; remembered, as one From serves a whole fan-out. */
const envelopeFrom = (() => {
  const seen = new Map<string, string>();
  return (from: string) => {
    let address = seen.get(from);
    if (address === undefined) {
      const [first] = addressparser(from, { flatten: true });
      address = first?.address ?? from;
      if (seen.size > 100) seen.clear();
      seen.set(from, address);
    }
    return address;
  };
})();

function toNodemailer(m: MailMessage) {
  if (m.raw !== undefined) return { envelope: { from: envelopeFrom(m.from), to: [m.to] }, messageId: m.messageId, raw: m.raw };
  return {
    from: m.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    html: m.html,
    messageId: m.messageId,
    inReplyTo: m.inReplyTo,
    references: m.references,
    headers: m.headers,
  };
}

interface SmtpOptions {
  /** Parallel SMTP connections in the pool. */
  maxConnections?: number;
  /** Connect, greeting and idle-socket timeouts, so a hung server becomes a retry, not a stuck worker. */
  timeoutMs?: number;
}

/** Pooled SMTP: connections are reused across messages, so a fan-out does not pay a handshake per email. */
export function smtpTransport(url: string, options: SmtpOptions = {}): MailTransport {
  const timeout = options.timeoutMs ?? 30_000;
  const transport = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    maxMessages: 1000,
    // Our own outbox retries with back-off; the pool only re-tries a message whose connection dropped, briefly.
    maxRequeues: 1,
    connectionTimeout: Math.min(timeout, 10_000),
    greetingTimeout: Math.min(timeout, 10_000),
    socketTimeout: timeout,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const shown = new URL(url);
  shown.password = shown.password ? '***' : '';
  return {
    description: `SMTP ${shown.toString()}`,
    async send(message) {
      try {
        await transport.sendMail(toNodemailer(message));
      } catch (e) {
        throw classifyError(e);
      }
    },
    async close() {
      transport.close();
    },
  };
}

/** With no mail server configured: each message becomes an .eml file a mail client can open, and a log line. */
export function fileTransport(dir: string, log: (message: string) => void): MailTransport {
  mkdirSync(dir, { recursive: true });
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    description: `.eml files in ${dir} (set SMTP_URL to send)`,
    async send(message) {
      const info = await transport.sendMail(toNodemailer(message));
      const name = `${systemClock.now().getTime()}-${message.messageId.replace(/^<|>$/g, '').replace(/[^a-zA-Z0-9.-]+/g, '_').slice(0, 120)}.eml`;
      await writeWhole(join(dir, name), info.message as Buffer);
      log(`mail: wrote ${name} to ${message.to}: ${message.subject}`);
      for (const link of plainLinks(message)) log(`mail:   link ${link}`);
    },
    async close() {},
  };
}

/**
 * Writes a file whole or not at all: into a hidden temporary file beside it, then renamed over the name (atomic on one
 * file system), so a full disk or a crash never leaves a 0-byte or cut-off .eml. A full disk (ENOSPC, EDQUOT) is a
 * SendFailure of the whole transport (`server`): the worker backs off and tries again, spending no attempt.
 */
async function writeWhole(path: string, content: Buffer): Promise<void> {
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, content, { flush: true });
    await rename(temporary, path);
  } catch (e) {
    await rm(temporary, { force: true }).catch(() => {});
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new SendFailure(`the disk holding ${dirname(path)} is full`, false, false, true);
    throw e;
  }
}

/**
 * The links of a message as a reader would click them, for the file-mode log: taken from the plain-text part
 * as composed, before quoted-printable encoding breaks them across lines in the .eml. Each distinct URL once, in order.
 */
export function plainLinks(message: Pick<MailMessage, 'text'>): string[] {
  const found = message.text.match(/https?:\/\/[^\s<>"]+/g) ?? [];
  return [...new Set(found.map((url) => url.replace(/[).,;:!?]+$/, '')))];
}

export function mailTransport(config: { smtpUrl: string | undefined; dataDir: string }, log: (message: string) => void): MailTransport {
  return config.smtpUrl ? smtpTransport(config.smtpUrl) : fileTransport(join(config.dataDir, 'mail'), log);
}
