"""Seeds Spirit (django-spirit) with the shared Vietnamese content (../content.py).

    seed.py seed OUT.json          fresh database, content, manifest written to OUT.json
    seed.py add-reply THREAD TEXT  one more reply (now) at the end of THREAD (a thread key
                                   from content.py or a topic id); prints the new post as JSON

Run with the Spirit venv's python and SPIRIT_HOME set (seed.sh and add_reply.sh do both).
Everything goes through Spirit's own forms and hooks, the way its views call them: TopicForm
and CommentForm to write, markdown.quotify for quotes (what its "quote" link puts in the
editor), pre/post_comment_update for edits (the edit counter and history), CommentMoveForm
and post_comment_move to move the off-topic post, a TopicForm category change plus the
"topic moved" action for the misplaced thread. Only the dates are set afterwards, to the
fixed times of content.py.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gomtin_spirit.settings")

import django  # noqa: E402

django.setup()

import content as C  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.urls import reverse  # noqa: E402
from djconfig import reload_maybe  # noqa: E402
from spirit.admin.forms import BasicConfigForm  # noqa: E402
from spirit.category.models import Category  # noqa: E402
from spirit.comment.forms import CommentForm, CommentMoveForm  # noqa: E402
from spirit.comment.history.models import CommentHistory  # noqa: E402
from spirit.comment.models import Comment  # noqa: E402
from spirit.comment.utils import (  # noqa: E402
    comment_posted,
    post_comment_move,
    post_comment_update,
    pre_comment_update,
)
from spirit.core.utils.markdown import quotify  # noqa: E402
from spirit.topic.forms import TopicForm  # noqa: E402
from spirit.topic.models import Topic  # noqa: E402

ENGINE = "spirit"
# Spirit's moderation lines inside a thread (Comment.action), by the manifest's names
ACTION_KINDS = {1: "topic_moved", 2: "topic_closed", 3: "topic_unclosed", 4: "topic_pinned", 5: "topic_unpinned"}
User = get_user_model()


def version():
    from importlib.metadata import version as v

    return v("django-spirit")


def text_at(post, moment):
    """The text a post had at `moment` (before its edit, if the edit came later)."""
    edit = post.get("edit")
    if edit and C.utc(edit["at"]) > moment:
        return edit["old_text"]
    return post["text"]


def checked(form):
    if not form.is_valid():
        raise SystemExit(f"{type(form).__name__} refused: {form.errors.as_json()}")
    return form


def listing(topic):
    """The topic's comments in the order the thread page lists them (actions included)."""
    return list(Comment.objects.for_topic(topic=topic).order_by("date"))


def seed(out_path):
    db_file = os.path.join(os.environ["SPIRIT_HOME"], "spirit.sqlite")
    if os.path.exists(db_file):
        os.remove(db_file)
    call_command("migrate", verbosity=0, interactive=False)

    checked(
        BasicConfigForm(
            data={
                "site_name": "Diễn đàn Hà Nội quanh ta",
                "site_description": "Chuyện phường xóm, giao thông, trường lớp",
                "template_footer": "",
                "comments_per_page": C.POSTS_PER_PAGE,
                "topics_per_page": C.THREADS_PER_PAGE,
            }
        )
    ).save()
    reload_maybe()

    users = {}
    for u in C.USERS:
        user = User.objects.create_user(
            username=u["username"],
            email=u["email"],
            password=C.PASSWORD,
            first_name=u["full_name"],
        )
        user.st.is_verified = True
        user.st.is_moderator = bool(u.get("moderator"))
        user.st.save()
        User.objects.filter(pk=user.pk).update(date_joined=C.utc("2024-01-02 03:00"))
        users[u["username"]] = user

    categories = {}
    for b in C.BOARDS:
        categories[b["key"]] = Category.objects.create(
            title=b["title"], description=b["description"]
        )

    topics, comments = {}, {}
    for t, p in C.creation_order():
        moment = C.utc(p["at"])
        author = users[p["author"]]
        body = text_at(p, moment)
        if "quote" in p:
            quoted = comments[p["quote"]]
            quoted_text = text_at(C.post(p["quote"]), moment)
            body = quotify(quoted_text, quoted.user.st.nickname) + body
        home = p.get("move_from", t["key"])
        if home not in topics:
            owner = C.thread(home)
            board = categories[owner.get("move_from_board", owner["board"])]
            topic = checked(
                TopicForm(user=author, data={"title": owner["title"], "category": board.pk})
            ).save()
            Topic.objects.filter(pk=topic.pk).update(date=moment)
            topics[home] = topic
        topic = topics[home]
        form = checked(CommentForm(user=author, topic=topic, data={"comment": body}))
        comment = form.save()
        comment_posted(comment=comment, mentions=form.mentions)
        Comment.objects.filter(pk=comment.pk).update(date=moment)
        comments[p["key"]] = comment

    # edits, as the comment update view makes them (history keeps the first version)
    for t in C.THREADS:
        for p in t["posts"]:
            if "edit" in p:
                comment = Comment.objects.get(pk=comments[p["key"]].pk)
                body = comment.comment.replace(p["edit"]["old_text"], p["text"])
                pre_comment_update(comment=Comment.objects.get(pk=comment.pk))
                form = checked(CommentForm(data={"comment": body}, instance=comment))
                comment = form.save()
                post_comment_update(comment=comment)
                CommentHistory.objects.filter(comment_fk=comment).exclude(
                    date=C.utc(p["at"])
                ).update(date=C.utc(p["edit"]["at"]))

    # the off-topic post is moved to its thread, as the moderator's move form does
    for t in C.THREADS:
        for p in t["posts"]:
            if "move_from" in p:
                source = topics[p["move_from"]]
                target = topics[t["key"]]
                form = checked(
                    CommentMoveForm(
                        topic=source,
                        data={"topic": target.pk, "comments": [comments[p["key"]].pk]},
                    )
                )
                for comment in form.save():
                    comment_posted(comment=comment, mentions=None)
                    source.decrease_comment_count()
                    post_comment_move(comment=comment, topic=source)

    # the misplaced thread is moved to its board: a category change plus the
    # "topic moved" action line Spirit shows in the thread
    moderator = users[next(u["username"] for u in C.USERS if u.get("moderator"))]
    for t in C.THREADS:
        if "move_from_board" in t:
            topic = Topic.objects.get(pk=topics[t["key"]].pk)
            checked(
                TopicForm(
                    user=moderator,
                    data={"title": topic.title, "category": categories[t["board"]].pk},
                    instance=topic,
                )
            ).save()
            action = Comment.create_moderation_action(
                user=users[t["move"]["by"]], topic=topic, action=Comment.MOVED
            )
            Comment.objects.filter(pk=action.pk).update(date=C.utc(t["move"]["at"]))

    # activity times follow the fixed post times
    for t in C.THREADS:
        topic = topics[t["key"]]
        items = listing(topic)
        Topic.objects.filter(pk=topic.pk).update(last_active=max(c.date for c in items))

    manifest = build_manifest(categories, topics, comments)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2)
        f.write("\n")


def page_url(topic, page):
    url = topic.get_absolute_url()
    return url if page == 1 else f"{url}?page={page}"


def build_manifest(categories, topics, comments):
    per_page = C.POSTS_PER_PAGE
    by_pk = {c.pk: key for key, c in comments.items()}
    threads = []
    for t in C.THREADS:
        topic = Topic.objects.get(pk=topics[t["key"]].pk)
        items = listing(topic)
        pages = (len(items) + per_page - 1) // per_page
        entries, others = [], []
        number = 0
        for position, c in enumerate(items, start=1):
            page = (position - 1) // per_page + 1
            if c.action != Comment.COMMENT:
                others.append(
                    {
                        "position": position,
                        "page": page,
                        "kind": ACTION_KINDS[c.action],
                        "by": c.user.username,
                        "at": C.rfc3339(c.date),
                        "anchor": f"c{position}",
                    }
                )
                continue
            number += 1
            p = C.post(by_pk[c.pk])
            quote = None
            if "quote" in p:
                quote = {
                    "post": p["quote"],
                    "id": comments[p["quote"]].pk,
                    "author": C.post(p["quote"])["author"],
                }
            edit = p.get("edit")
            entries.append(
                {
                    "key": p["key"],
                    "id": c.pk,
                    "number": number,
                    "position": position,
                    "page": page,
                    "first": number == 1,
                    "author": p["author"],
                    "text": p["text"],
                    "created": C.rfc3339(c.date),
                    "quotes": quote,
                    "edited": {"by": edit["by"], "at": C.rfc3339(C.utc(edit["at"]))}
                    if edit
                    else None,
                    "moved_from": p.get("move_from"),
                    "signature": None,
                    "permalink": c.get_absolute_url(),
                    "anchor": f"c{position}",
                    "url": f"{page_url(topic, page)}#c{position}",
                }
            )
        threads.append(
            {
                "key": t["key"],
                "id": topic.pk,
                "title": t["title"],
                "board": t["board"],
                "moved_from_board": t.get("move_from_board"),
                "url": topic.get_absolute_url(),
                "pages": pages,
                "page_urls": [page_url(topic, n) for n in range(1, pages + 1)],
                "posts": entries,
                "non_post_items": others,
            }
        )
    boards = []
    for b in C.BOARDS:
        mine = [th for th in threads if th["board"] == b["key"]]
        mine.sort(
            key=lambda th: Topic.objects.get(pk=th["id"]).last_active,
            reverse=True,
        )
        boards.append(
            {
                "key": b["key"],
                "id": categories[b["key"]].pk,
                "title": b["title"],
                "url": categories[b["key"]].get_absolute_url(),
                "threads": [th["key"] for th in mine],
            }
        )
    return {
        "engine": ENGINE,
        "version": version(),
        "base_url_env": "GOMTIN_FORUM_SPIRIT_URL",
        "posts_per_page": per_page,
        "users": [u["username"] for u in C.USERS],
        "index_url": reverse("spirit:index"),
        "boards": boards,
        "threads": threads,
        "reply_thread": C.REPLY_THREAD,
        "notes": [
            "Anchors are c{position}: the position in the thread listing, moderation"
            " action lines (non_post_items) included; a post's stable id is data-pk.",
            "The permalink /comment/{id}/find/ redirects to the page and anchor.",
            "Dates: <li title='H:i Ngày d tháng n năm Y'> in Asia/Ho_Chi_Minh, text is"
            " Django's shortnaturaltime; no machine-readable datetime attribute.",
            "Edits show a pencil link with the edit count to /comment/history/{id}/;"
            " who edited is not shown.",
            "cho-4 was written in ngap-lut and moved to cho-phien (CommentMoveForm).",
        ],
        "verify": {
            "post_anchor_regex": r'class="comments_list__comment js-comment"\s+id="c\d+"\s+'
            r'data-number="\d+"\s+data-pk="(\d+)"',
            "id_format": "data-pk",
        },
    }


def add_reply(thread, text, author):
    if thread.isdigit():
        topic = Topic.objects.get(pk=int(thread))
    else:
        topic = Topic.objects.get(title=C.thread(thread)["title"])
    user = User.objects.get(username=author)
    form = checked(CommentForm(user=user, topic=topic, data={"comment": text}))
    comment = form.save()
    comment_posted(comment=comment, mentions=form.mentions)
    items = listing(topic)
    position = next(i for i, c in enumerate(items, start=1) if c.pk == comment.pk)
    page = (position - 1) // C.POSTS_PER_PAGE + 1
    number = sum(1 for c in items[:position] if c.action == Comment.COMMENT)
    print(
        json.dumps(
            {
                "engine": ENGINE,
                "thread_id": topic.pk,
                "id": comment.pk,
                "number": number,
                "position": position,
                "page": page,
                "author": author,
                "text": text,
                "created": C.rfc3339(comment.date),
                "permalink": comment.get_absolute_url(),
                "anchor": f"c{position}",
                "url": f"{page_url(topic, page)}#c{position}",
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    C.run_command(sys.argv[1:], seed, add_reply, __doc__)
