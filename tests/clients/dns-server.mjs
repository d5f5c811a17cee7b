// A small authoritative DNS server (the `dns2` package) for the tests of custom domain
// verification and of the DNS propagation check: it answers A, AAAA, TXT and CNAME questions
// over UDP and TCP from records the test sets, NXDOMAIN for names it has none for. Only for
// tests.
//
// Usage:  node dns-server.mjs      Stdout: {"port":N,"dnsPort":M}; exits when stdin closes.
// Test controls (HTTP on `port`):
//   PUT /_records {"name": "_zygo-challenge.example.com", "type": "TXT", "values": ["token"]}
//        sets (or, with "values": [], removes) the records of one name and type
//   GET /_queries  the questions asked so far: [{name, type}]
import { createServer as createHttp } from 'node:http';
import dgram from 'node:dgram';
import dns2 from 'dns2';

const { Packet } = dns2;
const records = new Map(); // `${name}|${type}` → [values]
const queries = [];
const TYPES = { A: Packet.TYPE.A, AAAA: Packet.TYPE.AAAA, TXT: Packet.TYPE.TXT, CNAME: Packet.TYPE.CNAME };
const key = (name, type) => `${name.toLowerCase().replace(/\.$/, '')}|${type}`;

const makeDns = () => dns2.createServer({
  udp: true,
  tcp: true,
  handle: (request, send) => {
    const response = Packet.createResponseFromRequest(request);
    const [question] = request.questions;
    const type = Object.keys(TYPES).find((t) => TYPES[t] === question.type) ?? String(question.type);
    queries.push({ name: question.name, type });
    const values = records.get(key(question.name, type)) ?? [];
    const known = [...records.keys()].some((k) => k.startsWith(`${question.name.toLowerCase()}|`));
    response.header.aa = 1;
    if (!known) response.header.rcode = Packet.RCODE.NXDOMAIN;
    for (const value of values) {
      const answer = { name: question.name, type: question.type, class: Packet.CLASS.IN, ttl: 60 };
      if (type === 'TXT') answer.data = value;
      else if (type === 'A' || type === 'AAAA') answer.address = value;
      else answer.domain = value;
      response.answers.push(answer);
    }
    send(response);
  },
});

const readBody = (req) =>
  new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

const http = createHttp(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'PUT' && url.pathname === '/_records') {
    const { name, type = 'TXT', values = [] } = JSON.parse(await readBody(req));
    if (values.length) records.set(key(name, type), values);
    else records.delete(key(name, type));
    res.writeHead(204).end();
  } else if (req.method === 'GET' && url.pathname === '/_queries') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(queries));
  } else {
    res.writeHead(404).end();
  }
});

// One port for both transports: a free UDP port is probed, then UDP and TCP listen on it. The
// TCP side of that number may be taken meanwhile: then a new server tries another port.
const start = (attempt) => {
  const dns = makeDns();
  dns.on('error', (e) => {
    if (attempt >= 20) throw e;
    dns.close().catch(() => {});
    start(attempt + 1);
  });
  dns.on('listening', () => {
    const dnsPort = dns.addresses().udp.port;
    http.listen(0, '127.0.0.1', () => {
      process.stdout.write(`${JSON.stringify({ port: http.address().port, dnsPort })}\n`);
    });
  });
  const udpProbe = dgram.createSocket('udp4');
  udpProbe.bind(0, '127.0.0.1', () => {
    const port = udpProbe.address().port;
    udpProbe.close(() => dns.listen({ udp: { port, address: '127.0.0.1' }, tcp: { port, address: '127.0.0.1' } }));
  });
};
start(1);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
