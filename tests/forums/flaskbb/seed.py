"""Seeds FlaskBB with the shared Vietnamese content (../content.py) through FlaskBB's models.

    seed.py seed OUT.json          fresh database, content, manifest written to OUT.json
    seed.py add-reply THREAD TEXT  one more reply (now) at the end of THREAD (a thread key
                                   from content.py or a topic id); prints the new post as JSON

Run with the FlaskBB venv's python and FLASKBB_HOME set (seed.sh and add_reply.sh do both).
Posts are written with FlaskBB's own Topic.save/Post.save, quotes with FlaskBB's
format_quote (the markup its "quote" button produces), edits the way its edit form does
(date_modified, modified_by), and the misplaced thread is moved with Topic.move. FlaskBB
cannot move a single post to another topic, so the post that content.py moves is written in
its final thread here (its manifest entry says moved_from: null).
"""

import json
import os
import sys
from datetime import timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import content as C  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flaskbb import create_app  # noqa: E402
from flaskbb.extensions import db  # noqa: E402
from flaskbb.forum.models import Category, Forum, Post, Topic  # noqa: E402
from flaskbb.settings import Setting  # noqa: E402
from flaskbb.user.models import User  # noqa: E402
from flaskbb.utils.helpers import format_quote  # noqa: E402
from flaskbb.utils.populate import (  # noqa: E402
    create_default_groups,
    create_default_settings,
    create_latest_db,
    create_user,
)

ENGINE = "flaskbb"


def home():
    return os.environ["FLASKBB_HOME"]


def make_app():
    return create_app(
        os.path.join(HERE, "flaskbb.cfg"),
        instance_path=os.path.join(home(), "instance"),
    )


def version():
    from importlib.metadata import version as v

    return v("flaskbb")


def text_at(post, moment):
    """The text a post had at `moment` (before its edit, if the edit came later)."""
    edit = post.get("edit")
    if edit and C.utc(edit["at"]) > moment:
        return edit["old_text"]
    return post["text"]


def seed(out_path):
    db_file = os.path.join(home(), "flaskbb.sqlite")
    if os.path.exists(db_file):
        os.remove(db_file)
    app = make_app()
    with app.app_context(), app.test_request_context("/"):
        create_latest_db()
        create_default_groups()
        create_default_settings()
        Setting.update(
            "general",
            {
                "PROJECT_TITLE": "Diễn đàn Hà Nội quanh ta",
                "PROJECT_SUBTITLE": "Chuyện phường xóm, giao thông, trường lớp",
                "POSTS_PER_PAGE": C.POSTS_PER_PAGE,
                "TOPICS_PER_PAGE": C.THREADS_PER_PAGE,
            },
        )

        users = {}
        joined = C.utc("2024-01-02 03:00")
        for u in C.USERS:
            group = "super_mod" if u.get("moderator") else "member"
            user = create_user(u["username"], C.PASSWORD, u["email"], group)
            user.signature = u["signature"] or None
            user.date_joined = joined
            user.save()
            users[u["username"]] = user

        category = Category(title=C.CATEGORY["title"], position=1)
        category.save()
        forums = {}
        for position, b in enumerate(C.BOARDS, start=1):
            forum = Forum(
                title=b["title"],
                description=b["description"],
                category_id=category.id,
                position=position,
            )
            forum.save()
            forums[b["key"]] = forum

        topics, posts = {}, {}
        for t, p in C.creation_order():
            moment = C.utc(p["at"])
            body = text_at(p, moment)
            if "quote" in p:
                quoted = C.post(p["quote"])
                body = (
                    format_quote(
                        quoted["author"],
                        text_at(quoted, moment),
                        post_url=posts[p["quote"]].url,
                    )
                    + body
                )
            author = users[p["author"]]
            if t["key"] not in topics:
                board = forums[t.get("move_from_board", t["board"])]
                topic = Topic(title=t["title"])
                post = Post(content=body)
                topic.save(user=author, forum=board, post=post)
                topic.date_created = moment
                topics[t["key"]] = topic
            else:
                post = Post(content=body)
                post.save(user=author, topic=topics[t["key"]])
            post.date_created = moment
            db.session.commit()
            posts[p["key"]] = post

        # edits, the way FlaskBB's edit form records them
        for t in C.THREADS:
            for p in t["posts"]:
                if "edit" in p:
                    post = posts[p["key"]]
                    post.content = post.content.replace(p["edit"]["old_text"], p["text"])
                    post.date_modified = C.utc(p["edit"]["at"])
                    post.modified_by = p["edit"]["by"]
                    db.session.commit()

        # the thread written in the wrong board is moved by the moderator
        for t in C.THREADS:
            if "move_from_board" in t:
                topics[t["key"]].move(forums[t["board"]])

        # activity times follow the fixed post times
        for t in C.THREADS:
            topic = topics[t["key"]]
            last = posts[max(t["posts"], key=lambda p: C.utc(p["at"]))["key"]]
            topic.last_post = last
            topic.last_updated = last.date_created
        db.session.commit()
        for forum in forums.values():
            forum.recalculate(last_post=True)
            forum.last_post_created = forum.last_post.date_created
        db.session.commit()

        manifest = build_manifest(forums, topics, posts)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2)
        f.write("\n")


def build_manifest(forums, topics, posts):
    per_page = C.POSTS_PER_PAGE
    threads = []
    for t in C.THREADS:
        topic = topics[t["key"]]
        ordered = sorted(t["posts"], key=lambda p: (C.utc(p["at"]), posts[p["key"]].id))
        pages = (len(ordered) + per_page - 1) // per_page
        entries = []
        for number, p in enumerate(ordered, start=1):
            post = posts[p["key"]]
            page = (number - 1) // per_page + 1
            page_url = topic.url if page == 1 else f"{topic.url}?page={page}"
            quote = None
            if "quote" in p:
                quote = {
                    "post": p["quote"],
                    "id": posts[p["quote"]].id,
                    "author": C.post(p["quote"])["author"],
                }
            edit = p.get("edit")
            entries.append(
                {
                    "key": p["key"],
                    "id": post.id,
                    "number": number,
                    "page": page,
                    "first": number == 1,
                    "author": p["author"],
                    "text": p["text"],
                    "created": C.rfc3339(C.utc(p["at"])),
                    "quotes": quote,
                    "edited": {"by": edit["by"], "at": C.rfc3339(C.utc(edit["at"]))}
                    if edit
                    else None,
                    "moved_from": None,
                    "signature": C.user(p["author"])["signature"] or None,
                    "permalink": post.url,
                    "anchor": f"pid{post.id}",
                    "url": f"{page_url}#pid{post.id}",
                }
            )
        threads.append(
            {
                "key": t["key"],
                "id": topic.id,
                "title": t["title"],
                "board": t["board"],
                "moved_from_board": t.get("move_from_board"),
                "url": topic.url,
                "pages": pages,
                "page_urls": [topic.url] + [f"{topic.url}?page={n}" for n in range(2, pages + 1)],
                "posts": entries,
            }
        )
    boards = []
    for b in C.BOARDS:
        mine = [th for th in threads if th["board"] == b["key"]]
        mine.sort(key=lambda th: max(p["created"] for p in th["posts"]), reverse=True)
        boards.append(
            {
                "key": b["key"],
                "id": forums[b["key"]].id,
                "title": b["title"],
                "url": forums[b["key"]].url,
                "threads": [th["key"] for th in mine],
            }
        )
    return {
        "engine": ENGINE,
        "version": version(),
        "base_url_env": "GOMTIN_FORUM_FLASKBB_URL",
        "posts_per_page": per_page,
        "users": [u["username"] for u in C.USERS],
        "index_url": "/",
        "boards": boards,
        "threads": threads,
        "reply_thread": C.REPLY_THREAD,
        "notes": [
            "FlaskBB cannot move a single post: cho-4 is written in its final thread.",
            "xe-buyt was created in doi-song and moved to giao-thong with Topic.move.",
            "Times are rendered as <time datetime=ISO-8601 with +00:00> plus 'd MMM y, HH:mm:ss UTC' text.",
        ],
        "verify": {
            "post_anchor_regex": r'class="post-content" id="pid(\d+)"',
            "anchor_format": "pid{id}",
        },
    }


def add_reply(thread, text, author):
    app = make_app()
    with app.app_context(), app.test_request_context("/"):
        if thread.isdigit():
            topic = db.session.get(Topic, int(thread))
        else:
            title = C.thread(thread)["title"]
            topic = db.session.execute(sa.select(Topic).filter_by(title=title)).scalar_one()
        user = db.session.execute(sa.select(User).filter_by(username=author)).scalar_one()
        post = Post(content=text)
        post.save(user=user, topic=topic)
        count = db.session.execute(
            sa.select(sa.func.count(Post.id)).where(Post.topic_id == topic.id)
        ).scalar_one()
        page = (count - 1) // C.POSTS_PER_PAGE + 1
        page_url = topic.url if page == 1 else f"{topic.url}?page={page}"
        created = post.date_created
        if created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        print(
            json.dumps(
                {
                    "engine": ENGINE,
                    "thread_id": topic.id,
                    "id": post.id,
                    "number": count,
                    "page": page,
                    "author": author,
                    "text": text,
                    "created": C.rfc3339(created),
                    "permalink": post.url,
                    "anchor": f"pid{post.id}",
                    "url": f"{page_url}#pid{post.id}",
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    C.run_command(sys.argv[1:], seed, add_reply, __doc__)
