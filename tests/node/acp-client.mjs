// acp-client.mjs: drives `aish-bridge --acp` with the Agent Client
// Protocol's own reference client library, @agentclientprotocol/sdk 1.x
// (ClientSideConnection over ndJsonStream): initialize, session/new with
// the targets as modes and a config option, set_mode and
// set_config_option, prompts that stream and keep their conversation,
// context blocks, a group and a pipeline, cancel (the AI's work stops on
// the server), an unknown AI, a failing AI, bad input, requests after
// errors, and session/load from a new bridge process.
// Prints "ok - NAME" / "not ok - NAME: DETAIL" lines.
// Usage: node acp-client.mjs BRIDGE URL STATE_DIR ACTIONS SLOW STREAMY BROKEN
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';

const [bridge, url, stateDir, actions, slow, streamy, broken] = process.argv.slice(2);
const cwd = path.dirname(stateDir);
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

async function http(method, p) {
	const res = await fetch(url + p, { method });
	return res.headers.get('content-type')?.includes('json') ?
	    res.json() : res.text();
}

async function echoCalls() {
	const m = (await http('GET', '/metrics')).match(
	    /aish_provider_latency_seconds_count\{provider="echo"\} (\d+)/);
	return m ? Number(m[1]) : 0;
}

async function history(socket) {
	return (await http('GET', `/api/ai/socket/${socket}/history`)).turns || [];
}

// The sockets a session's file names.
function sessionSockets(id) {
	const f = path.join(stateDir, 'aish', 'acp', id + '.json');
	return JSON.parse(fs.readFileSync(f, 'utf8')).sockets;
}

async function fails(promise) {
	try {
		return { ok: await promise };
	} catch (e) {
		return { code: e.code, message: e.message, data: e.data };
	}
}

// A bridge and the client's connection to it; every session/update kept.
function startAgent(extra = []) {
	const child = spawn(bridge, ['--acp', '--rhetor', url, ...extra], {
		stdio: ['pipe', 'pipe', 'inherit'],
		env: { ...process.env, XDG_STATE_HOME: stateDir },
	});
	const a = { child, updates: [], exited: new Promise((resolve) =>
	    child.on('exit', (code) => resolve(code))) };
	const stream = acp.ndJsonStream(Writable.toWeb(child.stdin),
	    Readable.toWeb(child.stdout));
	a.conn = new acp.ClientSideConnection(() => ({
		requestPermission: async () => ({ outcome: { outcome: 'cancelled' } }),
		sessionUpdate: async (n) => { a.updates.push(n); },
	}), stream);
	return a;
}

// The text of the chunks of kind for session id since update number from.
function chunks(a, id, kind, from = 0) {
	return a.updates.slice(from).filter((u) => u.sessionId === id &&
	    u.update.sessionUpdate === kind).map((u) => u.update.content.text);
}

function text(t) {
	return [{ type: 'text', text: t }];
}

// ---- initialize, session/new ----
let a = startAgent(['--actions', actions]);
const init = await a.conn.initialize({ protocolVersion: acp.PROTOCOL_VERSION,
    clientCapabilities: { fs: { readTextFile: false, writeTextFile: false } },
    clientInfo: { name: 'aish-test', version: '1.0.0' } });
check('initialize: protocol version 1, loadSession', init.protocolVersion === 1 &&
    init.agentCapabilities.loadSession === true &&
    init.agentCapabilities.promptCapabilities.embeddedContext === true, init);
check('initialize: agentInfo', init.agentInfo && init.agentInfo.name === 'aish-bridge', init);

const s1 = await a.conn.newSession({ cwd, mcpServers: [] });
const modes = s1.modes.availableModes.map((m) => m.id);
check('session/new: a session id', /^acp-[0-9a-f]{16}$/.test(s1.sessionId), s1.sessionId);
check('session/new: every AI socket, group:NAME and the pipelines as modes',
    modes.includes('athena') && modes.includes(slow) && modes.includes('group:duo') &&
    modes.includes('pipeline:review') && !modes.some((m) => m.startsWith('team-chat')),
    modes);
const opt = s1.configOptions[0];
check('session/new: the same targets as a select config option', opt.id === 'target' &&
    opt.type === 'select' && opt.currentValue === s1.modes.currentModeId &&
    opt.options.map((o) => o.value).join(' ') === modes.join(' '), opt);

// set_mode, then prompts that stream
let n = a.updates.length;
await a.conn.setSessionMode({ sessionId: s1.sessionId, modeId: streamy });
const cfg = a.updates.slice(n).find((u) => u.update.sessionUpdate === 'config_option_update');
check('session/set_mode: the config option follows', cfg &&
    cfg.update.configOptions[0].currentValue === streamy, a.updates.slice(n));
n = a.updates.length;
let r = await a.conn.prompt({ sessionId: s1.sessionId, prompt: text('stream me a reply') });
let got = chunks(a, s1.sessionId, 'agent_message_chunk', n);
check('session/prompt: end_turn', r.stopReason === 'end_turn', r);
check('session/prompt: agent_message_chunks stream the reply', got.length >= 2 &&
    got.join('') === 'streamy: stream me a reply', got);
const sock1 = sessionSockets(s1.sessionId)[streamy];
check('the session has a socket of its own for the AI', sock1 &&
    sock1.startsWith(s1.sessionId + '-') && sock1 !== streamy, sock1);
r = await a.conn.prompt({ sessionId: s1.sessionId, prompt: text('and again') });
let turns = await history(sock1);
check('prompts keep the conversation (the session socket\'s history)',
    turns.map((t) => t.role + ':' + t.content).join('|') ===
    'user:stream me a reply|assistant:streamy: stream me a reply|user:and again|assistant:streamy: and again',
    turns);
check('the AI\'s own socket keeps no turn of the session', (await history(streamy)).length === 0,
    await history(streamy));
const sock1Info = await http('GET', '/api/ai/socket/' + sock1);
check('the session socket is private: no team chat reaches it',
    sock1Info.private === true, sock1Info);
const team = await fetch(url + '/api/team-chat', { method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'roll call', timeout_ms: 5000 }) }).then((x) => x.json());
check('team-chat-all: the session socket does not answer',
    Array.isArray(team.responses) && team.responses.length > 0 &&
    !team.responses.some((x) => x.socket_id === sock1), team.responses);

// a second session to the same AI: a conversation of its own
const s2 = await a.conn.newSession({ cwd, mcpServers: [] });
await a.conn.setSessionMode({ sessionId: s2.sessionId, modeId: streamy });
await a.conn.prompt({ sessionId: s2.sessionId, prompt: text('other') });
const sock2 = sessionSockets(s2.sessionId)[streamy];
check('two sessions never share a conversation', sock2 && sock2 !== sock1 &&
    (await history(sock2)).length === 2 && (await history(sock1)).length === 4,
    { sock1, sock2 });

// set_config_option, and context from resource blocks
n = a.updates.length;
r = await a.conn.setSessionConfigOption({ sessionId: s1.sessionId, configId: 'target',
    value: 'athena' });
const mode = a.updates.slice(n).find((u) => u.update.sessionUpdate === 'current_mode_update');
check('session/set_config_option: the select and the mode follow',
    r.configOptions[0].currentValue === 'athena' && mode &&
    mode.update.currentModeId === 'athena', { r, mode });
const file = path.join(cwd, 'notes.txt');
fs.writeFileSync(file, 'a note from a file\n');
n = a.updates.length;
r = await a.conn.prompt({ sessionId: s1.sessionId, prompt: [
	{ type: 'text', text: 'review ' },
	{ type: 'resource', resource: { uri: 'file:///src/cache.c', text: 'int cache;\n',
	    mimeType: 'text/x-c' } },
	{ type: 'text', text: ' with ' },
	{ type: 'resource_link', uri: 'file://' + file, name: 'notes.txt' },
] });
const sockA = sessionSockets(s1.sessionId).athena;
turns = await history(sockA);
const asked = turns.length ? turns[0].content : '';
check('resource and resource_link blocks reach the AI as context items',
    /\/src\/cache.c\n```\nint cache;\n```/.test(asked) &&
    asked.includes(file + '\n```\na note from a file\n```') &&
    asked.endsWith('review /src/cache.c with ' + file), asked);
got = chunks(a, s1.sessionId, 'agent_message_chunk', n);
check('a reply without deltas still comes as a chunk', got.join('') === 'athena: ' + asked, got);

// a group, a pipeline
const s3 = await a.conn.newSession({ cwd, mcpServers: [] });
await a.conn.setSessionMode({ sessionId: s3.sessionId, modeId: 'group:duo' });
n = a.updates.length;
r = await a.conn.prompt({ sessionId: s3.sessionId, prompt: text('hello team') });
got = chunks(a, s3.sessionId, 'agent_message_chunk', n).join('');
check('group:NAME: each member\'s reply', r.stopReason === 'end_turn' &&
    got.includes('athena:\nathena: hello team') && got.includes('apollo:\napollo: hello team'),
    got);
await a.conn.setSessionMode({ sessionId: s3.sessionId, modeId: 'pipeline:review' });
n = a.updates.length;
r = await a.conn.prompt({ sessionId: s3.sessionId, prompt: text('the draft') });
check('pipeline:TITLE: earlier stages as thoughts, the last as the message',
    r.stopReason === 'end_turn' &&
    chunks(a, s3.sessionId, 'agent_thought_chunk', n).join('') ===
    'athena: review this\n\nthe draft\n\n' &&
    chunks(a, s3.sessionId, 'agent_message_chunk', n).join('') ===
    'apollo: athena: review this\n\nthe draft', a.updates.slice(n));

// cancel: "cancelled", and the AI's work stops on the server
const s4 = await a.conn.newSession({ cwd, mcpServers: [] });
await a.conn.setSessionMode({ sessionId: s4.sessionId, modeId: slow });
const calls = await echoCalls();
const started = Date.now();
const pending = a.conn.prompt({ sessionId: s4.sessionId, prompt: text('never finished') });
await sleep(400);
await a.conn.cancel({ sessionId: s4.sessionId });
r = await pending;
check('session/cancel: the prompt ends "cancelled" at once', r.stopReason === 'cancelled' &&
    Date.now() - started < 1200, r);
await sleep(1800);		// past the AI's 1500 ms
const after = await echoCalls();
check('session/cancel: the AI never finished on the server (metrics)', after === calls,
    { calls, after });
r = await a.conn.prompt({ sessionId: s4.sessionId, prompt: text('now finish') });
check('a prompt after a cancel works', r.stopReason === 'end_turn' &&
    chunks(a, s4.sessionId, 'agent_message_chunk').join('').endsWith('slow: now finish'),
    chunks(a, s4.sessionId, 'agent_message_chunk'));
check('metrics count a finished call (so the cancel check can fail)',
    await echoCalls() > after, after);

// errors
r = await fails(a.conn.setSessionMode({ sessionId: s4.sessionId, modeId: 'athenna' }));
check('an unknown target: -32602 with "did you mean"', r.code === -32602 &&
    /did you mean athena/.test(r.message), r);
const gone = await fetch(url + '/api/ai/socket/create', { method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ai_name: 'ghost', socket_id: 'ghost' }) }).then((x) => x.json());
const s5 = await a.conn.newSession({ cwd, mcpServers: [] });
await a.conn.setSessionMode({ sessionId: s5.sessionId, modeId: gone.socket_id });
await http('DELETE', '/api/ai/socket/ghost');
r = await fails(a.conn.prompt({ sessionId: s5.sessionId, prompt: text('anyone?') }));
check('an unknown AI: a JSON-RPC error, one line naming it', r.code === -32602 &&
    /unknown AI "ghost"/.test(r.message) && !r.message.includes('\n'), r);
await a.conn.setSessionMode({ sessionId: s5.sessionId, modeId: broken });
r = await fails(a.conn.prompt({ sessionId: s5.sessionId, prompt: text('hi') }));
check('a failing AI: a JSON-RPC error naming it', r.code === -32004 &&
    r.message.includes(broken) && /exit status 3/.test(r.message), r);
r = await fails(a.conn.prompt({ sessionId: s5.sessionId, prompt: [
    { type: 'image', data: 'AAAA', mimeType: 'image/png' }] }));
check('an image block: -32602', r.code === -32602 && /block 1/.test(r.message), r);
r = await fails(a.conn.prompt({ sessionId: s5.sessionId, prompt: [] }));
check('an empty prompt: -32602', r.code === -32602, r);
r = await fails(a.conn.prompt({ sessionId: 'acp-0000000000000000', prompt: text('x') }));
check('an unknown session: -32602', r.code === -32602 && /unknown session/.test(r.message), r);
r = await fails(a.conn.newSession({ cwd: 'relative/dir', mcpServers: [] }));
check('a relative cwd: -32602', r.code === -32602 && /absolute/.test(r.message), r);
await a.conn.setSessionMode({ sessionId: s5.sessionId, modeId: 'apollo' });
r = await a.conn.prompt({ sessionId: s5.sessionId, prompt: text('after the errors') });
check('a prompt after errors works', r.stopReason === 'end_turn' &&
    chunks(a, s5.sessionId, 'agent_message_chunk').join('') === 'apollo: after the errors',
    chunks(a, s5.sessionId, 'agent_message_chunk'));

// the session's socket deleted on the server: said, and a later prompt
// starts a new conversation (the bridge's WebSocket to the socket may
// first see the connection closed, an error of its own)
const sockG = sessionSockets(s5.sessionId).apollo;
await http('DELETE', '/api/ai/socket/' + sockG);
const errs = [];
for (let i = 0; i < 3; i++) {
	r = await fails(a.conn.prompt({ sessionId: s5.sessionId, prompt: text('anew') }));
	if (r.ok)
		break;
	errs.push(r);
}
check('a session socket deleted on the server: an error that says so',
    errs.some((e) => e.code === -32602 && /conversation with apollo was deleted/.test(e.message)),
    errs);
const sockG2 = sessionSockets(s5.sessionId).apollo;
check('then the next prompt starts a new conversation', r.ok && r.ok.stopReason === 'end_turn' &&
    sockG2 && sockG2 !== sockG && (await history(sockG2)).length === 2, { r, sockG, sockG2 });

a.child.stdin.end();
check('the end of input: the bridge exits 0', await a.exited === 0, 'exit status');

// ---- session/load from a new bridge process ----
a = startAgent();
await a.conn.initialize({ protocolVersion: acp.PROTOCOL_VERSION, clientCapabilities: {} });
r = await a.conn.loadSession({ sessionId: s1.sessionId, cwd, mcpServers: [] });
const replay = a.updates.filter((u) => u.sessionId === s1.sessionId).map((u) =>
    (u.update.sessionUpdate === 'user_message_chunk' ? 'user:' : 'agent:') +
    u.update.content.text.slice(0, 20));
check('session/load in a new bridge: the history replayed in order',
    replay.join('|') === ['user:stream me a reply', 'agent:streamy: stream me a',
    'user:and again', 'agent:streamy: and again', 'user:/src/cache.c\n```\nint',
    'agent:athena: /src/cache.c'].join('|'), replay);
check('session/load: the target as the session left it', r.modes.currentModeId === 'athena' &&
    r.configOptions[0].currentValue === 'athena', r.modes && r.modes.currentModeId);
await a.conn.setSessionMode({ sessionId: s1.sessionId, modeId: streamy });
await a.conn.prompt({ sessionId: s1.sessionId, prompt: text('after the load') });
check('after the load the conversation goes on on the same socket',
    (await history(sock1)).length === 6, await history(sock1));
r = await fails(a.conn.loadSession({ sessionId: 'acp-00000000000000ff', cwd, mcpServers: [] }));
check('session/load of an unknown session: -32602', r.code === -32602, r);
r = await fails(a.conn.loadSession({ sessionId: '../../etc/passwd', cwd, mcpServers: [] }));
check('session/load of a bad id: -32602', r.code === -32602, r);

a.child.stdin.end();
await a.exited;
process.exit(failures ? 1 : 0);
