"""Converts a MediaWiki XML dump (.xml.bz2) into WikiText-style plain text for the masked LM.

    python3 wiki_to_text.py MWPARSER_DIR DUMP.xml.bz2 HELD_OUT.txt OUT.txt

Output: per article a " = Title = " line, one paragraph per line, a blank line after it (the
format data/text_corpus.h reads). Markup is removed by mwparserfromhell (templates, references,
tables and galleries dropped first, then strip_code); lines under 8 words (list items, captions,
leftovers) are dropped. The text is tokenised as WikiText is: punctuation split off, in-word
hyphens and separators inside numbers written " @-@ ", " @,@ ", " @.@ ".
Articles whose title is a top-level heading of HELD_OUT.txt are left out, so that held-out
validation articles never appear in training text. Written to OUT.txt.partial, then renamed.
"""
import bz2
import os
import re
import sys
import xml.etree.ElementTree as ET

mwparser_dir, dump, held_out_path, out_path = sys.argv[1:5]
sys.path.insert(0, mwparser_dir)
import mwparserfromhell  # noqa: E402  (from the wheel fetch_text.sh unpacked)

held_out = set()
with open(held_out_path, encoding="utf-8") as f:
    for line in f:
        m = re.fullmatch(r" = ([^=].*?) = \n", line)
        if m:
            held_out.add(m.group(1).strip().lower())


def wikitext_style(paragraph):
    p = re.sub(r"(?<=\w)-(?=\w)", "\x01", paragraph)
    p = re.sub(r"(?<=\d),(?=\d)", "\x02", p)
    p = re.sub(r"(?<=\d)\.(?=\d)", "\x03", p)
    p = re.sub(r"([^\w\s'\x01\x02\x03])", r" \1 ", p)
    p = p.replace("\x01", " @-@ ").replace("\x02", " @,@ ").replace("\x03", " @.@ ")
    return re.sub(r"\s+", " ", p).strip()


def plain_paragraphs(wikitext):
    code = mwparserfromhell.parse(wikitext)
    for node in code.filter_templates(recursive=False):
        code.remove(node)
    for node in code.filter_tags(recursive=False):
        if str(node.tag).lower() in ("ref", "table", "gallery", "math"):
            code.remove(node)
    for line in code.strip_code(normalize=True, collapse=True).split("\n"):
        line = line.strip()
        if len(line.split()) >= 8 and not line.startswith(("Category:", "File:", "Image:", "|", "{", "!")):
            yield wikitext_style(line)


kept = left_out = words = 0
with open(out_path + ".partial", "w", encoding="utf-8") as out:
    for _, element in ET.iterparse(bz2.open(dump)):
        if element.tag.rsplit("}", 1)[-1] != "page":
            continue
        title = element.find("{*}title").text
        namespace = element.find("{*}ns").text
        text = element.find("{*}revision/{*}text").text or ""
        element.clear()
        if namespace != "0" or text.lstrip().upper().startswith("#REDIRECT"):
            continue
        if title.lower() in held_out:
            left_out += 1
            continue
        paragraphs = list(plain_paragraphs(text))
        if not paragraphs:
            continue
        out.write(f" = {title} = \n")
        for p in paragraphs:
            out.write(p + "\n")
            words += len(p.split())
        out.write("\n")
        kept += 1
os.replace(out_path + ".partial", out_path)
print(f"wiki_to_text: {out_path}: {kept} articles, {words} words; {left_out} held-out titles left out",
      file=sys.stderr)
