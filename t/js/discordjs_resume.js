// discord.js 14, unmodified, resumes its session against the node:
//
//  a. nginx -s reload (SIGHUP to the master): discord.js gets op 7
//     ("Told to reconnect by Discord"), reconnects to resume_gateway_url
//     and resumes; the messages posted while it was away arrive as
//     messageCreate (replayed), then shardResume;
//  b. its socket is cut (no close frame): it resumes the same way and gets
//     the messages posted meanwhile.
//
// discord.js reaches the node through a small TCP proxy in this script
// (on TEST_NGINX_BACKEND_PORT): REST and gateway both, so READY's
// resume_gateway_url points at the proxy too.  The proxy can hold new
// connections (the client is then "away" for as long as the test likes)
// and cut the open ones.  No re-Identify is allowed: one READY in all, and
// the dispatch s values seen through 'raw' stay gap-free.
//
//   TEST_NGINX_PORT=... TEST_NGINX_BACKEND_PORT=... TEST_NGINX_SERVROOT=...
//   GW_ADMIN_SECRET=... node discordjs_resume.js
'use strict';

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { Client, Events, GatewayIntentBits } = require('discord.js');

const port = Number(process.env.TEST_NGINX_PORT);
const proxyPort = Number(process.env.TEST_NGINX_BACKEND_PORT);
const base = `http://127.0.0.1:${port}`;
const secret = process.env.GW_ADMIN_SECRET;
const started = Date.now();

function log(line) {
    console.log(`[${((Date.now() - started) / 1000).toFixed(2)} s] ${line}`);
}

function fail(why) {
    console.error(`FAIL: ${why}`);
    process.exit(1);
}

async function call(method, p, auth, body) {
    const res = await fetch(base + p, {
        method,
        headers: { Authorization: auth, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) {
        fail(`${method} ${p}: ${res.status} ${text}`);
    }
    return text ? JSON.parse(text) : null;
}

const admin = (method, p, body) => call(method, p, `Admin ${secret}`, body);

// a promise that fails the test after ms
function within(ms, what, promise) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: nothing in `
                                                  + `${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function until(what, ms, cond) {
    return within(ms, what, new Promise((resolve) => {
        const poll = () => (cond() ? resolve() : setTimeout(poll, 20));
        poll();
    }));
}

// TCP proxy: listen on proxyPort, forward to the node
class Proxy {
    constructor() {
        this.held = false;
        this.waiting = [];
        this.pairs = new Set();
        this.connections = 0;
        this.server = net.createServer((sock) => {
            this.connections++;
            sock.on('error', () => {});
            if (this.held) {
                this.waiting.push(sock);
            } else {
                this.forward(sock);
            }
        });
    }

    listen() {
        return new Promise((resolve, reject) => {
            this.server.once('error', reject);
            this.server.listen(proxyPort, '127.0.0.1', resolve);
        });
    }

    forward(sock) {
        if (sock.destroyed) {
            return;
        }
        const up = net.connect(port, '127.0.0.1');
        const pair = { sock, up };
        this.pairs.add(pair);
        up.on('error', () => {});
        const drop = () => {
            this.pairs.delete(pair);
            sock.destroy();
            up.destroy();
        };
        sock.on('close', drop);
        up.on('close', drop);
        sock.pipe(up);
        up.pipe(sock);
    }

    hold() {
        this.held = true;
    }

    release() {
        this.held = false;
        const w = this.waiting;
        this.waiting = [];
        w.forEach((s) => this.forward(s));
    }

    // every open connection goes, without a close frame (TCP RST)
    cut() {
        for (const { sock, up } of [...this.pairs]) {
            sock.resetAndDestroy();
            up.resetAndDestroy();
        }
    }

    close() {
        this.server.close();
        this.cut();
        this.waiting.forEach((s) => s.destroy());
    }
}

async function main() {
    const proxy = new Proxy();
    await proxy.listen();

    const bot = await admin('POST', '/admin/users',
                            { username: 'djs-resume-bot', bot: true });
    const poster = await admin('POST', '/admin/users',
                               { username: 'poster', bot: true });
    const id = (n) => (BigInt(bot.id) + BigInt(n)).toString();
    const gid = id(10);
    const channel = id(11);
    await admin('PUT', `/admin/guilds/${gid}`, {
        name: 'resume', owner_id: bot.id,
        channels: [{ id: channel, name: 'general', type: 0 }],
    });
    for (const u of [bot.id, poster.id]) {
        await admin('PUT', `/admin/guilds/${gid}/members/${u}`, {});
    }

    const post = (content) => call('POST',
                                   `/api/v10/channels/${channel}/messages`,
                                   `Bot ${poster.token}`, { content });

    const client = new Client({
        intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages,
                  GatewayIntentBits.MessageContent],
        rest: { api: `http://127.0.0.1:${proxyPort}/api` },
    });

    const contents = [];
    const resumes = [];
    const debug = [];
    let readies = 0;
    let lastS = 0;

    client.on(Events.Error, (e) => fail(`client error: ${e}`));
    client.on(Events.Raw, (packet) => {
        if (packet.s !== lastS + 1) {
            fail(`dispatch ${packet.t} with s=${packet.s} after s=${lastS}`);
        }
        lastS = packet.s;
        if (packet.t === 'READY') {
            readies++;
        }
    });
    client.on(Events.MessageCreate, (m) => {
        if (m.channelId !== channel || m.author.id !== poster.id) {
            fail(`a message from ${m.author.id} in ${m.channelId}`);
        }
        contents.push(m.content);
    });
    client.on(Events.ShardResume, (shard, replayed) => {
        resumes.push(replayed);
        log(`shardResume: shard ${shard}, ${replayed} events replayed`);
    });
    client.on(Events.Debug, (line) => {
        debug.push(line);
        if (/Told to reconnect|Resum|Connecting to|unexpected code|Invalid session/
            .test(line)) {
            log(`debug: ${line.replace(/\n\s*/g, ' | ')}`);
        }
    });

    const ready = new Promise((r) => client.once(Events.ClientReady, r));
    await within(20000, 'login', client.login(bot.token));
    await within(20000, 'ready', ready);
    log(`ready as ${client.user.tag}, s=${lastS}`);

    const seen = (text) => contents.includes(text);
    await post('live 1');
    await until('live 1', 5000, () => seen('live 1'));

    // an outage: new connections held, messages posted, then released
    async function away(what, act, gone) {
        const before = { resumes: resumes.length, debug: debug.length,
                         contents: contents.length };
        proxy.hold();
        await act();
        await until(`${what}: discord.js to notice`, 10000, gone(before));
        const texts = [1, 2, 3].map((n) => `${what} ${n}`);
        for (const t of texts) {
            await post(t);
        }
        await new Promise((r) => setTimeout(r, 200));
        if (contents.length !== before.contents) {
            fail(`${what}: got ${contents.slice(before.contents)} while away`);
        }
        proxy.release();
        await until(`${what}: shardResume`, 15000,
                    () => resumes.length > before.resumes);
        const got = contents.slice(before.contents);
        if (JSON.stringify(got) !== JSON.stringify(texts)) {
            fail(`${what}: messageCreate for ${JSON.stringify(got)}, `
                 + `expected ${JSON.stringify(texts)}`);
        }
        const replayed = resumes[resumes.length - 1];
        if (replayed < texts.length) {
            fail(`${what}: shardResume says ${replayed} replayed`);
        }
        const lines = debug.slice(before.debug).join('\n');
        if (!/Resuming session/.test(lines)
            || !/Resumed and replayed \d+ events/.test(lines)) {
            fail(`${what}: no resume in the debug lines:\n${lines}`);
        }
        if (!lines.includes(`Connecting to ws://127.0.0.1:${proxyPort}/gateway?`)) {
            fail(`${what}: not through resume_gateway_url:\n${lines}`);
        }
        if (readies !== 1) {
            fail(`${what}: ${readies} READY`);
        }
        log(`${what}: resumed, ${got.length} messages replayed`);
    }

    // a. nginx -s reload: op 7, then close 1012
    const pidFile = path.join(process.env.TEST_NGINX_SERVROOT, 'logs',
                              'nginx.pid');
    const master = Number(fs.readFileSync(pidFile, 'utf8').trim());
    const after = (b, re) => debug.slice(b.debug).some((l) => re.test(l));
    await away('reload', async () => process.kill(master, 'SIGHUP'),
               (b) => () => after(b, /Told to reconnect by Discord/)
                   && after(b, /Connecting to/));

    await post('live 2');
    await until('live 2', 5000, () => seen('live 2'));

    // b. the connection is cut
    await away('cut', async () => proxy.cut(),
               (b) => () => after(b, /Connecting to/));

    await post('live 3');
    await until('live 3', 5000, () => seen('live 3'));

    const want = ['live 1', 'reload 1', 'reload 2', 'reload 3', 'live 2',
                  'cut 1', 'cut 2', 'cut 3', 'live 3'];
    if (JSON.stringify(contents) !== JSON.stringify(want)) {
        fail(`messages ${JSON.stringify(contents)}`);
    }
    if (readies !== 1 || resumes.length !== 2) {
        fail(`${readies} READY, ${resumes.length} resumes`);
    }
    await client.destroy();
    proxy.close();
    log(`OK: 2 resumes (${resumes} replayed), ${contents.length} messages `
        + `each once, s up to ${lastS}, 1 READY`);
    process.exit(0);
}

main().catch((e) => fail(e.stack || e));
