
/*
 * Copyright (C) The gateway authors
 */


/*
 * Replays fuzz inputs without libFuzzer (the Janus "standalone engine"
 * pattern): every file named on the command line, or found in a directory
 * named there, goes through LLVMFuzzerTestOneInput() once.  `make test`
 * runs the committed corpora and crash reproducers this way, built with
 * gcc and the address and undefined-behaviour sanitizers.
 */


#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static int  replayed;


static int
replay_file(const char *path)
{
    long     size;
    FILE    *f;
    uint8_t *data;

    f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        perror(path);
        fclose(f);
        return -1;
    }

    /* exactly "size" bytes, so that the sanitizer sees any overread */
    data = malloc(size ? (size_t) size : 1);
    if (data == NULL) {
        fclose(f);
        return -1;
    }

    if (size && fread(data, 1, (size_t) size, f) != (size_t) size) {
        perror(path);
        free(data);
        fclose(f);
        return -1;
    }

    fclose(f);

    LLVMFuzzerTestOneInput(data, (size_t) size);
    replayed++;

    free(data);

    return 0;
}


static int
replay_path(const char *path)
{
    int             rc;
    DIR            *dir;
    char            sub[4096];
    struct stat     st;
    struct dirent  *de;

    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }

    if (!S_ISDIR(st.st_mode)) {
        return replay_file(path);
    }

    dir = opendir(path);
    if (dir == NULL) {
        perror(path);
        return -1;
    }

    rc = 0;

    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }

        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);

        if (replay_path(sub) != 0) {
            rc = -1;
        }
    }

    closedir(dir);

    return rc;
}


int
main(int argc, char **argv)
{
    int  i, rc;

    rc = 0;

    for (i = 1; i < argc; i++) {
        if (replay_path(argv[i]) != 0) {
            rc = 1;
        }
    }

    printf("%s: %d inputs replayed\n", argv[0], replayed);

    return rc;
}
