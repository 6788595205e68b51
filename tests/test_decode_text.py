"""Text files in the common encodings decode right, short and long."""

import pytest

from qa.errors import UnsupportedDocument
from qa.read.formats import decode_text

SHORT = {
    "western": "The Café Müller bakery in Zürich",
    "quotes": "He said “hello” — and left… for €5",
    "french": "Le garçon a mangé une crème brûlée à l'hôtel",
    "russian": "Привет, как дела? Москва",
    "japanese": "こんにちは、東京の天気は晴れです。",
    "chinese": "北京是中国的首都。",
}
LONG = {
    "western": "Die Bäckerei Müller in Zürich backt täglich frische Brötchen für die Gäste. " * 40,
    "russian": "Москва — столица России, крупнейший по численности населения город страны. " * 40,
    "japanese": "日本語のテキストです。東京は日本の首都であり、世界最大の都市圏の一つです。" * 20,
    "chinese": "北京是中华人民共和国的首都，也是全国的政治和文化中心。" * 20,
}
ENCODINGS = {"western": ("cp1252", "latin-1"), "quotes": ("cp1252",), "french": ("cp1252", "latin-1"),
             "russian": ("cp1251",), "japanese": ("shift_jis",), "chinese": ("gb18030",)}
CASES = [(kind, length, text, encoding) for length, texts in (("short", SHORT), ("long", LONG))
         for kind, text in texts.items() for encoding in ENCODINGS[kind]]


@pytest.mark.parametrize(("kind", "length", "text", "encoding"), CASES, ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in CASES])
def test_code_pages(kind, length, text, encoding):
    assert decode_text(text.encode(encoding)) == text


@pytest.mark.parametrize("text", [SHORT["western"], SHORT["russian"], LONG["western"], LONG["russian"]])
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16", "utf-8", "utf-8-sig"])
def test_unicode_with_and_without_bom(text, encoding):
    assert decode_text(text.encode(encoding)) == text


def test_binary_with_zero_bytes_is_still_refused():
    with pytest.raises(UnsupportedDocument, match="binary file"):
        decode_text(bytes(range(256)) * 40)
