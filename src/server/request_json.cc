// JSON request bodies: parsing with located errors, and typed field access.
#include "server/request_json.h"

#include <cmath>
#include <vector>

namespace rf::server {
namespace {

using nlohmann::json;

// A SAX consumer that builds nothing and only tracks where the parser is ("messages[1].content"),
// run again on a body that failed to parse, to name the field the error is in.
class PathTracker {
 public:
  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(json::number_integer_t) { return value(); }
  bool number_unsigned(json::number_unsigned_t) { return value(); }
  bool number_float(json::number_float_t, const json::string_t&) { return value(); }
  bool string(json::string_t&) { return value(); }
  bool binary(json::binary_t&) { return value(); }
  bool start_object(std::size_t) { return open(false); }
  bool start_array(std::size_t) { return open(true); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& k) {
    frames_.back().key = k;
    frames_.back().awaiting_value = true;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const json::exception& e) {
    position_ = position;
    what_ = e.what();
    return false;
  }

  // The path of the value being read when the error happened ("" at the top level).
  std::string path() const {
    std::string out;
    for (size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      const bool innermost = i + 1 == frames_.size();
      if (f.is_array) {
        // The innermost array's failing element has not started; outer ones' elements have.
        const size_t index = innermost ? f.count : f.count - 1;
        out += "[" + std::to_string(index) + "]";
      } else if (!innermost || f.awaiting_value) {
        out += (out.empty() ? "" : ".") + f.key;
      }
    }
    return out;
  }
  size_t position() const { return position_; }
  const std::string& what() const { return what_; }

 private:
  struct Frame {
    bool is_array = false;
    size_t count = 0;             // arrays: elements started
    std::string key;              // objects: the last key read
    bool awaiting_value = false;  // objects: a key was read and its value has not completed
  };

  // A scalar value completed, or a container started, inside the innermost frame.
  bool value() {
    if (!frames_.empty()) {
      Frame& f = frames_.back();
      if (f.is_array) ++f.count;
      f.awaiting_value = false;
    }
    return true;
  }
  bool open(bool is_array) {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().count;
    frames_.push_back({is_array, 0, "", false});
    return true;
  }
  bool close() {
    frames_.pop_back();
    if (!frames_.empty()) frames_.back().awaiting_value = false;
    return true;
  }

  std::vector<Frame> frames_;
  size_t position_ = 0;
  std::string what_;
};

// nlohmann's message without its "[json.exception...] parse error at ...: " prefix and without the
// "last read" token, which quotes the client's (possibly invalid UTF-8) bytes.
std::string parse_reason(const std::string& what) {
  std::string reason = what;
  if (const size_t colon = reason.find(": "); colon != std::string::npos) reason.erase(0, colon + 2);
  if (const size_t last = reason.find("; last read: '"); last != std::string::npos) {
    const size_t expected = reason.find("'; expected ", last);
    reason = reason.substr(0, last) + (expected == std::string::npos ? "" : reason.substr(expected + 1));
  }
  for (char& c : reason) {
    if (static_cast<unsigned char>(c) >= 0x80 || static_cast<unsigned char>(c) < 0x20) c = '?';
  }
  return reason;
}

std::string line_column(std::string_view body, size_t position) {
  // nlohmann reports the position one past the byte it stopped at.
  const size_t end = std::min(body.size(), position > 0 ? position - 1 : 0);
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < end; ++i) {
    if (body[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

ApiResult<json> parse_json_object(std::string_view body) {
  json parsed = json::parse(body.begin(), body.end(), nullptr, false);
  if (parsed.is_discarded()) {
    PathTracker tracker;
    json::sax_parse(body.begin(), body.end(), &tracker);
    const std::string path = tracker.path();
    const std::string where = line_column(body, tracker.position());
    const std::string reason = parse_reason(tracker.what());
    if (reason.find("ill-formed UTF-8") != std::string::npos || reason.find("surrogate") != std::string::npos) {
      return invalid_request(path, "invalid UTF-8 in " + (path.empty() ? std::string("a string") : "\"" + path + "\"") +
                                       " (" + where + "): strings must be valid UTF-8");
    }
    return invalid_request(path, "the request body is not valid JSON (" + where +
                                     (path.empty() ? "" : ", in \"" + path + "\"") + "): " + reason);
  }
  if (!parsed.is_object()) {
    return invalid_request("", "the request body must be a JSON object, found " + json_kind(parsed));
  }
  return parsed;
}

std::string json_kind(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    default: return "a binary value";
  }
}

FieldReader::FieldReader(const json& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {}

const json* FieldReader::raw(std::string_view name) const {
  const auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

void FieldReader::fail(std::string_view name, const std::string& message) {
  if (!error_) error_ = invalid_request(path(name), path(name) + ": " + message);
}

void FieldReader::merge(const FieldReader& nested) {
  if (!error_) error_ = nested.error_;
}

std::optional<int64_t> FieldReader::integer(std::string_view name, int64_t lo, int64_t hi) {
  const json* v = raw(name);
  if (v == nullptr) return std::nullopt;
  const std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  bool in_range = false;
  int64_t out = 0;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    in_range = u <= static_cast<uint64_t>(hi) && hi >= 0;
    out = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    out = v->get<int64_t>();
    in_range = true;
  } else if (v->is_number_float()) {
    // 16.0 is accepted as 16 (some clients write every number as a float); 16.5 is not.
    const double d = v->get<double>();
    if (std::trunc(d) != d) {
      fail(name, "expected an integer, found " + std::to_string(d));
      return std::nullopt;
    }
    in_range = d >= static_cast<double>(lo) && d <= static_cast<double>(hi);
    out = in_range ? static_cast<int64_t>(d) : 0;
  } else {
    fail(name, "expected an integer, found " + json_kind(*v));
    return std::nullopt;
  }
  if (!in_range || out < lo || out > hi) {
    fail(name, "expected an integer in " + range + ", found " + v->dump());
    return std::nullopt;
  }
  return out;
}

std::optional<double> FieldReader::number(std::string_view name, double lo, double hi) {
  const json* v = raw(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    fail(name, "expected a number, found " + json_kind(*v));
    return std::nullopt;
  }
  const double d = v->get<double>();
  if (!(d >= lo && d <= hi)) {
    fail(name, "expected a number in [" + json(lo).dump() + ", " + json(hi).dump() + "], found " + v->dump());
    return std::nullopt;
  }
  return d;
}

std::optional<bool> FieldReader::boolean(std::string_view name) {
  const json* v = raw(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    fail(name, "expected a boolean, found " + json_kind(*v));
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::string> FieldReader::string(std::string_view name) {
  const json* v = raw(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    fail(name, "expected a string, found " + json_kind(*v));
    return std::nullopt;
  }
  return v->get<std::string>();
}

}  // namespace rf::server
