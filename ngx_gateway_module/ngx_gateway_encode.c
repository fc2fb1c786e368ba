
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/* Discord channel types that carry voice */
#define NGX_GATEWAY_CHANNEL_VOICE        2
#define NGX_GATEWAY_CHANNEL_STAGE        13

#define NGX_GATEWAY_VOICE_BITRATE        64000


ngx_str_t  ngx_gateway_status_names[] = {
    ngx_string("offline"),
    ngx_string("online"),
    ngx_string("idle"),
    ngx_string("dnd"),
    ngx_string("invisible")
};


static void ngx_gateway_encode_role(ngx_gateway_json_t *j,
    ngx_gateway_role_t *r);
static void ngx_gateway_encode_voice_state(ngx_gateway_json_t *j,
    ngx_gateway_member_t *m);
static void ngx_gateway_encode_members(ngx_gateway_json_t *j,
    ngx_gateway_zone_t *zone, ngx_gateway_guild_t *g,
    ngx_gateway_session_t *s, ngx_gateway_member_t *self,
    ngx_uint_t reduced, ngx_uint_t large, ngx_uint_t presence);
static void ngx_gateway_encode_member_item(ngx_gateway_json_t *j,
    ngx_gateway_member_t *m, ngx_uint_t presence, ngx_uint_t *n);
static ngx_uint_t ngx_gateway_member_listed(ngx_gateway_member_t *m,
    ngx_gateway_session_t *s, ngx_uint_t reduced, ngx_uint_t large);


void
ngx_gateway_encode_user(ngx_gateway_json_t *j, ngx_gateway_user_t *u,
    ngx_uint_t self)
{
    ngx_gateway_json_lit(j, "{\"id\":");
    ngx_gateway_json_id(j, u->node.key);
    ngx_gateway_json_lit(j, ",\"username\":");
    ngx_gateway_json_str(j, u->names, u->username_len);
    ngx_gateway_json_lit(j, ",\"discriminator\":\"0\",\"global_name\":");
    ngx_gateway_json_str_or_null(j, ngx_gateway_user_global_name(u),
                                 u->global_name_len);
    ngx_gateway_json_lit(j, ",\"avatar\":null,\"bot\":");
    ngx_gateway_json_bool(j, u->bot);
    ngx_gateway_json_lit(j, ",\"system\":false,\"flags\":0,"
                            "\"public_flags\":0");

    if (self) {
        ngx_gateway_json_lit(j, ",\"verified\":true,\"mfa_enabled\":false,"
                                "\"email\":null,\"locale\":\"en-US\"");
    }

    ngx_gateway_json_lit(j, "}");
}


void
ngx_gateway_encode_member(ngx_gateway_json_t *j, ngx_gateway_member_t *m,
    ngx_uint_t with_user)
{
    ngx_uint_t                   i;
    ngx_gateway_member_extra_t  *x;

    x = m->extra;

    ngx_gateway_json_lit(j, "{");

    if (with_user) {
        ngx_gateway_json_lit(j, "\"user\":");
        ngx_gateway_encode_user(j, m->user, 0);
        ngx_gateway_json_lit(j, ",");
    }

    ngx_gateway_json_lit(j, "\"nick\":");

    if (x && x->nick_len) {
        ngx_gateway_json_str(j, x->nick, x->nick_len);

    } else {
        ngx_gateway_json_lit(j, "null");
    }

    ngx_gateway_json_lit(j, ",\"avatar\":null,\"roles\":[");

    for (i = 0; x && i < x->roles_n; i++) {
        if (i) {
            ngx_gateway_json_lit(j, ",");
        }

        ngx_gateway_json_id(j, x->roles[i]);
    }

    ngx_gateway_json_lit(j, "],\"joined_at\":");
    ngx_gateway_json_time(j, m->joined_at);
    ngx_gateway_json_lit(j, ",\"premium_since\":null,\"deaf\":false,"
                            "\"mute\":false,\"flags\":0,\"pending\":false}");
}


void
ngx_gateway_encode_channel(ngx_gateway_json_t *j, ngx_gateway_channel_t *ch,
    ngx_uint_t with_guild)
{
    ngx_gateway_json_lit(j, "{\"id\":");
    ngx_gateway_json_id(j, ch->node.key);
    ngx_gateway_json_lit(j, ",\"type\":");
    ngx_gateway_json_uint(j, ch->type);

    if (with_guild) {
        ngx_gateway_json_lit(j, ",\"guild_id\":");
        ngx_gateway_json_id(j, ch->guild->node.key);
    }

    ngx_gateway_json_lit(j, ",\"name\":");
    ngx_gateway_json_str(j, ch->name, ch->name_len);
    ngx_gateway_json_lit(j, ",\"position\":");
    ngx_gateway_json_uint(j, ch->position);
    ngx_gateway_json_lit(j, ",\"permission_overwrites\":[],\"nsfw\":false,"
                            "\"parent_id\":null,\"flags\":0");

    if (ch->type == NGX_GATEWAY_CHANNEL_VOICE
        || ch->type == NGX_GATEWAY_CHANNEL_STAGE)
    {
        ngx_gateway_json_lit(j, ",\"bitrate\":");
        ngx_gateway_json_uint(j, NGX_GATEWAY_VOICE_BITRATE);
        ngx_gateway_json_lit(j, ",\"user_limit\":0,\"rtc_region\":null");

    } else {
        ngx_gateway_json_lit(j, ",\"topic\":null,\"last_message_id\":null,"
                                "\"rate_limit_per_user\":0");
    }

    ngx_gateway_json_lit(j, "}");
}


static void
ngx_gateway_encode_role(ngx_gateway_json_t *j, ngx_gateway_role_t *r)
{
    ngx_gateway_json_lit(j, "{\"id\":");
    ngx_gateway_json_id(j, r->id);
    ngx_gateway_json_lit(j, ",\"name\":");
    ngx_gateway_json_str(j, r->name, r->name_len);
    ngx_gateway_json_lit(j, ",\"color\":");
    ngx_gateway_json_uint(j, r->color);
    ngx_gateway_json_lit(j, ",\"hoist\":false,\"icon\":null,"
                            "\"unicode_emoji\":null,\"position\":");
    ngx_gateway_json_uint(j, r->position);

    /* permissions are a string: they outgrow 53 bits */

    ngx_gateway_json_lit(j, ",\"permissions\":");
    ngx_gateway_json_id(j, r->permissions);
    ngx_gateway_json_lit(j, ",\"managed\":false,\"mentionable\":false,"
                            "\"flags\":0}");
}


/* the guild object (REST, admin API): no members */

void
ngx_gateway_encode_guild(ngx_gateway_json_t *j, ngx_gateway_guild_t *g)
{
    ngx_uint_t  i;

    ngx_gateway_json_lit(j, "{\"id\":");
    ngx_gateway_json_id(j, g->node.key);
    ngx_gateway_json_lit(j, ",\"name\":");
    ngx_gateway_json_str(j, g->name, g->name_len);
    ngx_gateway_json_lit(j, ",\"icon\":null,\"splash\":null,"
                            "\"discovery_splash\":null,\"owner_id\":");

    if (g->owner_id) {
        ngx_gateway_json_id(j, g->owner_id);

    } else {
        ngx_gateway_json_lit(j, "null");
    }

    ngx_gateway_json_lit(j, ",\"afk_channel_id\":null,\"afk_timeout\":300,"
                            "\"verification_level\":0,"
                            "\"default_message_notifications\":0,"
                            "\"explicit_content_filter\":0,\"roles\":[");

    for (i = 0; i < g->roles_n; i++) {
        if (i) {
            ngx_gateway_json_lit(j, ",");
        }

        ngx_gateway_encode_role(j, &g->roles[i]);
    }

    ngx_gateway_json_lit(j, "],\"emojis\":[],\"stickers\":[],"
                            "\"features\":[],\"mfa_level\":0,"
                            "\"application_id\":null,"
                            "\"system_channel_id\":null,"
                            "\"system_channel_flags\":0,"
                            "\"rules_channel_id\":null,"
                            "\"max_members\":500000,"
                            "\"vanity_url_code\":null,\"description\":null,"
                            "\"banner\":null,\"premium_tier\":0,"
                            "\"premium_subscription_count\":0,"
                            "\"preferred_locale\":\"en-US\","
                            "\"public_updates_channel_id\":null,"
                            "\"nsfw_level\":0,"
                            "\"premium_progress_bar_enabled\":false,"
                            "\"safety_alerts_channel_id\":null,"
                            "\"approximate_member_count\":");
    ngx_gateway_json_uint(j, g->member_count);
    ngx_gateway_json_lit(j, "}");
}


/*
 * GUILD_CREATE's d (PROTOCOL.md 1.15): the guild object and its state,
 * with "members" and "presences" reduced the way Discord does so that a
 * huge guild costs a session a few kilobytes:
 *
 *   no GUILD_PRESENCES, or more than 75k members: the session's own
 *       member and the members in voice;
 *   large (member_count > large_threshold): members who are online, have
 *       a role or a nickname, or are in voice;
 *   otherwise: everyone.
 *
 * Presences go only to sessions with GUILD_PRESENCES, for the members
 * listed that are not offline.
 */

void
ngx_gateway_encode_guild_create(ngx_gateway_json_t *j,
    ngx_gateway_zone_t *zone, ngx_gateway_guild_t *g,
    ngx_gateway_session_t *s)
{
    ngx_uint_t             i, n, large, reduced, presences;
    ngx_gateway_member_t  *m, *self;

    large = g->member_count > s->large_threshold;
    presences = (s->intents & NGX_GATEWAY_INTENT_GUILD_PRESENCES) != 0;
    reduced = !presences || g->member_count > NGX_GATEWAY_HUGE_GUILD;

    /* the guild object, then the GUILD_CREATE extras */

    ngx_gateway_encode_guild(j, g);

    if (j->error) {
        return;
    }

    j->pos--;   /* reopen the object */

    ngx_gateway_json_lit(j, ",\"joined_at\":");

    self = ngx_gateway_member_lookup_locked(zone, g->node.key,
                                            s->user->node.key);

    ngx_gateway_json_time(j, self ? self->joined_at : g->created);
    ngx_gateway_json_lit(j, ",\"large\":");
    ngx_gateway_json_bool(j, large);
    ngx_gateway_json_lit(j, ",\"unavailable\":false,\"member_count\":");
    ngx_gateway_json_uint(j, g->member_count);

    ngx_gateway_json_lit(j, ",\"channels\":[");

    for (i = 0; i < g->channels_n; i++) {
        if (i) {
            ngx_gateway_json_lit(j, ",");
        }

        ngx_gateway_encode_channel(j, g->channels[i], 0);
    }

    ngx_gateway_json_lit(j, "],\"threads\":[],\"voice_states\":[");

    n = 0;

    for (m = g->voice_n
             ? ngx_gateway_guild_members_first_locked(zone, g->node.key)
             : NULL;
         m;
         m = ngx_gateway_guild_members_next_locked(zone, m))
    {
        if (m->voice_channel) {
            if (n++) {
                ngx_gateway_json_lit(j, ",");
            }

            ngx_gateway_encode_voice_state(j, m);
        }
    }

    ngx_gateway_json_lit(j, "],\"members\":[");
    ngx_gateway_encode_members(j, zone, g, s, self, reduced, large, 0);

    ngx_gateway_json_lit(j, "],\"presences\":[");

    if (presences) {
        ngx_gateway_encode_members(j, zone, g, s, self, reduced, large, 1);
    }

    ngx_gateway_json_lit(j, "],\"stage_instances\":[],"
                            "\"guild_scheduled_events\":[],"
                            "\"soundboard_sounds\":[]}");
}


/*
 * The members (or, with "presence", the presences of the members who are
 * not offline) that GUILD_CREATE lists.  The reduced list needs no walk
 * of the guild: the session's own member, and the members in voice when
 * there are any.
 */

static void
ngx_gateway_encode_members(ngx_gateway_json_t *j, ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *g, ngx_gateway_session_t *s,
    ngx_gateway_member_t *self, ngx_uint_t reduced, ngx_uint_t large,
    ngx_uint_t presence)
{
    ngx_uint_t             n;
    ngx_gateway_member_t  *m;

    n = 0;

    if (reduced) {
        if (self) {
            ngx_gateway_encode_member_item(j, self, presence, &n);
        }

        if (g->voice_n == 0) {
            return;
        }
    }

    for (m = ngx_gateway_guild_members_first_locked(zone, g->node.key);
         m;
         m = ngx_gateway_guild_members_next_locked(zone, m))
    {
        if (reduced && (m == self || m->voice_channel == 0)) {
            continue;
        }

        if (!ngx_gateway_member_listed(m, s, reduced, large)) {
            continue;
        }

        ngx_gateway_encode_member_item(j, m, presence, &n);
    }
}


static void
ngx_gateway_encode_member_item(ngx_gateway_json_t *j,
    ngx_gateway_member_t *m, ngx_uint_t presence, ngx_uint_t *n)
{
    if (presence) {
        if (m->user->status == ngx_gateway_offline
            || m->user->status == ngx_gateway_invisible)
        {
            return;
        }

        if ((*n)++) {
            ngx_gateway_json_lit(j, ",");
        }

        ngx_gateway_encode_presence(j, m->user, 0);
        return;
    }

    if ((*n)++) {
        ngx_gateway_json_lit(j, ",");
    }

    ngx_gateway_encode_member(j, m, 1);
}


static ngx_uint_t
ngx_gateway_member_listed(ngx_gateway_member_t *m, ngx_gateway_session_t *s,
    ngx_uint_t reduced, ngx_uint_t large)
{
    if (m->user == s->user || m->voice_channel) {
        return 1;
    }

    if (reduced) {
        return 0;
    }

    if (!large) {
        return 1;
    }

    return (m->user->status != ngx_gateway_offline
            && m->user->status != ngx_gateway_invisible)
           || (m->extra && (m->extra->nick_len || m->extra->roles_n));
}


/* in GUILD_CREATE, without guild_id (PROTOCOL.md 1.15) */

static void
ngx_gateway_encode_voice_state(ngx_gateway_json_t *j,
    ngx_gateway_member_t *m)
{
    u_char                  hex[2 * NGX_GATEWAY_SESSION_ID_LEN];
    ngx_queue_t            *q;
    ngx_gateway_session_t  *s;

    ngx_gateway_json_lit(j, "{\"channel_id\":");
    ngx_gateway_json_id(j, m->voice_channel);
    ngx_gateway_json_lit(j, ",\"user_id\":");
    ngx_gateway_json_id(j, m->user_id);
    ngx_gateway_json_lit(j, ",\"session_id\":");

    if (ngx_queue_empty(&m->user->sessions)) {
        ngx_gateway_json_lit(j, "null");

    } else {
        q = ngx_queue_head(&m->user->sessions);
        s = ngx_queue_data(q, ngx_gateway_session_t, user_link);
        ngx_gateway_session_id_hex(hex, s);
        ngx_gateway_json_str(j, hex, sizeof(hex));
    }

    ngx_gateway_json_lit(j, ",\"deaf\":false,\"mute\":false,\"self_deaf\":");
    ngx_gateway_json_bool(j, m->self_deaf);
    ngx_gateway_json_lit(j, ",\"self_mute\":");
    ngx_gateway_json_bool(j, m->self_mute);
    ngx_gateway_json_lit(j, ",\"self_video\":false,\"suppress\":false,"
                            "\"request_to_speak_timestamp\":null}");
}


void
ngx_gateway_encode_presence(ngx_gateway_json_t *j, ngx_gateway_user_t *u,
    uint64_t guild_id)
{
    ngx_str_t  *status;

    status = &ngx_gateway_status_names[u->status];

    /* invisible users look offline to everyone else */

    if (u->status == ngx_gateway_invisible) {
        status = &ngx_gateway_status_names[ngx_gateway_offline];
    }

    ngx_gateway_json_lit(j, "{\"user\":{\"id\":");
    ngx_gateway_json_id(j, u->node.key);
    ngx_gateway_json_lit(j, "}");

    if (guild_id) {
        ngx_gateway_json_lit(j, ",\"guild_id\":");
        ngx_gateway_json_id(j, guild_id);
    }

    ngx_gateway_json_lit(j, ",\"status\":");
    ngx_gateway_json_str(j, status->data, status->len);
    ngx_gateway_json_lit(j, ",\"activities\":");

    /* an invisible user shows nothing of what it does */

    if (u->activities && u->status != ngx_gateway_invisible) {
        ngx_gateway_json_raw(j, u->activities, u->activities_len);

    } else {
        ngx_gateway_json_lit(j, "[]");
    }

    ngx_gateway_json_lit(j, ",\"client_status\":{");

    if (u->status != ngx_gateway_offline
        && u->status != ngx_gateway_invisible)
    {
        ngx_gateway_json_lit(j, "\"desktop\":");
        ngx_gateway_json_str(j, status->data, status->len);
    }

    ngx_gateway_json_lit(j, "}}");
}


/*
 * READY's d (PROTOCOL.md 1.7): every guild of the user within the
 * session's shard, as unavailable guilds to be followed by GUILD_CREATE.
 */

void
ngx_gateway_encode_ready(ngx_gateway_json_t *j, ngx_gateway_zone_t *zone,
    ngx_gateway_ready_t *ready)
{
    u_char                  hex[2 * NGX_GATEWAY_SESSION_ID_LEN];
    ngx_uint_t              n;
    ngx_gateway_member_t   *m;
    ngx_gateway_session_t  *s;

    s = ready->session;

    ngx_gateway_json_lit(j, "{\"v\":10,\"user\":");
    ngx_gateway_encode_user(j, s->user, 1);
    ngx_gateway_json_lit(j, ",\"guilds\":[");

    n = 0;

    for (m = ngx_gateway_user_guilds_first_locked(zone, s->user->node.key);
         m;
         m = ngx_gateway_user_guilds_next_locked(zone, m))
    {
        if ((m->guild_id >> 22) % s->num_shards != s->shard_id) {
            continue;
        }

        if (n++) {
            ngx_gateway_json_lit(j, ",");
        }

        ngx_gateway_json_lit(j, "{\"id\":");
        ngx_gateway_json_id(j, m->guild_id);
        ngx_gateway_json_lit(j, ",\"unavailable\":true}");
    }

    ngx_gateway_json_lit(j, "],\"session_id\":");
    ngx_gateway_session_id_hex(hex, s);
    ngx_gateway_json_str(j, hex, sizeof(hex));
    ngx_gateway_json_lit(j, ",\"session_type\":\"normal\","
                            "\"resume_gateway_url\":");
    ngx_gateway_json_str(j, ready->resume_url.data, ready->resume_url.len);

    if (ready->shard_given) {
        ngx_gateway_json_lit(j, ",\"shard\":[");
        ngx_gateway_json_uint(j, s->shard_id);
        ngx_gateway_json_lit(j, ",");
        ngx_gateway_json_uint(j, s->num_shards);
        ngx_gateway_json_lit(j, "]");
    }

    /* a bot's application shares its user's id */

    ngx_gateway_json_lit(j, ",\"application\":{\"id\":");
    ngx_gateway_json_id(j, s->user->node.key);
    ngx_gateway_json_lit(j, ",\"flags\":0},\"private_channels\":[],"
                            "\"relationships\":[],\"presences\":[],"
                            "\"user_settings\":{},\"auth\":{},"
                            "\"geo_ordered_rtc_regions\":[]}");
}


/* the start of an encoded dispatch after its seq: "t":"NAME","d": */

void
ngx_gateway_encode_dispatch(ngx_gateway_json_t *j, const char *name)
{
    ngx_gateway_json_lit(j, "\"t\":\"");
    ngx_gateway_json_raw(j, (u_char *) name, ngx_strlen(name));
    ngx_gateway_json_lit(j, "\",\"d\":");
}
