package Test::Gateway::Fixture;

# Shared fixtures of the gateway protocol tests (t/05x): a default
# http_config with a zone and known secrets, tokens minted offline with
# the contract's format, and placeholders in ws_script:
#
#   @token(ID)@          a valid token for user ID (secret t-token-secret)
#   @token(ID,SECRET)@   the same, signed with another secret
#
# use Test::Gateway::Fixture; gateway_fixture(); run_tests();

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);
use Test::Gateway;

use Exporter 'import';
our @EXPORT = qw(gateway_fixture gateway_token $TOKEN_SECRET $ADMIN_SECRET);

our $TOKEN_SECRET = 't-token-secret';
our $ADMIN_SECRET = 't-admin-secret';

# tests identify the same users back to back: the identify interval (one
# Identify per bucket per 5 s) is off unless a test turns it on
our $HTTP_CONFIG = <<"CONF";
gateway_zone zone=gateway:16m;
gateway_token_secret "$TOKEN_SECRET";
gateway_admin_secret "$ADMIN_SECRET";
gateway_identify_interval 0;
CONF


# base64url(user_id) "." base64url(issued_at) "." base64url(HMAC-SHA256)
sub gateway_token {
    my ($id, $secret) = @_;
    $secret //= $TOKEN_SECRET;
    my $head = encode_base64url("$id") . '.' . encode_base64url('1700000000');
    return $head . '.' . encode_base64url(hmac_sha256($head, $secret));
}


sub gateway_fixture {
    add_block_preprocessor(sub {
        my $block = shift;

        unless (defined $block->http_config) {
            $block->set_value(http_config => $HTTP_CONFIG);
        }

        if (defined $block->ws_script) {
            my $s = $block->ws_script;
            $s =~ s/\@token\((\d+)(?:,([^)]+))?\)\@/gateway_token($1, $2)/ge;
            $block->set_value(ws_script => $s);
        }
    });
}

1;
