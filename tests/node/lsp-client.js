// lsp-client.js: drives aish-bridge as a language server with the LSP's
// own reference client library, vscode-languageserver-protocol over
// vscode-jsonrpc, over the child's stdio.  Prints "ok - NAME" / "not ok -
// NAME: DETAIL" lines; exits 0 when it ran to the end.
// Usage: node lsp-client.js BRIDGE URL STATE_DIR SLOW STREAMY
'use strict';

const cp = require('child_process');
const fs = require('fs');
const http = require('http');
const url_ = require('url');
const lsp = require('vscode-languageserver-protocol/node');

const [bridge, url, stateDir, slow, streamy] = process.argv.slice(2);
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

function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

// The count of finished echo provider calls, from the server's /metrics.
function echoCalls() {
	return new Promise((resolve, reject) => {
		http.get(url + '/metrics', (res) => {
			let body = '';
			res.on('data', (c) => { body += c; });
			res.on('end', () => {
				const m = body.match(/aish_provider_latency_seconds_count\{provider="echo"\} (\d+)/);
				resolve(m ? Number(m[1]) : 0);
			});
		}).on('error', reject);
	});
}

// Everything a client session saw: progress by token, edits asked for,
// documents shown, messages.
function startClient(args, capabilities, initOptions) {
	const env = Object.assign({}, process.env, { XDG_STATE_HOME: stateDir });
	const child = cp.spawn(bridge, args, { stdio: ['pipe', 'pipe', 'inherit'], env });
	const conn = lsp.createProtocolConnection(
	    new lsp.StreamMessageReader(child.stdout),
	    new lsp.StreamMessageWriter(child.stdin));
	const s = { child, conn, progress: {}, created: [], edits: [], shown: [],
	    messages: [], applyAnswer: { applied: true }, exited: null };
	child.on('exit', (code) => { s.exited = code; });
	conn.onRequest(lsp.WorkDoneProgressCreateRequest.type, (p) => {
		s.created.push(p.token);
		s.progress[p.token] = [];
		conn.onProgress(lsp.WorkDoneProgress.type, p.token,
		    (v) => s.progress[p.token].push(v));
		return null;
	});
	conn.onRequest(lsp.ApplyWorkspaceEditRequest.type, (p) => {
		s.edits.push(p);
		return s.applyAnswer;
	});
	conn.onRequest(lsp.ShowDocumentRequest.type, (p) => {
		s.shown.push(p);
		return { success: true };
	});
	conn.onNotification(lsp.ShowMessageNotification.type,
	    (p) => s.messages.push(p));
	conn.listen();
	s.init = conn.sendRequest(lsp.InitializeRequest.type, {
		processId: process.pid, rootUri: null, capabilities,
		initializationOptions: initOptions,
	});
	return s;
}

const fullCaps = {
	general: { positionEncodings: ['utf-8', 'utf-16'] },
	workspace: { applyEdit: true, workspaceEdit: { documentChanges: true } },
	window: { workDoneProgress: true, showDocument: { support: true } },
	textDocument: {
		synchronization: { dynamicRegistration: false },
		codeAction: { codeActionLiteralSupport: { codeActionKind: {
		    valueSet: ['refactor', 'refactor.rewrite'] } } },
	},
};

function open(s, uri, text, version) {
	s.conn.sendNotification(lsp.DidOpenTextDocumentNotification.type, {
		textDocument: { uri, languageId: 'plaintext', version, text } });
}

function range(l1, c1, l2, c2) {
	return { start: { line: l1, character: c1 }, end: { line: l2, character: c2 } };
}

async function codeActions(s, uri, r, only) {
	return s.conn.sendRequest(lsp.CodeActionRequest.type, {
		textDocument: { uri }, range: r,
		context: only ? { diagnostics: [], only } : { diagnostics: [] } });
}

async function execute(s, action, token) {
	return s.conn.sendRequest(lsp.ExecuteCommandRequest.type,
	    action.command, token);
}

async function fails(promise) {
	try {
		return { ok: await promise };
	} catch (e) {
		return { code: e.code, message: e.message, data: e.data };
	}
}

function joinReports(list) {
	return (list || []).filter((v) => v.kind === 'report')
	    .map((v) => v.message).join('');
}

async function defaultSession() {
	const s = startClient(['--rhetor', url, '--no-spawn'], fullCaps, {});
	const init = await s.init;
	check('initialize: serverInfo', init.serverInfo &&
	    init.serverInfo.name === 'aish-bridge', init);
	const c = init.capabilities;
	check('initialize: incremental sync, code actions, commands',
	    c.textDocumentSync.change === 2 && c.textDocumentSync.openClose &&
	    c.codeActionProvider && c.executeCommandProvider.commands.includes('aish.rewrite') &&
	    c.executeCommandProvider.commands.includes('aish.ask'), c);
	check('initialize: UTF-8 offered, UTF-8 chosen', c.positionEncoding === 'utf-8', c);
	s.conn.sendNotification(lsp.InitializedNotification.type, {});

	const uri = 'file:///tmp/lsp-default.txt';
	open(s, uri, 'hello world\nfix me\n', 1);
	// didChange: an incremental edit, then another on its result
	s.conn.sendNotification(lsp.DidChangeTextDocumentNotification.type, {
		textDocument: { uri, version: 2 },
		contentChanges: [{ range: range(1, 4, 1, 6), text: 'this' },
		    { range: range(0, 0, 0, 5), text: 'howdy' }] });
	const acts = await codeActions(s, uri, range(1, 0, 1, 8));
	const list = await s.conn.sendRequest('aish/list');
	const roster = list.sockets.filter((x) => x.socket_id === x.ai_name &&
	    !x.socket_id.startsWith('team-chat-') && x.socket_id !== 'rhetor');
	check('codeAction: ask and rewrite per roster AI, then team chat',
	    acts.length === 2 * roster.length + 1 &&
	    acts[0].title === 'aish: ask ' + roster[0].socket_id &&
	    acts[1].title === 'aish: rewrite with ' + roster[0].socket_id &&
	    acts[acts.length - 1].title === 'aish: team chat', acts.map((a) => a.title));
	const only = await codeActions(s, uri, range(1, 0, 1, 8), ['refactor.rewrite']);
	check('codeAction: context.only keeps the rewrites', only.length === roster.length &&
	    only.every((a) => a.kind === 'refactor.rewrite'), only.map((a) => a.kind));

	// rewrite: the range's text after both changes is "fix this"
	const rw = acts.find((a) => a.title === 'aish: rewrite with apollo');
	const res = await execute(s, rw);
	const edit = s.edits[0] && s.edits[0].edit.documentChanges[0];
	check('rewrite: applyEdit with versioned documentChanges', edit &&
	    edit.textDocument.uri === uri && edit.textDocument.version === 2 &&
	    edit.edits[0].newText === 'apollo: fix this' &&
	    JSON.stringify(edit.edits[0].range) === JSON.stringify(range(1, 0, 1, 8)), s.edits);
	check('rewrite: the command answers after the edit', res.applied === true &&
	    res.output === 'apollo: fix this', res);
	const tok = s.created[0];
	const pv = s.progress[tok] || [];
	check('rewrite: workDoneProgress/create, then $/progress begin and end',
	    tok !== undefined && pv.length >= 2 && pv[0].kind === 'begin' &&
	    pv[pv.length - 1].kind === 'end', { tok, pv });

	// ask: the answer in a file, opened with showDocument
	const ask = acts.find((a) => a.title === 'aish: ask athena');
	const ares = await execute(s, ask);
	const shown = s.shown[0];
	const path = shown ? url_.fileURLToPath(shown.uri) : '';
	check('ask: showDocument of a file under XDG_STATE_HOME/aish/answers',
	    shown && path.startsWith(stateDir + '/aish/answers/') &&
	    fs.readFileSync(path, 'utf8') === 'athena: fix this\n' &&
	    ares.uri === shown.uri, { shown, ares });

	// team chat
	const team = acts.find((a) => a.title === 'aish: team chat');
	const tres = await execute(s, team);
	check('team chat: every member\'s answer under its name',
	    tres.output.includes('## athena\n\nathena: fix this') &&
	    tres.output.includes('## apollo\n\napollo: fix this'), tres);

	// aish's own methods in the same session
	const sent = await s.conn.sendRequest('aish/send', { ai: 'athena', content: 'plain' });
	check('aish/send in an LSP session', sent.content === 'athena: plain', sent);

	// bad input and unknown methods
	let r = await fails(s.conn.sendRequest('textDocument/hover', {
		textDocument: { uri }, position: { line: 0, character: 0 } }));
	check('unknown LSP request: -32601', r.code === -32601, r);
	s.conn.sendNotification('textDocument/didSave', { textDocument: { uri } });
	s.conn.sendNotification('$/setTrace', { value: 'off' });
	r = await fails(execute(s, { command: { command: 'aish.nosuch', arguments: [] } }));
	check('unknown command: -32602', r.code === -32602, r);
	r = await fails(execute(s, { command: { command: 'aish.ask', arguments: [
	    { uri: 'file:///not/open', range: range(0, 0, 0, 1), pipeline: 'athena' }] } }));
	check('a document that is not open: -32602', r.code === -32602 &&
	    /not open/.test(r.message), r);
	r = await fails(execute(s, { command: { command: 'aish.ask', arguments: [
	    { uri, range: { start: { line: -1 } }, pipeline: 'athena' }] } }));
	check('a bad range: -32602', r.code === -32602, r);
	r = await fails(codeActions(s, uri, { start: 3 }));
	check('codeAction with a bad range: -32602', r.code === -32602, r);
	const nope = await codeActions(s, 'file:///never/opened', range(0, 0, 0, 1));
	check('codeAction on a document that is not open: none', nope.length === 0, nope);
	const errs = s.messages.filter((m) => m.type === 1);
	check('errors shown with window/showMessage', errs.length >= 3 &&
	    errs.some((m) => /not open/.test(m.message)), s.messages);

	// a full change, then didClose
	s.conn.sendNotification(lsp.DidChangeTextDocumentNotification.type, {
		textDocument: { uri, version: 3 }, contentChanges: [{ text: 'all new\n' }] });
	const again = await execute(s, { command: { command: 'aish.rewrite', arguments: [
	    { uri, range: range(0, 0, 0, 3), pipeline: 'athena' }] } });
	check('a full change replaces the text; a request after errors works',
	    again.output === 'athena: all', again);
	s.conn.sendNotification(lsp.DidCloseTextDocumentNotification.type, { textDocument: { uri } });
	r = await fails(execute(s, rw));
	check('didClose forgets the document', r.code === -32602, r);

	const down = await s.conn.sendRequest(lsp.ShutdownRequest.type);
	check('shutdown answers null', down === null, down);
	s.conn.sendNotification(lsp.ExitNotification.type);
	for (let i = 0; i < 50 && s.exited === null; i++)
		await sleep(20);
	check('exit after shutdown: status 0', s.exited === 0, s.exited);
	s.conn.dispose();
}

async function configuredSession() {
	// UTF-16 positions (no encodings offered); the actions from
	// initializationOptions.
	const caps = JSON.parse(JSON.stringify(fullCaps));
	delete caps.general;
	const actions = [
		{ title: 'slow rewrite', pipeline: slow, kind: 'rewrite' },
		{ title: 'stream ask', pipeline: streamy + ' sum it up', kind: 'ask' },
		{ title: 'two stages', pipeline: 'athena | apollo', kind: 'rewrite' },
		{ title: 'duo', pipeline: 'team-chat -g duo what do you think', kind: 'ask' },
		{ title: 'typo', pipeline: 'apolo', kind: 'rewrite' },
	];
	const s = startClient(['--rhetor', url, '--no-spawn'], caps, { actions });
	const init = await s.init;
	check('no encodings offered: UTF-16', init.capabilities.positionEncoding === undefined ||
	    init.capabilities.positionEncoding === 'utf-16', init.capabilities);
	const uri = 'file:///tmp/lsp-conf.txt';
	// "b" is UTF-16 character 4 (a, é, and the two halves of 😀)
	open(s, uri, 'a\u00e9\u{1F600}b tail\nsecond\n', 7);
	const acts = await codeActions(s, uri, range(0, 4, 0, 5));
	check('codeAction: the configured actions, in order',
	    JSON.stringify(acts.map((a) => a.title)) === JSON.stringify(actions.map((a) => a.title)) &&
	    acts[0].kind === 'refactor.rewrite' && acts[1].kind === 'refactor.ask', acts);
	const two = await execute(s, acts[2]);
	check('UTF-16 positions: the range is the one character', two.output === 'apollo: athena: b', two);
	const line = await codeActions(s, uri, range(1, 2, 1, 2));
	check('an empty range acts on its line', line.length === actions.length &&
	    JSON.stringify(line[0].command.arguments[0].range) === JSON.stringify(range(1, 0, 1, 6)),
	    line[0] && line[0].command.arguments[0]);

	// streaming: each piece a report, the pieces joined are the answer
	const before = s.created.length;
	const st = await execute(s, acts[1]);
	const pv = s.progress[s.created[before]] || [];
	check('streaming: a report per piece', pv.filter((v) => v.kind === 'report').length >= 2 &&
	    joinReports(pv) === st.output && st.output === 'streamy: sum it up\n\nb', { pv, st });

	// the client's own workDoneToken
	const own = await s.conn.sendRequest(lsp.ExecuteCommandRequest.type,
	    Object.assign({ workDoneToken: 'mine' }, acts[2].command));
	check('the client\'s workDoneToken: no create', s.created.length === before + 1 &&
	    own.output === 'apollo: athena: b', { created: s.created, own });

	// team chat with a group and words
	const duo = await execute(s, acts[3]);
	check('team chat -g duo with words', duo.output ===
	    '## athena\n\nathena: what do you think\n\nb\n\n## apollo\n\napollo: what do you think\n\nb\n' ||
	    duo.output ===
	    '## apollo\n\napollo: what do you think\n\nb\n\n## athena\n\nathena: what do you think\n\nb\n', duo);

	// an unknown AI: an error, shown, and nothing runs
	let r = await fails(execute(s, acts[4]));
	check('unknown AI: -32602 with the nearest name', r.code === -32602 &&
	    /unknown AI "apolo" \(did you mean apollo\?\)/.test(r.message), r);
	check('unknown AI: shown', s.messages.some((m) => m.type === 1 &&
	    /apolo/.test(m.message)), s.messages);

	// cancel: the AI's work stops on the server
	const calls = await echoCalls();
	const src = new lsp.CancellationTokenSource();
	const edits = s.edits.length;
	const started = Date.now();
	const pending = fails(execute(s, acts[0], src.token));
	await sleep(300);
	src.cancel();
	r = await pending;
	check('$/cancelRequest: -32800 at once', r.code === -32800 && Date.now() - started < 1200, r);
	await sleep(1800);
	const after = await echoCalls();
	check('cancel: the AI never finished on the server (metrics)', after === calls,
	    { calls, after });
	check('cancel: no edit', s.edits.length === edits, s.edits.slice(edits));

	// the document changes while the AI works: no edit
	const slowRun = fails(execute(s, acts[0]));
	await sleep(200);
	s.conn.sendNotification(lsp.DidChangeTextDocumentNotification.type, {
		textDocument: { uri, version: 8 },
		contentChanges: [{ range: range(1, 0, 1, 0), text: '>' }] });
	r = await slowRun;
	check('a document changed meanwhile: no edit, an error', r.code === -32803 &&
	    s.edits.length === edits && r.data && r.data.output === 'slow: b', r);
	check('metrics count a finished call (so the cancel check can fail)',
	    await echoCalls() > after, after);

	// the user cancels the progress: the same as $/cancelRequest
	const made = s.created.length;
	const byToken = fails(execute(s, acts[0]));
	for (let i = 0; i < 50 && s.created.length === made; i++)
		await sleep(10);
	await sleep(100);
	s.conn.sendNotification(lsp.WorkDoneProgressCancelNotification.type,
	    { token: s.created[made] });
	r = await byToken;
	const pc = s.progress[s.created[made]] || [];
	check('window/workDoneProgress/cancel: -32800, progress ended', r.code === -32800 &&
	    pc.length >= 2 && pc[pc.length - 1].kind === 'end', { r, pc });

	// the editor refuses the edit
	s.applyAnswer = { applied: false, failureReason: 'read-only' };
	r = await fails(execute(s, acts[2]));
	check('an edit the editor refuses: an error naming why', r.code === -32803 &&
	    /read-only/.test(r.message), r);
	s.applyAnswer = { applied: true };

	// a second request after the errors
	const ok2 = await execute(s, acts[2]);
	check('a request after errors works', ok2.applied === true, ok2);
	s.child.stdin.end();
	for (let i = 0; i < 100 && s.exited === null; i++)
		await sleep(20);
	check('end of input: the bridge exits', s.exited === 0, s.exited);
	s.conn.dispose();
}

async function unreachableSession() {
	// A client that takes no requests at all, and a server that is gone.
	const s = startClient(['--rhetor', 'http://127.0.0.1:9', '--no-spawn'],
	    { textDocument: {} }, { actions: [{ title: 'a', pipeline: 'athena', kind: 'rewrite' }] });
	await s.init;
	const uri = 'file:///tmp/lsp-down.txt';
	open(s, uri, 'text\n', 1);
	const acts = await codeActions(s, uri, range(0, 0, 0, 4));
	check('no CodeAction literals: Commands', acts.length === 1 &&
	    acts[0].command === 'aish.rewrite' && acts[0].title === 'a', acts);
	const t0 = Date.now();
	const r = await fails(s.conn.sendRequest(lsp.ExecuteCommandRequest.type, acts[0]));
	check('server unreachable: -32001, shown', r.code === -32001 &&
	    s.messages.some((m) => m.type === 1) && Date.now() - t0 < 3000, { r, m: s.messages });
	check('a client without the capabilities gets no requests',
	    s.created.length === 0 && s.edits.length === 0 && s.shown.length === 0, s);
	s.child.kill();
	s.conn.dispose();
}

async function noRequestsSession() {
	// A client that takes no applyEdit, showDocument or progress: the
	// answer comes in window/showMessage.
	const s = startClient(['--rhetor', url, '--no-spawn'],
	    { textDocument: { codeAction: { codeActionLiteralSupport: {} } } }, {});
	await s.init;
	const uri = 'file:///tmp/lsp-plain.txt';
	open(s, uri, 'plain text\n', 1);
	const acts = await codeActions(s, uri, range(0, 0, 0, 5));
	const rw = await execute(s, acts.find((a) => a.title === 'aish: rewrite with athena'));
	const ask = await execute(s, acts.find((a) => a.title === 'aish: ask apollo'));
	check('no applyEdit: the answer shown, not applied', rw.applied === false &&
	    s.messages.some((m) => m.type === 3 && m.message.startsWith('athena: plain')), { rw, m: s.messages });
	check('no showDocument: the answer shown with its file', /^apollo: plain/.test(ask.output) &&
	    s.messages.some((m) => m.type === 3 && m.message.startsWith('apollo: plain') &&
	    m.message.includes(stateDir + '/aish/answers/')), s.messages);
	check('nothing requested of that client', s.created.length === 0 &&
	    s.edits.length === 0 && s.shown.length === 0, s);
	s.child.kill();
	s.conn.dispose();
}

async function main() {
	await defaultSession();
	await configuredSession();
	await unreachableSession();
	await noRequestsSession();
	process.exit(failures ? 1 : 0);
}

main().catch((e) => {
	console.log('not ok - the client failed: ' + (e && e.stack ? e.stack : e));
	process.exit(1);
});
