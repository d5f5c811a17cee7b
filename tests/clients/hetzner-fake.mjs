// A fake of the Hetzner Cloud API (/v1) and the Hetzner DNS API (/dns/api/v1) speaking their
// request, response and error shapes, for tests only.
//
// Cloud (Authorization: Bearer <TOKEN>): GET/POST /v1/servers (label_selector, page,
// per_page; meta.pagination), GET/DELETE /v1/servers/:id, POST
// /v1/servers/:id/actions/{poweron,shutdown,poweroff,reboot,reset,change_type}, GET /v1/actions/:id, GET/POST
// /v1/volumes, GET/DELETE /v1/volumes/:id, POST /v1/volumes/:id/actions/{attach,detach,resize},
// POST /v1/servers/:id/actions/create_image ({description, type: "snapshot", labels} -> {image,
// action}), POST /v1/servers/:id/actions/rebuild ({image} -> {action, root_password}), GET
// /v1/images (type, label_selector), GET/DELETE /v1/images/:id (images of type "snapshot",
// `status` creating -> available, `image_size` in GB once made), GET
// /v1/servers/:id/metrics (type cpu|disk|network, start, end, step; at most 500 samples; values
// are strings), POST /v1/servers/:id/actions/request_console ({wss_url, password, action}),
// POST /v1/servers/:id/actions/{enable_rescue,disable_rescue,reset_password} ({root_password, action}),
// GET /v1/pricing, GET/POST /v1/floating_ips (created with `action: null`), GET/DELETE
// /v1/floating_ips/:id, POST /v1/floating_ips/:id/actions/{assign,unassign,change_dns_ptr}
// (`dns_ptr` is a list of {ip, dns_ptr}, Hetzner's default name until one is set), GET/POST
// /v1/networks, GET/DELETE /v1/networks/:id, POST /v1/networks/:id/actions/{add_subnet,delete_subnet},
// POST /v1/servers/:id/actions/{attach_to_network,detach_from_network}, GET/POST /v1/firewalls
// (created with `actions`, one per `apply_to` entry), GET/DELETE /v1/firewalls/:id, POST
// /v1/firewalls/:id/actions/{set_rules,apply_to_resources,remove_from_resources} (answer
// `actions`), GET/POST /v1/load_balancers, GET/DELETE /v1/load_balancers/:id, POST
// /v1/load_balancers/:id/actions/{change_algorithm,add_service,delete_service,add_target,remove_target}.
// Changes answer {action: {id, command, status: "running", progress: 0, error: null, …}}; an
// action moves on by 50 % each time it (or its resource) is read, and its effect lands when it
// reaches 100 % ("success"). Errors are {"error": {"code", "message"}} with Hetzner's codes
// (401 unauthorized, 404 not_found, 409 uniqueness_error, 422 invalid_input); every answer has
// RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset.
// DNS (Auth-API-Token: <DNS_TOKEN>): GET/POST /dns/api/v1/zones (name filter), GET/POST
// /dns/api/v1/records (zone_id filter), PUT/DELETE /dns/api/v1/records/:id.
//
// Usage:  TOKEN=… DNS_TOKEN=… [NS=ns1,ns2] node hetzner-fake.mjs    Stdout: {"port":N}; exits when stdin closes.
// Test controls:
//   POST /_control/drop-next-create {"resource": "servers"|"volumes"|"floating_ips"|"networks"|"firewalls"|"load_balancers"}  the next create is carried
//        out but its answer is lost (the connection is destroyed), as when a call dies mid-way
//   POST /_control/rate-limit-next {}  the next cloud call answers 429 rate_limit_exceeded
//   POST /_control/ignore-next-shutdown {}  the next shutdown succeeds but the server runs on
//        (a system ignoring ACPI); `powerOffs` in /_state counts poweroff calls
//   GET  /_state  {servers, volumes, images, zones, records, actions, creates: {servers, volumes},
//        consoles: [{server, token}]}
import { createServer } from 'node:http';

const TOKEN = process.env.TOKEN ?? 'hetzner-test-token';
const DNS_TOKEN = process.env.DNS_TOKEN ?? TOKEN;
// The name servers a zone reports (`ns`), as Hetzner's three unless the test names others.
const NS = (process.env.NS ?? 'hydrogen.ns.hetzner.com,oxygen.ns.hetzner.com,helium.ns.hetzner.de').split(',');
const state = {
  seq: 1000,
  servers: new Map(),
  volumes: new Map(),
  floatingIps: new Map(),
  networks: new Map(),
  firewalls: new Map(),
  loadBalancers: new Map(),
  images: new Map(),
  actions: new Map(),
  zones: new Map(),
  records: new Map(),
  creates: { servers: 0, volumes: 0, floating_ips: 0 },
  consoles: [],
  passwords: [],
  ignoreShutdown: false,
  powerOffs: 0,
  drop: new Set(),
  rateLimitNext: false,
};
const nextId = () => ++state.seq;

// The series of each metrics type (GET /v1/servers/:id/metrics?type=…).
const METRICS = {
  cpu: ['cpu'],
  disk: ['disk.0.iops.read', 'disk.0.iops.write', 'disk.0.bandwidth.read', 'disk.0.bandwidth.write'],
  network: ['network.0.pps.in', 'network.0.pps.out', 'network.0.bandwidth.in', 'network.0.bandwidth.out'],
};
// GET /v1/pricing (an excerpt of the real list: prices are strings, per location).
const price = (location, net) => ({
  location,
  price_hourly: { net: (net / 730).toFixed(4), gross: ((net / 730) * 1.19).toFixed(4) },
  price_monthly: { net: net.toFixed(4), gross: (net * 1.19).toFixed(4) },
  included_traffic: 21990232555520,
  price_per_tb_traffic: { net: '1.0000', gross: '1.1900' },
});
const PRICING = {
  currency: 'EUR',
  vat_rate: '19.00',
  server_types: [
    { id: 104, name: 'cx22', prices: [price('fsn1', 3.79), price('nbg1', 3.79), price('hel1', 3.79)] },
    { id: 105, name: 'cx32', prices: [price('fsn1', 6.8), price('nbg1', 6.8), price('hel1', 6.8)] },
  ],
  volume: { price_per_gb_month: { net: '0.0440', gross: '0.0524' } },
};

const readBody = (req) =>
  new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(raw ? JSON.parse(raw) : {});
      } catch {
        resolve(null);
      }
    });
  });

const send = (res, status, body) => {
  res.writeHead(status, {
    'content-type': 'application/json',
    'ratelimit-limit': '3600',
    'ratelimit-remaining': '3599',
    'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1),
  });
  res.end(body === undefined ? '' : JSON.stringify(body));
};
const error = (res, status, code, message) => send(res, status, { error: { code, message, details: {} } });

const now = () => new Date().toISOString();

const newAction = (command, resources, effect) => {
  const a = {
    id: nextId(),
    command,
    status: 'running',
    progress: 0,
    started: now(),
    finished: null,
    resources,
    error: null,
    effect,
  };
  state.actions.set(a.id, a);
  return a;
};
const actionView = (a) => {
  const { effect, ...rest } = a;
  return rest;
};
const advance = (a) => {
  if (a.status !== 'running') return;
  a.progress = Math.min(100, a.progress + 50);
  if (a.progress === 100) {
    a.status = 'success';
    a.finished = now();
    a.effect?.();
  }
};
const advanceFor = (type, id) => {
  for (const a of state.actions.values()) {
    if (a.resources.some((r) => r.type === type && r.id === id)) advance(a);
  }
};

const matchesSelector = (labels, selector) => {
  if (!selector) return true;
  return selector
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .every((t) => {
      const [k, v] = t.split('=');
      return v === undefined ? k in labels : labels[k] === v;
    });
};

const paged = (res, url, key, items) => {
  const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
  const perPage = Math.min(50, Math.max(1, Number(url.searchParams.get('per_page') ?? 25)));
  const last = Math.max(1, Math.ceil(items.length / perPage));
  send(res, 200, {
    [key]: items.slice((page - 1) * perPage, page * perPage),
    meta: {
      pagination: {
        page,
        per_page: perPage,
        previous_page: page > 1 ? page - 1 : null,
        next_page: page < last ? page + 1 : null,
        last_page: last,
        total_entries: items.length,
      },
    },
  });
};

const serverView = (s) => s;
const volumeView = (v) => v;

const cloud = async (req, res, url) => {
  if (req.headers.authorization !== `Bearer ${TOKEN}`) {
    return error(res, 401, 'unauthorized', 'unable to authenticate');
  }
  if (state.rateLimitNext) {
    state.rateLimitNext = false;
    return error(res, 429, 'rate_limit_exceeded', 'limit of 3600 requests per hour reached');
  }
  const p = url.pathname.replace(/^\/v1/, '');
  const body = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : {};
  if (body === null) return error(res, 400, 'json_error', 'invalid JSON');
  let m;
  if (p === '/servers' && req.method === 'GET') {
    const sel = url.searchParams.get('label_selector');
    const items = [...state.servers.values()].filter((s) => matchesSelector(s.labels, sel));
    items.forEach((s) => advanceFor('server', s.id));
    return paged(res, url, 'servers', items.map(serverView));
  }
  if (p === '/servers' && req.method === 'POST') {
    for (const f of ['name', 'server_type', 'image']) {
      if (typeof body[f] !== 'string' || !body[f]) return error(res, 422, 'invalid_input', `invalid input in field '${f}'`);
    }
    if ([...state.servers.values()].some((s) => s.name === body.name)) {
      return error(res, 409, 'uniqueness_error', 'server name is already used');
    }
    const id = nextId();
    const n = state.servers.size + 2;
    const s = {
      id,
      name: body.name,
      status: 'initializing',
      created: now(),
      public_net: { ipv4: { ip: `203.0.113.${n}`, blocked: false }, ipv6: { ip: `2001:db8:${n}::/64` } },
      server_type: { name: body.server_type, cores: 2, memory: 4, disk: 40 },
      image: { name: body.image },
      datacenter: { name: `${body.location ?? 'fsn1'}-dc14`, location: { name: body.location ?? 'fsn1' } },
      labels: body.labels ?? {},
      volumes: [],
      rescue_enabled: false,
      private_net: [],
    };
    state.servers.set(id, s);
    state.creates.servers += 1;
    const action = newAction('create_server', [{ id, type: 'server' }], () => {
      s.status = 'running';
    });
    if (state.drop.delete('servers')) return res.socket.destroy();
    return send(res, 201, {
      server: serverView(s),
      action: actionView(action),
      next_actions: [],
      root_password: 'fake-root-password',
    });
  }
  if ((m = p.match(/^\/servers\/(\d+)$/))) {
    const s = state.servers.get(Number(m[1]));
    if (!s) return error(res, 404, 'not_found', 'server not found');
    if (req.method === 'GET') {
      advanceFor('server', s.id);
      return send(res, 200, { server: serverView(s) });
    }
    if (req.method === 'DELETE') {
      state.servers.delete(s.id);
      // Hetzner takes a deleted server out of its networks, firewalls and load balancers.
      for (const n of state.networks.values()) n.servers = n.servers.filter((x) => x !== s.id);
      for (const f of state.firewalls.values()) f.applied_to = f.applied_to.filter((t) => t.type !== 'server' || Number(t.server.id) !== s.id);
      for (const l of state.loadBalancers.values()) l.targets = l.targets.filter((t) => t.type !== 'server' || Number(t.server.id) !== s.id);
      for (const v of state.volumes.values()) if (v.server === s.id) v.server = null;
      for (const f of state.floatingIps.values()) if (f.server === s.id) f.server = null;
      const a = newAction('delete_server', [{ id: s.id, type: 'server' }]);
      advance(a);
      advance(a);
      return send(res, 200, { action: actionView(a) });
    }
  }
  if ((m = p.match(/^\/servers\/(\d+)\/actions\/(attach_to_network|detach_from_network)$/)) && req.method === 'POST') {
    const s = state.servers.get(Number(m[1]));
    if (!s) return error(res, 404, 'not_found', 'server not found');
    const n = state.networks.get(Number(body.network));
    if (!n) return error(res, 422, 'invalid_input', "invalid input in field 'network'");
    const attach = m[2] === 'attach_to_network';
    if (attach && n.servers.includes(s.id)) return error(res, 422, 'server_already_attached', 'server is already attached to the network');
    if (!attach && !n.servers.includes(s.id)) return error(res, 422, 'server_not_attached', 'server is not attached to the network');
    const rs = [{ id: s.id, type: 'server' }, { id: n.id, type: 'network' }];
    const effect = () => {
      n.servers = attach ? [...n.servers, s.id] : n.servers.filter((x) => x !== s.id);
      s.private_net = attach ? [...(s.private_net ?? []), { network: n.id, ip: `10.0.0.${n.servers.length + 1}` }] : (s.private_net ?? []).filter((x) => x.network !== n.id);
    };
    return send(res, 201, { action: actionView(newAction(m[2], rs, effect)) });
  }
  if ((m = p.match(/^\/servers\/(\d+)\/actions\/([a-z_]+)$/)) && req.method === 'POST') {
    const s = state.servers.get(Number(m[1]));
    if (!s) return error(res, 404, 'not_found', 'server not found');
    const res1 = [{ id: s.id, type: 'server' }];
    switch (m[2]) {
      case 'poweron':
        s.status = 'starting';
        return send(res, 201, { action: actionView(newAction('start_server', res1, () => (s.status = 'running'))) });
      case 'shutdown':
        // A system that ignores the ACPI signal: the action succeeds, the server runs on.
        if (state.ignoreShutdown) {
          state.ignoreShutdown = false;
          return send(res, 201, { action: actionView(newAction('shutdown_server', res1, () => {})) });
        }
        s.status = 'stopping';
        return send(res, 201, { action: actionView(newAction('shutdown_server', res1, () => (s.status = 'off'))) });
      case 'poweroff':
        state.powerOffs += 1;
        return send(res, 201, { action: actionView(newAction('stop_server', res1, () => (s.status = 'off'))) });
      case 'reset':
        return send(res, 201, { action: actionView(newAction('reset_server', res1, () => (s.status = 'running'))) });
      case 'reboot':
        return send(res, 201, { action: actionView(newAction('reboot_server', res1, () => (s.status = 'running'))) });
      case 'create_image': {
        if (body.type !== undefined && body.type !== 'snapshot' && body.type !== 'backup') {
          return error(res, 422, 'invalid_input', "invalid input in field 'type'");
        }
        const img = {
          id: nextId(),
          type: body.type ?? 'snapshot',
          status: 'creating',
          name: null,
          description: body.description ?? '',
          image_size: null,
          disk_size: 40,
          created: now(),
          created_from: { id: s.id, name: s.name },
          os_flavor: 'ubuntu',
          labels: body.labels ?? {},
          protection: { delete: false },
        };
        state.images.set(img.id, img);
        const rs = [{ id: s.id, type: 'server' }, { id: img.id, type: 'image' }];
        const action = newAction('create_image', rs, () => Object.assign(img, { status: 'available', image_size: 1.8 }));
        return send(res, 201, { image: img, action: actionView(action) });
      }
      case 'rebuild': {
        const image = [...state.images.values()].find((i) => String(i.id) === String(body.image) || i.name === body.image);
        if (!image && !/^[a-z]+-[\d.]+$/.test(String(body.image ?? ''))) return error(res, 422, 'invalid_input', "invalid input in field 'image'");
        const before = s.status;
        s.status = 'rebuilding';
        const action = newAction('rebuild_server', res1, () => Object.assign(s, { status: before === 'off' ? 'off' : 'running', image: image ?? { name: body.image } }));
        return send(res, 201, { action: actionView(action), root_password: null });
      }
      case 'enable_rescue': {
        if (s.rescue_enabled) return error(res, 409, 'conflict', 'rescue mode is already enabled');
        if (body.type && !['linux64'].includes(body.type)) return error(res, 422, 'invalid_input', "invalid input in field 'type'");
        const password = `rescue-${nextId()}`;
        return send(res, 201, { root_password: password, action: actionView(newAction('enable_rescue', res1, () => (s.rescue_enabled = true))) });
      }
      case 'disable_rescue':
        if (!s.rescue_enabled) return error(res, 409, 'conflict', 'rescue mode is not enabled');
        return send(res, 201, { action: actionView(newAction('disable_rescue', res1, () => (s.rescue_enabled = false))) });
      case 'reset_password': {
        if (s.status !== 'running') return error(res, 409, 'server_not_running', 'the server must be running');
        const password = `root-${nextId()}`;
        state.passwords.push({ server: s.id, password });
        return send(res, 201, { root_password: password, action: actionView(newAction('reset_password', res1, () => {})) });
      }
      case 'request_console': {
        const token = `${s.id}-${nextId()}`;
        state.consoles.push({ server: s.id, token });
        return send(res, 201, {
          action: actionView(newAction('request_console', res1, () => {})),
          wss_url: `wss://console.hetzner.cloud/?server_id=${s.id}&token=${token}`,
          password: `pw-${token}`,
        });
      }
      case 'change_type':
        if (s.status !== 'off') return error(res, 409, 'server_not_stopped', 'server must be stopped before changing type');
        if (typeof body.server_type !== 'string') return error(res, 422, 'invalid_input', "invalid input in field 'server_type'");
        return send(res, 201, {
          action: actionView(newAction('change_server_type', res1, () => (s.server_type = { ...s.server_type, name: body.server_type }))),
        });
      default:
        return error(res, 404, 'not_found', 'action not found');
    }
  }
  if ((m = p.match(/^\/servers\/(\d+)\/metrics$/)) && req.method === 'GET') {
    const s = state.servers.get(Number(m[1]));
    if (!s) return error(res, 404, 'not_found', 'server not found');
    const types = (url.searchParams.get('type') ?? '').split(',').filter(Boolean);
    const start = Date.parse(url.searchParams.get('start') ?? '');
    const end = Date.parse(url.searchParams.get('end') ?? '');
    if (!types.length || types.some((t) => !METRICS[t])) return error(res, 422, 'invalid_input', "invalid input in field 'type'");
    if (Number.isNaN(start) || Number.isNaN(end) || start >= end) return error(res, 422, 'invalid_input', "invalid input in field 'start'");
    // At most 500 samples: a finer step is coarsened, as the real API does.
    const span = (end - start) / 1000;
    const step = Math.max(Number(url.searchParams.get('step') ?? 60) || 60, Math.ceil(span / 500));
    const time_series = {};
    for (const t of types) {
      for (const name of METRICS[t]) {
        const values = [];
        for (let at = start / 1000; at <= end / 1000; at += step) {
          // Steady per server, series and instant; nothing while the server is off.
          values.push([at, s.status === 'running' ? String(((s.id * 7 + name.length * 13 + Math.floor(at)) % 97) + 1) : '0']);
        }
        time_series[name] = { values };
      }
    }
    return send(res, 200, {
      metrics: { start: new Date(start).toISOString(), end: new Date(end).toISOString(), step, time_series },
    });
  }
  if (p === '/pricing' && req.method === 'GET') {
    return send(res, 200, { pricing: PRICING });
  }
  if (p === '/floating_ips' && req.method === 'GET') {
    const sel = url.searchParams.get('label_selector');
    return paged(res, url, 'floating_ips', [...state.floatingIps.values()].filter((f) => matchesSelector(f.labels, sel)));
  }
  if (p === '/floating_ips' && req.method === 'POST') {
    if (body.type !== 'ipv4' && body.type !== 'ipv6') return error(res, 422, 'invalid_input', "invalid input in field 'type'");
    if (!body.home_location && !body.server) return error(res, 422, 'invalid_input', "invalid input in field 'home_location'");
    if (body.home_location && !['fsn1', 'nbg1', 'hel1', 'ash', 'hil', 'sin'].includes(body.home_location)) {
      return error(res, 404, 'not_found', 'location not found');
    }
    if (body.name && [...state.floatingIps.values()].some((f) => f.name === body.name)) {
      return error(res, 409, 'uniqueness_error', 'floating IP name is already used');
    }
    const id = nextId();
    const n = state.floatingIps.size + 10;
    const ip = body.type === 'ipv6' ? `2001:db8:f${n}::/64` : `192.0.2.${n}`;
    const f = {
      id,
      name: body.name ?? `floating-ip-${id}`,
      description: body.description ?? null,
      ip,
      type: body.type,
      server: body.server ?? null,
      dns_ptr: [{ ip: ip.split('/')[0], dns_ptr: `static.${id}.clients.your-server.de` }],
      home_location: { name: body.home_location },
      blocked: false,
      protection: { delete: false },
      labels: body.labels ?? {},
      created: now(),
    };
    state.floatingIps.set(id, f);
    state.creates.floating_ips += 1;
    // Hetzner answers `action: null` unless the address is assigned on creation.
    if (state.drop.delete('floating_ips')) return res.socket.destroy();
    return send(res, 201, { floating_ip: f, action: null });
  }
  if ((m = p.match(/^\/floating_ips\/(\d+)$/))) {
    const f = state.floatingIps.get(Number(m[1]));
    if (!f) return error(res, 404, 'not_found', 'floating IP not found');
    if (req.method === 'GET') {
      advanceFor('floating_ip', f.id);
      return send(res, 200, { floating_ip: f });
    }
    if (req.method === 'DELETE') {
      state.floatingIps.delete(f.id);
      return send(res, 204);
    }
  }
  if ((m = p.match(/^\/floating_ips\/(\d+)\/actions\/([a-z_]+)$/)) && req.method === 'POST') {
    const f = state.floatingIps.get(Number(m[1]));
    if (!f) return error(res, 404, 'not_found', 'floating IP not found');
    const rs = [{ id: f.id, type: 'floating_ip' }];
    switch (m[2]) {
      case 'assign': {
        const s = state.servers.get(Number(body.server));
        if (!s) return error(res, 422, 'invalid_input', "invalid input in field 'server'");
        return send(res, 201, { action: actionView(newAction('assign_floating_ip', [...rs, { id: s.id, type: 'server' }], () => (f.server = s.id))) });
      }
      case 'unassign':
        return send(res, 201, { action: actionView(newAction('unassign_floating_ip', rs, () => (f.server = null))) });
      case 'change_dns_ptr': {
        if (typeof body.ip !== 'string' || body.ip !== f.ip.split('/')[0]) return error(res, 422, 'invalid_input', "invalid input in field 'ip'");
        const ptr = body.dns_ptr ?? `static.${f.id}.clients.your-server.de`;
        return send(res, 201, { action: actionView(newAction('change_dns_ptr', rs, () => (f.dns_ptr = [{ ip: body.ip, dns_ptr: ptr }]))) });
      }
      default:
        return error(res, 404, 'not_found', 'action not found');
    }
  }
  // Networks, firewalls and load balancers.
  for (const [path, key, one, store] of [
    ['/networks', 'networks', 'network', state.networks],
    ['/firewalls', 'firewalls', 'firewall', state.firewalls],
    ['/load_balancers', 'load_balancers', 'load_balancer', state.loadBalancers],
  ]) {
    if (p === path && req.method === 'GET') {
      const sel = url.searchParams.get('label_selector');
      const items = [...store.values()].filter((x) => matchesSelector(x.labels, sel));
      items.forEach((x) => advanceFor(one, x.id));
      return paged(res, url, key, items);
    }
    if (p === path && req.method === 'POST') {
      if (typeof body.name !== 'string' || !body.name) return error(res, 422, 'invalid_input', "invalid input in field 'name'");
      if ([...store.values()].some((x) => x.name === body.name)) return error(res, 409, 'uniqueness_error', `${one} name is already used`);
      const id = nextId();
      const base = { id, name: body.name, labels: body.labels ?? {}, created: now() };
      let x;
      const acts = [];
      if (one === 'network') {
        if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(body.ip_range ?? '')) return error(res, 422, 'invalid_input', "invalid input in field 'ip_range'");
        x = { ...base, ip_range: body.ip_range, subnets: (body.subnets ?? []).map((s) => ({ ...s, gateway: s.ip_range.replace(/\.\d+\/\d+$/, '.1') })), servers: [], routes: [], load_balancers: [], protection: { delete: false } };
      } else if (one === 'firewall') {
        x = { ...base, rules: body.rules ?? [], applied_to: [] };
        for (const t of body.apply_to ?? []) acts.push(newAction('apply_firewall', [{ id, type: 'firewall' }], () => x.applied_to.push(t)));
      } else {
        if (!['lb11', 'lb21', 'lb31'].includes(body.load_balancer_type)) return error(res, 422, 'invalid_input', "invalid input in field 'load_balancer_type'");
        x = {
          ...base,
          load_balancer_type: { name: body.load_balancer_type },
          location: { name: body.location },
          algorithm: body.algorithm ?? { type: 'round_robin' },
          services: body.services ?? [],
          targets: (body.targets ?? []).map((t) => ({ ...t, use_private_ip: false })),
          public_net: { enabled: true, ipv4: { ip: `203.0.113.${(id % 200) + 10}` }, ipv6: { ip: null } },
          protection: { delete: false },
        };
        acts.push(newAction('create_load_balancer', [{ id, type: 'load_balancer' }]));
      }
      store.set(id, x);
      state.creates[key] = (state.creates[key] ?? 0) + 1;
      if (state.drop.delete(key)) return res.socket.destroy();
      const answer = { [one]: x };
      if (one === 'firewall') answer.actions = acts.map(actionView);
      else answer.action = acts[0] ? actionView(acts[0]) : null;
      return send(res, 201, answer);
    }
    const rx = new RegExp(`^${path}/(\\d+)$`);
    if ((m = p.match(rx))) {
      const x = store.get(Number(m[1]));
      if (!x) return error(res, 404, 'not_found', `${one} not found`);
      if (req.method === 'GET') {
        advanceFor(one, x.id);
        return send(res, 200, { [one]: x });
      }
      if (req.method === 'DELETE') {
        if (one === 'network') for (const s of state.servers.values()) s.private_net = (s.private_net ?? []).filter((n) => n.network !== x.id);
        store.delete(x.id);
        return send(res, 204);
      }
    }
    const ax = new RegExp(`^${path}/(\\d+)/actions/([a-z_]+)$`);
    if ((m = p.match(ax)) && req.method === 'POST') {
      const x = store.get(Number(m[1]));
      if (!x) return error(res, 404, 'not_found', `${one} not found`);
      const rs = [{ id: x.id, type: one }];
      const act = (effect) => actionView(newAction(m[2], rs, effect));
      const targetKey = (t) => (t.type === 'server' ? `s${t.server.id}` : `l${t.label_selector.selector}`);
      switch (`${one}:${m[2]}`) {
        case 'network:add_subnet':
          if (x.subnets.some((s) => s.ip_range === body.ip_range)) return error(res, 422, 'invalid_input', 'subnet exists');
          return send(res, 201, { action: act(() => x.subnets.push({ type: body.type, ip_range: body.ip_range, network_zone: body.network_zone, gateway: body.ip_range.replace(/\.\d+\/\d+$/, '.1') })) });
        case 'network:delete_subnet':
          if (!x.subnets.some((s) => s.ip_range === body.ip_range)) return error(res, 422, 'invalid_input', 'no such subnet');
          return send(res, 201, { action: act(() => (x.subnets = x.subnets.filter((s) => s.ip_range !== body.ip_range))) });
        case 'firewall:set_rules':
          if (!Array.isArray(body.rules)) return error(res, 422, 'invalid_input', "invalid input in field 'rules'");
          return send(res, 201, { actions: [act(() => (x.rules = body.rules))] });
        case 'firewall:apply_to_resources':
          for (const t of body.apply_to ?? []) if (x.applied_to.some((a) => targetKey(a) === targetKey(t))) return error(res, 422, 'firewall_already_applied', 'firewall already applied');
          return send(res, 201, { actions: [act(() => x.applied_to.push(...body.apply_to))] });
        case 'firewall:remove_from_resources': {
          const gone = new Set((body.remove_from ?? []).map(targetKey));
          return send(res, 201, { actions: [act(() => (x.applied_to = x.applied_to.filter((a) => !gone.has(targetKey(a)))))] });
        }
        case 'load_balancer:change_algorithm':
          if (!['round_robin', 'least_connections'].includes(body.type)) return error(res, 422, 'invalid_input', "invalid input in field 'type'");
          return send(res, 201, { action: act(() => (x.algorithm = { type: body.type })) });
        case 'load_balancer:add_service':
          if (x.services.some((s) => s.listen_port === body.listen_port)) return error(res, 422, 'source_port_already_used', 'listen port already used');
          return send(res, 201, { action: act(() => x.services.push(body)) });
        case 'load_balancer:delete_service':
          return send(res, 201, { action: act(() => (x.services = x.services.filter((s) => s.listen_port !== body.listen_port))) });
        case 'load_balancer:add_target':
          if (x.targets.some((t) => targetKey(t) === targetKey(body))) return error(res, 422, 'target_already_defined', 'target already defined');
          return send(res, 201, { action: act(() => x.targets.push({ ...body, use_private_ip: false })) });
        case 'load_balancer:remove_target':
          return send(res, 201, { action: act(() => (x.targets = x.targets.filter((t) => targetKey(t) !== targetKey(body)))) });
        default:
          return error(res, 404, 'not_found', 'action not found');
      }
    }
  }
  if ((m = p.match(/^\/actions\/(\d+)$/)) && req.method === 'GET') {
    const a = state.actions.get(Number(m[1]));
    if (!a) return error(res, 404, 'not_found', 'action not found');
    advance(a);
    return send(res, 200, { action: actionView(a) });
  }
  if (p === '/images' && req.method === 'GET') {
    const type = url.searchParams.get('type');
    const sel = url.searchParams.get('label_selector');
    const items = [...state.images.values()].filter((i) => (!type || i.type === type) && matchesSelector(i.labels, sel));
    return paged(res, url, 'images', items);
  }
  if ((m = p.match(/^\/images\/(\d+)$/))) {
    const img = state.images.get(Number(m[1]));
    if (!img) return error(res, 404, 'not_found', 'image not found');
    if (req.method === 'GET') {
      advanceFor('image', img.id);
      return send(res, 200, { image: img });
    }
    if (req.method === 'DELETE') {
      state.images.delete(img.id);
      return send(res, 204);
    }
  }
  if (p === '/volumes' && req.method === 'GET') {
    const sel = url.searchParams.get('label_selector');
    const items = [...state.volumes.values()].filter((v) => matchesSelector(v.labels, sel));
    items.forEach((v) => advanceFor('volume', v.id));
    return paged(res, url, 'volumes', items.map(volumeView));
  }
  if (p === '/volumes' && req.method === 'POST') {
    if (typeof body.name !== 'string' || !Number.isInteger(body.size) || body.size < 10) {
      return error(res, 422, 'invalid_input', "invalid input in field 'size'");
    }
    const id = nextId();
    const v = {
      id,
      name: body.name,
      size: body.size,
      server: null,
      status: 'creating',
      location: { name: body.location ?? 'fsn1' },
      labels: body.labels ?? {},
      linux_device: `/dev/disk/by-id/scsi-0HC_Volume_${id}`,
      created: now(),
    };
    state.volumes.set(id, v);
    state.creates.volumes += 1;
    const action = newAction('create_volume', [{ id, type: 'volume' }], () => (v.status = 'available'));
    if (state.drop.delete('volumes')) return res.socket.destroy();
    return send(res, 201, { volume: volumeView(v), action: actionView(action), next_actions: [] });
  }
  if ((m = p.match(/^\/volumes\/(\d+)$/))) {
    const v = state.volumes.get(Number(m[1]));
    if (!v) return error(res, 404, 'not_found', 'volume not found');
    if (req.method === 'GET') {
      advanceFor('volume', v.id);
      return send(res, 200, { volume: volumeView(v) });
    }
    if (req.method === 'DELETE') {
      if (v.server) return error(res, 423, 'locked', 'volume is attached');
      state.volumes.delete(v.id);
      return send(res, 204);
    }
  }
  if ((m = p.match(/^\/volumes\/(\d+)\/actions\/([a-z_]+)$/)) && req.method === 'POST') {
    const v = state.volumes.get(Number(m[1]));
    if (!v) return error(res, 404, 'not_found', 'volume not found');
    const rs = [{ id: v.id, type: 'volume' }];
    switch (m[2]) {
      case 'attach': {
        const s = state.servers.get(Number(body.server));
        if (!s) return error(res, 422, 'invalid_input', "invalid input in field 'server'");
        if (v.server) return error(res, 422, 'volume_already_attached', 'volume is already attached to a server');
        return send(res, 201, { action: actionView(newAction('attach_volume', rs, () => (v.server = s.id))) });
      }
      case 'detach':
        return send(res, 201, { action: actionView(newAction('detach_volume', rs, () => (v.server = null))) });
      case 'resize':
        if (!Number.isInteger(body.size) || body.size < v.size) {
          return error(res, 422, 'invalid_input', 'volume size can only be increased');
        }
        return send(res, 201, { action: actionView(newAction('resize_volume', rs, () => (v.size = body.size))) });
      default:
        return error(res, 404, 'not_found', 'action not found');
    }
  }
  return error(res, 404, 'not_found', 'not found');
};

const dns = async (req, res, url) => {
  if (req.headers['auth-api-token'] !== DNS_TOKEN) {
    return send(res, 401, { message: 'Invalid authentication credentials' });
  }
  const p = url.pathname.replace(/^\/dns\/api\/v1/, '');
  const body = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : {};
  if (body === null) return send(res, 400, { error: { message: 'invalid JSON', code: 400 } });
  let m;
  if (p === '/zones' && req.method === 'GET') {
    const name = url.searchParams.get('name');
    const zones = [...state.zones.values()].filter((z) => !name || z.name === name);
    return send(res, 200, {
      zones,
      meta: { pagination: { page: 1, per_page: 100, last_page: 1, total_entries: zones.length } },
    });
  }
  if (p === '/zones' && req.method === 'POST') {
    if (typeof body.name !== 'string') return send(res, 422, { error: { message: 'invalid name', code: 422 } });
    if ([...state.zones.values()].some((z) => z.name === body.name)) {
      return send(res, 422, { error: { message: 'zone already exists', code: 422 } });
    }
    const id = `z${nextId()}`;
    const z = { id, name: body.name, ttl: body.ttl ?? 86400, created: now(), status: 'verified', records_count: 0, ns: NS };
    state.zones.set(id, z);
    return send(res, 200, { zone: z });
  }
  if (p === '/records' && req.method === 'GET') {
    const zone = url.searchParams.get('zone_id');
    return send(res, 200, { records: [...state.records.values()].filter((r) => !zone || r.zone_id === zone) });
  }
  const upsert = (id) => {
    if (!state.zones.has(body.zone_id)) return send(res, 404, { error: { message: 'zone not found', code: 404 } });
    for (const f of ['type', 'name', 'value']) {
      if (typeof body[f] !== 'string' || !body[f]) return send(res, 422, { error: { message: `invalid ${f}`, code: 422 } });
    }
    const r = { id, zone_id: body.zone_id, type: body.type, name: body.name, value: body.value, ttl: body.ttl, created: now(), modified: now() };
    state.records.set(id, r);
    return send(res, 200, { record: r });
  };
  if (p === '/records' && req.method === 'POST') return upsert(`r${nextId()}`);
  if ((m = p.match(/^\/records\/([^/]+)$/))) {
    if (!state.records.has(m[1])) return send(res, 404, { error: { message: 'record not found', code: 404 } });
    if (req.method === 'PUT') return upsert(m[1]);
    if (req.method === 'DELETE') {
      state.records.delete(m[1]);
      return send(res, 200);
    }
  }
  return send(res, 404, { error: { message: 'not found', code: 404 } });
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://fake');
  if (url.pathname === '/_state' && req.method === 'GET') {
    return send(res, 200, {
      servers: [...state.servers.values()],
      volumes: [...state.volumes.values()],
      floating_ips: [...state.floatingIps.values()],
      networks: [...state.networks.values()],
      firewalls: [...state.firewalls.values()],
      load_balancers: [...state.loadBalancers.values()],
      images: [...state.images.values()],
      zones: [...state.zones.values()],
      records: [...state.records.values()],
      actions: [...state.actions.values()].map(actionView),
      creates: state.creates,
      consoles: state.consoles,
      passwords: state.passwords,
      powerOffs: state.powerOffs,
    });
  }
  if (url.pathname === '/_control/drop-next-create' && req.method === 'POST') {
    const body = (await readBody(req)) ?? {};
    state.drop.add(body.resource ?? 'servers');
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/_control/ignore-next-shutdown' && req.method === 'POST') {
    state.ignoreShutdown = true;
    return send(res, 200, { ok: true });
  }
  if (url.pathname === '/_control/rate-limit-next' && req.method === 'POST') {
    state.rateLimitNext = true;
    return send(res, 200, { ok: true });
  }
  if (url.pathname.startsWith('/v1/')) return cloud(req, res, url);
  if (url.pathname.startsWith('/dns/api/v1/')) return dns(req, res, url);
  return error(res, 404, 'not_found', 'not found');
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
