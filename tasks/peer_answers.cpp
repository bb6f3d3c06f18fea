// See peer_answers.h.
#include "tasks/peer_answers.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "common/json_io.h"
#include "metrics/utf8.h"
#include "metrics/vqa.h"
#include "tasks/data_error.h"
#include "tasks/json_fields.h"

namespace lnb::tasks {
namespace {

// Correctly rounded num / den (den > 0), as Python's int true division gives it.
double exact_ratio(uint64_t num, uint64_t den) {
  if (num == 0) return 0.0;
  uint64_t q = num / den, r = num % den;
  bool sticky = r != 0;
  int e = 0;
  constexpr uint64_t lo = uint64_t{1} << 54, hi = uint64_t{1} << 55;
  while (q >= hi) {  // too many integer bits: drop them into the sticky bit
    sticky = sticky || (q & 1) != 0;
    q >>= 1;
    ++e;
  }
  while (q < lo) {  // too few: long division appends fraction bits (r < den)
    r <<= 1;
    q <<= 1;
    if (r >= den) {
      q |= 1;
      r -= den;
    }
    --e;
  }
  sticky = sticky || r != 0 || (q & 1) != 0;  // q: 53 kept bits, a guard bit, then bit 0
  uint64_t mantissa = q >> 2;
  const bool guard = ((q >> 1) & 1) != 0;
  if (guard && (sticky || (mantissa & 1) != 0)) ++mantissa;
  return std::ldexp(static_cast<double>(mantissa), e + 2);
}

}  // namespace


std::vector<PeerRecord> read_lmms_eval_samples(const std::filesystem::path& path) {
  std::vector<PeerRecord> out;
  for (auto& [line, j] : json_fields::read_json_lines(path)) {
    if (!j.is_object())
      throw DataError({path.string(), line, "", "an lmms-eval sample record (a JSON object)", json_fields::kind_of(j),
                       "pass the <date>_samples_<task>.jsonl that --log_samples writes"});
    PeerRecord r;
    r.line = line;
    r.doc_id = json_fields::int_field(j, "doc_id", path, line, "");
    const nlohmann::json& doc = json_fields::field(j, "doc", path, line, "");
    if (!doc.is_object())
      throw DataError({path.string(), line, "doc", "the dataset row (an object)", json_fields::kind_of(doc), ""});
    r.doc = doc;
    // filtered_resps: one entry per request; generate_until has one request whose
    // filtered response is a string (take_first), or a one-element list of it.
    const nlohmann::json& f = json_fields::field(j, "filtered_resps", path, line, "");
    const nlohmann::json* v = f.is_array() && !f.empty() ? &f[0] : nullptr;
    if (v != nullptr && v->is_array() && v->size() == 1) v = &(*v)[0];
    if (v == nullptr || !v->is_string())
      throw DataError({path.string(), line, "filtered_resps", "[\"the response\"] (a generate_until task's log)",
                       json_fields::kind_of(f), "lnbench reads generation tasks' logs only"});
    r.response = v->get<std::string>();
    r.fields = std::move(j);
    r.fields.erase("doc");
    out.push_back(std::move(r));
  }
  if (out.empty())
    throw DataError({path.string(), 0, "", "at least one sample record", "none", "was the log written with --log_samples?"});
  return out;
}

double lmms_eval_vqa_accuracy(const std::vector<std::string>& answers, const std::vector<std::string>& confidences,
                              const std::vector<int64_t>& answer_ids, std::string_view response) {
  auto clean = [](std::string_view s) {
    std::string t;
    for (char c : s) t += (c == '\n' || c == '\t') ? ' ' : c;
    return metrics::py_strip(t);
  };
  auto normalize = [&](std::string_view s) {
    return metrics::vqa_process_digit_article(metrics::vqa_punctuation_pass(clean(s), metrics::VqaCommaRule::kCommaRun, false));
  };
  const std::string res = normalize(response);
  std::vector<std::string> gts;
  for (const std::string& a : answers) gts.push_back(normalize(a));
  if (gts.empty()) throw std::invalid_argument("a VQA document without answers");
  // statistics.mean(gtAcc): an exact sum of values in {0, fl(1/3), fl(2/3), 1}, one
  // rounding at the end. fl(1/3) = 6004799503160661 * 2^-54 and fl(2/3) twice that.
  constexpr uint64_t kThird = 6004799503160661ULL;
  if (gts.size() > 500) throw std::invalid_argument("a VQA document with more than 500 answers");
  uint64_t sum = 0;  // in units of 2^-54: at most 500 * 2^54 < 2^63
  for (size_t i = 0; i < gts.size(); ++i) {
    int matching = 0;
    for (size_t j = 0; j < gts.size(); ++j) {
      const bool same_dict = gts[j] == gts[i] && confidences[j] == confidences[i] && answer_ids[j] == answer_ids[i];
      if (!same_dict && gts[j] == res) ++matching;
    }
    // min(1, m / 3): 1 from three matches on; fl(2/3) is exactly 2 * fl(1/3).
    sum += matching >= 3 ? uint64_t{1} << 54 : static_cast<uint64_t>(matching) * kThird;
  }
  return std::ldexp(exact_ratio(sum, gts.size()), -54);
}

double lmms_eval_mean(const std::vector<double>& values) {
  double sum = 0;  // sum(arr) / len(arr), left to right
  for (double v : values) sum += v;
  return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
}

LmmsEvalPope lmms_eval_pope(const std::vector<std::string>& labels, const std::vector<std::string>& responses) {
  // pope_process_results: pred = results[0].lower().strip(); gt = doc["answer"].lower().strip();
  // score = 1.0 if pred == gt. The aggregations (each over every record):
  LmmsEvalPope s;
  s.n = static_cast<int64_t>(labels.size());
  double total = 0;
  int64_t tp = 0, fp = 0, fn = 0, yes = 0, no = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string pred = metrics::py_strip(metrics::py_lower(responses[i]));
    const std::string gt = metrics::py_strip(metrics::py_lower(labels[i]));
    total += pred == gt ? 1.0 : 0.0;
    if (gt == "yes" && pred == "yes") ++tp;
    else if (gt == "no" && pred == "yes") ++fp;
    if (gt == "yes" && pred == "no") ++fn;
    if (gt == "yes") ++yes;  // pope_aggregate_yes_ratio counts the labels, not the predictions
    else if (gt == "no") ++no;
  }
  const auto d = [](int64_t v) { return static_cast<double>(v); };
  s.accuracy = labels.empty() ? 0.0 : total / d(s.n);
  s.precision = tp + fp > 0 ? d(tp) / d(tp + fp) : 0.0;
  s.recall = tp + fn > 0 ? d(tp) / d(tp + fn) : 0.0;
  s.f1 = s.precision + s.recall > 0 ? 2 * (s.precision * s.recall) / (s.precision + s.recall) : 0.0;
  s.yes_ratio = yes + no > 0 ? d(yes) / d(yes + no) : 0.0;
  return s;
}

std::string lmms_eval_mme_parse(std::string_view response) {
  std::string p = metrics::py_strip(metrics::py_lower(response));
  std::string no_dots;
  for (char c : p)
    if (c != '.') no_dots += c;
  p = std::move(no_dots);
  if (p == "yes" || p == "no") return p;
  const std::u32string u = metrics::utf8_decode(p);
  if (u.size() == 1) return p == "y" ? "yes" : p == "n" ? "no" : "other";
  const std::string prefix = metrics::utf8_encode(std::u32string_view(u).substr(0, 4));  // pred_ans[:4], code points
  if (prefix.find("yes") != std::string::npos) return "yes";
  if (prefix.find("no") != std::string::npos) return "no";
  return "other";
}

LmmsEvalMme lmms_eval_mme(const std::vector<std::string>& categories, const std::vector<std::string>& images,
                          const std::vector<std::string>& labels, const std::vector<std::string>& responses) {
  static const std::vector<std::string> kPerception = {"existence", "count",     "position", "color",    "posters",
                                                       "celebrity", "scene",     "landmark", "artwork",  "OCR"};
  // mme_aggregate_results runs once per metric (perception, cognition) over the records
  // routed to it; category -> question_id -> scores, dicts in first-seen order.
  struct Category {
    std::string name;
    std::vector<std::string> order;
    std::unordered_map<std::string, std::vector<double>> scores;
  };
  std::vector<Category> metric[2];  // 0 perception, 1 cognition
  for (size_t i = 0; i < categories.size(); ++i) {
    std::string gt;
    for (char c : metrics::py_strip(metrics::py_lower(labels[i])))
      if (c != '.') gt += c;
    const double score = lmms_eval_mme_parse(responses[i]) == gt ? 1.0 : 0.0;
    const int m = std::find(kPerception.begin(), kPerception.end(), categories[i]) != kPerception.end() ? 0 : 1;
    auto it = std::find_if(metric[m].begin(), metric[m].end(), [&](const Category& c) { return c.name == categories[i]; });
    if (it == metric[m].end()) it = metric[m].insert(metric[m].end(), Category{categories[i], {}, {}});
    auto [at, fresh] = it->scores.try_emplace(images[i]);
    if (fresh) it->order.push_back(images[i]);
    at->second.push_back(score);
  }
  LmmsEvalMme out;
  for (int m = 0; m < 2; ++m) {
    double total_all = 0;
    for (const Category& c : metric[m]) {
      double total = 0;
      for (const std::string& q : c.order) {
        const std::vector<double>& s = c.scores.at(q);
        if (s.size() != 2)
          throw DataError({"", 0, "doc.question_id", "2 records per image (lmms-eval asserts 'MME only supports pairwise "
                                                     "evaluation')", std::to_string(s.size()) + " for " + q, ""});
        const double sum = s[0] + s[1];
        const double acc = sum / 2.0 * 100.0;
        const double acc_plus = (sum == 2 ? 1.0 : 0.0) * 100.0;
        total += acc_plus + acc;
      }
      const double avg = total / static_cast<double>(c.order.size());
      out.categories.emplace_back(c.name, avg);
      total_all += avg;
    }
    (m == 0 ? out.perception : out.cognition) = total_all;
  }
  return out;
}

// --- VLMEvalKit -----------------------------------------------------------------------

namespace {

// pandas.read_csv's default na_values: such a cell becomes NaN, and str(NaN) is "nan".
bool pandas_na(const std::string& v) {
  static const char* const kNa[] = {"",    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                                    "<NA>", "N/A", "NA",       "NULL", "NaN",    "None",     "n/a",  "nan",  "null"};
  for (const char* n : kNa)
    if (v == n) return true;
  return false;
}

// Records of a tab-separated file with csv quoting: a field opening with '"' runs to
// the closing quote, "" inside is one quote, and it may hold tabs and newlines.
std::vector<std::pair<long, std::vector<std::string>>> read_tsv(const std::filesystem::path& path) {
  const std::string text = json_fields::read_all(path);
  std::vector<std::pair<long, std::vector<std::string>>> rows;
  std::vector<std::string> row;
  std::string field;
  long line = 1, row_line = 1;
  bool quoted = false, at_field_start = true;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
    at_field_start = true;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && at_field_start) {
      quoted = true;
      at_field_start = false;
    } else if (c == '\t') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_field();
      if (!(row.size() == 1 && row[0].empty())) rows.emplace_back(row_line, std::move(row));
      row.clear();
      row_line = ++line;
    } else {
      field += c;
      at_field_start = false;
    }
  }
  if (quoted) throw DataError({path.string(), row_line, "", "a closing quote", "end of file inside a quoted field", ""});
  if (!field.empty() || !row.empty()) {
    end_field();
    rows.emplace_back(row_line, std::move(row));
  }
  return rows;
}

std::string python_str(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "None";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return v.dump();
}

}  // namespace

std::vector<PeerRow> read_vlmevalkit_predictions(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  std::vector<PeerRow> out;
  if (ext == ".xlsx")
    throw DataError({path.string(), 0, "", "a VLMEvalKit prediction file as .tsv or .json", "an .xlsx workbook",
                     "lnbench reads no xlsx (Debian packages no maintained reader): rerun VLMEvalKit with "
                     "PRED_FORMAT=tsv (or json), or save the sheet as tab-separated text"});
  if (ext == ".json") {
    const nlohmann::json j = json_fields::parse_json(path);
    if (!j.is_array())
      throw DataError({path.string(), 0, "", "a list of prediction records (dump_json of the DataFrame)", json_fields::kind_of(j), ""});
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_object())
        throw DataError({path.string(), 0, "[" + std::to_string(i) + "]", "a record (an object)", json_fields::kind_of(j[i]), ""});
      PeerRow r;
      r.line = static_cast<long>(i + 1);
      for (const auto& [k, v] : j[i].items()) r.cols[k] = python_str(v);
      out.push_back(std::move(r));
    }
  } else {
    const auto rows = read_tsv(path);
    if (rows.empty()) throw DataError({path.string(), 0, "", "a header row and predictions", "an empty file", ""});
    const std::vector<std::string>& header = rows[0].second;
    for (size_t i = 1; i < rows.size(); ++i) {
      const auto& [line, cells] = rows[i];
      if (cells.size() != header.size())
        throw DataError({path.string(), line, "", std::to_string(header.size()) + " tab-separated fields (the header's)",
                         std::to_string(cells.size()), "a tab or quote inside an unquoted field?"});
      PeerRow r;
      r.line = line;
      for (size_t c = 0; c < header.size(); ++c) r.cols[header[c]] = cells[c];
      const auto p = r.cols.find("prediction");
      if (p != r.cols.end() && pandas_na(p->second)) p->second = "nan";
      out.push_back(std::move(r));
    }
  }
  if (out.empty()) throw DataError({path.string(), 0, "", "at least one prediction record", "none", ""});
  return out;
}

const std::string& peer_col(const PeerRow& row, const std::string& name, const std::filesystem::path& path) {
  const auto it = row.cols.find(name);
  if (it == row.cols.end())
    throw DataError({path.string(), row.line, name, "a column of VLMEvalKit's prediction file", "none",
                     "is this the prediction file of the right dataset?"});
  return it->second;
}

std::string vlmevalkit_yorn(std::string_view prediction) {
  const std::string s = metrics::vqa_punctuation_pass(metrics::py_lower(prediction), metrics::VqaCommaRule::kOneComma, true);
  bool yes = false, no = false;
  // str.split(): runs of whitespace (Unicode isspace) separate words.
  const std::u32string u = metrics::utf8_decode(s);
  std::u32string word;
  auto flush = [&] {
    if (word == U"yes") yes = true;
    if (word == U"no") no = true;
    word.clear();
  };
  for (char32_t c : u) {
    if (metrics::py_isspace(c)) flush();
    else word.push_back(c);
  }
  flush();
  if (yes && !no) return "Yes";
  if (!yes && no) return "No";
  return "Unknown";
}

std::vector<VlmevalkitPopeSplit> vlmevalkit_pope(const std::vector<std::string>& answers,
                                                 const std::vector<std::string>& extracted,
                                                 const std::vector<std::string>& categories) {
  // The exploded rows: one per (row, category).
  std::vector<size_t> rows;
  std::vector<std::string> cats;
  for (size_t i = 0; i < answers.size(); ++i) {
    size_t start = 0;
    while (true) {
      const size_t comma = categories[i].find(',', start);
      rows.push_back(i);
      cats.push_back(categories[i].substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  auto rate = [&](const std::string* only) {
    int64_t tp = 0, fp = 0, fn = 0, n = 0, correct = 0;
    for (size_t k = 0; k < rows.size(); ++k) {
      if (only != nullptr && cats[k] != *only) continue;
      const size_t i = rows[k];
      const bool t = answers[i] == "Yes", p = extracted[i] == "Yes";
      tp += t && p;
      fp += !t && p;
      fn += t && !p;
      correct += answers[i] == extracted[i];
      ++n;
    }
    const auto d = [](int64_t v) { return static_cast<double>(v); };
    const double precision = tp + fp != 0 ? d(tp) / d(tp + fp) : 0.0, recall = tp + fn != 0 ? d(tp) / d(tp + fn) : 0.0;
    const double f1 = precision + recall != 0 ? 2 * (precision * recall) / (precision + recall) : 0.0;
    return VlmevalkitPopeSplit{only ? *only : "Overall", f1 * 100, d(correct) / d(n) * 100, precision * 100, recall * 100};
  };
  std::vector<VlmevalkitPopeSplit> out{rate(nullptr)};
  std::vector<std::string> distinct(cats.begin(), cats.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (const std::string& c : distinct)
    if (c != "nan") out.push_back(rate(&c));
  return out;
}

VlmevalkitMme vlmevalkit_mme(const std::vector<std::string>& categories, const std::vector<std::string>& images,
                             const std::vector<std::string>& answers, const std::vector<std::string>& extracted) {
  struct Category {
    std::string name;
    std::vector<std::string> order;
    std::unordered_map<std::string, std::vector<bool>> scores;
  };
  std::vector<Category> cats;
  for (size_t i = 0; i < categories.size(); ++i) {
    auto it = std::find_if(cats.begin(), cats.end(), [&](const Category& c) { return c.name == categories[i]; });
    if (it == cats.end()) it = cats.insert(cats.end(), Category{categories[i], {}, {}});
    auto [at, fresh] = it->scores.try_emplace(images[i]);
    if (fresh) it->order.push_back(images[i]);
    at->second.push_back(answers[i] == extracted[i]);
  }
  VlmevalkitMme out;
  std::map<std::string, double> by_name;
  for (const Category& c : cats) {
    int64_t n = 0, correct = 0, both = 0;
    for (const std::string& img : c.order) {
      const std::vector<bool>& v = c.scores.at(img);
      if (v.size() < 2)
        throw DataError({"", 0, "image_path", "2 questions per image (MME_rating multiplies val[0] * val[1])",
                         std::to_string(v.size()) + " for " + img, ""});
      for (bool b : v) correct += b, ++n;
      both += v[0] && v[1];
    }
    const double acc = static_cast<double>(correct) / static_cast<double>(n) * 100;
    const double plus = static_cast<double>(both) / static_cast<double>(c.order.size()) * 100;
    out.categories.emplace_back(c.name, acc + plus);
    by_name[c.name] = acc + plus;
  }
  // MME_rating sums its super-categories in its own (alphabetical) order.
  auto sum = [&](std::initializer_list<const char*> names) -> std::optional<double> {
    double base = 0;
    for (const char* n : names) {
      const auto it = by_name.find(n);
      if (it == by_name.end()) return std::nullopt;
      base += it->second;
    }
    return base;
  };
  out.perception = sum({"OCR", "artwork", "celebrity", "color", "count", "existence", "landmark", "position", "posters", "scene"});
  out.reasoning = sum({"code_reasoning", "commonsense_reasoning", "numerical_calculation", "text_translation"});
  return out;
}

}  // namespace lnb::tasks
