"""crawler: an asynchronous crawler and archiver for Vietnamese provincial news portals."""

__version__ = "0.1.0"
CONTACT_URL = "https://github.com/crawler-vn/crawler"
USER_AGENT = f"crawler/{__version__} (+{CONTACT_URL})"
# Bumped whenever adapter or normalizer output may change; stored in every metadata file.
EXTRACTOR_VERSION = "2"  # 2: Huế across its CMS eras, ids validated at the edge, stricter VDOC sapo/kicker
