"""Vietnamese word and sentence bank for the mirror's generated articles.

Part of the offline mirror (tests and ``crawler demo``): :mod:`crawler.mirror.generator`
draws every title, sentence, caption and byline from here with a seeded
``random.Random``, so a page is a pure function of (seed, source, index).

The phrases imitate the register of provincial Party/government papers (meetings,
agriculture, health, schools) with real diacritics, typographic quotes and the
local date styles (Cần Thơ writes ``26-3``, Huế writes ``9/3``).  Everything is NFC.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence


def _nfc(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", s) for s in items)


SUBJECTS = _nfc([
    "UBND thành phố", "UBND tỉnh", "Sở Y tế", "Sở Giáo dục và Đào tạo", "Sở Nông nghiệp và Môi trường",
    "Hội Nông dân", "Hội Liên hiệp Phụ nữ", "Liên đoàn Lao động", "Tỉnh đoàn", "Thành đoàn",
    "Công an huyện", "Bộ Chỉ huy Quân sự", "Trung tâm Kiểm soát bệnh tật", "Bệnh viện Đa khoa trung ương",
    "Ban Quản lý các khu chế xuất và công nghiệp", "Ủy ban Mặt trận Tổ quốc Việt Nam", "Sở Xây dựng",
    "Sở Văn hóa, Thể thao và Du lịch", "Ngân hàng Chính sách xã hội", "Hợp tác xã nông nghiệp",
    "Ban Dân vận", "Sở Khoa học và Công nghệ", "Bảo hiểm xã hội", "Cục Thống kê", "Sở Tài chính",
])

ACTIONS = _nfc([
    "tổ chức hội nghị sơ kết", "triển khai kế hoạch", "đẩy mạnh", "tăng cường", "ra quân",
    "phát động phong trào", "kiểm tra tiến độ", "tổng kết công tác", "tập huấn về", "tuyên truyền về",
    "khảo sát thực tế", "ký kết chương trình phối hợp về", "đánh giá kết quả", "rà soát",
    "hỗ trợ người dân trong", "đầu tư nâng cấp", "thúc đẩy", "quyết liệt thực hiện",
])

TOPICS = _nfc([
    "phòng, chống dịch sốt xuất huyết", "chuyển đổi số trong cải cách hành chính",
    "xây dựng nông thôn mới nâng cao", "bảo vệ môi trường", "phát triển du lịch cộng đồng",
    "giảm nghèo bền vững", "an toàn giao thông", "bảo đảm an ninh trật tự", "phòng cháy, chữa cháy",
    "chăm sóc sức khỏe ban đầu", "tiêm chủng mở rộng", "dạy nghề cho lao động nông thôn",
    "sản xuất lúa chất lượng cao", "nuôi trồng thủy sản", "xây dựng chính quyền số",
    "thu hút đầu tư", "phát triển kinh tế tập thể", "xóa nhà tạm, nhà dột nát",
    "bảo tồn di sản văn hóa", "phát triển thể thao quần chúng", "ứng phó biến đổi khí hậu",
    "chống sạt lở bờ sông", "quản lý trật tự đô thị", "cải thiện chỉ số năng lực cạnh tranh cấp tỉnh",
    "chăm lo Tết cho hộ nghèo", "khởi nghiệp sáng tạo", "an toàn thực phẩm", "học tập suốt đời",
])

RESULTS = _nfc([
    "góp phần nâng cao đời sống vật chất, tinh thần của người dân",
    "tạo sự đồng thuận cao trong Nhân dân", "đạt nhiều kết quả tích cực",
    "bảo đảm đúng tiến độ đề ra", "từng bước tháo gỡ khó khăn cho doanh nghiệp",
    "tạo chuyển biến rõ nét ở cơ sở", "mang lại hiệu quả thiết thực",
    "góp phần hoàn thành các chỉ tiêu kinh tế - xã hội của năm",
])

STATEMENTS = _nfc([
    "việc triển khai còn gặp nhiều khó khăn do thiếu nguồn lực",
    "địa phương sẽ tiếp tục rà soát, bổ sung các giải pháp phù hợp với thực tế",
    "cần nâng cao vai trò, trách nhiệm của người đứng đầu",
    "nhiều mô hình hay, cách làm hiệu quả đã được nhân rộng",
    "công tác phối hợp giữa các ngành có lúc chưa chặt chẽ",
    "người dân rất phấn khởi khi chính sách đi vào cuộc sống",
    "các đơn vị cần chủ động hơn trong việc tham mưu, đề xuất",
    "nguồn vốn đầu tư công được giải ngân nhanh hơn so với cùng kỳ",
    "thời gian tới sẽ tập trung vào những nhiệm vụ trọng tâm, đột phá",
    "nhiều hộ gia đình đã mạnh dạn chuyển đổi cơ cấu cây trồng, vật nuôi",
])

QUOTES = _nfc([
    "Chúng tôi xác định đây là nhiệm vụ vừa cấp bách, vừa lâu dài",
    "Mỗi cán bộ phải thật sự gần dân, hiểu dân và vì dân",
    "Không để ai bị bỏ lại phía sau",
    "Cái khó nhất hiện nay là nguồn vốn và mặt bằng sản xuất",
    "Bà con đã quen với cách làm mới nên năng suất tăng rõ rệt",
    "Chúng tôi sẽ kiến nghị cấp trên sớm tháo gỡ vướng mắc",
])

POSITIONS = _nfc([
    "Chủ tịch UBND", "Phó Chủ tịch UBND", "Giám đốc Sở", "Phó Giám đốc Sở", "Bí thư Đảng ủy",
    "Trưởng phòng Kinh tế", "Chủ tịch Hội Nông dân", "Trưởng ấp", "Hiệu trưởng", "Giám đốc Bệnh viện",
])

FAMILY = _nfc(["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Phan", "Đặng", "Bùi", "Đỗ",
               "Ngô", "Dương", "Lý", "Trương", "Châu", "Tôn Nữ"])
MIDDLE = _nfc(["Văn", "Thị", "Minh", "Thanh", "Hoàng", "Ngọc", "Quốc", "Hữu", "Kim", "Thúy", "Đức"])
GIVEN = _nfc(["An", "Bình", "Cường", "Dũng", "Hạnh", "Hùng", "Hương", "Khánh", "Lan", "Long", "Mai",
              "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Tâm", "Thảo", "Trang", "Trí", "Tuấn", "Vân",
              "Yến", "Hiếu", "Lộc", "Nhi", "Uyên", "Đạt", "Thư", "Sơn"])

SUBHEADINGS = _nfc([
    "Nhiều kết quả tích cực", "Còn không ít khó khăn", "Tập trung các giải pháp trọng tâm",
    "Hướng đến phát triển bền vững", "Chuyển biến từ cơ sở", "Gỡ vướng cho sản xuất",
    "Lan tỏa mô hình hay", "Sớm đưa chính sách vào cuộc sống", "Nỗi lo của người dân",
    "Cần sự vào cuộc của cả hệ thống chính trị",
])

LIST_ITEMS = _nfc([
    "Hỗ trợ vay vốn ưu đãi cho hộ cận nghèo", "Tập huấn kỹ thuật canh tác cho nông dân",
    "Nâng cấp 12 tuyến đường giao thông nông thôn", "Tổ chức khám sức khỏe miễn phí cho người cao tuổi",
    "Trao 150 suất học bổng cho học sinh vượt khó", "Lắp đặt hệ thống camera an ninh tại các tuyến chính",
    "Xây dựng 30 căn nhà đại đoàn kết", "Số hóa hồ sơ thủ tục hành chính",
    "Trồng mới 5.000 cây xanh", "Thành lập tổ công nghệ số cộng đồng",
])

CAPTION_ACTIVITIES = _nfc([
    "phát biểu tại hội nghị", "kiểm tra tiến độ thi công công trình", "trao quà cho hộ nghèo",
    "thăm mô hình sản xuất", "làm việc với lãnh đạo địa phương", "tham quan gian hàng trưng bày sản phẩm",
])

CAPTION_SCENES = _nfc([
    "Quang cảnh hội nghị", "Người dân làm thủ tục tại bộ phận một cửa", "Nông dân thu hoạch lúa",
    "Các em học sinh trong giờ học", "Lực lượng chức năng tuần tra trên tuyến đường",
    "Du khách tham quan khu di tích", "Công nhân làm việc tại nhà máy", "Cán bộ y tế tiêm vắc-xin cho trẻ",
])

KICKERS = _nfc([
    "Hội nghị sơ kết 6 tháng đầu năm:", "Kỳ 1:", "Kỳ 2:", "Ghi nhận tại cơ sở:", "Phóng sự:",
    "Đối thoại với người dân:", "Hướng tới Đại hội Đảng bộ các cấp:",
])

TAGS = _nfc(["chuyển đổi số", "nông thôn mới", "giảm nghèo", "y tế", "giáo dục", "du lịch",
             "an toàn giao thông", "môi trường", "doanh nghiệp", "văn hóa"])

WIRE_SOURCES = _nfc(["TTXVN", "Vietnamnet", "VnExpress", "Báo Chính phủ", "Nhân Dân"])


def cap(text: str) -> str:
    """Upper-case the first letter only (Vietnamese-safe: ``đẩy`` -> ``Đẩy``)."""
    return text[:1].upper() + text[1:]


def person(rng: random.Random) -> str:
    """A plausible full name, e.g. ``Nguyễn Thanh Tâm``."""
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def short_name(rng: random.Random) -> str:
    """A reporter's pen name, two syllables, e.g. ``Anh Phong`` or ``Mỹ Thanh``."""
    return f"{rng.choice(MIDDLE + GIVEN)} {rng.choice(GIVEN)}"


def day_month(rng: random.Random, style: str) -> str:
    """A day-month mention in the paper's house style: ``26-3`` (Cần Thơ) or ``9/3`` (Huế)."""
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    return f"{day}-{month}" if style == "dash" else f"{day}/{month}"


def number(rng: random.Random) -> str:
    """A decimal with a Vietnamese comma, e.g. ``12,5``."""
    return f"{rng.randint(1, 99)},{rng.randint(1, 9)}"


def sentence(rng: random.Random, places: Sequence[str], date_style: str) -> str:
    """One sentence, ending with its punctuation."""
    kind = rng.randrange(8)
    place = rng.choice(places)
    if kind == 0:
        opener = rng.choice(["Sáng", "Chiều", "Ngày", "Tối"])
        return (f"{opener} {day_month(rng, date_style)}, {rng.choice(SUBJECTS)} {place} "
                f"{rng.choice(ACTIONS)} {rng.choice(TOPICS)}.")
    if kind == 1:
        return f"{rng.choice(SUBJECTS)} cho biết, {rng.choice(STATEMENTS)}."
    if kind == 2:
        return f"Theo {rng.choice(POSITIONS)} {person(rng)}, {rng.choice(STATEMENTS)}."
    if kind == 3:
        return (f"Từ đầu năm đến nay, {place} đã {rng.choice(ACTIONS)} {rng.choice(TOPICS)}, "
                f"{rng.choice(RESULTS)}.")
    if kind == 4:
        return (f"Tổng kinh phí thực hiện hơn {number(rng)} tỉ đồng, tăng {number(rng)}% "
                f"so với cùng kỳ năm trước.")
    if kind == 5:
        return f"“{rng.choice(QUOTES)}”, ông {person(rng)} chia sẻ."
    if kind == 6:
        return (f"Bên cạnh đó, {rng.choice(SUBJECTS)} còn {rng.choice(ACTIONS)} "
                f"{rng.choice(TOPICS)} tại {place}…")
    return f"Thời gian tới, {place} tiếp tục {rng.choice(ACTIONS)} {rng.choice(TOPICS)}; {rng.choice(STATEMENTS)}."


def paragraph(rng: random.Random, places: Sequence[str], date_style: str) -> str:
    """Two to five sentences."""
    return " ".join(sentence(rng, places, date_style) for _ in range(rng.randint(2, 5)))


def title(rng: random.Random, places: Sequence[str]) -> str:
    """A headline; some end in ``?`` or a closing quote (their slugs then end in ``-``)."""
    kind = rng.randrange(7)
    topic = rng.choice(TOPICS)
    if kind == 0:
        return f"{cap(rng.choice(places))}: {cap(rng.choice(ACTIONS))} {topic}"
    if kind == 1:
        return f"{cap(rng.choice(ACTIONS))} {topic}"
    if kind == 2:
        return f"Nâng cao hiệu quả {topic}"
    if kind == 3:
        return f"Làm gì để {topic} đạt hiệu quả?"
    if kind == 4:
        return f"{rng.choice(SUBJECTS)} {rng.choice(ACTIONS)} {topic} tại {rng.choice(places)}"
    if kind == 5:
        return f"“{rng.choice(QUOTES)}”"
    return f"{cap(topic)}: {rng.choice(RESULTS)}"


def caption(rng: random.Random, places: Sequence[str]) -> str:
    """An image caption, sometimes with the photographer's credit."""
    if rng.random() < 0.5:
        text = f"{rng.choice(POSITIONS)} {rng.choice(places)} {person(rng)} {rng.choice(CAPTION_ACTIVITIES)}."
    else:
        text = f"{rng.choice(CAPTION_SCENES)} tại {rng.choice(places)}."
    if rng.random() < 0.3:
        text += f" Ảnh: {short_name(rng).upper()}"
    return text
