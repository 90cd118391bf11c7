// mcp-client.mjs: drives `aish-bridge --mcp` with MCP's own reference
// client library, @modelcontextprotocol/sdk (Client over
// StdioClientTransport): initialize and version negotiation, ping, every
// tool, streamed progress, cancel (the AI's work stops on the server),
// an unknown AI, a failing AI, bad input, and calls after errors.
// Prints "ok - NAME" / "not ok - NAME: DETAIL" lines.
// Usage: node mcp-client.mjs BRIDGE URL SLOW STREAMY BROKEN
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [bridge, url, slow, streamy, broken] = process.argv.slice(2);
let failures = 0;

function check(name, cond, detail) {
	if (cond) {
		console.log('ok - ' + name);
	} else {
		failures++;
		console.log('not ok - ' + name + ': ' +
		    JSON.stringify(detail).slice(0, 800));
	}
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function get(path) {
	const res = await fetch(url + path);
	return res.headers.get('content-type')?.includes('json') ?
	    res.json() : res.text();
}

// The count of finished echo provider calls, from the server's /metrics.
async function echoCalls() {
	const m = (await get('/metrics')).match(
	    /aish_provider_latency_seconds_count\{provider="echo"\} (\d+)/);
	return m ? Number(m[1]) : 0;
}

// Runs promise; gives {ok} or the error's {code, message}.
async function fails(promise) {
	try {
		return { ok: await promise };
	} catch (e) {
		return { code: e.code, message: e.message };
	}
}

// The bridge's answers to raw lines: its answer to each request id.
function rawSession(lines) {
	return new Promise((resolve) => {
		const child = spawn(bridge, ['--mcp', '--rhetor', url],
		    { stdio: ['pipe', 'pipe', 'inherit'] });
		let out = '';
		child.stdout.on('data', (d) => { out += d; });
		child.on('exit', (code) => resolve({ code, answers: out.split('\n')
		    .filter((l) => l).map((l) => JSON.parse(l)) }));
		child.stdin.end(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
	});
}

function initLine(id, version) {
	return { jsonrpc: '2.0', id, method: 'initialize', params: {
		protocolVersion: version, capabilities: {},
		clientInfo: { name: 'raw', version: '1' } } };
}

// ---- version negotiation, with raw lines ----
{
	const r = await rawSession([initLine(1, '2025-03-26'),
	    initLine(2, '2025-06-18'), initLine(3, '2025-11-25'),
	    initLine(4, '1999-01-01'),
	    { jsonrpc: '2.0', id: 5, method: 'tools/list' }]);
	const v = r.answers.slice(0, 4).map((a) => a.result && a.result.protocolVersion);
	check('initialize: 2025-03-26, 2025-06-18, 2025-11-25 echoed, any other gets 2025-11-25',
	    v.join(' ') === '2025-03-26 2025-06-18 2025-11-25 2025-11-25' &&
	    r.answers[4].result.tools.length === 4, r.answers);
	check('the end of input: the bridge exits 0', r.code === 0, r.code);
	const before = await rawSession([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]);
	check('a request before initialize: -32002',
	    before.answers[0].error && before.answers[0].error.code === -32002, before.answers);
}

// ---- the reference client ----
const transport = new StdioClientTransport({
	command: bridge, args: ['--mcp', '--rhetor', url],
	env: { ...process.env },
	stderr: 'inherit',
});
const client = new Client({ name: 'aish-test', version: '1.0.0' });
await client.connect(transport);
// Every message the bridge sends, in order.
const seen = [];
const deliver = transport.onmessage;
transport.onmessage = (m) => { seen.push(m); deliver(m); };

check('initialize: serverInfo', client.getServerVersion()?.name === 'aish-bridge',
    client.getServerVersion());
check('initialize: the tools capability', client.getServerCapabilities()?.tools !== undefined,
    client.getServerCapabilities());
check('initialize: instructions', /aish_pipeline/.test(client.getInstructions() || ''),
    client.getInstructions());
check('ping', (await fails(client.ping())).ok !== undefined, 'ping failed');

// tools/list
const list = await client.listTools();
const names = list.tools.map((t) => t.name).sort().join(' ');
check('tools/list: the four tools', names ===
    'aish_list aish_pipeline aish_send aish_team_chat', names);
check('tools/list: JSON Schema input and output schemas', list.tools.every((t) =>
    t.inputSchema.type === 'object' && t.outputSchema && t.outputSchema.type === 'object'),
    list.tools);
const pipeTool = list.tools.find((t) => t.name === 'aish_pipeline');
check('aish_pipeline takes input and pipeline, both required',
    pipeTool.inputSchema.required.sort().join(' ') === 'input pipeline', pipeTool.inputSchema);

// aish_send with progress: every delta before the result
const progress = [];
let idx = seen.length;
let r = await client.callTool({ name: 'aish_send', arguments: { ai: streamy,
    content: 'stream me a reply' } }, undefined, { onprogress: (p) => progress.push(p) });
const text = r.content[0].text;
check('aish_send: the reply as text content', r.content[0].type === 'text' &&
    text === 'streamy: stream me a reply' && r.isError === false, r);
check('aish_send: structuredContent beside it', r.structuredContent &&
    r.structuredContent.socket_id === streamy && r.structuredContent.content === text, r);
// The notifications as they came on the wire: the SDK runs a progress
// handler a tick later, so one that arrives with the result in one read is
// dropped by the client, not by the bridge.
const mine = seen.slice(idx);
const wire = mine.filter((m) => m.method === 'notifications/progress').map((m) => m.params);
check('progress: the SDK\'s onprogress got them', progress.length >= 1 &&
    progress.every((p, i) => p.message === wire[i].message), { progress, wire });
check('progress: the deltas, in message, make the reply',
    wire.length >= 2 && wire.map((p) => p.message).join('') === text, wire);
check('progress: counts the characters so far', wire.length > 0 &&
    wire[wire.length - 1].progress === [...text].length &&
    wire.every((p, i) => i === 0 || p.progress > wire[i - 1].progress), wire);
const answerAt = mine.findIndex((m) => m.id !== undefined && m.result);
const lastProgress = mine.map((m) => m.method).lastIndexOf('notifications/progress');
check('progress: all sent before the result', answerAt > 0 && lastProgress < answerAt &&
    lastProgress >= 0, mine.map((m) => m.method || 'answer'));

// aish_pipeline
r = await client.callTool({ name: 'aish_pipeline', arguments: { input: 'the draft',
    pipeline: 'athena review this | apollo' } });
check('aish_pipeline: the last stage\'s output', r.content[0].text ===
    'apollo: athena: review this\n\nthe draft' && r.structuredContent.stages.length === 2 &&
    r.structuredContent.stages[0].ai === 'athena', r);

// aish_team_chat: a group, then with synthesis
r = await client.callTool({ name: 'aish_team_chat', arguments: { message: 'hello team',
    group: 'duo' } });
const ais = r.structuredContent.responses.map((x) => x.ai).sort().join(' ');
check('aish_team_chat: each member\'s reply', ais === 'apollo athena' &&
    /athena:\nathena: hello team/.test(r.content[0].text) &&
    /apollo:\napollo: hello team/.test(r.content[0].text), r);
r = await client.callTool({ name: 'aish_team_chat', arguments: { message: 'sum up',
    group: 'duo', synthesize: true } });
check('aish_team_chat: synthesize adds rhetor\'s synthesis', r.structuredContent.synthesis &&
    r.structuredContent.synthesis.socket_id === 'rhetor' &&
    /synthesis by rhetor:/.test(r.content[0].text), r);

// aish_list
r = await client.callTool({ name: 'aish_list', arguments: {} });
check('aish_list: the sockets, as text and structured', r.structuredContent.sockets.some(
    (s) => s.socket_id === slow) && r.content[0].text.includes(slow + ' (AI slow'), r);

// one-shot by default: the socket's history does not grow
const h0 = (await get('/api/ai/socket/apollo/history')).turns.length;
await client.callTool({ name: 'aish_send', arguments: { ai: 'apollo', content: 'one' } });
await client.callTool({ name: 'aish_send', arguments: { ai: 'apollo', content: 'two' } });
const h1 = (await get('/api/ai/socket/apollo/history')).turns.length;
check('tool calls are one-shot: no history kept', h1 === h0, { h0, h1 });

// an unknown AI, a failing AI, bad input: isError results
r = await client.callTool({ name: 'aish_send', arguments: { ai: 'athenna', content: 'hi' } });
check('an unknown AI: isError, one line with "did you mean"', r.isError === true &&
    /athenna/.test(r.content[0].text) && /did you mean athena/.test(r.content[0].text) &&
    !r.content[0].text.includes('\n'), r);
r = await client.callTool({ name: 'aish_pipeline', arguments: { input: 'x',
    pipeline: 'athena | apolo' } });
check('an unknown stage: isError, nothing run', r.isError === true &&
    /did you mean apollo/.test(r.content[0].text), r);
r = await client.callTool({ name: 'aish_send', arguments: { ai: broken, content: 'hi' } });
check('a failing AI: isError naming it', r.isError === true &&
    r.content[0].text.startsWith(broken + ':') && /exit status 3/.test(r.content[0].text), r);
r = await client.callTool({ name: 'aish_send', arguments: { ai: 'athena' } });
check('a missing argument: isError naming it', r.isError === true &&
    /missing argument "content"/.test(r.content[0].text), r);
r = await client.callTool({ name: 'aish_send', arguments: { ai: 'athena', content: 5 } });
check('an argument of the wrong type: isError', r.isError === true &&
    /"content" must be a string/.test(r.content[0].text), r);
r = await client.callTool({ name: 'aish_list', arguments: { verbose: true } });
check('an unknown argument: isError', r.isError === true &&
    /unknown argument "verbose"/.test(r.content[0].text), r);
r = await client.callTool({ name: 'aish_pipeline', arguments: { input: 'x',
    pipeline: 'athena |' } });
check('a bad pipeline: isError with the column', r.isError === true &&
    /column/.test(r.content[0].text), r);
r = await fails(client.callTool({ name: 'aish_nope', arguments: {} }));
check('an unknown tool: -32602', r.code === -32602 && /aish_nope/.test(r.message), r);

// cancel: no answer, and the AI's work stops on the server
const calls = await echoCalls();
const ac = new AbortController();
idx = seen.length;
const started = Date.now();
const pending = fails(client.callTool({ name: 'aish_send', arguments: { ai: slow,
    content: 'never finished' } }, undefined, { signal: ac.signal,
    onprogress: () => {} }));
await sleep(300);
ac.abort('the user stopped it');
r = await pending;
check('cancel: the call ends at once', r.ok === undefined && Date.now() - started < 1000, r);
await sleep(1800);		// past the AI's 1500 ms
const after = await echoCalls();
check('cancel: the AI never finished on the server (metrics)', after === calls,
    { calls, after });
check('cancel: that call got no response', !seen.slice(idx).some((m) => m.id !== undefined),
    seen.slice(idx));

// a call after the errors and the cancel
r = await client.callTool({ name: 'aish_send', arguments: { ai: slow, content: 'now finish' } });
check('a call after errors and a cancel works', r.content[0].text === 'slow: now finish' &&
    !r.isError, r);
check('metrics count a finished call (so the cancel check can fail)',
    await echoCalls() > after, after);

await client.close();
process.exit(failures ? 1 : 0);
