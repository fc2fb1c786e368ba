#!/bin/bash
# Configure an nginx source tree for building this repository's dynamic
# modules so that they load into the installed nginx.
#
#   tools/configure-nginx.sh NGINX_SRC BUILD_DIR REPO_DIR
#
# NGINX_SRC is Debian's nginx-dev tree (/usr/share/nginx/src, headers and
# build scripts only) or a full nginx source.  Debian records the exact
# configure flags of /usr/sbin/nginx in conf_flags; modules built with the
# same flags (and --with-compat) carry the same binary signature.  For any
# other source tree the flags come from NGINX_CONFIGURE_FLAGS, or from
# `nginx -V` of NGINX_BIN when that is set.
set -euo pipefail

src=$1
build=$2
repo=$3

if [ ! -x "$src/configure" ]; then
    echo "configure-nginx: $src is not an nginx source tree" \
         "(install nginx-dev, or set NGINX_SRC)" >&2
    exit 1
fi

rm -rf "$build"
mkdir -p "$build"
cp -a "$src"/. "$build"/
cd "$build"

flags=()

if [ -n "${NGINX_CONFIGURE_FLAGS:-}" ]; then
    eval "flags=($NGINX_CONFIGURE_FLAGS)"
elif [ -f conf_flags ]; then
    # shellcheck disable=SC1091
    source ./conf_flags
    flags=("${NGX_CONF_FLAGS[@]}")
elif [ -n "${NGINX_BIN:-}" ]; then
    args=$("$NGINX_BIN" -V 2>&1 | sed -n 's/^configure arguments: //p')
    eval "flags=($args)"
    # drop modules that are not part of this tree's build of ours
    kept=()
    for f in "${flags[@]}"; do
        case "$f" in
            --add-module=*|--add-dynamic-module=*|--with-*=dynamic) ;;
            *) kept+=("$f") ;;
        esac
    done
    flags=("${kept[@]}")
else
    flags=(--with-compat --with-http_ssl_module --with-threads)
fi

cc_opt="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
cc_opt="$cc_opt -fPIC -D_FORTIFY_SOURCE=2 ${NGINX_EXTRA_CC_OPT:-}"

./configure "${flags[@]}" \
    --with-cc-opt="$cc_opt" \
    --with-ld-opt="-Wl,-z,relro -Wl,-z,now -fPIC" \
    --add-dynamic-module="$repo"
