// A real SMTP server in the test process: records what it accepts, and can refuse, stall or go down on request.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Received {
  /** RCPT TO addresses of the transaction. */
  to: string[];
  raw: Buffer;
}

/** Decides a reply for one RCPT TO: a number is an SMTP error code to answer with, null accepts. */
export type RcptFault = (address: string, attempt: number) => number | null;

export interface SmtpSink {
  port: number;
  url: string;
  received: Received[];
  /** Every RCPT TO seen, accepted or not: how many attempts the worker made. */
  attempts: string[];
  setFault(fault: RcptFault | null): void;
  /** Stops listening and drops every open connection: clients see "connection refused". */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Messages parsed with mailparser, in arrival order. */
  parsed(): Promise<(ParsedMail & { envelopeTo: string[] })[]>;
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const received: Received[] = [];
  const attempts: string[] = [];
  const counts = new Map<string, number>();
  let fault: RcptFault | null = null;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 100,
    onRcptTo(address, _session, callback) {
      attempts.push(address.address);
      const n = (counts.get(address.address) ?? 0) + 1;
      counts.set(address.address, n);
      const code = fault?.(address.address, n) ?? null;
      if (code === null) return callback();
      const error = Object.assign(new Error(code >= 500 ? 'mailbox unavailable' : 'try again later'), { responseCode: code });
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  // A client killed mid-session resets its connection; that is the point of some tests, not a failure of the sink.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;

  const sink: SmtpSink = {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    attempts,
    setFault(f) {
      fault = f;
    },
    async down() {
      await new Promise<void>((resolve) => {
        server.server.close(() => resolve());
        for (const connection of server.connections) (connection as { close(): void }).close();
      });
    },
    async up() {
      await new Promise<void>((resolve) => server.server.listen(port, '127.0.0.1', () => resolve()));
    },
    async parsed() {
      return Promise.all(received.map(async (r) => Object.assign(await simpleParser(r.raw), { envelopeTo: r.to })));
    },
    async waitFor(predicate, timeoutMs = 20_000, what = 'the condition') {
      const until = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (received ${received.length})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return sink;
}
