// discord.js 14, unmodified, against the node (rest.api pointed at it):
//
//  1. messages: one posted through REST by another member arrives as
//     messageCreate (content, author, channel, guild), and the bot's own
//     channel.send() resolves and arrives as messageCreate too;
//  2. op 8: guild.members.fetch() resolves with every member of a
//     2500-member guild (three GUILD_MEMBERS_CHUNKs), fetch({query, limit})
//     with the first matches by user id, fetch({user: [ids]}) with those
//     that are members.
//
// Each step fails on its own timer, well before discord.js's (120 s for
// members.fetch).
//
//   TEST_NGINX_PORT=... GW_ADMIN_SECRET=... node discordjs_events.js
'use strict';

const { Client, Events, GatewayIntentBits } = require('discord.js');

const port = process.env.TEST_NGINX_PORT;
const base = `http://127.0.0.1:${port}`;
const secret = process.env.GW_ADMIN_SECRET;
const started = Date.now();

const BULK = 2497;           // + the bot, the poster and one more: 2500

function log(line) {
    console.log(`[${((Date.now() - started) / 1000).toFixed(2)} s] ${line}`);
}

function fail(why) {
    console.error(`FAIL: ${why}`);
    process.exit(1);
}

async function call(method, path, auth, body, type = 'application/json') {
    const res = await fetch(base + path, {
        method,
        headers: { Authorization: auth, 'Content-Type': type },
        body: body === undefined ? undefined
            : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) {
        fail(`${method} ${path}: ${res.status} ${text}`);
    }
    return text;
}

async function admin(method, path, body) {
    const text = await call(method, path, `Admin ${secret}`, body);
    return text ? JSON.parse(text) : null;
}

async function bulk(lines) {
    const text = await call('POST', '/admin/bulk', `Admin ${secret}`,
                            lines.map((l) => JSON.stringify(l)).join('\n')
                            + '\n', 'application/x-ndjson');
    const out = text.split('\n').filter((l) => l).map((l) => JSON.parse(l));
    if (out.length !== lines.length || out.some((o) => o.code !== undefined)) {
        fail(`bulk: ${out.length} results for ${lines.length} lines: `
             + JSON.stringify(out.find((o) => o.code !== undefined)));
    }
    return out;
}

// a promise that fails the test after ms
function within(ms, what, promise) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer in `
                                                  + `${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// the next event of this name for which pred holds
function next(client, event, pred) {
    return new Promise((resolve) => {
        const on = (...args) => {
            if (pred(...args)) {
                client.off(event, on);
                resolve(args[0]);
            }
        };
        client.on(event, on);
    });
}

function sameIds(what, got, want) {
    const a = [...got].sort();
    const b = [...want].sort();
    if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
        fail(`${what}: got ${a.length} [${a.slice(0, 6)}...], `
             + `expected ${b.length} [${b.slice(0, 6)}...]`);
    }
}

async function main() {
    const bot = await admin('POST', '/admin/users',
                            { username: 'djs-events-bot', bot: true });
    const poster = await admin('POST', '/admin/users',
                               { username: 'poster' });
    const outsider = await admin('POST', '/admin/users',
                                 { username: 'usurper' });

    // ids of our own, derived from the bot's: unique per run
    const id = (n) => (BigInt(bot.id) + BigInt(n)).toString();
    const small = id(10);
    const text = id(11);
    const big = id(20);

    await admin('PUT', `/admin/guilds/${small}`, {
        name: 'events', owner_id: bot.id,
        channels: [{ id: text, name: 'general', type: 0 },
                   { id: id(12), name: 'Voice', type: 2 }],
    });
    await admin('PUT', `/admin/guilds/${big}`, {
        name: 'big', owner_id: bot.id,
        channels: [{ id: id(21), name: 'general', type: 0 }],
    });
    for (const u of [bot.id, poster.id]) {
        await admin('PUT', `/admin/guilds/${small}/members/${u}`, {});
    }

    // 2500 members: the bot, the poster, "usher" and 2497 more from bulk
    const names = [];
    for (let i = 1; i <= BULK; i++) {
        names.push(`user${String(i).padStart(4, '0')}`);
    }
    names.push('usher');
    const made = await bulk(names.map((n) => ({ op: 'user', username: n })));
    const users = new Map(made.map((r, i) => [r.id, names[i]]));
    users.set(bot.id, 'djs-events-bot');
    users.set(poster.id, 'poster');
    await bulk([...users.keys()].map((u) => ({ op: 'member', guild_id: big,
                                               user_id: u })));
    if (users.size !== 2500) {
        fail(`${users.size} members made`);
    }
    log(`set up: guild ${big} with ${users.size} members`);

    const client = new Client({
        intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages,
                  GatewayIntentBits.MessageContent,
                  GatewayIntentBits.GuildMembers],
        rest: { api: `${base}/api` },
    });

    client.on(Events.Error, (e) => fail(`client error: ${e}`));

    const chunks = [];
    client.on(Events.Raw, (p) => {
        if (p.t === 'GUILD_MEMBERS_CHUNK') {
            chunks.push({ s: p.s, n: p.d.members.length,
                          index: p.d.chunk_index, count: p.d.chunk_count,
                          nonce: p.d.nonce });
        }
    });

    const ready = new Promise((r) => client.once(Events.ClientReady, r));
    await within(20000, 'login', client.login(bot.token));
    await within(20000, 'ready', ready);
    log(`ready as ${client.user.tag}, ${client.guilds.cache.size} guilds`);

    const guild = client.guilds.cache.get(small);
    const channel = guild && guild.channels.cache.get(text);
    if (!channel || !channel.isTextBased()) {
        fail(`channel ${text} not in the cache`);
    }

    // 1a. a message posted through REST by another member
    const content = `hello from the poster ${Date.now()}`;
    let arrived = next(client, Events.MessageCreate,
                       (m) => m.content === content);
    const posted = JSON.parse(await call(
        'POST', `/api/v10/channels/${text}/messages`, `Bot ${poster.token}`,
        { content }));
    let m = await within(10000, 'messageCreate of the posted message',
                         arrived);
    if (m.id !== posted.id || m.author.id !== poster.id
        || m.channelId !== text || m.guildId !== small
        || m.channel !== channel || m.author.bot) {
        fail(`messageCreate: id ${m.id} (posted ${posted.id}), author `
             + `${m.author.id}, channel ${m.channelId}, guild ${m.guildId}`);
    }
    log(`messageCreate ${m.id} from ${m.author.username}: "${m.content}"`);

    // 1b. the bot's own channel.send(): REST through rest.api, then the
    // gateway's messageCreate
    const own = `hello from the bot ${Date.now()}`;
    arrived = next(client, Events.MessageCreate, (x) => x.content === own);
    const sent = await within(10000, 'channel.send', channel.send(own));
    m = await within(10000, 'messageCreate of the bot\'s message', arrived);
    if (sent.content !== own || sent.author.id !== client.user.id
        || m.id !== sent.id || m.author.id !== client.user.id
        || m.channelId !== text || m.guildId !== small) {
        fail(`own message: sent ${sent.id} by ${sent.author.id} `
             + `"${sent.content}", messageCreate ${m.id} by ${m.author.id}`);
    }
    log(`channel.send resolved with ${sent.id}; its messageCreate arrived`);

    // 2a. the whole member list of the 2500-member guild
    const g = client.guilds.cache.get(big);
    if (!g || g.memberCount !== 2500) {
        fail(`guild ${big}: memberCount ${g && g.memberCount}`);
    }
    let t0 = Date.now();
    const all = await within(20000, 'members.fetch()', g.members.fetch());
    sameIds('members.fetch()', all.keys(), users.keys());
    if (g.members.cache.size !== 2500) {
        fail(`cache: ${g.members.cache.size} members`);
    }
    for (const [uid, member] of all) {
        if (member.user.username !== users.get(uid)) {
            fail(`member ${uid}: ${member.user.username}`);
        }
    }
    const sizes = chunks.map((c) => c.n).join(',');
    if (chunks.length !== 3 || sizes !== '1000,1000,500'
        || chunks.some((c, i) => c.index !== i || c.count !== 3
                                 || c.nonce !== chunks[0].nonce)
        || chunks.some((c, i) => i && c.s !== chunks[i - 1].s + 1)) {
        fail(`chunks: ${JSON.stringify(chunks)}`);
    }
    log(`members.fetch(): ${all.size} members in ${chunks.length} chunks `
        + `(${sizes}) in ${Date.now() - t0} ms`);

    // 2b. a username prefix: the first 5 matches by user id ("us" is in
    // user0001.., usher; not in the bot, the poster, or usurper who is no
    // member)
    t0 = Date.now();
    const found = await within(10000, 'members.fetch({query, limit})',
                               g.members.fetch({ query: 'us', limit: 5 }));
    const want = [...users.entries()]
        .filter(([, n]) => n.toLowerCase().startsWith('us'))
        .map(([u]) => BigInt(u)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .slice(0, 5).map(String);
    sameIds("members.fetch({ query: 'us', limit: 5 })", found.keys(), want);
    log(`members.fetch({ query: 'us', limit: 5 }): ${[...found.keys()]} `
        + `in ${Date.now() - t0} ms`);

    // 2c. by user ids: those that are members (the outsider is not)
    const some = [poster.id, made[0].id, made[BULK - 1].id, made[BULK].id];
    t0 = Date.now();
    const byId = await within(10000, 'members.fetch({user})',
                              g.members.fetch({ user: [...some,
                                                       outsider.id] }));
    sameIds('members.fetch({ user: [...] })', byId.keys(), some);
    for (const u of some) {
        if (byId.get(u).user.username !== users.get(u)) {
            fail(`member ${u}: ${byId.get(u).user.username}`);
        }
    }
    log(`members.fetch({ user: [5 ids] }): ${byId.size} members in `
        + `${Date.now() - t0} ms`);

    if (client.ws.status !== 0) {
        fail(`websocket status ${client.ws.status}`);
    }

    await client.destroy();
    log('OK');
    process.exit(0);
}

setTimeout(() => fail('the whole run took over 50 s'), 50000).unref();
main().catch((e) => fail(e.stack || e));
