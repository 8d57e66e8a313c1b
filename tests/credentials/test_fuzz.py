"""Fuzz: mutate genuine PDFs and links; the verifier must accept none of them.

A few hundred cases per test by default; ``SLOW=1`` runs >= 1,000 per test.  The seed
is fixed (reproducible); set ``FUZZ_SEED`` to explore others.
"""

from __future__ import annotations

import collections
import os
import random
import re

from credentials import Verdict, verify_link

from .conftest import cases, verify

SEED = int(os.environ.get("FUZZ_SEED", "20250630"))
URL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~:/?#[]@!$&'()*+,;=%"


def _span(pdf: bytes, pattern: bytes) -> tuple[int, int]:
    m = re.search(pattern, pdf, re.S)
    assert m, pattern
    return m.start(1), m.end(1)


def pdf_mutants(pdf: bytes, n: int, rnd: random.Random):
    """``n`` mutated copies of ``pdf`` (each differs from it), with the operator's name."""
    snap = _span(pdf, rb"/TranscriptPart /snapshot .*?>>\nstream\n(.*?)\nendstream")
    link = _span(pdf, rb"/TranscriptPart /link .*?>>\nstream\n(.*?)\nendstream")
    sig = re.search(rb"/TranscriptSignature <([0-9a-f]{128})>", pdf)
    digits = [m.start() for m in re.finditer(rb"[0-9]", pdf[: min(len(pdf), 400_000)])]

    def anywhere() -> int:
        return rnd.randrange(len(pdf))

    def inside(span: tuple[int, int]) -> int:
        return rnd.randrange(*span)

    ops = {
        "bit flip": lambda d: d.__setitem__(i := anywhere(), d[i] ^ (1 << rnd.randrange(8))),
        "byte set": lambda d: d.__setitem__(anywhere(), rnd.randrange(256)),
        "insert": lambda d: d.__setitem__(slice(i := anywhere(), i),
                                          rnd.randbytes(rnd.randint(1, 16))),
        "delete": lambda d: d.__delitem__(slice(i := anywhere(), i + rnd.randint(1, 64))),
        "truncate": lambda d: d.__delitem__(slice(rnd.randrange(len(d)), None)),
        "append": lambda d: d.extend(rnd.choice([b"\n", b"%%EOF\n", rnd.randbytes(32),
                                                 b"\n1 0 obj\n<<>>\nendobj\n%%EOF\n"])),
        "duplicate": lambda d: d.__setitem__(slice(j := anywhere(), j),
                                             bytes(d[(i := anywhere()):i + rnd.randint(1, 200)])),
        "swap": lambda d: _swap(d, anywhere(), anywhere()),
        "digit": lambda d: d.__setitem__(rnd.choice(digits), ord(rnd.choice("0123456789"))),
        "snapshot byte": lambda d: d.__setitem__(inside(snap), rnd.randrange(32, 127)),
        "snapshot digit": lambda d: _digit_in(d, snap, rnd),
        "link char": lambda d: d.__setitem__(inside(link), ord(rnd.choice(URL_CHARS))),
        "case flip": lambda d: _case(d, anywhere()),
    }
    if sig:
        ops["signature hex"] = lambda d: d.__setitem__(rnd.randrange(sig.start(1), sig.end(1)),
                                                       ord(rnd.choice("0123456789abcdef")))
    names = sorted(ops)
    made = 0
    while made < n:
        name = names[made % len(names)]
        d = bytearray(pdf)
        ops[name](d)
        if bytes(d) == pdf:
            continue
        made += 1
        yield name, bytes(d)


def _swap(d: bytearray, i: int, j: int) -> None:
    d[i], d[j] = d[j], d[i]


def _case(d: bytearray, i: int) -> None:
    while not (65 <= d[i] <= 90 or 97 <= d[i] <= 122):
        i = (i + 1) % len(d)
    d[i] ^= 0x20


def _digit_in(d: bytearray, span: tuple[int, int], rnd: random.Random) -> None:
    positions = [i for i in range(*span) if 48 <= d[i] <= 57]
    i = rnd.choice(positions)
    d[i] = ord(rnd.choice([c for c in "0123456789" if ord(c) != d[i]]))


def _run_pdf_fuzz(pdf: bytes, key, n: int, seed: int) -> collections.Counter:
    rnd = random.Random(seed)
    codes: collections.Counter = collections.Counter()
    accepted = []
    for name, mutant in pdf_mutants(pdf, n, rnd):
        v = verify(mutant, key)
        assert isinstance(v, Verdict) and v.reason
        codes[v.code] += 1
        if v.genuine:
            accepted.append(name)
    assert accepted == [], accepted
    assert "genuine" not in codes and "unreadable" not in codes, codes
    return codes


def test_fuzz_signed_pdf(issued60, key):
    codes = _run_pdf_fuzz(issued60[2], key, cases(400, 1500), SEED)
    assert sum(codes.values()) >= cases(400, 1500)


def test_fuzz_unsigned_pdf(issued60_unsigned, key):
    """Files without the whole-file signature are checked by re-rendering (slower)."""
    codes = _run_pdf_fuzz(issued60_unsigned[2], key, cases(100, 1000), SEED + 1)
    assert codes["altered"] > 0


def link_mutants(link: str, n: int, rnd: random.Random):
    ops = {
        "substitute": lambda s, i: s[:i] + rnd.choice(URL_CHARS) + s[i + 1:],
        "insert": lambda s, i: s[:i] + rnd.choice(URL_CHARS) + s[i:],
        "delete": lambda s, i: s[:i] + s[i + 1:],
        "transpose": lambda s, i: s[:i] + s[i + 1:i + 2] + s[i:i + 1] + s[i + 2:],
        "case": lambda s, i: s[:i] + s[i].swapcase() + s[i + 1:],
        "percent": lambda s, i: s[:i] + f"%{ord(s[i]):02X}" + s[i + 1:],
        "truncate": lambda s, i: s[:i],
        "append": lambda s, i: s + rnd.choice(["&x=1", "#", "/", " ", "=", "&s=AA", "?"]),
        "duplicate": lambda s, i: s[:i] + s[i:i + rnd.randint(1, 12)] + s[i:],
    }
    names = sorted(ops)
    made = 0
    while made < n:
        name = names[made % len(names)]
        out = ops[name](link, rnd.randrange(len(link)))
        if out == link:
            continue
        made += 1
        yield name, out


def test_fuzz_links(issued60, key):
    _s, link, _pdf = issued60
    rnd = random.Random(SEED + 2)
    n = cases(600, 5000)
    accepted = [m for _name, m in link_mutants(link, n, rnd) if verify_link(m, key).genuine]
    assert accepted == []


def test_every_single_character_change_of_a_link_is_refused(issued60, key):
    """Exhaustive: each position, a handful of replacement characters."""
    _s, link, _pdf = issued60
    rnd = random.Random(SEED + 3)
    tried = 0
    for i in range(len(link)):
        for c in rnd.sample(URL_CHARS, cases(3, 12)):
            m = link[:i] + c + link[i + 1:]
            if m != link:
                tried += 1
                assert not verify_link(m, key).genuine, (i, c)
    assert tried >= 500
