"""Seeded generator of COCO-style caption sets for parity tests and benchmarks.

Captions mix ordinary COCO phrasing with everything the PTB tokenizer treats
specially (specs/metrics.md §1.2): clitics, assimilations, abbreviations, single
letters, hyphens, numbers, currency, brackets, quotes, dashes, ellipses, ?! runs,
URLs, entities, unicode letters and spaces, emoji, empty and whitespace-only
captions. Nothing here knows lnbench's rules: it only draws text.
"""
import random

NOUNS = ("man woman person dog cat horse bus train car truck plane bird giraffe elephant zebra bear "
         "pizza sandwich cake table chair bench bed couch kitchen bathroom street beach field tennis "
         "racket skateboard surfboard kite umbrella clock phone laptop computer boy girl child people "
         "sheep cow boat bicycle motorcycle toilet sink window door building tree wave snow frisbee").split()
ADJS = "red blue green white black brown large small young old two three several many wooden tall little".split()
VERBS = ("riding sitting standing holding eating playing walking flying laying looking parked "
         "throwing catching carrying wearing watching").split()
PREPS = "on in with next to near under at of by behind over".split()
QUIRKS = [
    "isn't", "can't", "won't", "don't", "it's", "man's", "they're", "we've", "he'll", "I'm", "she'd",
    "cannot", "gonna", "gotta", "wanna", "y'all", "o'clock", "rock 'n' roll", "'90s", "'tis",
    "t-shirt", "black-and-white", "20-year-old", "x-ray", "Mr.", "Dr.", "St.", "U.S.", "e.g.", "i.e.",
    "a.m.", "p.m.", "etc.", "Inc.", "No. 5", "vs.", "the letter A.", "vitamin C.", "1,000", "2.5", "3:30",
    "1/2", "3 1/2", "$5", "10%", "#1", "100+", "(brown)", "[sic]", "{x}", "\"quoted\"", "'single'",
    "\u201ccurly\u201d", "\u2018curly\u2019", "-", "--", "---", "-----", "\u2013", "\u2014", "...", "\u2026",
    "?!", "!!", "??", "wow!", "why?", "a, b; c: d", "&amp;", "&lt;", "<b>bold</b>", "http://x.com/a?b=c",
    "me@example.org", "www.example.com", "50/50", "tv/dvd", "a_b", "c__d", "caf\u00e9", "na\u00efve",
    "Z\u00fcrich", "S\u00e3o Paulo", "\u6771\u4eac", "\u041c\u043e\u0441\u043a\u0432\u0430", "\u00bd",
    "\u00a35", "\u20ac5", "5\u00a2", "\U0001F600", "\u00a0", "\u3000", "\u2009", "\t", ":)", ";-)",
    "AT&T", "R&B", "Q&A", "salt&pepper", "5.", ".5", "dogs'", "DON'T", "IT'S", "\u0130stanbul",
    "\u03a3\u0391\u03a3", "hi..", "....", "......", "a/b/c", "w/", "c/o", "ok.Next", "end.Start",
    "The End.", "Mt. Fuji", "Jan. 5", "5 p.m.", "U.K.", "Ph.D.", "dog(s)", "it's 5:30", "'em",
]


def _attach(rng, w):
    """Punctuation where writers put it: after a word, or around it."""
    r = rng.random()
    if r < 0.06:
        return w + rng.choice([",", ",", ";", ":", "!", "?", "...", "'s", "s'", ".", "?!", "!!"])
    if r < 0.08:
        return rng.choice(["(%s)", "\"%s\"", "'%s'", "\u201c%s\u201d", "[%s]", "(%s", "%s)"]) % w
    return w


def caption(rng, quirk_rate=0.35, hostile=False):
    """One caption. hostile=True also glues random punctuation *between* words
    ("dog,cat", "bicycle3:30"), which real captions rarely do."""
    r = rng.random()
    if r < 0.01:
        return ""
    if r < 0.015:
        return rng.choice(["   ", "\t", " \u00a0 "])
    words = []
    if rng.random() < 0.7:
        words.append(rng.choice(["A", "a", "The", "the", "Two", "An"]))
    for _ in range(rng.randint(3, 12)):
        kind = rng.random()
        if kind < quirk_rate / 2:
            words.append(rng.choice(QUIRKS))
        elif kind < 0.45:
            words.append(_attach(rng, rng.choice(NOUNS)))
        elif kind < 0.6:
            words.append(rng.choice(ADJS))
        elif kind < 0.75:
            words.append(rng.choice(VERBS))
        else:
            words.append(rng.choice(PREPS))
    text = ""
    for w in words:
        glue = rng.random()
        if not text:
            text = w
        elif hostile and glue < 0.04:
            text += w
        elif hostile and glue < 0.08:
            text += rng.choice([",", ".", ";", ":", "!", "?", "'", "\"", "-", "/"]) + w
        elif glue < 0.03:
            text += "  " + w
        else:
            text += " " + w
    if rng.random() < 0.1:
        text = text.upper() if rng.random() < 0.3 else text.capitalize()
    end = rng.random()
    if end < 0.5:
        text += "."
    elif end < 0.55:
        text += rng.choice(["!", "?", "...", " .", ". ", "?!", ".."])
    if rng.random() < 0.02:
        text = " " + text
    return text


# COCO's captions repeat a small stock of phrases ("a man riding", "on top of a", "next to
# a"): phrasal=True builds each caption from these, so 3- and 4-grams recur across images
# as in the real annotations, instead of random word sequences.
PHRASES = ["a man", "a woman", "a group of people", "a dog", "a cat", "two giraffes", "a plate of food",
           "riding a", "sitting on", "standing next to", "holding a", "laying on", "flying a kite",
           "on top of a", "in front of a", "next to a", "in the middle of a", "on a", "with a",
           "wave", "bench", "table", "street", "field", "bed", "skateboard", "surfboard", "pizza", "horse",
           "in a kitchen", "on the beach", "in the snow", "at a park", "down a street", "that is", "is"]


def phrasal_caption(rng):
    text = " ".join(rng.choice(PHRASES) for _ in range(rng.randint(3, 7)))
    if rng.random() < 0.5:
        text = text.capitalize()
    return text + ("." if rng.random() < 0.5 else "")


def caption_set(n_images, seed, min_refs=1, max_refs=7, quirk_rate=0.35, line_breaks=False, hostile=False,
                phrasal=False):
    """COCO annotation dict and results list."""
    rng = random.Random(seed)
    images, anns, res = [], [], []
    ann_id = 0
    ids = list(range(1, n_images + 1))
    rng.shuffle(ids)                      # annotation order != id order
    for img in ids:
        images.append({"id": img, "file_name": f"{img:012d}.jpg"})
        for _ in range(rng.randint(min_refs, max_refs)):
            ann_id += 1
            c = phrasal_caption(rng) if phrasal else caption(rng, quirk_rate, hostile)
            if line_breaks and rng.random() < 0.01:
                c = c.replace(" ", "\n", 1)     # pycocoevalcap turns '\n' into ' '
            anns.append({"id": ann_id, "image_id": img, "caption": c})
        res.append({"image_id": img, "caption": phrasal_caption(rng) if phrasal else caption(rng, quirk_rate, hostile)})
    rng.shuffle(res)                      # results order is irrelevant
    return {"images": images, "annotations": anns, "type": "captions"}, res
