"""Static facts about the three mirrored sources: hosts, category trees, id ranges, places.

Part of the offline mirror.  Everything here is a constant; the per-index arithmetic
lives in :mod:`crawler.mirror.catalog`.  Category slugs and names follow SITES.md
(**seen** ones where known, plausible ones otherwise).
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

    def tops(self) -> dict[str, str]:
        """Top-level category slug -> name, in menu order."""
        out: dict[str, str] = {}
        for leaf in self.leaves:
            out.setdefault(leaf.slug, leaf.name)
        return out

    def leaves_under(self, slug: str, sub: str | None = None) -> frozenset[int]:
        return frozenset(
            n for n, leaf in enumerate(self.leaves) if leaf.slug == slug and (sub is None or leaf.sub == sub)
        )


def _c(slug: str, name: str, sub: str | None = None, sub_name: str | None = None) -> Category:
    return Category(slug, name, sub, sub_name)


CANTHO = SourceInfo(
    key="baocantho",
    hosts=(CANTHO_HOST,),
    leaves=(
        _c("thoi-su", "Thời sự", "can-tho", "Cần Thơ"),
        _c("thoi-su", "Thời sự", "dbscl", "ĐBSCL"),
        _c("thoi-su", "Thời sự", "trong-nuoc", "Trong nước"),
        _c("chinh-tri", "Chính trị"),
        _c("kinh-te", "Kinh tế", "nong-nghiep", "Nông nghiệp"),
        _c("kinh-te", "Kinh tế", "doanh-nghiep", "Doanh nghiệp"),
        _c("xa-hoi-phap-luat", "Xã hội - Pháp luật"),
        _c("y-te", "Y tế", "suc-khoe", "Sức khỏe"),
        _c("giao-duc", "Giáo dục"),
        _c("van-hoa-giai-tri", "Văn hóa - Giải trí", "van-hoa", "Văn hóa"),
        _c("the-thao", "Thể thao"),
        _c("chuyen-doi-so", "Chuyển đổi số"),
        _c("nong-dan-ti-phu", "Nông dân tỉ phú"),
        _c("quoc-phong-an-ninh", "Quốc phòng - An ninh"),
        _c("the-gioi", "Thế giới"),
        _c("du-lich", "Du lịch"),
        _c("cong-nghe", "Công nghệ"),
        _c("bat-dong-san-do-thi", "Bất động sản - Đô thị"),
    ),
    id_base=213000,
    id_stride=3,
    start=datetime(2025, 9, 1, 6, 0, tzinfo=VN_TZ),
    spacing_minutes=40,
    places=("phường Tân Lộc", "phường Ninh Kiều", "phường Cái Răng", "xã Phong Điền", "xã Cờ Đỏ",
            "phường Bình Thủy", "xã Thới Lai", "TP Cần Thơ", "phường An Khánh", "phường Sóc Trăng",
            "phường Vị Thanh", "xã Mỹ Khánh"),
    date_style="dash",
    seed_leaf=3,  # chinh-tri
)

ANGIANG = SourceInfo(
    key="baoangiang",
    hosts=(ANGIANG_HOST,),
    leaves=(
        _c("thoi-su", "Thời sự"),
        _c("chinh-tri", "Chính trị", "xay-dung-dang", "Xây dựng Đảng"),
        _c("kinh-te", "Kinh tế", "nong-nghiep", "Nông nghiệp"),
        _c("kinh-te", "Kinh tế", "thi-truong", "Thị trường"),
        _c("xa-hoi", "Xã hội"),
        _c("suc-khoe", "Sức khỏe", "bac-si-cua-ban", "Bác sĩ của bạn"),
        _c("suc-khoe", "Sức khỏe", "dinh-duong", "Dinh dưỡng"),
        _c("giao-duc", "Giáo dục"),
        _c("van-hoa", "Văn hóa", "du-lich", "Du lịch"),
        _c("the-thao", "Thể thao"),
        _c("phap-luat", "Pháp luật"),
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
    leaves=(
        _c("chinh-tri-xa-hoi", "Chính trị - Xã hội", "theo-dong-thoi-su", "Theo dòng thời sự"),
        _c("chinh-tri-xa-hoi", "Chính trị - Xã hội", "xay-dung-dang", "Xây dựng Đảng"),
        _c("kinh-te", "Kinh tế", "thong-tin-thi-truong", "Thông tin thị trường"),
        _c("kinh-te", "Kinh tế", "doanh-nghiep", "Doanh nghiệp"),
        _c("van-hoa-du-lich", "Văn hóa - Du lịch", "di-san", "Di sản"),
        _c("giao-duc", "Giáo dục"),
        _c("y-te", "Y tế"),
        _c("the-thao", "Thể thao"),
        _c("quoc-phong-an-ninh", "Quốc phòng - An ninh", "phap-luat", "Pháp luật"),
    ),
    id_base=155000,
    id_stride=3,
    start=datetime(2025, 1, 6, 7, 0, tzinfo=VN_TZ),
    spacing_minutes=45,
    places=("phường Thủy Biều", "TP Huế", "phường Thuận Hóa", "phường Phú Xuân", "xã Phú Vang",
            "phường Hương Thủy", "xã A Lưới", "xã Phong Điền", "xã Quảng Điền", "phường Kim Long"),
    date_style="slash",
    seed_leaf=0,  # chinh-tri-xa-hoi / theo-dong-thoi-su
)

SOURCES: dict[str, SourceInfo] = {s.key: s for s in (CANTHO, ANGIANG, HUE)}
HOST_SOURCE: dict[str, str] = {h: s.key for s in SOURCES.values() for h in s.hosts}
