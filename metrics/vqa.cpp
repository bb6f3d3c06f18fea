// See vqa.h. Sources: GT-Vision-Lab/VQA vqaEval.py (a013f00, a4f1afd) and LLaVA's
// m4c_evaluator.py; the typo'd period regex and the count=re.UNICODE (=32) quirk are
// reproduced on purpose.
#include "metrics/vqa.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "metrics/ngram_table.h"
#include "metrics/pyfloat.h"
#include "metrics/utf8.h"

namespace lnb::metrics {
namespace {

const char* const kPunct[] = {";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+",
                              "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"};

const std::unordered_map<std::string, std::string>& contractions() {
  static const std::unordered_map<std::string, std::string> k = {
      {"aint", "ain't"}, {"arent", "aren't"}, {"cant", "can't"}, {"couldve", "could've"}, {"couldnt", "couldn't"},
      {"couldn'tve", "couldn't've"}, {"couldnt've", "couldn't've"}, {"didnt", "didn't"}, {"doesnt", "doesn't"},
      {"dont", "don't"}, {"hadnt", "hadn't"}, {"hadnt've", "hadn't've"}, {"hadn'tve", "hadn't've"},
      {"hasnt", "hasn't"}, {"havent", "haven't"}, {"hed", "he'd"}, {"hed've", "he'd've"}, {"he'dve", "he'd've"},
      {"hes", "he's"}, {"howd", "how'd"}, {"howll", "how'll"}, {"hows", "how's"}, {"Id've", "I'd've"},
      {"I'dve", "I'd've"}, {"Im", "I'm"}, {"Ive", "I've"}, {"isnt", "isn't"}, {"itd", "it'd"},
      {"itd've", "it'd've"}, {"it'dve", "it'd've"}, {"itll", "it'll"}, {"let's", "let's"}, {"maam", "ma'am"},
      {"mightnt", "mightn't"}, {"mightnt've", "mightn't've"}, {"mightn'tve", "mightn't've"}, {"mightve", "might've"},
      {"mustnt", "mustn't"}, {"mustve", "must've"}, {"neednt", "needn't"}, {"notve", "not've"},
      {"oclock", "o'clock"}, {"oughtnt", "oughtn't"}, {"ow's'at", "'ow's'at"}, {"'ows'at", "'ow's'at"},
      {"'ow'sat", "'ow's'at"}, {"shant", "shan't"}, {"shed've", "she'd've"}, {"she'dve", "she'd've"},
      {"she's", "she's"}, {"shouldve", "should've"}, {"shouldnt", "shouldn't"}, {"shouldnt've", "shouldn't've"},
      {"shouldn'tve", "shouldn't've"}, {"somebody'd", "somebodyd"}, {"somebodyd've", "somebody'd've"},
      {"somebody'dve", "somebody'd've"}, {"somebodyll", "somebody'll"}, {"somebodys", "somebody's"},
      {"someoned", "someone'd"}, {"someoned've", "someone'd've"}, {"someone'dve", "someone'd've"},
      {"someonell", "someone'll"}, {"someones", "someone's"}, {"somethingd", "something'd"},
      {"somethingd've", "something'd've"}, {"something'dve", "something'd've"}, {"somethingll", "something'll"},
      {"thats", "that's"}, {"thered", "there'd"}, {"thered've", "there'd've"}, {"there'dve", "there'd've"},
      {"therere", "there're"}, {"theres", "there's"}, {"theyd", "they'd"}, {"theyd've", "they'd've"},
      {"they'dve", "they'd've"}, {"theyll", "they'll"}, {"theyre", "they're"}, {"theyve", "they've"},
      {"twas", "'twas"}, {"wasnt", "wasn't"}, {"wed've", "we'd've"}, {"we'dve", "we'd've"}, {"weve", "we've"},
      {"werent", "weren't"}, {"whatll", "what'll"}, {"whatre", "what're"}, {"whats", "what's"},
      {"whatve", "what've"}, {"whens", "when's"}, {"whered", "where'd"}, {"wheres", "where's"},
      {"whereve", "where've"}, {"whod", "who'd"}, {"whod've", "who'd've"}, {"who'dve", "who'd've"},
      {"wholl", "who'll"}, {"whos", "who's"}, {"whove", "who've"}, {"whyll", "why'll"}, {"whyre", "why're"},
      {"whys", "why's"}, {"wont", "won't"}, {"wouldve", "would've"}, {"wouldnt", "wouldn't"},
      {"wouldnt've", "wouldn't've"}, {"wouldn'tve", "wouldn't've"}, {"yall", "y'all"}, {"yall'll", "y'all'll"},
      {"y'allll", "y'all'll"}, {"yall'd've", "y'all'd've"}, {"y'alld've", "y'all'd've"},
      {"y'all'dve", "y'all'd've"}, {"youd", "you'd"}, {"youd've", "you'd've"}, {"you'dve", "you'd've"},
      {"youll", "you'll"}, {"youre", "you're"}, {"youve", "you've"}};
  return k;
}

const std::unordered_map<std::string, std::string>& number_map() {
  static const std::unordered_map<std::string, std::string> k = {
      {"none", "0"}, {"zero", "0"}, {"one", "1"}, {"two", "2"}, {"three", "3"}, {"four", "4"},
      {"five", "5"}, {"six", "6"}, {"seven", "7"}, {"eight", "8"}, {"nine", "9"}, {"ten", "10"}};
  return k;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

// re.search on the original text: official (\d)(\,)(\d), or EvalAI's (?<=\d)(\,)+(?=\d).
bool has_digit_comma_digit(std::string_view s, VqaCommaRule rule) {
  if (rule == VqaCommaRule::kNever) return false;
  const std::u32string u = utf8_decode(s);
  for (size_t i = 1; i + 1 < u.size(); ++i) {
    if (u[i] != ',' || !py_isdigit(u[i - 1])) continue;
    size_t j = i + 1;
    if (rule == VqaCommaRule::kCommaRun)
      while (j < u.size() && u[j] == ',') ++j;
    if (j < u.size() && py_isdigit(u[j])) return true;
  }
  return false;
}

// re.sub(PERIOD, "", s, 32): drop up to 32 periods not followed by a digit (the official
// typo "(?!<=\d)(\.)(?!\d)"), or, with the look-behind, not next to a digit either side.
std::string strip_periods(std::string_view s, bool lookbehind) {
  const std::u32string u = utf8_decode(s);
  std::u32string out;
  int removed = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    const bool prev_digit = lookbehind && i > 0 && py_isdigit(u[i - 1]);
    if (u[i] == '.' && removed < 32 && !prev_digit && !(i + 1 < u.size() && py_isdigit(u[i + 1]))) {
      ++removed;
      continue;
    }
    out.push_back(u[i]);
  }
  return utf8_encode(out);
}

}  // namespace

VqaNormalization parse_vqa_normalization(std::string_view name) {
  if (name == "official") return VqaNormalization::kOfficial;
  if (name == "pre2021") return VqaNormalization::kPre2021;
  if (name == "llava") return VqaNormalization::kLlava;
  throw std::invalid_argument("unknown VQA normalization '" + std::string(name) +
                              "' (expected official, pre2021 or llava)");
}

std::string_view to_string(VqaNormalization n) {
  switch (n) {
    case VqaNormalization::kOfficial: return "official";
    case VqaNormalization::kPre2021: return "pre2021";
    case VqaNormalization::kLlava: return "llava";
  }
  return "official";
}

std::string vqa_punctuation_pass(std::string_view in, VqaCommaRule comma, bool period_lookbehind) {
  std::string out(in);
  const bool digit_comma = has_digit_comma_digit(in, comma);
  for (const char* p : kPunct) {
    const std::string ps(p);
    const bool spaced = in.find(ps + " ") != std::string_view::npos || in.find(" " + ps) != std::string_view::npos;
    replace_all(out, ps, (spaced || digit_comma) ? "" : " ");
  }
  return strip_periods(out, period_lookbehind);
}

std::string vqa_process_punctuation(std::string_view s) { return vqa_punctuation_pass(s, VqaCommaRule::kOneComma, false); }

std::string vqa_process_digit_article(std::string_view s) {
  std::vector<std::string> words;
  const std::string lower = py_lower(s);
  for (std::string_view w : python_split(lower)) {
    std::string word(w);
    const auto it = number_map().find(word);
    if (it != number_map().end()) word = it->second;
    if (word != "a" && word != "an" && word != "the") words.push_back(word);
  }
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    const auto it = contractions().find(words[i]);
    if (i) out += ' ';
    out += it != contractions().end() ? it->second : words[i];
  }
  return out;
}

std::string vqa_evalai_process(std::string_view s) {
  // word_tokenize
  std::string t = py_lower(s);
  replace_all(t, ",", "");
  replace_all(t, "?", "");
  replace_all(t, "'s", " 's");
  t = py_strip(t);
  replace_all(t, "\n", " ");
  replace_all(t, "\t", " ");
  t = py_strip(t);
  // COMMA_STRIP "(?<=\d)(\,)+(?=\d)" can never match: commas are gone already.
  return vqa_process_digit_article(vqa_punctuation_pass(t, VqaCommaRule::kNever, false));
}

namespace {
std::string clean_ws(std::string_view s) {
  std::string t(s);
  replace_all(t, "\n", " ");
  replace_all(t, "\t", " ");
  return py_strip(t);
}
}  // namespace

double vqa_question_accuracy(const VqaQuestion& q, std::string_view prediction, VqaNormalization norm) {
  std::vector<VqaGtAnswer> gts = q.answers;
  std::string res;
  if (norm == VqaNormalization::kLlava) {
    for (VqaGtAnswer& a : gts) a.answer = vqa_evalai_process(a.answer);
    res = vqa_evalai_process(prediction);
  } else {
    res = clean_ws(prediction);
    if (norm == VqaNormalization::kOfficial)
      for (VqaGtAnswer& a : gts) a.answer = clean_ws(a.answer);
    else
      res = vqa_process_digit_article(vqa_process_punctuation(res));
    std::vector<std::string> distinct;
    for (const VqaGtAnswer& a : gts) distinct.push_back(a.answer);
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    if (distinct.size() > 1) {
      for (VqaGtAnswer& a : gts) {
        a.answer = vqa_process_punctuation(a.answer);
        if (norm == VqaNormalization::kOfficial) a.answer = vqa_process_digit_article(a.answer);
      }
      if (norm == VqaNormalization::kOfficial) res = vqa_process_digit_article(vqa_process_punctuation(res));
    }
  }
  if (gts.empty()) throw std::invalid_argument("VQA question " + std::to_string(q.question_id) + " has no answers");
  double sum = 0;  // Python sum(), left to right (CPython <= 3.11 semantics)
  for (const VqaGtAnswer& gt : gts) {
    int matching = 0;
    for (const VqaGtAnswer& other : gts) {
      const bool same_dict = other.answer == gt.answer && other.confidence == gt.confidence &&
                             other.answer_id == gt.answer_id;
      if (!same_dict && other.answer == res) ++matching;
    }
    sum += std::min(1.0, static_cast<double>(matching) / 3);
  }
  return sum / static_cast<double>(gts.size());
}

void VqaAccumulator::add(int64_t order, const VqaQuestion& q, std::string_view prediction) {
  rows_.push_back({order, q.question_id, q.question_type, q.answer_type, vqa_question_accuracy(q, prediction, norm_)});
}

void VqaAccumulator::merge(const VqaAccumulator& other) {
  if (other.norm_ != norm_) throw std::invalid_argument("merging VQA accumulators with different normalizations");
  rows_.insert(rows_.end(), other.rows_.begin(), other.rows_.end());
}

VqaScores VqaAccumulator::compute() const {
  std::vector<const Row*> rows;
  for (const Row& r : rows_) rows.push_back(&r);
  std::stable_sort(rows.begin(), rows.end(), [](const Row* a, const Row* b) { return a->order < b->order; });
  VqaScores out;
  out.normalization = std::string(to_string(norm_));
  out.n_questions = static_cast<int64_t>(rows.size());
  double total = 0;
  std::map<std::string, std::pair<double, int64_t>> by_qtype, by_atype;
  for (const Row* r : rows) {
    total += r->acc;
    auto& q = by_qtype[r->question_type];
    q.first += r->acc, ++q.second;
    auto& a = by_atype[r->answer_type];
    a.first += r->acc, ++a.second;
    out.per_question.emplace_back(r->question_id, py_round(100 * r->acc, 2));
  }
  if (!rows.empty()) {
    out.overall_unrounded = 100 * total / static_cast<double>(rows.size());
    out.overall = py_round(out.overall_unrounded, 2);
  }
  for (const auto& [k, v] : by_qtype) out.per_question_type[k] = py_round(100 * v.first / static_cast<double>(v.second), 2);
  for (const auto& [k, v] : by_atype) out.per_answer_type[k] = py_round(100 * v.first / static_cast<double>(v.second), 2);
  return out;
}

const std::vector<std::string>& vqa_mscoco_question_types() {
  // GT-Vision-Lab/VQA QuestionTypes/mscoco_question_types.txt (65 prefixes).
  static const std::vector<std::string> k = {
      "how many",
      "is the",
      "what",
      "what color is the",
      "what is the",
      "is this",
      "is this a",
      "what is",
      "are the",
      "what kind of",
      "is there a",
      "what type of",
      "is it",
      "what are the",
      "where is the",
      "is there",
      "does the",
      "what color are the",
      "are these",
      "are there",
      "which",
      "is",
      "what is the man",
      "is the man",
      "are",
      "how",
      "does this",
      "what is on the",
      "what does the",
      "how many people are",
      "what is in the",
      "what is this",
      "do",
      "what are",
      "are they",
      "what time",
      "what sport is",
      "are there any",
      "is he",
      "what color is",
      "why",
      "where are the",
      "what color",
      "who is",
      "what animal is",
      "is the woman",
      "is this an",
      "do you",
      "how many people are in",
      "what room is",
      "has",
      "is this person",
      "what is the woman",
      "can you",
      "why is the",
      "is the person",
      "what is the color of the",
      "what is the person",
      "could",
      "was",
      "is that a",
      "what number is",
      "what is the name",
      "what brand",
      "none of the above"};
  return k;
}

std::string vqa_question_type(std::string_view question, const std::vector<std::string>& types) {
  const std::string q = py_lower(question);
  std::string best;
  for (const std::string& t : types)
    if (q.compare(0, t.size(), t) == 0 && t.size() > best.size() &&
        (q.size() == t.size() || q[t.size()] == ' ' || q[t.size()] == '?'))
      best = t;
  return best;
}

}  // namespace lnb::metrics
