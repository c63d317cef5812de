// Drives redoubt with npm's imapflow: login, QRESYNC/CONDSTORE select,
// FETCH of envelopes and flags, STORE, SEARCH, a decoded part download
// (BINARY when offered) and LIST with STATUS. Prints one JSON object.
// Usage: node imapflow-check.cjs <clients dir> <port> <user> <password>
'use strict';
const path = require('path');
const [dir, port, user, pass] = process.argv.slice(2);
const { ImapFlow } = require(path.join(dir, 'node_modules', 'imapflow'));

async function main() {
	const client = new ImapFlow({
		host: '127.0.0.1', port: Number(port), secure: true,
		tls: { rejectUnauthorized: false }, auth: { user, pass },
		logger: false, qresync: true,
	});
	await client.connect();
	// imapflow turns COMPRESS=DEFLATE on by itself when offered
	const out = { capabilities: [...client.capabilities.keys()], compressed: !!client._deflate };
	const lock = await client.getMailboxLock('INBOX');
	try {
		out.enabled = [...client.enabled];
		out.mailbox = {
			exists: client.mailbox.exists,
			highestModseq: String(client.mailbox.highestModseq),
		};
		out.messages = [];
		for await (const msg of client.fetch('1:*', { envelope: true, flags: true, uid: true })) {
			out.messages.push({ uid: msg.uid, subject: msg.envelope.subject,
					    flags: [...msg.flags], modseq: String(msg.modseq) });
		}
		await client.messageFlagsAdd({ uid: '1' }, ['\\Flagged'], { uid: true });
		out.flagged = await client.search({ flagged: true }, { uid: true });
		const { content } = await client.download('1', '2', { uid: true });
		const chunks = [];
		for await (const c of content)
			chunks.push(c);
		out.part2 = Buffer.concat(chunks).toString('base64');
	} finally {
		lock.release();
	}
	const list = await client.list({ statusQuery: { messages: true } });
	out.list = list.map(m => ({ path: m.path, specialUse: m.specialUse || null,
				   messages: m.status ? m.status.messages : null }));
	await client.logout();
	console.log(JSON.stringify(out));
}

main().catch(err => {
	console.error(err && err.stack ? err.stack : String(err));
	process.exit(1);
});
