
/*
 * Copyright (C) The gateway authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_gateway.h"


/*
 * The publish paths of the REST subset (shared/CONTRACT.md):
 *
 *   POST /api/v10/channels/{id}/messages  -> MESSAGE_CREATE
 *   POST /api/v10/channels/{id}/typing    -> TYPING_START
 *
 * The author is the token's user and must be a member of the channel's
 * guild.  MESSAGE_CREATE is encoded twice, once in full and once with
 * content, embeds, attachments and components emptied for the sessions
 * without MESSAGE_CONTENT that are neither the author nor mentioned
 * (shared/PROTOCOL.md 1.10); each recipient's ring references one of the
 * two.
 */

/* Discord's limits on a message */
#define NGX_GATEWAY_MESSAGE_MAX_CHARS    2000
#define NGX_GATEWAY_MESSAGE_MAX_EMBEDS   10
#define NGX_GATEWAY_MESSAGE_MAX_MENTIONS 100
#define NGX_GATEWAY_NONCE_MAX_LEN        25

/* Discord's error codes */
#define NGX_GATEWAY_ERR_EMPTY_MESSAGE    50006
#define NGX_GATEWAY_ERR_NON_TEXT_CHANNEL 50008

#define NGX_GATEWAY_CHANNEL_CATEGORY     4


typedef struct {
    uint64_t                   id;
    uint64_t                   guild_id;
    ngx_gateway_channel_t     *channel;
    ngx_gateway_member_t      *author;
    ngx_str_t                  content;
    ngx_str_t                  embeds;        /* JSON, or empty */
    ngx_str_t                  nonce;         /* JSON, or empty */
    ngx_uint_t                 tts;
    /* and one more for the author */
    uint64_t                   mention_ids[NGX_GATEWAY_MESSAGE_MAX_MENTIONS
                                           + 1];
    ngx_uint_t                 mention_ids_n;
    ngx_gateway_member_t      *mentions[NGX_GATEWAY_MESSAGE_MAX_MENTIONS];
    ngx_uint_t                 mentions_n;
} ngx_gateway_message_t;


/* a refused request, answered once everything is released */
typedef struct {
    ngx_uint_t                 status;
    ngx_uint_t                 code;
    u_char                     message[192];
    u_char                     detail[128];
} ngx_gateway_rest_error_t;


static ngx_int_t ngx_gateway_message_parse(ngx_http_request_t *r,
    ngx_str_t *body, json_t **root, ngx_gateway_message_t *msg,
    ngx_gateway_rest_error_t *e);
static ngx_int_t ngx_gateway_rest_invalid(ngx_gateway_rest_error_t *e,
    ngx_uint_t code, const char *fmt, ...);
static ngx_int_t ngx_gateway_rest_internal(ngx_gateway_rest_error_t *e);
static ngx_int_t ngx_gateway_rest_error_send(ngx_http_request_t *r,
    ngx_gateway_rest_error_t *e);
static void ngx_gateway_message_mentions(ngx_gateway_message_t *msg);
static ngx_int_t ngx_gateway_channel_access_locked(ngx_gateway_zone_t *zone,
    uint64_t channel_id, uint64_t user_id, ngx_gateway_channel_t **ch,
    ngx_gateway_member_t **m);
static ngx_int_t ngx_gateway_channel_error(ngx_http_request_t *r,
    ngx_int_t status);
static void ngx_gateway_encode_message(ngx_gateway_json_t *j,
    ngx_gateway_message_t *msg, ngx_uint_t dispatch, ngx_uint_t redacted);


/* POST /channels/{id}/messages */

ngx_int_t
ngx_gateway_rest_message_create(ngx_http_request_t *r, ngx_str_t *cid,
    ngx_str_t *body)
{
    json_t                 *root;
    uint64_t                user_id, channel_id;
    ngx_int_t               rc;
    ngx_uint_t              i;
    ngx_gateway_json_t      full, redacted, reply;
    ngx_gateway_zone_t     *zone;
    ngx_gateway_message_t     msg;
    ngx_gateway_publish_t     pub;
    ngx_gateway_rest_error_t  e;

    if (ngx_gateway_http_user(r, &user_id) != NGX_OK) {
        return ngx_gateway_http_error(r, NGX_HTTP_UNAUTHORIZED,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "401: Unauthorized");
    }

    if (ngx_gateway_parse_snowflake(cid->data, cid->len, &channel_id)
        != NGX_OK)
    {
        return ngx_gateway_channel_error(r, NGX_HTTP_NOT_FOUND);
    }

    ngx_memzero(&msg, sizeof(ngx_gateway_message_t));
    root = NULL;

    if (ngx_gateway_message_parse(r, body, &root, &msg, &e) != NGX_OK) {
        if (root) {
            json_decref(root);
        }

        return ngx_gateway_rest_error_send(r, &e);
    }

    if (ngx_gateway_json_init(&full, 1024 + msg.content.len * 2
                                     + msg.embeds.len,
                              r->connection->log)
        != NGX_OK)
    {
        json_decref(root);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_gateway_json_init(&redacted, 1024, r->connection->log) != NGX_OK
        || ngx_gateway_json_init(&reply, 1024 + msg.content.len * 2
                                         + msg.embeds.len,
                                 r->connection->log)
           != NGX_OK)
    {
        ngx_gateway_json_free(&full);
        ngx_gateway_json_free(&redacted);
        json_decref(root);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    zone = ngx_gateway_zone_get(ngx_http_get_module_main_conf(r,
                                                     ngx_gateway_module));

    ngx_memzero(&pub, sizeof(ngx_gateway_publish_t));

    ngx_gateway_lock(zone);

    rc = ngx_gateway_channel_access_locked(zone, channel_id, user_id,
                                           &msg.channel, &msg.author);

    if (rc == NGX_OK && msg.channel->type == NGX_GATEWAY_CHANNEL_CATEGORY) {
        rc = NGX_HTTP_BAD_REQUEST;
    }

    if (rc != NGX_OK) {
        ngx_gateway_unlock(zone);

        json_decref(root);
        ngx_gateway_json_free(&full);
        ngx_gateway_json_free(&redacted);
        ngx_gateway_json_free(&reply);

        return ngx_gateway_channel_error(r, rc);
    }

    msg.guild_id = msg.channel->guild->node.key;
    msg.id = ngx_gateway_snowflake_locked(zone, 0);

    /* only members of the guild count as mentioned */

    for (i = 0; i < msg.mention_ids_n; i++) {
        msg.mentions[msg.mentions_n] =
            ngx_gateway_member_lookup_locked(zone, msg.guild_id,
                                             msg.mention_ids[i]);

        if (msg.mentions[msg.mentions_n]) {
            msg.mentions_n++;
        }
    }

    ngx_gateway_encode_message(&full, &msg, 1, 0);
    ngx_gateway_encode_message(&redacted, &msg, 1, 1);
    ngx_gateway_encode_message(&reply, &msg, 0, 0);

    /* the author and those mentioned see the content anyway (1.10) */

    for (i = 0; i < msg.mentions_n; i++) {
        msg.mention_ids[i] = msg.mentions[i]->user->node.key;
    }

    msg.mention_ids[msg.mentions_n] = user_id;

    pub.blob = ngx_gateway_event_blob_locked(zone, &full);
    pub.redacted = ngx_gateway_event_blob_locked(zone, &redacted);
    pub.content_users = msg.mention_ids;
    pub.content_users_n = msg.mentions_n + 1;
    pub.guild_id = msg.guild_id;
    pub.intent = NGX_GATEWAY_INTENT_GUILD_MESSAGES;

    if (pub.blob && pub.redacted) {
        ngx_gateway_publish_guild_locked(zone, msg.channel->guild, &pub);
    }

    ngx_gateway_event_done_locked(zone, pub.blob);
    ngx_gateway_event_done_locked(zone, pub.redacted);

    ngx_gateway_unlock(zone);

    json_decref(root);
    ngx_gateway_json_free(&full);
    ngx_gateway_json_free(&redacted);

    if (pub.blob == NULL || pub.redacted == NULL || reply.error) {
        ngx_gateway_json_free(&reply);
        return ngx_gateway_http_error(r,
                                      NGX_GATEWAY_HTTP_INSUFFICIENT_STORAGE,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "507: shared memory zone is full");
    }

    return ngx_gateway_http_send(r, NGX_HTTP_OK, &reply);
}


/*
 * {"content": "...", "tts"?: bool, "nonce"?: string|int, "embeds"?: [...]}:
 * content of at most 2000 characters; a message needs content or embeds.
 */

static ngx_int_t
ngx_gateway_message_parse(ngx_http_request_t *r, ngx_str_t *body,
    json_t **root, ngx_gateway_message_t *msg, ngx_gateway_rest_error_t *e)
{
    u_char  *p;
    json_t  *v;

    *root = ngx_gateway_json_parse(body->data, body->len, e->detail,
                                   sizeof(e->detail));

    if (*root == NULL) {
        return ngx_gateway_rest_invalid(e, NGX_GATEWAY_ERR_INVALID_BODY,
                                        "Invalid Form Body: %s", e->detail);
    }

    v = json_object_get(*root, "content");

    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) {
            goto invalid_content;
        }

        msg->content.data = (u_char *) json_string_value(v);
        msg->content.len = json_string_length(v);

        if (ngx_gateway_utf8_chars(msg->content.data, msg->content.len)
            > NGX_GATEWAY_MESSAGE_MAX_CHARS)
        {
            return ngx_gateway_rest_invalid(e, NGX_GATEWAY_ERR_INVALID_BODY,
                                  "Invalid Form Body: content: Must "
                                  "be 2000 or fewer in length.");
        }
    }

    v = json_object_get(*root, "tts");

    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v)) {
            return ngx_gateway_rest_invalid(e, NGX_GATEWAY_ERR_INVALID_BODY,
                                  "Invalid Form Body: tts: Must be "
                                  "either true or false.");
        }

        msg->tts = json_is_true(v);
    }

    v = json_object_get(*root, "nonce");

    if (v && !json_is_null(v)) {
        if (!((json_is_string(v)
               && ngx_gateway_utf8_chars((u_char *) json_string_value(v),
                                         json_string_length(v))
                  <= NGX_GATEWAY_NONCE_MAX_LEN)
              || json_is_integer(v)))
        {
            return ngx_gateway_rest_invalid(e, NGX_GATEWAY_ERR_INVALID_BODY,
                                  "Invalid Form Body: nonce: Must "
                                  "be an integer or a string of at "
                                  "most 25 characters.");
        }

        p = (u_char *) json_dumps(v, JSON_COMPACT|JSON_ENCODE_ANY);
        if (p == NULL) {
            return ngx_gateway_rest_internal(e);
        }

        msg->nonce.len = ngx_strlen(p);
        msg->nonce.data = ngx_pnalloc(r->pool, msg->nonce.len);

        if (msg->nonce.data == NULL) {
            free(p);
            return ngx_gateway_rest_internal(e);
        }

        ngx_memcpy(msg->nonce.data, p, msg->nonce.len);
        free(p);
    }

    v = json_object_get(*root, "embeds");

    if (v && !json_is_null(v)) {
        if (!json_is_array(v)
            || json_array_size(v) > NGX_GATEWAY_MESSAGE_MAX_EMBEDS)
        {
            return ngx_gateway_rest_invalid(e, NGX_GATEWAY_ERR_INVALID_BODY,
                                  "Invalid Form Body: embeds: Must "
                                  "be an array of at most 10 "
                                  "embeds.");
        }

        if (json_array_size(v)) {
            p = (u_char *) json_dumps(v, JSON_COMPACT);
            if (p == NULL) {
                return ngx_gateway_rest_internal(e);
            }

            msg->embeds.len = ngx_strlen(p);
            msg->embeds.data = ngx_pnalloc(r->pool, msg->embeds.len);

            if (msg->embeds.data == NULL) {
                free(p);
                return ngx_gateway_rest_internal(e);
            }

            ngx_memcpy(msg->embeds.data, p, msg->embeds.len);
            free(p);
        }
    }

    if (msg->content.len == 0 && msg->embeds.len == 0) {
        return ngx_gateway_rest_invalid(e, NGX_GATEWAY_ERR_EMPTY_MESSAGE,
                                        "Cannot send an empty message");
    }

    ngx_gateway_message_mentions(msg);

    return NGX_OK;

invalid_content:

    return ngx_gateway_rest_invalid(e, NGX_GATEWAY_ERR_INVALID_BODY,
                                    "Invalid Form Body: content: Must be a "
                                    "string.");
}


/* user mentions in the content: <@id> and the older <@!id>, once each */

static void
ngx_gateway_message_mentions(ngx_gateway_message_t *msg)
{
    u_char      *p, *last, *start;
    uint64_t     id;
    ngx_uint_t   i;

    p = msg->content.data;
    last = p + msg->content.len;

    while (p < last && msg->mention_ids_n < NGX_GATEWAY_MESSAGE_MAX_MENTIONS)
    {
        p = ngx_strlchr(p, last, '<');

        if (p == NULL) {
            break;
        }

        p++;

        if (p + 1 >= last || *p != '@') {
            continue;
        }

        p++;

        if (*p == '!') {
            p++;
        }

        start = p;

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }

        if (p == last || *p != '>'
            || ngx_gateway_parse_snowflake(start, p - start, &id) != NGX_OK)
        {
            continue;
        }

        for (i = 0; i < msg->mention_ids_n; i++) {
            if (msg->mention_ids[i] == id) {
                break;
            }
        }

        if (i == msg->mention_ids_n) {
            msg->mention_ids[msg->mention_ids_n++] = id;
        }
    }
}


/* POST /channels/{id}/typing: TYPING_START to the guild, 204 */

ngx_int_t
ngx_gateway_rest_typing(ngx_http_request_t *r, ngx_str_t *cid)
{
    uint64_t                user_id, channel_id;
    ngx_int_t               rc;
    ngx_gateway_json_t      j;
    ngx_gateway_zone_t     *zone;
    ngx_gateway_member_t   *m;
    ngx_gateway_channel_t  *ch;
    ngx_gateway_publish_t   pub;

    if (ngx_gateway_http_user(r, &user_id) != NGX_OK) {
        return ngx_gateway_http_error(r, NGX_HTTP_UNAUTHORIZED,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "401: Unauthorized");
    }

    if (ngx_gateway_parse_snowflake(cid->data, cid->len, &channel_id)
        != NGX_OK)
    {
        return ngx_gateway_channel_error(r, NGX_HTTP_NOT_FOUND);
    }

    if (ngx_gateway_json_init(&j, 512, r->connection->log) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    zone = ngx_gateway_zone_get(ngx_http_get_module_main_conf(r,
                                                     ngx_gateway_module));

    ngx_memzero(&pub, sizeof(ngx_gateway_publish_t));

    ngx_gateway_lock(zone);

    rc = ngx_gateway_channel_access_locked(zone, channel_id, user_id,
                                           &ch, &m);

    if (rc != NGX_OK) {
        ngx_gateway_unlock(zone);
        ngx_gateway_json_free(&j);
        return ngx_gateway_channel_error(r, rc);
    }

    /* 1.16: {channel_id, guild_id, user_id, timestamp, member} */

    ngx_gateway_encode_dispatch(&j, "TYPING_START");
    ngx_gateway_json_lit(&j, "{\"channel_id\":");
    ngx_gateway_json_id(&j, channel_id);
    ngx_gateway_json_lit(&j, ",\"guild_id\":");
    ngx_gateway_json_id(&j, ch->guild->node.key);
    ngx_gateway_json_lit(&j, ",\"user_id\":");
    ngx_gateway_json_id(&j, user_id);
    ngx_gateway_json_lit(&j, ",\"timestamp\":");
    ngx_gateway_json_uint(&j, ngx_time());
    ngx_gateway_json_lit(&j, ",\"member\":");
    ngx_gateway_encode_member(&j, m, 1);
    ngx_gateway_json_lit(&j, "}}");

    pub.blob = ngx_gateway_event_blob_locked(zone, &j);
    pub.guild_id = ch->guild->node.key;
    pub.intent = NGX_GATEWAY_INTENT_GUILD_MESSAGE_TYPING;

    if (pub.blob) {
        ngx_gateway_publish_guild_locked(zone, ch->guild, &pub);
        ngx_gateway_event_done_locked(zone, pub.blob);
    }

    ngx_gateway_unlock(zone);

    ngx_gateway_json_free(&j);

    if (pub.blob == NULL) {
        return ngx_gateway_http_error(r,
                                      NGX_GATEWAY_HTTP_INSUFFICIENT_STORAGE,
                                      NGX_GATEWAY_ERR_GENERAL,
                                      "507: shared memory zone is full");
    }

    return ngx_gateway_http_status(r, NGX_HTTP_NO_CONTENT);
}


static ngx_int_t
ngx_gateway_rest_invalid(ngx_gateway_rest_error_t *e, ngx_uint_t code,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    e->status = NGX_HTTP_BAD_REQUEST;
    e->code = code;

    va_start(args, fmt);
    p = ngx_vslprintf(e->message, e->message + sizeof(e->message) - 1, fmt,
                      args);
    va_end(args);

    *p = '\0';

    return NGX_ERROR;
}


static ngx_int_t
ngx_gateway_rest_internal(ngx_gateway_rest_error_t *e)
{
    e->status = NGX_HTTP_INTERNAL_SERVER_ERROR;

    return NGX_ERROR;
}


static ngx_int_t
ngx_gateway_rest_error_send(ngx_http_request_t *r,
    ngx_gateway_rest_error_t *e)
{
    if (e->status == NGX_HTTP_INTERNAL_SERVER_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_gateway_http_error(r, e->status, e->code, "%s", e->message);
}


/*
 * The channel, and the user's membership of its guild: NGX_OK, or the
 * HTTP status to answer with once the zone is unlocked.
 */

static ngx_int_t
ngx_gateway_channel_access_locked(ngx_gateway_zone_t *zone,
    uint64_t channel_id, uint64_t user_id, ngx_gateway_channel_t **ch,
    ngx_gateway_member_t **m)
{
    *ch = ngx_gateway_channel_lookup_locked(zone, channel_id);

    if (*ch == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    *m = ngx_gateway_member_lookup_locked(zone, (*ch)->guild->node.key,
                                          user_id);

    return (*m == NULL) ? NGX_HTTP_FORBIDDEN : NGX_OK;
}


static ngx_int_t
ngx_gateway_channel_error(ngx_http_request_t *r, ngx_int_t status)
{
    switch (status) {

    case NGX_HTTP_NOT_FOUND:
        return ngx_gateway_http_error(r, NGX_HTTP_NOT_FOUND,
                                      NGX_GATEWAY_ERR_UNKNOWN_CHANNEL,
                                      "Unknown Channel");

    case NGX_HTTP_FORBIDDEN:
        return ngx_gateway_http_error(r, NGX_HTTP_FORBIDDEN,
                                      NGX_GATEWAY_ERR_MISSING_ACCESS,
                                      "Missing Access");

    default:
        return ngx_gateway_http_error(r, NGX_HTTP_BAD_REQUEST,
                                      NGX_GATEWAY_ERR_NON_TEXT_CHANNEL,
                                      "Cannot send messages in a non-text "
                                      "channel");
    }
}


/*
 * The message object (1.16); the dispatch adds guild_id and the author's
 * member, and a member to each mention.  "redacted": as seen without
 * MESSAGE_CONTENT.
 */

static void
ngx_gateway_encode_message(ngx_gateway_json_t *j, ngx_gateway_message_t *msg,
    ngx_uint_t dispatch, ngx_uint_t redacted)
{
    ngx_uint_t             i;
    ngx_gateway_member_t  *m;

    if (dispatch) {
        ngx_gateway_encode_dispatch(j, "MESSAGE_CREATE");
    }

    ngx_gateway_json_lit(j, "{\"id\":");
    ngx_gateway_json_id(j, msg->id);
    ngx_gateway_json_lit(j, ",\"channel_id\":");
    ngx_gateway_json_id(j, msg->channel->node.key);

    if (dispatch) {
        ngx_gateway_json_lit(j, ",\"guild_id\":");
        ngx_gateway_json_id(j, msg->guild_id);
    }

    ngx_gateway_json_lit(j, ",\"author\":");
    ngx_gateway_encode_user(j, msg->author->user, 0);

    if (dispatch) {
        ngx_gateway_json_lit(j, ",\"member\":");
        ngx_gateway_encode_member(j, msg->author, 0);
    }

    ngx_gateway_json_lit(j, ",\"content\":");

    if (redacted) {
        ngx_gateway_json_lit(j, "\"\"");

    } else {
        ngx_gateway_json_str(j, msg->content.data, msg->content.len);
    }

    ngx_gateway_json_lit(j, ",\"timestamp\":");
    ngx_gateway_json_time_ms(j, ngx_gateway_snowflake_ms(msg->id));
    ngx_gateway_json_lit(j, ",\"edited_timestamp\":null,\"tts\":");
    ngx_gateway_json_bool(j, msg->tts);
    ngx_gateway_json_lit(j, ",\"mention_everyone\":false,\"mentions\":[");

    for (i = 0; i < msg->mentions_n; i++) {
        m = msg->mentions[i];

        if (i) {
            ngx_gateway_json_lit(j, ",");
        }

        ngx_gateway_encode_user(j, m->user, 0);

        if (dispatch && !j->error) {

            /* {...user, "member": {...}}: reopen the user object */

            j->pos--;
            ngx_gateway_json_lit(j, ",\"member\":");
            ngx_gateway_encode_member(j, m, 0);
            ngx_gateway_json_lit(j, "}");
        }
    }

    ngx_gateway_json_lit(j, "],\"mention_roles\":[],\"attachments\":[],"
                            "\"embeds\":");

    if (redacted || msg->embeds.len == 0) {
        ngx_gateway_json_lit(j, "[]");

    } else {
        ngx_gateway_json_raw(j, msg->embeds.data, msg->embeds.len);
    }

    ngx_gateway_json_lit(j, ",\"components\":[],\"pinned\":false,\"type\":0,"
                            "\"flags\":0");

    if (msg->nonce.len) {
        ngx_gateway_json_lit(j, ",\"nonce\":");
        ngx_gateway_json_raw(j, msg->nonce.data, msg->nonce.len);
    }

    ngx_gateway_json_lit(j, "}");

    if (dispatch) {
        ngx_gateway_json_lit(j, "}");
    }
}
