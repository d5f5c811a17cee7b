// An SMTP sink for zygo's integration tests: accepts every message, parses it with
// mailparser and serves what it received over HTTP.
//
// Usage:   node smtp-sink.mjs [--port N] [--require-tls]
//            --port N       SMTP port on 127.0.0.1 (0 or absent: random)
//            --require-tls  refuse MAIL FROM (and AUTH) until the client has done STARTTLS
// Env:     SMTP_SINK_DEBUG=1  log SMTP sessions to stderr (off by default so an undrained
//                             stderr pipe can never block the server)
// Stdout:  exactly one line once both servers listen, then nothing else:
//            {"smtpPort":N,"httpPort":M}
// Exits on SIGTERM/SIGINT or when stdin closes (spawn it with stdin piped and keep it open).
//
// SMTP: plain SMTP with STARTTLS offered (certificate generated at start-up: self-signed,
// CN=localhost, SAN DNS:localhost + IP:127.0.0.1, not a CA). AUTH is optional; AUTH PLAIN and
// LOGIN accept any credentials and record the user name. The 250 reply to DATA is sent only
// after the message is parsed and stored, so it is visible over HTTP as soon as the client
// sees its message accepted.
//
// HTTP on 127.0.0.1:httpPort:
//   GET /messages     JSON array, in order received, of
//                       { from, to: [..], subject, text, html, messageId, headers, secure,
//                         authUser, envelope: { from, to: [..] }, attachments, raw }
//                     from/to are the addresses of the From/To(+Cc) headers (envelope has the
//                     SMTP MAIL FROM / RCPT TO ones); headers maps lower-case name -> string
//                     (decoded where mailparser decodes it, else the raw unfolded value;
//                     repeated headers joined with ", "); html, messageId, authUser may be null.
//   DELETE /messages  clears the list, returns {"deleted":n}
//   GET /cert         the STARTTLS certificate (PEM), for tests that want to trust it
import { createServer } from 'node:http';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import selfsigned from 'selfsigned';

const portArg = process.argv.indexOf('--port');
const smtpPortWanted = portArg >= 0 ? Number(process.argv[portArg + 1]) : 0;
const requireTls = process.argv.includes('--require-tls');
const debug = !!process.env.SMTP_SINK_DEBUG;

const notBeforeDate = new Date(Date.now() - 24 * 3600 * 1000);
const notAfterDate = new Date(Date.now() + 365 * 24 * 3600 * 1000);
const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
  keySize: 2048,
  algorithm: 'sha256',
  notBeforeDate,
  notAfterDate,
  extensions: [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
  ],
});

const messages = [];
const addresses = (field) =>
  [field ?? []].flat().flatMap((a) => a.value).flatMap((v) => (v.group ? v.group : [v])).map((v) => v.address).filter(Boolean);

function headerObject(parsed) {
  const out = {};
  for (const { key, line } of parsed.headerLines) {
    const decoded = parsed.headers.get(key);
    const value = typeof decoded === 'string' ? decoded : line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
    out[key] = key in out ? `${out[key]}, ${value}` : value;
  }
  return out;
}

const smtp = new SMTPServer({
  name: 'smtp-sink.test',
  banner: 'zygo test SMTP sink',
  key: pems.private,
  cert: pems.cert,
  authOptional: true,
  authMethods: ['PLAIN', 'LOGIN'],
  allowInsecureAuth: !requireTls,
  disableReverseLookup: true,
  logger: debug,
  closeTimeout: 100,
  onAuth(auth, session, callback) {
    callback(null, { user: auth.username });
  },
  onMailFrom(address, session, callback) {
    if (requireTls && !session.secure) {
      const err = new Error('Must issue a STARTTLS command first');
      err.responseCode = 530;
      return callback(err);
    }
    callback();
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('error', callback);
    stream.on('end', async () => {
      try {
        const raw = Buffer.concat(chunks);
        const parsed = await simpleParser(raw);
        messages.push({
          from: addresses(parsed.from)[0] ?? null,
          to: [...addresses(parsed.to), ...addresses(parsed.cc)],
          subject: parsed.subject ?? null,
          text: parsed.text ?? null,
          html: parsed.html || null,
          messageId: parsed.messageId ?? null,
          headers: headerObject(parsed),
          secure: !!session.secure,
          authUser: session.user || null,
          envelope: { from: session.envelope.mailFrom?.address ?? null, to: session.envelope.rcptTo.map((r) => r.address) },
          attachments: parsed.attachments.map((a) => ({ filename: a.filename ?? null, contentType: a.contentType, size: a.size })),
          raw: raw.toString('utf8'),
        });
        callback();
      } catch (err) {
        callback(err);
      }
    });
  },
});
smtp.on('error', (err) => debug && process.stderr.write(`smtp-sink: ${err.message}\n`));

const http = createServer((req, res) => {
  const json = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const route = `${req.method} ${new URL(req.url, 'http://x').pathname}`;
  if (route === 'GET /messages') return json(200, messages);
  if (route === 'DELETE /messages') return json(200, { deleted: messages.splice(0).length });
  if (route === 'GET /cert') {
    res.writeHead(200, { 'content-type': 'application/x-pem-file' });
    return res.end(pems.cert);
  }
  json(404, { error: 'not_found', route });
});

const listen = (server, port) => new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', () => resolve(server.server?.address?.() ?? server.address()));
});
const smtpAddr = await listen(smtp, smtpPortWanted);
const httpAddr = await listen(http, 0);
process.stdout.write(`${JSON.stringify({ smtpPort: smtpAddr.port, httpPort: httpAddr.port })}\n`);

const exit = () => process.exit(0);
process.on('SIGTERM', exit);
process.on('SIGINT', exit);
process.stdin.on('end', exit);
process.stdin.on('close', exit);
process.stdin.on('error', exit);
process.stdin.resume();
