
/*
 * gwload: a small JSON scanner (RFC 8259), sans-IO and allocation-free.
 *
 * It does not build a tree.  gwload_json_value() finds the extent of one
 * value; containers are skipped by bracket and string matching (escapes
 * honoured, brackets checked for kind, nesting bounded), not validated
 * element by element.  An iterator then walks the members of one object or
 * array, checking commas and colons at that level only.  Strings are not
 * unescaped: keys and values are compared raw.  Malformed or truncated
 * input yields GWLOAD_ERROR, never a read past "end".
 */


#ifndef _GWLOAD_JSON_H_INCLUDED_
#define _GWLOAD_JSON_H_INCLUDED_


/* nesting skipped inside one value at most; deeper input is an error */
#define GWLOAD_JSON_DEPTH           512


typedef enum {
    GWLOAD_JSON_NONE = 0,           /* absent */
    GWLOAD_JSON_NULL,
    GWLOAD_JSON_FALSE,
    GWLOAD_JSON_TRUE,
    GWLOAD_JSON_NUMBER,
    GWLOAD_JSON_STRING,
    GWLOAD_JSON_OBJECT,
    GWLOAD_JSON_ARRAY
} gwload_json_type_e;


/*
 * One value.  A string's start and end exclude the quotes; any other
 * value's start is its first byte and end is one past its last byte.
 */
typedef struct {
    const u_char   *start;
    const u_char   *end;
    uint8_t         type;           /* gwload_json_type_e */
    uint8_t         escaped;        /* a string with backslash escapes */
} gwload_json_t;


/* members of one object, or elements of one array */
typedef struct {
    const u_char   *pos;
    const u_char   *end;
    u_char          close;          /* '}' or ']' */
    uint8_t         first;
} gwload_json_iter_t;


const u_char *gwload_json_value(const u_char *p, const u_char *end,
    gwload_json_t *v);
const u_char *gwload_json_skip_ws(const u_char *p, const u_char *end);

int gwload_json_iter(gwload_json_iter_t *it, gwload_json_t *v,
    const u_char *end);
int gwload_json_next(gwload_json_iter_t *it, gwload_json_t *key,
    gwload_json_t *val);

int gwload_json_int(gwload_json_t *v, int64_t *n);
int gwload_json_uint(const u_char *p, const u_char *end, uint64_t *n);

#define gwload_json_eq(v, s)                                                  \
    ((v)->type == GWLOAD_JSON_STRING                                          \
     && (size_t) ((v)->end - (v)->start) == sizeof(s) - 1                    \
     && memcmp((v)->start, s, sizeof(s) - 1) == 0)


#endif /* _GWLOAD_JSON_H_INCLUDED_ */
