"""Pages in Chinese: a page's every text, and the words in it from our English catalog."""

from __future__ import annotations

import re

from hub.web.i18n import TEXTS

# Everything a page shows as text, one text node a line (so that words of two cells never
# run together): its title, its body (hidden parts too, and SVG), its templates, and the
# words of its attributes.
PAGE_TEXT = """() => {
  const texts = [document.title];
  const templates = [...document.querySelectorAll("template")].map((node) => node.content);
  for (const root of [document.body, ...templates]) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) texts.push(walker.currentNode.nodeValue);
  }
  const names = ["title", "placeholder", "aria-label", "alt"];
  for (const node of document.querySelectorAll("[title], [placeholder], [aria-label], [alt]")) {
    for (const name of names) texts.push(node.getAttribute(name));
  }
  return texts.filter(Boolean).join("\\n");
}"""
# What the test plant names in Latin letters itself (longest first, so "bore_mm" goes
# before "bore"); channel addresses and token names are taken out by pattern.
PLANT_DATA = sorted(
    ["plant1", "Li Wei", "Zhang Min", "li-wei", "zhang-min", "bore_mm", "bore", "imr", "mm",
     "probe", "viewer-line2"],
    key=len, reverse=True,
)  # fmt: skip
ADDRESSES = re.compile(r"[\w+.-]+://\S+", re.ASCII)
TOKEN_NAMES = re.compile(r"[\w-]+-token", re.ASCII)


# A configuration key written in a text (``micro_stop_s``) is a name, not words.
KEYS = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")


def catalog_words(language: str) -> set[str]:
    """The Latin words of the catalog's entries in ``language``, less their {places} and
    the configuration keys they name."""
    found: set[str] = set()
    for words in TEXTS.values():
        text = KEYS.sub(" ", re.sub(r"\{\w+\}", " ", words.get(language, "")))
        found |= {word.lower() for word in re.findall("[A-Za-z]+", text)}
    return found


ENGLISH = catalog_words("en") - catalog_words("zh")


def english_words(text: str) -> list[str]:
    """The words of ``text`` that come from our English catalog, once the plant's own
    names are taken out."""
    text = KEYS.sub(" ", TOKEN_NAMES.sub(" ", ADDRESSES.sub(" ", text)))
    for name in PLANT_DATA:
        text = text.replace(name, " ")
    return sorted({word for word in re.findall("[A-Za-z]+", text) if word.lower() in ENGLISH})
