#!/usr/bin/env bash
# wstest from the crossbario/autobahn-testsuite image (Autobahn|Testsuite 0.8.2), for machines
# without Python 2.7:  WSTEST=tests/websocket/autobahn/wstest-docker.sh pytest -m autobahn
# The client reaches the server on the host's 127.0.0.1 (host network) and reads the spec and
# writes its reports in the temporary directory, which is shared with the container under the
# same path and written as the calling user, so pytest can clean it up.
set -euo pipefail
tmp="${TMPDIR:-/tmp}"
exec docker run --rm --network host --user "$(id -u):$(id -g)" \
    -v "$tmp:$tmp" -e "TMPDIR=$tmp" -w "$PWD" \
    "${AUTOBAHN_IMAGE:-crossbario/autobahn-testsuite:0.8.2}" wstest "$@"
