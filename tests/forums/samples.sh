#!/usr/bin/env bash
# Refreshes tests/forums/<engine>/samples/ from the forums ci.sh started (run it right
# after ci.sh, before any add_reply): the forum index, the first board's thread list, the
# long thread's first and last pages, the thread with the moved post and the moved thread. The pages are
# saved as served (the port and CSRF tokens of that run included), gzipped (`zcat` to read).
source "$(dirname "$0")/lib.sh"
[ -f "$GOMTIN_FORUMS/env" ] || die "no $GOMTIN_FORUMS/env: run ci.sh first"
set -a
# shellcheck source=/dev/null
source "$GOMTIN_FORUMS/env"
set +a
for e in flaskbb spirit; do
    E="$(printf '%s' "$e" | tr '[:lower:]' '[:upper:]')"
    url_var="GOMTIN_FORUM_${E}_URL"
    manifest_var="GOMTIN_FORUM_${E}_MANIFEST"
    python3 - "${!url_var}" "${!manifest_var}" "$FORUMS_DIR/$e/samples" <<'PY'
import gzip, json, os, sys, urllib.request
base, manifest, out = sys.argv[1], sys.argv[2], sys.argv[3]
m = json.load(open(manifest, encoding="utf-8"))
thread = {t["key"]: t for t in m["threads"]}
long = thread[m["reply_thread"]]
pages = {
    "index.html": m["index_url"],
    "board.html": m["boards"][0]["url"],
    "thread-page1.html": long["page_urls"][0],
    "thread-last.html": long["page_urls"][-1],
    "thread-moved-post.html": thread["cho-phien"]["url"],
    "thread-moved-topic.html": thread["xe-buyt"]["url"],
}
os.makedirs(out, exist_ok=True)
for name, path in pages.items():
    with urllib.request.urlopen(base + path, timeout=20) as r:
        body = r.read()
    # Stored gzipped: they are reference pages, not code (and not counted as such).
    with gzip.open(os.path.join(out, name + ".gz"), "wb", mtime=0) as f:
        f.write(body)
    print(f"[forums] {m['engine']}: {name} <- {path} ({len(body)} bytes)")
PY
done
