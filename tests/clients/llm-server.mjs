// A scripted, deterministic OpenAI-compatible chat-completions server for zygo's integration
// tests of the workflow engine's LLM and AI-agent nodes. Only Node built-ins, no dependencies.
//
// Usage:   node llm-server.mjs [--port N] [--key K]
//            --port N   port on 127.0.0.1 (0 or absent: random)
//            --key K    the only accepted API key (absent: any bearer token is accepted)
// Env:     LLM_SERVER_DEBUG=1  log each request to stderr (off by default so an undrained
//                              stderr pipe can never block the server)
// Stdout:  exactly one line once listening, then nothing else:
//            {"port":N}
// Exits on SIGTERM/SIGINT or when stdin closes (spawn it with stdin piped and keep it open).
//
// POST /v1/chat/completions  (also POST /chat/completions)
//   Request body as OpenAI's: { model, messages: [{ role, content, tool_calls?, tool_call_id? }],
//   tools?: [{ type: "function", function: { name, description, parameters } }], temperature? }.
//   `content` may be a string, null, or an array of parts ({type:"text", text} parts are joined
//   with ""). `stream` is ignored: the answer is always a single JSON object.
//   Order of checks:
//     body not valid JSON          -> 400 {"error":{..., "type":"invalid_request_error", "code":"invalid_json"}}
//     no "Authorization: Bearer X" -> 401 {"error":{..., "type":"invalid_request_error", "code":"missing_api_key"}}
//     --key K given and X != K     -> 401 {"error":{"message":"Incorrect API key provided",
//                                          "type":"invalid_request_error","code":"invalid_api_key"}}
//     body not an object / messages not a non-empty array
//                                  -> 400 {"error":{..., "type":"invalid_request_error", "code":"invalid_request"}}
//   Then, with U = text of the last message whose role is "user" ("" if none), L = last message,
//   T = names of the offered function tools, the first matching rule answers:
//     a. U contains FAIL_500       -> HTTP 500 {"error":{"message":"Scripted failure (FAIL_500)",
//                                          "type":"server_error","code":"server_error"}}
//     b. U contains LOOP_FOREVER and T non-empty
//                                  -> tool call to T[0] with arguments "{}" (even after tool results)
//     c. T non-empty, L.role == "user", U contains `CALL <name> <json>` with <name> in T
//                                  -> tool call to <name>; arguments = the <json> text exactly as
//                                     written (a balanced {...} / [...] or the rest of the line;
//                                     "{}" when nothing follows the name). Must be valid JSON,
//                                     else the rule does not match. First CALL in U wins.
//     d. L.role == "tool"          -> content "TOOL RESULT: <L's content>"
//     e. otherwise                 -> content "ECHO: <U>"   (system messages are not echoed)
//   Success (HTTP 200) shape:
//     { id: "chatcmpl-<n>", object: "chat.completion", created: <unix s>, model: <request model>,
//       choices: [{ index: 0, message: { role: "assistant", content, tool_calls? }, finish_reason }],
//       usage: { prompt_tokens, completion_tokens, total_tokens } }
//   Tool call (b, c): content null, finish_reason "tool_calls", tool_calls =
//     [{ id: "call_<m>", type: "function", function: { name, arguments } }]
//   Text (d, e): content string, finish_reason "stop", no tool_calls key.
//   <n> counts 200 answers, <m> counts tool calls; both start at 1 and are never reset.
//   Token counts are whitespace-separated word counts: prompt = words of all message contents
//   (plus tool-call arguments), completion = words of the reply content / arguments.
//
// GET /requests     JSON array, in order received, of every chat-completion request whose body
//                   was valid JSON (including ones answered 401/400/500):
//                     { authorization, body, path, status }
//                   authorization is the raw header value or null; status the HTTP status sent.
// DELETE /requests  clears the list, returns {"deleted":n}
// Anything else:    404 {"error":{"message":"Unknown request URL: METHOD PATH", ..., "code":"unknown_url"}}
import { createServer } from 'node:http';

const argValue = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const port = Number(argValue('--port') ?? 0);
const expectedKey = argValue('--key');
const debug = !!process.env.LLM_SERVER_DEBUG;

const requests = [];
let completionCounter = 0;
let callCounter = 0;

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
const apiError = (message, type, code) => ({ error: { message, type, param: null, code } });

function textOf(content) {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (typeof p === 'string' ? p : p && typeof p.text === 'string' ? p.text : ''))
      .join('');
  }
  return JSON.stringify(content);
}
const words = (s) => (s ? s.split(/\s+/).filter(Boolean).length : 0);

// Returns the JSON text starting at s[0]: a balanced {...}/[...] (string-aware), else the rest of
// the line; null when it is not valid JSON.
function leadingJson(s) {
  let text;
  if (s.startsWith('{') || s.startsWith('[')) {
    let depth = 0;
    let inString = false;
    let end = -1;
    for (let i = 0; i < s.length && end < 0; i++) {
      const c = s[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) end = i;
      }
    }
    if (end < 0) return null;
    text = s.slice(0, end + 1);
  } else {
    text = s.split(/\r?\n/)[0].trim();
  }
  try {
    JSON.parse(text);
    return text;
  } catch {
    return null;
  }
}

// Finds the first `CALL <name> <json>` in text whose name is offered; returns {name, args} or null.
function scriptedCall(text, toolNames) {
  const re = /CALL[ \t]+([^\s]+)([ \t]*)/g;
  let m;
  while ((m = re.exec(text))) {
    const name = m[1];
    if (!toolNames.includes(name)) continue;
    const rest = text.slice(m.index + m[0].length);
    if (rest === '' || /^\r?\n/.test(rest)) return { name, args: '{}' };
    if (m[2] === '') continue; // name glued to something else
    const args = leadingJson(rest);
    if (args !== null) return { name, args };
  }
  return null;
}

function completion(body) {
  const messages = body.messages;
  const tools = Array.isArray(body.tools) ? body.tools : [];
  const toolNames = tools
    .filter((t) => t && (t.type ?? 'function') === 'function' && typeof t.function?.name === 'string')
    .map((t) => t.function.name);
  const last = messages[messages.length - 1] ?? {};
  const lastUser = [...messages].reverse().find((m) => m && m.role === 'user');
  const userText = textOf(lastUser?.content);

  if (userText.includes('FAIL_500')) {
    return { status: 500, body: apiError('Scripted failure (FAIL_500)', 'server_error', 'server_error') };
  }

  let call = null;
  if (userText.includes('LOOP_FOREVER') && toolNames.length > 0) call = { name: toolNames[0], args: '{}' };
  else if (toolNames.length > 0 && last.role === 'user') call = scriptedCall(userText, toolNames);

  let message;
  let finishReason;
  let completionTokens;
  if (call) {
    callCounter += 1;
    message = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: `call_${callCounter}`, type: 'function', function: { name: call.name, arguments: call.args } }],
    };
    finishReason = 'tool_calls';
    completionTokens = words(call.args) + 1;
  } else {
    const content = last.role === 'tool' ? `TOOL RESULT: ${textOf(last.content)}` : `ECHO: ${userText}`;
    message = { role: 'assistant', content };
    finishReason = 'stop';
    completionTokens = words(content);
  }

  const promptTokens = messages.reduce((n, m) => {
    let c = words(textOf(m?.content));
    if (Array.isArray(m?.tool_calls)) for (const tc of m.tool_calls) c += words(String(tc?.function?.arguments ?? ''));
    return n + c;
  }, 0);
  completionCounter += 1;
  return {
    status: 200,
    body: {
      id: `chatcmpl-${completionCounter}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? '',
      choices: [{ index: 0, message, finish_reason: finishReason }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    },
  };
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function chat(req, res, path) {
  const raw = await readBody(req);
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    return send(res, 400, apiError('We could not parse the JSON body of your request.', 'invalid_request_error', 'invalid_json'));
  }
  const authorization = req.headers.authorization ?? null;
  const entry = { authorization, body, path, status: 0 };
  requests.push(entry);
  const reply = (status, payload) => {
    entry.status = status;
    send(res, status, payload);
  };

  const bearer = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();
  if (!bearer) {
    return reply(401, apiError("You didn't provide an API key.", 'invalid_request_error', 'missing_api_key'));
  }
  if (expectedKey !== undefined && bearer !== expectedKey) {
    return reply(401, apiError('Incorrect API key provided', 'invalid_request_error', 'invalid_api_key'));
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return reply(400, apiError('The request body must be a JSON object.', 'invalid_request_error', 'invalid_request'));
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return reply(400, apiError("'messages' must be a non-empty array.", 'invalid_request_error', 'invalid_request'));
  }
  const { status, body: payload } = completion(body);
  reply(status, payload);
}

async function handle(req, res) {
  const path = new URL(req.url, 'http://x').pathname;
  const route = `${req.method} ${path}`;
  if (debug) process.stderr.write(`llm-server: ${route}\n`);
  switch (route) {
    case 'POST /v1/chat/completions':
    case 'POST /chat/completions':
      return chat(req, res, path);
    case 'GET /requests':
      return send(res, 200, requests);
    case 'DELETE /requests':
      return send(res, 200, { deleted: requests.splice(0).length });
    default:
      req.resume();
      return send(res, 404, apiError(`Unknown request URL: ${route}`, 'invalid_request_error', 'unknown_url'));
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) send(res, 500, apiError(String(err?.message ?? err), 'server_error', 'server_error'));
    else res.destroy();
  });
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});

const exit = () => process.exit(0);
process.on('SIGTERM', exit);
process.on('SIGINT', exit);
process.stdin.on('end', exit);
process.stdin.on('close', exit);
process.stdin.on('error', exit);
process.stdin.resume();
