"""The Vietnamese forum content that every engine under tests/forums/ is seeded with.

One script for all engines, so the Rust tests can expect the same threads, authors, times,
quotes, edits and moves whatever engine renders them. Each engine's seed.py walks this data
through the engine's own models and helpers and writes expected.json with the URLs, ids and
anchors the engine gave. Standard library only: it is imported from every engine's venv.

Times are fixed (UTC) so the manifest is the same on every run; a reply added later by
add_reply.sh takes the current time, which is always after these.
"""

from datetime import datetime, timezone

# Posts per thread page. Small, so the long thread spans three pages (5 + 5 + 4).
POSTS_PER_PAGE = 5
# Threads per board page (the board with 3 threads fits on one page).
THREADS_PER_PAGE = 10

PASSWORD = "matkhau-thu-nghiem"

# Known usernames: the Rust tests compare authors against these. ASCII usernames (every
# engine takes them); the display name is used where an engine has one (Spirit: nickname
# is the username, the full name is shown under it).
USERS = [
    {
        "username": "lan_huong",
        "full_name": "Nguyễn Lan Hương",
        "email": "lan.huong@example.org",
        "signature": "Nhà ở Hoàng Liệt, sáng nào cũng đi chợ Đền Lừ.",
    },
    {
        "username": "quoc_bao",
        "full_name": "Trần Quốc Bảo",
        "email": "quoc.bao@example.org",
        "signature": "",
    },
    {
        "username": "thu_trang",
        "full_name": "Lê Thu Trang",
        "email": "thu.trang@example.org",
        "signature": "",
    },
    {
        # the moderator: edits another user's post and moves threads and posts
        "username": "dieu_hanh",
        "full_name": "Ban điều hành",
        "email": "dieu.hanh@example.org",
        "signature": "",
        "moderator": True,
    },
]

CATEGORY = {"key": "ha-noi", "title": "Hà Nội quanh ta"}

BOARDS = [
    {
        "key": "doi-song",
        "title": "Đời sống khu phố",
        "description": "Chuyện điện nước, chợ búa, trường lớp trong phường.",
    },
    {
        "key": "giao-thong",
        "title": "Giao thông đô thị",
        "description": "Xe buýt, đường sá, tắc đường giờ cao điểm.",
    },
]


def utc(text):
    """'2024-06-10 08:15' (UTC) -> aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)


def rfc3339(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# Each post: key (unique), author, at (UTC), text (paragraphs separated by a blank line,
# plain text: no markup, so the rendered text is the text), optional quote (key of an
# earlier post: the engine's own quote markup of that post's whole text goes first),
# optional edit {by, at, old_text} (the post is created with old_text, then edited to
# text), optional move_from (key of the thread the post was first written in; engines
# that can move a post create it there and move it here at move.at; others create it
# here). A thread with move_from_board was started there and moved to its board.
THREADS = [
    {
        "key": "ngap-lut",
        "board": "doi-song",
        "title": "Mưa lớn, đường Giải Phóng đoạn qua Hoàng Liệt ngập sâu",
        "posts": [
            {
                "key": "ngap-1",
                "author": "lan_huong",
                "at": "2024-06-10 01:15",
                "text": (
                    "Sáng nay mưa từ 5 giờ, đến 7 giờ thì đoạn đường Giải Phóng trước "
                    "bến xe Giáp Bát ngập ngang bánh xe máy. Nhiều xe chết máy phải dắt bộ.\n\n"
                    "Ai đi qua khu này thì nên vòng đường Kim Đồng, đừng cố đi thẳng."
                ),
            },
            {
                "key": "ngap-2",
                "author": "quoc_bao",
                "at": "2024-06-10 01:32",
                "text": "Ngõ 1277 cũng ngập rồi, nước tràn vào cả mấy nhà tầng một.",
            },
            {
                "key": "ngap-3",
                "author": "thu_trang",
                "at": "2024-06-10 01:47",
                "quote": "ngap-1",
                "text": (
                    "Cảm ơn chị, em vừa phải quay đầu ở ngã tư Kim Đồng. Đường Kim Đồng "
                    "cũng đông lắm nhưng vẫn đi được."
                ),
            },
            {
                "key": "ngap-4",
                "author": "quoc_bao",
                "at": "2024-06-10 02:05",
                "text": (
                    "Công ty thoát nước đã đặt máy bơm ở đầu ngõ, khoảng 9 giờ thì nước "
                    "rút bớt."
                ),
                "edit": {
                    "by": "quoc_bao",
                    "at": "2024-06-10 02:40",
                    "old_text": "Nghe nói có máy bơm rồi, chưa rõ bao giờ rút.",
                },
            },
            {
                "key": "ngap-5",
                "author": "lan_huong",
                "at": "2024-06-10 02:20",
                "text": "Chợ Đền Lừ sáng nay vắng hẳn, nhiều sạp không mở.",
            },
            {
                "key": "ngap-6",
                "author": "thu_trang",
                "at": "2024-06-10 03:10",
                "text": (
                    "Năm nào cũng vậy, cứ mưa to là đoạn này thành sông. Phường đã có "
                    "kế hoạch cải tạo cống chưa các bác?"
                ),
            },
            {
                "key": "ngap-7",
                "author": "quoc_bao",
                "at": "2024-06-10 03:25",
                "text": (
                    "Có đấy, ở buổi họp tổ dân phố tháng trước cán bộ phường nói sẽ làm "
                    "lại cống hộp dọc đường Giải Phóng trong quý ba."
                ),
            },
            {
                "key": "ngap-8",
                "author": "lan_huong",
                "at": "2024-06-10 04:02",
                "quote": "ngap-6",
                "text": (
                    "Phường có rồi em ạ, nhưng phải chờ thành phố duyệt vốn.\n\n"
                    "Trong lúc chờ thì nhà nào ở tầng trệt nên kê đồ lên cao."
                ),
            },
            {
                "key": "ngap-9",
                "author": "thu_trang",
                "at": "2024-06-10 04:30",
                "text": "Xe buýt số 8 đã đi lại bình thường từ 10 giờ.",
            },
            {
                "key": "ngap-10",
                "author": "quoc_bao",
                "at": "2024-06-10 05:12",
                "text": "Chiều nay đài báo còn mưa dông, mọi người chú ý.",
            },
            {
                "key": "ngap-11",
                "author": "lan_huong",
                "at": "2024-06-10 06:45",
                "text": (
                    "Tổ dân phố số 9 đang gom danh sách nhà bị nước vào để báo phường hỗ "
                    "trợ, ai cần thì nhắn tổ trưởng."
                ),
            },
            {
                "key": "ngap-12",
                "author": "thu_trang",
                "at": "2024-06-10 08:20",
                "text": "Đã gửi tên nhà em rồi, cảm ơn chị Hương.",
            },
            {
                "key": "ngap-13",
                "author": "quoc_bao",
                "at": "2024-06-10 10:05",
                "quote": "ngap-11",
                "text": "Nhà tôi ở ngõ 1277 cũng bị, tối nay tôi qua nhà tổ trưởng.",
            },
            {
                "key": "ngap-14",
                "author": "lan_huong",
                "at": "2024-06-10 12:30",
                "text": (
                    "Cập nhật: 19 giờ nước đã rút hết, đường Giải Phóng thông xe cả hai "
                    "chiều."
                ),
            },
        ],
    },
    {
        "key": "cho-phien",
        "board": "doi-song",
        "title": "Chợ phiên cuối tuần ở phố đi bộ Hồ Gươm có gì mới?",
        "posts": [
            {
                "key": "cho-1",
                "author": "thu_trang",
                "at": "2024-06-08 02:00",
                "text": (
                    "Cuối tuần này có phiên chợ đồ thủ công làng nghề ở khu phố đi bộ, "
                    "ai đi rồi cho em xin ít kinh nghiệm với."
                ),
            },
            {
                "key": "cho-2",
                "author": "lan_huong",
                "at": "2024-06-08 03:15",
                "text": (
                    "Chị đi hôm thứ bảy, có gốm Bát Tràng, mây tre Phú Vinh và tranh Đông "
                    "Hồ. Nên đi buổi sáng cho mát."
                ),
                "edit": {
                    "by": "dieu_hanh",
                    "at": "2024-06-08 09:00",
                    "old_text": (
                        "Chị đi hôm thứ bảy, có gốm Bát Tràng và tranh Đông Hồ. Giá rẻ lắm, "
                        "ai cần mua sỉ thì gọi số 09xx."
                    ),
                },
            },
            {
                "key": "cho-3",
                "author": "quoc_bao",
                "at": "2024-06-08 05:40",
                "quote": "cho-2",
                "text": "Gửi xe ở phố Đinh Tiên Hoàng là tiện nhất, 10 nghìn một lượt.",
            },
            {
                # written (off topic) in the flood thread, moved here by the moderator
                "key": "cho-4",
                "author": "thu_trang",
                "at": "2024-06-10 09:15",
                "move_from": "ngap-lut",
                "move": {"by": "dieu_hanh", "at": "2024-06-10 11:00"},
                "text": (
                    "Lạc đề chút: phiên chợ tuần sau có thêm gian hàng lụa Vạn Phúc, ai "
                    "thích thì đi sớm."
                ),
            },
        ],
    },
    {
        "key": "mam-non",
        "board": "doi-song",
        "title": "Xin kinh nghiệm nộp hồ sơ mầm non công lập quận Hoàng Mai",
        "posts": [
            {
                "key": "mam-1",
                "author": "quoc_bao",
                "at": "2024-06-05 13:00",
                "text": (
                    "Con tôi sinh năm 2021, năm nay vào lớp mẫu giáo bé. Tuyển sinh trực "
                    "tuyến mở từ ngày nào vậy các bác?"
                ),
            },
            {
                "key": "mam-2",
                "author": "thu_trang",
                "at": "2024-06-05 14:20",
                "text": (
                    "Năm ngoái mở từ 1/7, anh chuẩn bị sẵn mã định danh của bé và giấy "
                    "xác nhận cư trú."
                ),
            },
            {
                "key": "mam-3",
                "author": "lan_huong",
                "at": "2024-06-06 00:45",
                "text": "Trường Hoa Sen gần hồ Linh Đàm năm nào cũng đủ chỉ tiêu sớm.",
            },
        ],
    },
    {
        # written in the wrong board, moved to Giao thông đô thị by the moderator
        "key": "xe-buyt",
        "board": "giao-thong",
        "move_from_board": "doi-song",
        "move": {"by": "dieu_hanh", "at": "2024-06-07 09:00"},
        "title": "Đề xuất tuyến xe buýt điện nối Linh Đàm với Hồ Gươm",
        "posts": [
            {
                "key": "bus-1",
                "author": "lan_huong",
                "at": "2024-06-07 07:30",
                "text": (
                    "Khu Linh Đàm đông dân mà chưa có tuyến xe buýt điện nào chạy thẳng "
                    "vào trung tâm. Mọi người thấy có nên kiến nghị không?"
                ),
            },
            {
                "key": "bus-2",
                "author": "quoc_bao",
                "at": "2024-06-07 08:05",
                "text": "Nên chứ, giờ cao điểm đi xe máy mất gần một tiếng.",
            },
        ],
    },
]

# The thread a test adds a reply to (on its last page) with add_reply.sh.
REPLY_THREAD = "ngap-lut"
REPLY_AUTHOR = "thu_trang"


def user(username):
    return next(u for u in USERS if u["username"] == username)


def thread(key):
    return next(t for t in THREADS if t["key"] == key)


def post(key):
    for t in THREADS:
        for p in t["posts"]:
            if p["key"] == key:
                return p
    raise KeyError(key)


def creation_order():
    """Every post with its thread, in the order they were written (by time).

    A post with move_from is written in its first thread; the caller moves it afterwards.
    """
    items = [(t, p) for t in THREADS for p in t["posts"]]
    return sorted(items, key=lambda tp: utc(tp[1]["at"]))


def run_command(argv, seed, add_reply, usage):
    """The seeders' command line: `seed MANIFEST` or `add-reply THREAD TEXT [AUTHOR]`."""
    if len(argv) >= 2 and argv[0] == "seed":
        seed(argv[1])
    elif len(argv) >= 3 and argv[0] == "add-reply":
        author = argv[3] if len(argv) > 3 else REPLY_AUTHOR
        add_reply(argv[1], argv[2], author)
    else:
        raise SystemExit(usage)
