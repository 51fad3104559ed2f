"""Write the small sample corpus (indexing/sample/) that the app indexes on first run.

Facts about a dozen countries from the `countryinfo` and `pycountry` packages (the `eval` extra),
written as one document per supported file type: Markdown, plain text, HTML and JSONL (a PDF has no
plain-text source here, so the sample has none). Total size stays well under 200 KB.

    python -m indexing.sample_corpus [--out indexing/sample]
"""

from __future__ import annotations

import argparse
import html
import json
from pathlib import Path

MARKDOWN = ["France", "Japan", "Brazil", "Kenya", "Canada", "India"]
TEXT = ["Norway", "Peru"]
HTML = ["Egypt", "Australia"]
JSONL = ["Italy", "Mexico", "Vietnam", "Morocco", "Chile", "Finland"]


def facts(name: str) -> dict[str, object]:
    import pycountry
    from countryinfo import CountryInfo

    info = CountryInfo(name).info()

    def country(code: str) -> str:
        c = pycountry.countries.get(alpha_3=code)
        return getattr(c, "common_name", None) or c.name if c else code

    def language(code: str) -> str:
        lang = pycountry.languages.get(alpha_2=code)
        return lang.name if lang else code

    def currency(code: str) -> str:
        cur = pycountry.currencies.get(alpha_3=code)
        return f"{cur.name} ({code})" if cur else code

    return {
        "name": info["name"], "official": next((s for s in info.get("altSpellings", []) if " " in s), info["name"]),
        "capital": info.get("capital", ""), "region": info.get("region", ""), "subregion": info.get("subregion", ""),
        "population": int(info.get("population", 0)), "area": int(float(info.get("area", 0))),
        "borders": [country(c) for c in info.get("borders", [])],
        "languages": [language(c) for c in info.get("languages", [])],
        "currencies": [currency(c) for c in info.get("currencies", [])],
        "calling": info.get("callingCodes", []), "demonym": info.get("demonym", ""),
        "provinces": info.get("provinces", [])[:12], "tld": info.get("tld", []),
        "timezones": info.get("timezones", []), "native": info.get("nativeName", ""),
    }


def _join(items: list[str]) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else "none"


def paragraphs(f: dict) -> dict[str, str]:
    """Section title -> prose about one country."""
    n = f["name"]
    out = {
        "Overview": f"{n}, officially the {f['official']}, is a country in {f['subregion'] or f['region']}, part of "
                    f"the {f['region']} region. Its capital is {f['capital']}. In its own language the country is "
                    f"called {f['native']}. People from {n} are called {f['demonym']}.",
        "Population and area": f"{n} has a population of about {f['population']:,} people and covers an area of "
                               f"{f['area']:,} square kilometres, a population density of about "
                               f"{f['population'] / max(f['area'], 1):.1f} people per square kilometre.",
        "Neighbours": (f"{n} shares land borders with {_join(f['borders'])}." if f["borders"]
                       else f"{n} has no land borders with other countries."),
        "Languages and currency": f"The official language of {n} is {_join(f['languages'])}. The currency used "
                                  f"in {n} is the {_join(f['currencies'])}.",
        "Codes and time": f"The international calling code of {n} is +{_join(f['calling'])}, and its internet "
                          f"country domain is {_join(f['tld'])}. {n} uses the time zone"
                          f"{'s' if len(f['timezones']) > 1 else ''} {_join(f['timezones'])}.",
    }
    if f["provinces"]:
        out["Regions"] = f"Administrative divisions of {n} include {_join(f['provinces'])}."
    return out


def write(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in MARKDOWN:
        f = facts(name)
        body = "\n\n".join(f"## {title}\n\n{text}" for title, text in paragraphs(f).items())
        (out / f"{name.lower()}.md").write_text(f"# {name}\n\n{body}\n", encoding="utf-8")
    for name in TEXT:
        f = facts(name)
        (out / f"{name.lower()}.txt").write_text("\n\n".join(paragraphs(f).values()) + "\n", encoding="utf-8")
    for name in HTML:
        f = facts(name)
        sections = "".join(f"<h2>{html.escape(t)}</h2>\n<p>{html.escape(p)}</p>\n" for t, p in paragraphs(f).items())
        (out / f"{name.lower()}.html").write_text(
            f"<!DOCTYPE html>\n<html><head><title>{name}</title><style>body{{font-family:sans-serif}}</style>"
            f"</head>\n<body><h1>{name}</h1>\n{sections}<script>console.log('not indexed');</script></body></html>\n",
            encoding="utf-8")
    with open(out / "more_countries.jsonl", "w", encoding="utf-8") as fh:
        for name in JSONL:
            f = facts(name)
            fh.write(json.dumps({"id": name.lower(), "title": name, "source": f"countryinfo:{name}",
                                 "text": " ".join(paragraphs(f).values())}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "sample")
    write(parser.parse_args().out)
