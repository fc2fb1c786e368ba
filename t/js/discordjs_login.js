// discord.js 14, unmodified, logs in as a bot against the node (through
// rest.api pointed at it), receives READY and a GUILD_CREATE for each of
// its guilds, a guildCreate event for a guild it joins afterwards, and
// stays connected through several heartbeats.
//
//   TEST_NGINX_PORT=... GW_ADMIN_SECRET=... node discordjs_login.js [beats]
'use strict';

const { Client, Events, GatewayIntentBits } = require('discord.js');

const port = process.env.TEST_NGINX_PORT;
const base = `http://127.0.0.1:${port}`;
const secret = process.env.GW_ADMIN_SECRET;
const beats = Number(process.argv[2] || 3);

function fail(why) {
    console.error(`FAIL: ${why}`);
    process.exit(1);
}

async function admin(method, path, body) {
    const res = await fetch(base + path, {
        method,
        headers: { Authorization: `Admin ${secret}`,
                   'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) {
        fail(`${method} ${path}: ${res.status} ${text}`);
    }
    return text ? JSON.parse(text) : null;
}

async function main() {
    const bot = await admin('POST', '/admin/users',
                            { username: 'djs-bot', bot: true });
    const guilds = [];

    // ids of our own, derived from the bot's: unique per run
    const id = (n) => (BigInt(bot.id) + BigInt(n)).toString();

    for (let i = 1; i <= 3; i++) {
        const gid = id(i * 10);
        await admin('PUT', `/admin/guilds/${gid}`, {
            name: `djs guild ${i}`, owner_id: bot.id,
            channels: [{ id: id(i * 10 + 1), name: 'general', type: 0 },
                       { id: id(i * 10 + 2), name: 'Voice', type: 2 }],
        });
        await admin('PUT', `/admin/guilds/${gid}/members/${bot.id}`, {});
        guilds.push(gid);
    }

    const client = new Client({
        intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
        rest: { api: `${base}/api` },
    });

    const raw = new Set();
    let acks = 0;
    let joined = null;

    client.on(Events.Raw, (packet) => {
        if (packet.t === 'GUILD_CREATE') {
            raw.add(packet.d.id);
        }
    });

    client.on(Events.Debug, (line) => {
        if (/Heartbeat acknowledged/.test(line)) {
            acks++;
            console.log(`heartbeat acknowledged (${acks})`);
        }
    });

    client.on(Events.Error, (e) => fail(`client error: ${e}`));

    const timer = setTimeout(() => fail(`timed out: ready=${client.isReady()}`
                                        + ` guilds=${raw.size} acks=${acks}`
                                        + ` joined=${joined}`), 60000);

    const ready = new Promise((resolve) => client.once(Events.ClientReady,
                                                       resolve));
    await client.login(bot.token);
    await ready;

    console.log(`ready as ${client.user.tag}, application ${client.application.id}`);

    for (const id of guilds) {
        const g = client.guilds.cache.get(id);
        if (!g || !g.available || !raw.has(id)) {
            fail(`guild ${id} not received as available`);
        }
        if (g.channels.cache.size !== 2) {
            fail(`guild ${id}: ${g.channels.cache.size} channels`);
        }
    }

    // a guild joined after READY arrives as guildCreate
    const fourth = id(100);
    const created = new Promise((resolve) => client.on(Events.GuildCreate,
                                                       resolve));
    await admin('PUT', `/admin/guilds/${fourth}`,
                { name: 'joined later', channels: [] });
    await admin('PUT', `/admin/guilds/${fourth}/members/${bot.id}`, {});
    joined = (await created).id;

    if (joined !== fourth) {
        fail(`guildCreate for ${joined}, expected ${fourth}`);
    }

    console.log(`guildCreate for ${joined}`);

    while (acks < beats) {
        await new Promise((r) => setTimeout(r, 100));
        if (client.ws.status !== 0) {
            fail(`websocket status ${client.ws.status}`);
        }
    }

    clearTimeout(timer);
    await client.destroy();
    console.log(`OK: ${guilds.length + 1} guilds, ${acks} heartbeats`);
    process.exit(0);
}

main().catch((e) => fail(e.stack || e));
