
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


typedef struct {
    ngx_str_t                  name;
    ngx_uint_t                 intent;
} ngx_gateway_event_intent_t;


/* shared/PROTOCOL.md 1.10: the guild events each intent gates */

static ngx_gateway_event_intent_t  ngx_gateway_event_intents[] = {

    { ngx_string("GUILD_CREATE"), 1 << 0 },
    { ngx_string("GUILD_UPDATE"), 1 << 0 },
    { ngx_string("GUILD_DELETE"), 1 << 0 },
    { ngx_string("GUILD_ROLE_CREATE"), 1 << 0 },
    { ngx_string("GUILD_ROLE_UPDATE"), 1 << 0 },
    { ngx_string("GUILD_ROLE_DELETE"), 1 << 0 },
    { ngx_string("CHANNEL_CREATE"), 1 << 0 },
    { ngx_string("CHANNEL_UPDATE"), 1 << 0 },
    { ngx_string("CHANNEL_DELETE"), 1 << 0 },
    { ngx_string("CHANNEL_PINS_UPDATE"), 1 << 0 },
    { ngx_string("THREAD_CREATE"), 1 << 0 },
    { ngx_string("THREAD_UPDATE"), 1 << 0 },
    { ngx_string("THREAD_DELETE"), 1 << 0 },
    { ngx_string("THREAD_LIST_SYNC"), 1 << 0 },
    { ngx_string("THREAD_MEMBER_UPDATE"), 1 << 0 },
    { ngx_string("STAGE_INSTANCE_CREATE"), 1 << 0 },
    { ngx_string("STAGE_INSTANCE_UPDATE"), 1 << 0 },
    { ngx_string("STAGE_INSTANCE_DELETE"), 1 << 0 },
    { ngx_string("VOICE_CHANNEL_STATUS_UPDATE"), 1 << 0 },
    { ngx_string("VOICE_CHANNEL_START_TIME_UPDATE"), 1 << 0 },

    { ngx_string("GUILD_MEMBER_ADD"), 1 << 1 },
    { ngx_string("GUILD_MEMBER_UPDATE"), 1 << 1 },
    { ngx_string("GUILD_MEMBER_REMOVE"), 1 << 1 },
    { ngx_string("THREAD_MEMBERS_UPDATE"), 1 << 1 },

    { ngx_string("GUILD_AUDIT_LOG_ENTRY_CREATE"), 1 << 2 },
    { ngx_string("GUILD_BAN_ADD"), 1 << 2 },
    { ngx_string("GUILD_BAN_REMOVE"), 1 << 2 },

    { ngx_string("GUILD_EMOJIS_UPDATE"), 1 << 3 },
    { ngx_string("GUILD_STICKERS_UPDATE"), 1 << 3 },
    { ngx_string("GUILD_SOUNDBOARD_SOUND_CREATE"), 1 << 3 },
    { ngx_string("GUILD_SOUNDBOARD_SOUND_UPDATE"), 1 << 3 },
    { ngx_string("GUILD_SOUNDBOARD_SOUND_DELETE"), 1 << 3 },
    { ngx_string("GUILD_SOUNDBOARD_SOUNDS_UPDATE"), 1 << 3 },

    { ngx_string("GUILD_INTEGRATIONS_UPDATE"), 1 << 4 },
    { ngx_string("INTEGRATION_CREATE"), 1 << 4 },
    { ngx_string("INTEGRATION_UPDATE"), 1 << 4 },
    { ngx_string("INTEGRATION_DELETE"), 1 << 4 },

    { ngx_string("WEBHOOKS_UPDATE"), 1 << 5 },

    { ngx_string("INVITE_CREATE"), 1 << 6 },
    { ngx_string("INVITE_DELETE"), 1 << 6 },

    { ngx_string("VOICE_CHANNEL_EFFECT_SEND"), 1 << 7 },
    { ngx_string("VOICE_STATE_UPDATE"), 1 << 7 },

    { ngx_string("PRESENCE_UPDATE"), 1 << 8 },

    { ngx_string("MESSAGE_CREATE"), 1 << 9 },
    { ngx_string("MESSAGE_UPDATE"), 1 << 9 },
    { ngx_string("MESSAGE_DELETE"), 1 << 9 },
    { ngx_string("MESSAGE_DELETE_BULK"), 1 << 9 },

    { ngx_string("MESSAGE_REACTION_ADD"), 1 << 10 },
    { ngx_string("MESSAGE_REACTION_REMOVE"), 1 << 10 },
    { ngx_string("MESSAGE_REACTION_REMOVE_ALL"), 1 << 10 },
    { ngx_string("MESSAGE_REACTION_REMOVE_EMOJI"), 1 << 10 },

    { ngx_string("TYPING_START"), 1 << 11 },

    { ngx_string("GUILD_SCHEDULED_EVENT_CREATE"), 1 << 16 },
    { ngx_string("GUILD_SCHEDULED_EVENT_UPDATE"), 1 << 16 },
    { ngx_string("GUILD_SCHEDULED_EVENT_DELETE"), 1 << 16 },
    { ngx_string("GUILD_SCHEDULED_EVENT_USER_ADD"), 1 << 16 },
    { ngx_string("GUILD_SCHEDULED_EVENT_USER_REMOVE"), 1 << 16 },

    { ngx_string("AUTO_MODERATION_RULE_CREATE"), 1 << 20 },
    { ngx_string("AUTO_MODERATION_RULE_UPDATE"), 1 << 20 },
    { ngx_string("AUTO_MODERATION_RULE_DELETE"), 1 << 20 },
    { ngx_string("AUTO_MODERATION_ACTION_EXECUTION"), 1 << 21 },

    { ngx_string("MESSAGE_POLL_VOTE_ADD"), 1 << 24 },
    { ngx_string("MESSAGE_POLL_VOTE_REMOVE"), 1 << 24 },

    { ngx_null_string, 0 }
};


/* the intent a guild event needs; 0 for events that always go (1.10) */

ngx_uint_t
ngx_gateway_event_intent(u_char *name, size_t len)
{
    ngx_gateway_event_intent_t  *e;

    for (e = ngx_gateway_event_intents; e->name.len; e++) {
        if (e->name.len == len && ngx_strncmp(e->name.data, name, len) == 0) {
            return e->intent;
        }
    }

    return 0;
}


/* the encoded event, in the zone, before it has any recipient */

ngx_gateway_blob_t *
ngx_gateway_event_blob_locked(ngx_gateway_zone_t *zone, ngx_gateway_json_t *j)
{
    if (j->error) {
        return NULL;
    }

    return ngx_gateway_blob_create_locked(zone, j->start,
                                          ngx_gateway_json_len(j));
}


/* an event nobody received is freed here; others live in the rings */

void
ngx_gateway_event_done_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_blob_t *blob)
{
    if (blob && blob->refs == 0) {
        ngx_gateway_free_locked(zone, blob);
    }
}


/*
 * One session, if it should see the event: its intents, its shard of the
 * guild (1.11: events without a guild go to shard 0), its subscriptions
 * in a large guild (1.15).  A session whose ring cannot take the event is
 * ended rather than left with a gap (invariant 1).
 */

void
ngx_gateway_publish_session_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_session_t *s, ngx_gateway_publish_t *pub)
{
    ngx_uint_t           i;
    ngx_gateway_blob_t  *blob;

    if (pub->intent && !(s->intents & pub->intent)) {
        return;
    }

    if ((pub->guild_id >> 22) % s->num_shards != s->shard_id) {
        return;
    }

    if (pub->presence_of && pub->guild_members > s->large_threshold
        && !ngx_gateway_presence_subscribed_locked(zone, s, pub->guild_id,
                                                   pub->presence_of))
    {
        return;
    }

    blob = pub->blob;

    if (pub->redacted && !(s->intents & NGX_GATEWAY_INTENT_MESSAGE_CONTENT)) {
        blob = pub->redacted;

        for (i = 0; i < pub->content_users_n; i++) {
            if (pub->content_users[i] == s->user->node.key) {
                blob = pub->blob;
                break;
            }
        }
    }

    if (ngx_gateway_session_dispatch_locked(zone, s, blob) != NGX_OK) {
        ngx_gateway_session_kill_locked(zone, s,
                                        NGX_GATEWAY_CLOSE_UNKNOWN_ERROR);
    }

    ngx_gateway_doorbells_add_locked(pub->doorbells ? pub->doorbells
                                                    : &zone->pending, s);
    pub->delivered++;
}


/* every session of the user that should see the event */

void
ngx_gateway_publish_user_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_user_t *user, ngx_gateway_publish_t *pub)
{
    ngx_queue_t            *q, *next;
    ngx_gateway_session_t  *s;

    if (user == pub->except) {
        return;
    }

    for (q = ngx_queue_head(&user->sessions);
         q != ngx_queue_sentinel(&user->sessions);
         q = next)
    {
        next = ngx_queue_next(q);
        s = ngx_queue_data(q, ngx_gateway_session_t, user_link);

        ngx_gateway_publish_session_locked(zone, s, pub);
    }
}


void
ngx_gateway_publish_guild_locked(ngx_gateway_zone_t *zone,
    ngx_gateway_guild_t *guild, ngx_gateway_publish_t *pub)
{
    ngx_gateway_member_t  *m;

    for (m = ngx_gateway_guild_members_first_locked(zone, guild->node.key);
         m;
         m = ngx_gateway_guild_members_next_locked(zone, m))
    {
        if (!ngx_queue_empty(&m->user->sessions)) {
            ngx_gateway_publish_user_locked(zone, m->user, pub);
        }
    }
}
