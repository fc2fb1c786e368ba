#!/usr/bin/python3
"""Gateway tokens (docs/API.md, Tokens), independently of gwctl's C code.

    base64url(user_id) "." base64url(issued_at) "."
    base64url(HMAC-SHA256(secret, part1 "." part2))

base64url is RFC 4648 section 5 without padding; the MAC covers the first
two parts exactly as they appear in the token and is compared in constant
time.  Used by mock_admin.py and, as a command, by run.sh:

    gwtoken.py mint SECRET_FILE USER_ID ISSUED_AT
    gwtoken.py verify SECRET_FILE [--max-age S] [--ids FILE] < TOKENS
        one token a line; prints "USER_ID ISSUED_AT" a line; exit 1 on the
        first bad token (--ids: the expected user ids, one a line)
"""

import base64
import hashlib
import hmac
import re
import sys
import time

SNOWFLAKE = re.compile(r"[1-9][0-9]{0,19}\Z")
B64URL = re.compile(r"[A-Za-z0-9_-]+\Z")


def is_snowflake(s):
    return (isinstance(s, str) and SNOWFLAKE.match(s) is not None
            and int(s) <= 0xFFFFFFFFFFFFFFFF)


def read_secret(path):
    """The file's content; trailing whitespace (a newline) is dropped."""
    with open(path, "rb") as f:
        return f.read().rstrip()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(s):
    if not B64URL.match(s) or len(s) % 4 == 1:
        raise ValueError("not unpadded base64url")
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    if b64url(raw) != s:
        raise ValueError("not canonical base64url")
    return raw


def mint(secret, user_id, issued_at):
    signed = b64url(user_id.encode()) + "." + b64url(str(issued_at).encode())
    mac = hmac.new(secret, signed.encode("ascii"), hashlib.sha256).digest()
    return signed + "." + b64url(mac)


def verify(secret, token):
    """(user_id, issued_at) of a valid token; raises ValueError."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not three parts")
    user_id = unb64url(parts[0]).decode("ascii")
    issued = unb64url(parts[1]).decode("ascii")
    mac = unb64url(parts[2])
    if not is_snowflake(user_id):
        raise ValueError("user id is not a snowflake")
    if not re.match(r"(0|[1-9][0-9]{0,19})\Z", issued):
        raise ValueError("issued_at is not a decimal")
    signed = (parts[0] + "." + parts[1]).encode("ascii")
    want = hmac.new(secret, signed, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, want):
        raise ValueError("bad MAC")
    return user_id, int(issued)


def main(argv):
    if len(argv) == 5 and argv[1] == "mint":
        print(mint(read_secret(argv[2]), argv[3], int(argv[4])))
        return 0

    if len(argv) >= 3 and argv[1] == "verify":
        secret = read_secret(argv[2])
        max_age = None
        ids = None
        args = argv[3:]
        while args:
            if args[0] == "--max-age":
                max_age = int(args[1])
            elif args[0] == "--ids":
                with open(args[1]) as f:
                    ids = [line.strip() for line in f]
            else:
                print("unknown argument", args[0], file=sys.stderr)
                return 2
            args = args[2:]
        n = 0
        now = time.time()
        for n, line in enumerate(sys.stdin, 1):
            token = line.rstrip("\n")
            try:
                uid, at = verify(secret, token)
            except (ValueError, UnicodeDecodeError) as e:
                print("line %d: %r: %s" % (n, token, e), file=sys.stderr)
                return 1
            if max_age is not None and abs(now - at) > max_age:
                print("line %d: issued_at %d is not now" % (n, at),
                      file=sys.stderr)
                return 1
            if ids is not None and (n > len(ids) or ids[n - 1] != uid):
                print("line %d: user %s, expected %s"
                      % (n, uid, ids[n - 1] if n <= len(ids) else "none"),
                      file=sys.stderr)
                return 1
            print(uid, at)
        if ids is not None and n != len(ids):
            print("%d tokens for %d ids" % (n, len(ids)), file=sys.stderr)
            return 1
        return 0

    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
