"""Checks a running forum against its manifest: verify.py MANIFEST BASE_URL.

For every thread page in the manifest: the page answers 200, lists exactly the expected
posts in order (found with the manifest's verify.post_anchor_regex), and shows each post's
text and author. The board pages list their threads newest activity first, and every post
permalink redirects to the page and anchor the manifest gives. Standard library only; exits
non-zero with one line per problem, so ci.sh fails loudly when the seed and the pages
disagree.
"""

import html
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def fetch(url):
    with urllib.request.urlopen(url, timeout=20) as r:
        return r.status, r.read().decode("utf-8")


def location(url):
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(url, timeout=20)
    except urllib.error.HTTPError as e:
        if e.code in (301, 302, 303, 307, 308):
            return e.headers["Location"]
        raise
    return None


def squash(text):
    return " ".join(text.split())


def main(manifest_path, base):
    m = json.load(open(manifest_path, encoding="utf-8"))
    pattern = re.compile(m["verify"]["post_anchor_regex"])
    problems = []
    pages_seen = posts_seen = 0

    for t in m["threads"]:
        for number, page_url in enumerate(t["page_urls"], start=1):
            status, body = fetch(base + page_url)
            pages_seen += 1
            if status != 200:
                problems.append(f"{t['key']} page {number}: HTTP {status}")
                continue
            found = [int(x) for x in pattern.findall(body)]
            want = [p["id"] for p in t["posts"] if p["page"] == number]
            if found != want:
                problems.append(f"{t['key']} page {number}: posts {found}, expected {want}")
            text = squash(html.unescape(re.sub(r"<[^>]+>", " ", body)))
            for p in t["posts"]:
                if p["page"] != number:
                    continue
                posts_seen += 1
                for paragraph in p["text"].split("\n\n"):
                    if squash(paragraph) not in text:
                        problems.append(f"{p['key']}: text not on page {number}: {paragraph[:40]}")
                if p["author"] not in text:
                    problems.append(f"{p['key']}: author {p['author']} not on page {number}")
        if t["title"] not in html.unescape(fetch(base + t["url"])[1]):
            problems.append(f"{t['key']}: title not on the thread page")

    for b in m["boards"]:
        status, body = fetch(base + b["url"])
        order = []
        for href in re.findall(r'href="([^"]+)"', body):
            for t in m["threads"]:
                if href == t["url"] and t["key"] not in order:
                    order.append(t["key"])
        if order != b["threads"]:
            problems.append(f"board {b['key']}: threads {order}, expected {b['threads']}")

    for t in m["threads"]:
        for p in t["posts"]:
            target = location(base + p["permalink"])
            if target is None:
                problems.append(f"{p['key']}: permalink {p['permalink']} does not redirect")
                continue
            target = urllib.parse.urljoin(base + p["permalink"], target)
            if target != base + p["url"]:
                problems.append(f"{p['key']}: permalink goes to {target}, expected {p['url']}")

    if problems:
        for line in problems:
            print(f"[verify {m['engine']}] {line}", file=sys.stderr)
        sys.exit(1)
    print(
        f"[verify {m['engine']}] ok: {len(m['threads'])} threads, {pages_seen} pages, "
        f"{posts_seen} posts, {len(m['boards'])} boards, permalinks resolve"
    )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2].rstrip("/"))
