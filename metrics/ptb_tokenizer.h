// The COCO caption tokenization step of pycocoevalcap, native: CoreNLP 3.4.1's
// PTBTokenizer with -preserveLines -lowerCase, then pycocoevalcap's punctuation
// filter (specs/metrics.md §1.2). Written from the behavioural spec and from tables
// measured on the jar (ptb_tables.inc, tests/oracles/gen_ptb_tables.py); parity is
// tested against pycocoevalcap itself (tests/metrics/ptb_parity_test.py).
//
// Deliberately reproduced quirks: brackets become -lrb- etc. and survive the filter,
// clitics and assimilations split, abbreviations and single letters keep their
// period, ?! runs survive, untokenizable characters vanish, and a caption holding
// \r, U+2028, U+2029, U+000B, U+000C or U+0085 shifts every later caption's line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lnb::metrics {

// Tokens of one line (no newline characters inside), lowercased, before the filter.
// `next_line` is what the jar would read next: some abbreviation rules look at it
// ("the letter A." keeps its period unless a sentence start such as "The" follows).
std::vector<std::string> ptb_tokenize_line(std::string_view line, std::string_view next_line = {});

// pycocoevalcap's filter: drop tokens in its punctuation list, join with spaces.
std::string coco_filter(const std::vector<std::string>& tokens);

// One tokenizer run over a list of captions, exactly as PTBTokenizer.tokenize():
// '\n' -> ' ', captions joined by '\n', the jar splits lines on every newline kind,
// lines are zipped back onto the captions (a misaligned tail is reproduced; a caption
// left without a line — zip truncation — gets "" and is counted in *n_missing).
std::vector<std::string> coco_tokenize(const std::vector<std::string>& captions, size_t* n_missing = nullptr);

// PTBTokenizer.tokenize() on a dict image -> captions: one tokenizer run over every
// caption (images in the given order), regrouped per image.
std::vector<std::vector<std::string>> coco_tokenize_grouped(const std::vector<std::vector<std::string>>& groups);

// Convenience for a caption known to hold no line breaks, tokenized alone.
std::string coco_tokenize_one(std::string_view caption);

}  // namespace lnb::metrics
