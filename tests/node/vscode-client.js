// vscode-client.js: drives aish-bridge with vscode-jsonrpc (the JSON-RPC
// library of VS Code), over the child's stdio in LSP framing.  Prints
// "ok - NAME" / "not ok - NAME: DETAIL" lines; exits 0 when it ran to
// the end.  Usage: node vscode-client.js BRIDGE URL
'use strict';

const cp = require('child_process');
const rpc = require('vscode-jsonrpc/node');

const [bridge, url] = process.argv.slice(2);
let failures = 0;

function check(name, cond, detail) {
	if (cond) {
		console.log('ok - ' + name);
	} else {
		failures++;
		console.log('not ok - ' + name + ': ' + JSON.stringify(detail));
	}
}

function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main() {
	const child = cp.spawn(bridge, ['--rhetor', url, '--no-spawn'],
	    { stdio: ['pipe', 'pipe', 'inherit'] });
	const conn = rpc.createMessageConnection(
	    new rpc.StreamMessageReader(child.stdout),
	    new rpc.StreamMessageWriter(child.stdin));
	const progress = [];
	const messages = [];
	conn.onNotification('aish/progress', (p) => progress.push(p));
	conn.onNotification('aish/message', (p) => messages.push(p));
	conn.listen();

	const init = await conn.sendRequest('initialize',
	    { client_info: { name: 'vscode-jsonrpc' } });
	check('initialize', init.server_info.name === 'aish-bridge' &&
	    init.rhetor.connected === true, init);

	const sent = await conn.sendRequest('aish/send',
	    { ai: 'athena', content: 'from vscode' });
	check('aish/send', sent.content === 'athena: from vscode', sent);
	check('aish/message notification', messages.some((m) =>
	    m.content === 'athena: from vscode'), messages);

	const piped = await conn.sendRequest('aish/pipeline',
	    { input: 'x', pipeline: 'athena | apollo' });
	check('aish/pipeline', piped.output === 'apollo: athena: x', piped);
	check('aish/progress notifications', progress.filter((p) =>
	    p.kind === 'end').length >= 3, progress);

	try {
		await conn.sendRequest('aish/send', { ai: 'nosuch', content: 'x' });
		check('unknown AI rejected', false, 'resolved');
	} catch (e) {
		check('unknown AI rejected with -32602', e.code === -32602,
		    e.message);
	}

	await conn.sendRequest('aish/create', { ai_name: 'slow',
	    socket_id: 'slow-vscode', context: { echo: { delay_ms: 2000 } } });
	const source = new rpc.CancellationTokenSource();
	const started = Date.now();
	const pending = conn.sendRequest('aish/send',
	    { ai: 'slow-vscode', content: 'never' }, source.token);
	await sleep(200);
	source.cancel();
	try {
		const r = await pending;
		check('cancelled request rejected', false, r);
	} catch (e) {
		check('$/cancelRequest answered with -32800', e.code === -32800 &&
		    Date.now() - started < 1500, { code: e.code, ms: Date.now() - started });
	}
	const after = await conn.sendRequest('aish/list');
	check('requests after a cancel', Array.isArray(after.sockets), after);

	await conn.sendRequest('shutdown');
	const exited = new Promise((resolve) => child.on('exit', resolve));
	await conn.sendNotification('exit');
	const code = await exited;
	check('shutdown and exit: status 0', code === 0, code);
	conn.dispose();
}

main().then(() => process.exit(0), (e) => {
	console.log('not ok - vscode-jsonrpc session: ' + (e && e.stack || e));
	process.exit(1);
});
