"""Static facts about the three mirrored sources: hosts, category trees, id ranges, places.

Part of the offline mirror.  Everything here is a constant; the per-index arithmetic
lives in :mod:`crawler.mirror.catalog`.  Category slugs and names are those of the menus of
the real home pages saved on 2026-05-16 (``tests/fixtures/real/*-home-2026-05.html``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from crawler.mirror.spec import Category

VN_TZ = timezone(timedelta(hours=7), "ICT")

CANTHO_HOST = "baocantho.com.vn"
ANGIANG_HOST = "baoangiang.com.vn"
HUE_OLD_HOST = "baothuathienhue.vn"
HUE_NEW_HOST = "huengaynay.vn"
HOSTS = (CANTHO_HOST, ANGIANG_HOST, HUE_OLD_HOST, HUE_NEW_HOST)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One source: its hosts, category leaves and how generated ids and dates advance.

    Generated article ``i`` (0 = oldest) gets id ``id_base + id_stride * i + jitter``
    (jitter < stride, so ids increase and ``i`` is recoverable from the id) and is
    published ``start + i * spacing + jitter`` minutes (jitter < spacing).
    """

    key: str
    hosts: tuple[str, ...]
    leaves: tuple[Category, ...]
    id_base: int
    id_stride: int
    start: datetime
    spacing_minutes: int
    places: tuple[str, ...]
    date_style: str  # "dash" (26-3) or "slash" (9/3)
    seed_leaf: int | None  # index into leaves of the seed article, None = no seed
    slash: bool = True  # category URLs end in "/" (VDOC: /thoi-su/); DNN's have none (/kinh-te)
    id_hex: bool = False  # ids are 7 hex digits (the Java platform), see Catalog.article_id

    def tops(self) -> dict[str, str]:
        """Top-level category slug -> name, in menu order."""
        out: dict[str, str] = {}
        for leaf in self.leaves:
            out.setdefault(leaf.slug, leaf.name)
        return out

    def listing_path(self, slug: str, sub: str | None = None) -> str:
        """The URL path of a category listing: ``/thoi-su/``, ``/thoi-su/dbscl/`` (VDOC), ``/kinh-te`` (DNN)."""
        path = f"/{slug}/{sub}" if sub else f"/{slug}"
        return path + "/" if self.slash else path

    def subs(self, slug: str) -> list[Category]:
        """The subcategories of a top-level category, in menu order."""
        return [leaf for leaf in self.leaves if leaf.slug == slug and leaf.sub]

    def leaves_under(self, slug: str, sub: str | None = None) -> frozenset[int]:
        return frozenset(
            n for n, leaf in enumerate(self.leaves) if leaf.slug == slug and (sub is None or leaf.sub == sub)
        )


def _c(slug: str, name: str, sub: str | None = None, sub_name: str | None = None) -> Category:
    return Category(slug, name, sub, sub_name)


def _tree(*tops: tuple[str, str, tuple[tuple[str, str], ...]], top_leaves: bool = False) -> tuple[Category, ...]:
    """Category leaves from a menu: (slug, name, ((sub, sub name), ...)) per top-level entry.

    A top-level category without subcategories is a leaf; with ``top_leaves`` the
    top-level category of one with subcategories is a leaf too (Huế files articles
    directly under ``/du-lich`` as well as under ``/du-lich/am-thuc-hue``).
    """
    leaves: list[Category] = []
    for slug, name, subs in tops:
        if not subs or top_leaves:
            leaves.append(_c(slug, name))
        leaves.extend(_c(slug, name, sub, sub_name) for sub, sub_name in subs)
    return tuple(leaves)


# The category trees are the menus of the real home pages saved on 2026-05-16
# (tests/fixtures/real/*-home-2026-05.html), minus the sections without articles (video, e-paper, ...).
CANTHO = SourceInfo(
    key="baocantho",
    hosts=(CANTHO_HOST,),
    leaves=_tree(
        ("thoi-su", "Thời sự", (("can-tho", "Cần Thơ"), ("dbscl", "ĐBSCL"), ("trong-nuoc", "Trong nước"))),
        ("chinh-tri", "Chính trị", (("xay-dung-dang", "Xây dựng Đảng & Hệ thống chính trị"),
                                    ("lam-theo-guong-bac", "Làm theo gương Bác"),
                                    ("bao-ve-nen-tang-tu-tuong-cua-dang", "Bảo vệ nền tảng tư tưởng của Đảng"),
                                    ("dien-dan", "Diễn đàn & Nhịp cầu dân cử"))),
        ("kinh-te", "Kinh tế", (("thi-truong", "Thị trường"), ("tai-chinh", "Đầu tư - Tài chính"),
                                ("nong-thon-moi", "Nông nghiệp - Nông thôn"))),
        ("xa-hoi-phap-luat", "Xã hội", (("doi-song", "Đời sống"), ("gia-dinh", "Gia đình"),
                                        ("tam-long-vang", "Nhịp cầu nhân ái"))),
        ("quoc-phong-an-ninh", "An ninh-Pháp luật", (("quoc-phong", "Quốc phòng"), ("an-ninh", "An ninh"),
                                                     ("bien-dao", "Biển đảo"), ("phap-luat", "Pháp luật"),
                                                     ("an-toan-giao-thong", "An toàn giao thông"))),
        ("the-gioi", "Thế giới", (("tieu-diem", "Toàn cảnh"), ("dong-tay-the-su", "Đông Tây thế sự"),
                                  ("chuyen-bon-phuong", "Chuyện bốn phương"))),
        ("giao-duc", "Giáo dục", (("giao-duc-hoc-duong", "Học đường"), ("tuyen-sinh", "Tuyển sinh-Hướng nghiệp"),
                                  ("khuyen-hoc", "Khuyến học"))),
        ("y-te", "Y tế", (("suc-khoe", "Sức khỏe"), ("dinh-duong", "Dinh dưỡng"), ("tu-van", "Tư vấn"),
                          ("an-toan-thuc-pham", "An toàn thực phẩm"))),
        ("cong-nghe", "Khoa học & Công nghệ", (("khoa-hoc-thuong-thuc", "Khoa học thường thức"),
                                               ("san-pham-moi", "Sản phẩm mới"), ("thu-thuat", "Thủ thuật"))),
        ("chuyen-doi-so", "Chuyển đổi số", ()),
        ("van-hoa-giai-tri", "Văn hóa - Giải trí", (("thong-tin-van-hoa", "Văn hóa - Nghệ thuật"),
                                                    ("dien-anh-nhiep-anh", "Xem-Nghe-Đọc"),
                                                    ("sang-tac-bien-khao", "Sáng tác - Biên khảo"))),
        ("the-thao", "Thể thao", (("bong-da", "Bóng đá"), ("the-thao-cuoc-song", "Môn khác"),
                                  ("hau-truong", "Thể thao - Cuộc sống"))),
        ("du-lich", "Du lịch", (("kham-pha", "Khám phá"), ("am-thuc", "Ẩm thực"), ("goc-lu-hanh", "Góc lữ hành"))),
        ("bat-dong-san-do-thi", "Bất động sản - Đô thị", ()),
        ("nong-dan-ti-phu", "Nông dân làm giàu", ()),
        ("khoi-nghiep", "Khởi nghiệp", ()),
    ),
    id_base=213000,
    id_stride=3,
    start=datetime(2025, 9, 1, 6, 0, tzinfo=VN_TZ),
    spacing_minutes=40,
    places=("phường Tân Lộc", "phường Ninh Kiều", "phường Cái Răng", "xã Phong Điền", "xã Cờ Đỏ",
            "phường Bình Thủy", "xã Thới Lai", "TP Cần Thơ", "phường An Khánh", "phường Sóc Trăng",
            "phường Vị Thanh", "xã Mỹ Khánh"),
    date_style="dash",
    seed_leaf=3,  # chinh-tri / xay-dung-dang: the seed article (filed under "Chính trị") is listed there
)

ANGIANG = SourceInfo(
    key="baoangiang",
    hosts=(ANGIANG_HOST,),
    leaves=_tree(
        ("an-giang-24-gio", "An Giang 24 giờ", (("thoi-su", "Thời sự"), ("ban-doc", "Bạn đọc"),
                                                ("an-ninh-trat-tu", "An ninh trật tự"))),
        ("chinh-tri-xa-hoi", "Chính trị - Xã hội", (("tin-tuc-su-kien", "Tin tức - Sự kiện"),
                                                    ("bien-doi-khi-hau", "Biến đổi khí hậu"),
                                                    ("bien-dao-que-huong", "Biển đảo quê hương"))),
        ("xh-tt", "Xã hội - Từ thiện", ()),
        ("kinh-te", "Kinh tế", (("tieu-dung-thi-truong", "Tiêu dùng - Thị trường"),
                                ("doanh-nhan-doanh-nghiep", "Doanh nhân - Doanh nghiệp"),
                                ("san-pham-dich-vu", "Sản phẩm - Dịch vụ"))),
        ("giao-duc", "Giáo dục", (("xa-hoi-giao-duc", "Xã hội giáo dục"),
                                  ("tu-van-tuyen-sinh", "Tư vấn - Tuyển sinh"))),
        ("cong-nghe", "Công nghệ", (("san-pham-moi", "Sản phẩm mới"), ("thu-thuat-tien-ich", "Tiện ích"),
                                    ("chuyen-doi-so", "Chuyển đổi số"))),
        ("phap-luat", "Pháp luật", (("tin-nong", "Tin nóng"), ("chinh-sach-va-phap-luat", "Chính sách và pháp luật"))),
        ("quoc-te", "Quốc tế", ()),
        ("van-hoa", "Văn hóa", (("van-hoa-su-kien", "Văn hóa sự kiện"), ("tac-gia-tac-pham", "Tác giả - Tác phẩm"))),
        ("the-thao", "Thể thao", (("bong-da", "Bóng đá"), ("mon-khac", "Môn khác"), ("ben-le", "Bên lề"))),
        ("suc-khoe", "Sức khỏe", (("thong-tin-y-te", "Thông tin y tế"), ("bac-si-cua-ban", "Bác sĩ của bạn"))),
        ("nhip-song-moi", "Nhịp sống mới", (("doi-song", "Đời sống"), ("hon-nhan-gia-dinh", "Hôn nhân - Gia đình"))),
        ("tam-nong", "Tam nông", (("nong-nghiep-an-giang", "Nông nghiệp An Giang"),
                                  ("nong-thon-moi", "Nông thôn mới"))),
        ("thoi-trang", "Thời trang", ()),
        ("du-lich", "Du lịch", (("diem-den", "Điểm đến"), ("am-thuc", "Ẩm thực"))),
        ("khoa-hoc", "Khoa học", (("phat-minh-moi", "Phát minh mới"), ("the-gioi-muon-mau", "Thế giới muôn màu"))),
    ),
    id_base=498000,
    id_stride=4,
    start=datetime(2025, 9, 1, 6, 30, tzinfo=VN_TZ),
    spacing_minutes=35,
    places=("phường Long Xuyên", "phường Châu Đốc", "xã Chợ Mới", "xã Thoại Sơn", "phường Tân Châu",
            "xã Tri Tôn", "xã Vĩnh Trạch", "phường Rạch Giá", "đặc khu Phú Quốc", "tỉnh An Giang"),
    date_style="slash",
    seed_leaf=None,
)

HUE = SourceInfo(
    key="hue",
    hosts=(HUE_OLD_HOST, HUE_NEW_HOST),
    leaves=_tree(
        ("festival", "Festival", (("festival-nghe-truyen-thong-hue", "Festival Nghề truyền thống Huế"),)),
        ("chinh-tri-xa-hoi", "Chính trị - Xã hội", (
            ("theo-dong-thoi-su", "Theo dòng thời sự"), ("xay-dung-dang", "Xây dựng Đảng"),
            ("an-sinh-xa-hoi", "An sinh xã hội"), ("an-ninh-quoc-phong", "An ninh - Quốc Phòng"),
            ("cai-cach-hanh-chinh", "Cải cách hành chính"), ("phap-luat-cuoc-song", "Pháp luật - Cuộc sống"),
            ("phu-nu", "Phụ nữ"), ("thanh-nien", "Thanh niên"), ("bien-gioi-bien-dao", "Biên giới - Biển đảo"))),
        ("kinh-te", "Kinh tế", (("thong-tin-thi-truong", "Thông tin thị trường"),
                                ("cong-nghiep-ttcn", "Công nghiệp - TTCN"),
                                ("xay-dung-giao-thong", "Xây dựng - Giao thông"),
                                ("nong-nghiep-nong-thon", "Nông nghiệp - Nông thôn"),
                                ("khoa-hoc-cong-nghe", "Khoa học - Công nghệ"))),
        ("van-hoa-nghe-thuat", "Văn hóa - Nghệ thuật", (
            ("thong-tin-van-hoa", "Thông tin văn hóa"), ("van-nghe-am-nhac", "Văn nghệ - Âm nhạc"),
            ("my-thuat-dieu-khac", "Mỹ thuật - Điêu khắc"), ("tac-gia-tac-pham", "Tác giả - Tác phẩm"))),
        ("du-lich", "Du lịch", (("tin-tuc-su-kien", "Tin tức sự kiện"), ("di-san-van-hoa", "Di sản văn hóa"),
                                ("am-thuc-hue", "Ẩm thực Huế"), ("danh-lam-thang-canh", "Danh lam thắng cảnh"),
                                ("nghien-cuu-trao-doi", "Nghiên cứu trao đổi"),
                                ("thong-tin-cho-ban", "Thông tin cho bạn"))),
        ("y-te-suc-khoe", "Y tế - Sức khỏe", (("tin-tuc-y-te", "Tin tức y tế"),)),
        ("giao-duc", "Giáo dục", (("tin-tuc-giao-duc", "Tin tức giáo dục"), ("tuyen-sinh", "Tuyển sinh"),
                                  ("khuyen-hoc", "Khuyến học"), ("goc-hs-sv", "Góc HS-SV"))),
        ("doi-song", "Đời sống", ()),
        ("the-thao", "Thể thao", (("the-thao-trong-nuoc", "Thể thao trong nước"),
                                  ("the-thao-quoc-te", "Thể thao quốc tế"), ("bong-da", "Bóng đá"))),
        ("the-gioi", "Thế giới", ()),
        ("ban-doc", "Bạn đọc", (("ban-doc-viet", "Bạn đọc viết"), ("nhip-cau-va-tam-long", "Nhịp cầu và tấm lòng"),
                                ("theo-dau-thu-ban-doc", "Theo dấu thư bạn đọc"))),
        top_leaves=True,
    ),
    id_base=155000,
    id_stride=3,
    start=datetime(2025, 1, 6, 7, 0, tzinfo=VN_TZ),
    spacing_minutes=45,
    places=("phường Thủy Biều", "TP Huế", "phường Thuận Hóa", "phường Phú Xuân", "xã Phú Vang",
            "phường Hương Thủy", "xã A Lưới", "xã Phong Điền", "xã Quảng Điền", "phường Kim Long"),
    date_style="slash",
    seed_leaf=3,  # chinh-tri-xa-hoi / theo-dong-thoi-su, the seed article's category
    slash=False,
)

SOURCES: dict[str, SourceInfo] = {s.key: s for s in (CANTHO, ANGIANG, HUE)}
HOST_SOURCE: dict[str, str] = {h: s.key for s in SOURCES.values() for h in s.hosts}
