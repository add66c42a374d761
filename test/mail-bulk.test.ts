// A bulk email stamped per recipient (api/mail/bulk.ts) reads exactly like the same copy composed whole by nodemailer.
import fc from 'fast-check';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { compileBulk, personalize, type BulkEmail } from '../api/mail/bulk.ts';
import { subscriberBulk, type MailSettings, type UpdateFacts } from '../api/mail/compose.ts';
import { smtpTransport, type MailMessage } from '../api/mail/transport.ts';
import { startSmtpSink } from './smtp-sink.ts';

const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

/** What nodemailer sends for the message: composed from its fields, or `raw` as it is. */
async function sent(m: MailMessage, raw: boolean): Promise<{ bytes: string; parsed: ParsedMail }> {
  const info = await composer.sendMail(
    raw ? { envelope: { from: 'status@example.com', to: [m.to] }, raw: m.raw! } : { from: m.from, to: m.to, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId, inReplyTo: m.inReplyTo, references: m.references, headers: m.headers },
  );
  const bytes = (info.message as Buffer).toString('utf8');
  return { bytes, parsed: await simpleParser(bytes) };
}

/** What a reader and a mail client see: every header but Date and the MIME boundaries, and both bodies. */
function reading(p: ParsedMail) {
  const headers = [...p.headers].filter(([k]) => !['date', 'content-type'].includes(k)).map(([k, v]) => [k, JSON.stringify(v)]);
  return { headers: headers.sort(), subject: p.subject, to: p.to, from: p.from, messageId: p.messageId, inReplyTo: p.inReplyTo, references: p.references, text: p.text, html: p.html };
}

function expectWellFormed(bytes: string) {
  for (const line of bytes.split('\r\n')) expect(line.length, line).toBeLessThanOrEqual(998);
  expect(bytes).not.toMatch(/[^\r]\n/);
  expect(bytes).not.toMatch(/stamp[0-9a-f]{16}/);
}

// Text of every kind a template or a page name may carry: other scripts, emoji, long unbroken runs, trailing spaces,
// dots and "From " at line starts, and characters quoted-printable must escape.
const piece = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('Ödeme hatası', '決済エラーが発生しています', 'ошибка', '🚨 major', '= =3D ==', '.', '..', 'From here', '   ', '\t', 'a'.repeat(200), 'x y '.repeat(40)),
);
const text = fc.array(fc.oneof(piece, fc.constantFrom('\n', '\n\n')), { maxLength: 12 }).map((parts) => parts.join(''));
const token = fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/);
const address = fc.oneof(
  fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9.+_-]{0,30}$/), fc.constantFrom('example.com', 'mail.example.org', 'x.io')).map(([l, d]) => `${l}@${d}`),
  fc.constantFrom('jürgen@example.com', 'reader@bücher.example'),
);

const update = (subject: string, body: string): UpdateFacts => ({
  id: 'upd1',
  incidentId: 'inc1',
  maintenanceId: null,
  status: 'investigating',
  externalSubject: subject,
  externalBody: body,
  internalSubject: 'internal',
  internalBody: 'internal',
  components: [],
  audiences: { public: true, subscribers: true, stakeholders: false },
  nextUpdateAt: null,
  createdAt: new Date('2026-11-30T04:00:00Z'),
});

describe('bulk email: compiled once, stamped per recipient', () => {
  it('every stamped copy parses exactly as nodemailer composing that copy whole (seeded property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        text.filter((t) => t.trim().length > 0),
        text.filter((t) => t.trim().length > 0),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
        fc.constantFrom('update', 'reminder'),
        fc.array(fc.record({ id: fc.stringMatching(/^[a-z0-9]{1,12}$/), email: address, unsubscribeToken: token }), { minLength: 1, maxLength: 3 }),
        async (subject, body, pageName, kind, recipients) => {
          const settings: MailSettings = { from: `${pageName.replace(/[\r\n]/g, ' ')} <status@example.com>`, publicUrl: 'https://status.example.com', pageName };
          const { bulk, personal, personalHeaders } = subscriberBulk(settings, update(subject, body), kind as 'update' | 'reminder');
          const { stamp } = await compileBulk(bulk, personalHeaders);
          for (const r of recipients) {
            const copy = stamp(personal(r));
            expect(copy).toMatchObject(personalize(bulk, personal(r)));
            if (copy.raw === undefined) {
              // Only an address outside plain ASCII is left to nodemailer.
              expect(r.email).toMatch(/[^\x00-\x7f]/);
              continue;
            }
            const stamped = await sent(copy, true);
            const whole = await sent(copy, false);
            expectWellFormed(stamped.bytes);
            expect(reading(stamped.parsed)).toEqual(reading(whole.parsed));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses to stamp from a compiled message that lost a placeholder', async () => {
    const bulk: BulkEmail = { from: 'a@example.com', subject: 's', headers: {}, textHead: 't', htmlHead: '<p>', htmlTail: '</p>' };
    // A header nodemailer drops when its value is blank: the placeholder never reaches the compiled message.
    await expect(compileBulk(bulk, ['Bcc'])).rejects.toThrow(/placeholder stamp[0-9a-f]+h0 appears nowhere/);
  });

  it('the SMTP transport sends the stamped copy as it is, to the recipient in the envelope', async () => {
    const sink = await startSmtpSink();
    const transport = smtpTransport(sink.url);
    try {
      const settings: MailSettings = { from: 'Example Status <status@example.com>', publicUrl: 'https://status.example.com', pageName: 'Example' };
      // Lines starting with a dot test SMTP's dot-stuffing of a message handed over whole.
      const { bulk, personal, personalHeaders } = subscriberBulk(settings, update('Checkout errors', '.\n..\n.Ödeme hatası'), 'update');
      const { stamp } = await compileBulk(bulk, personalHeaders);
      const copy = stamp(personal({ id: 's1', email: 'reader@example.com', unsubscribeToken: 'tok123' }));
      expect(copy.raw).toMatch(/^To: reader@example\.com\r$/m);
      await transport.send(copy);
      await sink.waitFor(() => sink.received.length === 1);
      const [got] = await sink.parsed();
      expect(got!.envelopeTo).toEqual(['reader@example.com']);
      expect(reading(got!)).toEqual(reading((await sent(copy, false)).parsed));
      expect(got!.text).toContain('.\n..\n.Ödeme hatası');
      const unsubscribe = got!.headerLines.find((h) => h.key === 'list-unsubscribe')?.line.replace(/^[^:]+:\s*/, '');
      expect(unsubscribe).toBe('<https://status.example.com/api/v1/subscribers/unsubscribe?token=tok123>');
    } finally {
      await transport.close();
      await sink.close();
    }
  });
});
