"""The mirrored papers of the other CMS families: one per family (SITES.md, "The provincial papers beyond the seeds").

Part of the offline mirror, served when a :class:`~crawler.mirror.Mirror` is made with
``families=True`` (``crawler demo`` and ``crawler mirror`` do).  Each is modelled on the real
pages in ``tests/fixtures/real/``:

``baotayninh`` (``baotayninh.vn``, Mediatech)
    menu and teasers of ``baotayninh-home-2026-05.html``; article markup of ``baotayninh-88701``;
    decimal ids of 6 digits (``/<slug>-<ID>.html``).
``baodongnai`` (``baodongnai.com.vn``, the Java platform)
    menu and teasers of ``baodongnai-home-2026-05.html`` (and ``baokhanhhoa-``'s, the same
    platform); article markup of ``phuyen-64112``; ids of 7 hex digits
    (``/<cate>/<YYYYMM>/<slug>-<ID>/``).
``baonghean`` (``baonghean.vn``, OneCMS)
    article markup of ``baonghean-10264116`` and ``baodanang-3102163``; decimal ids of 8 digits
    (``/<slug>-<ID>.html``).  No home page of the family was saved: the mirror's home page is a
    plain list of the newest articles and one box per section, paged ``/?page=N`` (the
    ``pagination: query:page`` of ``sources.yaml``, itself a guess).

The category trees are the start pages of each source in ``crawler/data/sources.yaml``, with the
names of the real menus (Nghệ An: sections of the real article pages' menu).
"""

from __future__ import annotations

from datetime import datetime

from crawler.mirror.sources import VN_TZ, SourceInfo, _c

TAYNINH_HOST = "baotayninh.vn"
DONGNAI_HOST = "baodongnai.com.vn"
NGHEAN_HOST = "baonghean.vn"
FAMILY_HOSTS = (TAYNINH_HOST, DONGNAI_HOST, NGHEAN_HOST)

TAYNINH = SourceInfo(
    key="baotayninh",
    hosts=(TAYNINH_HOST,),
    leaves=(_c("thoi-su-chinh-tri", "Thời sự chính trị"), _c("kinh-te", "Kinh tế"), _c("xa-hoi", "Xã hội"),
            _c("phap-luat", "Pháp luật"), _c("van-hoa", "Văn hóa"), _c("the-gioi", "Quốc tế"),
            _c("the-thao", "Thể thao"), _c("dia-phuong", "Địa phương"), _c("y-te", "Y tế")),
    id_base=146000,
    id_stride=3,
    start=datetime(2025, 10, 1, 6, 15, tzinfo=VN_TZ),
    spacing_minutes=50,
    places=("phường Tân Ninh", "xã Bến Lức", "phường Long An", "xã Dương Minh Châu", "phường Hòa Thành",
            "xã Đức Hòa", "phường Trảng Bàng", "xã Cần Giuộc", "tỉnh Tây Ninh"),
    date_style="slash",
    seed_leaf=None,
    slash=False,
)

DONGNAI = SourceInfo(
    key="baodongnai",
    hosts=(DONGNAI_HOST,),
    leaves=(_c("hoat-dong-cua-lanh-dao-tinh", "Hoạt động của lãnh đạo thành phố"), _c("chinh-tri", "Chính trị"),
            _c("kinh-te", "Kinh tế"), _c("xa-hoi", "Xã hội"), _c("phap-luat", "Pháp luật"),
            _c("van-hoa", "Văn hóa"), _c("ban-doc", "Bạn đọc"), _c("trang-dia-phuong", "Trang địa phương"),
            _c("khap-noi-trong-tinh", "Nhịp sống địa phương"), _c("dong-nam-bo", "Đông Nam Bộ"),
            # A subsection among the start pages: the breadcrumb shows the parent too.
            _c("cong-doan", "Công đoàn", "lao-dong-viec-lam", "Lao động - Công đoàn"),
            _c("dong-nai-cuoi-tuan", "Đồng Nai cuối tuần"), _c("chuyen-doi-so", "Chuyển đổi số"),
            _c("giai-tri", "Du lịch - Ẩm thực"), _c("the-gioi", "Thế giới"), _c("the-thao", "Thể thao"),
            _c("phong-van", "Phỏng vấn"), _c("phong-su-ky-su", "Phóng sự"), _c("ban-can-biet", "Bạn cần biết"),
            _c("kham-pha-dong-nai", "Khám phá Đồng Nai")),
    id_base=0x100000,  # scrambled: see crawler.mirror.catalog.HEX_MULT
    id_stride=5,
    start=datetime(2025, 11, 3, 5, 30, tzinfo=VN_TZ),
    spacing_minutes=55,
    places=("phường Trấn Biên", "phường Biên Hòa", "phường Long Khánh", "xã Long Thành", "phường Bình Phước",
            "xã Nhơn Trạch", "phường Đồng Xoài", "xã Tân Phú", "thành phố Đồng Nai"),
    date_style="dash",
    seed_leaf=None,
    id_hex=True,
)

NGHEAN = SourceInfo(
    key="baonghean",
    hosts=(NGHEAN_HOST,),
    leaves=(_c("thoi-su", "Thời sự"), _c("chinh-tri", "Chính trị"), _c("kinh-te", "Kinh tế"),
            _c("xa-hoi", "Xã hội"), _c("suc-khoe", "Sức khỏe"), _c("giao-duc", "Giáo dục"),
            _c("van-hoa", "Văn hóa"), _c("the-thao", "Thể thao"), _c("the-gioi", "Thế giới"),
            _c("chuyen-doi-so", "Chuyển đổi số")),
    id_base=10310000,
    id_stride=7,
    start=datetime(2025, 12, 1, 6, 0, tzinfo=VN_TZ),
    spacing_minutes=45,
    places=("phường Vinh Phú", "phường Trường Vinh", "xã Diễn Châu", "phường Cửa Lò", "xã Nam Đàn",
            "phường Hoàng Mai", "xã Quỳnh Lưu", "tỉnh Nghệ An"),
    date_style="slash",
    seed_leaf=None,
    slash=False,
)

FAMILY_SOURCES: dict[str, SourceInfo] = {s.key: s for s in (TAYNINH, DONGNAI, NGHEAN)}
FAMILY_TEMPLATE = {"baotayninh": "mediatech", "baodongnai": "javaplatform", "baonghean": "onecms"}
