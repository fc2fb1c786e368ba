
/*
 * gwload: the table of protocols.  A new protocol is one more file that
 * defines a gwload_proto_t and one more line here.
 */


#include "gwload.h"


static const gwload_proto_t  *gwload_protos[] = {
    &gwload_proto_ws,
    &gwload_proto_gateway,
    NULL
};


const gwload_proto_t *
gwload_proto_find(const char *name)
{
    size_t  i;

    for (i = 0; gwload_protos[i]; i++) {
        if (strcmp(gwload_protos[i]->name, name) == 0) {
            return gwload_protos[i];
        }
    }

    return NULL;
}


void
gwload_proto_list(FILE *f)
{
    size_t  i;

    for (i = 0; gwload_protos[i]; i++) {
        fprintf(f, "%s%s", i ? ", " : "", gwload_protos[i]->name);
    }
}
