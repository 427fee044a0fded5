// parse_json_object: malformed JSON, invalid UTF-8 and wrong top-level types are 400s naming where;
// FieldReader: type and range errors name the field.
#include <gtest/gtest.h>

#include <string>

#include "server/request_json.h"
#include "support/utf8_reference.h"

namespace rf::server {
namespace {

using nlohmann::json;

TEST(RequestJson, ParsesAnObject) {
  auto r = parse_json_object(R"({"a": 1, "b": [true, "x"]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["a"], 1);
  EXPECT_EQ((*r)["b"][1], "x");
}

TEST(RequestJson, MalformedJsonSaysWhere) {
  for (const std::string body : {R"({"a": 1,)", R"({"a" 1})", "", "{\"model\": \"x\",\n \"max_tokens\": tru}", "[1, 2"}) {
    auto r = parse_json_object(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().status, 400);
    EXPECT_EQ(r.error().type, "invalid_request_error");
    EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("line "), std::string::npos) << r.error().message;
  }
  auto r = parse_json_object("{\"model\": \"x\",\n \"max_tokens\": tru}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "max_tokens");
  EXPECT_NE(r.error().message.find("line 2"), std::string::npos) << r.error().message;
}

TEST(RequestJson, InvalidUtf8NamesTheFieldAndIsNotEchoed) {
  const std::string cases[][2] = {
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"ok\"}, {\"role\": \"user\", \"content\": \"bad \xFF\"}]}",
       "messages[1].content"},
      {"{\"prompt\": \"\xC3\x28\"}", "prompt"},
      {"{\"stop\": [\"fine\", \"\xED\xA0\x80\"]}", "stop[1]"},          // an encoded surrogate
      {"{\"prompt\": \"\\ud800 lone\"}", "prompt"},                    // an escaped lone surrogate
      {"{\"a\": {\"b\": [[1], [\"\xF5\x80\x80\x80\"]]}}", "a.b[1][0]"},  // above U+10FFFF
  };
  for (const auto& c : cases) {
    auto r = parse_json_object(c[0]);
    ASSERT_FALSE(r.ok()) << c[1];
    EXPECT_EQ(r.error().status, 400);
    EXPECT_EQ(r.error().param, c[1]);
    EXPECT_NE(r.error().message.find("UTF-8"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(c[1]), std::string::npos) << r.error().message;
    EXPECT_EQ(test::well_formed_reference(r.error().message), r.error().message);
  }
}

TEST(RequestJson, TopLevelMustBeAnObject) {
  for (const std::string body : {"[]", "42", "\"text\"", "null"}) {
    auto r = parse_json_object(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(r.error().message.find("must be a JSON object"), std::string::npos);
  }
}

TEST(RequestJson, DeepNestingIsHandled) {
  const std::string deep = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_TRUE(parse_json_object(deep).ok());
  auto r = parse_json_object("{\"a\": " + std::string(100000, '['));
  EXPECT_FALSE(r.ok());
}

TEST(FieldReader, TypesAndRanges) {
  const json body = json::parse(R"({"i": 7, "f": 2.5, "fi": 16.0, "s": "ten", "b": true, "n": null, "big": 18446744073709551615,
                                    "neg": -3})");
  FieldReader f(body);
  EXPECT_EQ(f.integer("i", 1, 10), 7);
  EXPECT_EQ(f.integer("fi", 1, 100), 16);  // an integral float
  EXPECT_EQ(f.number("f", 0, 3), 2.5);
  EXPECT_EQ(f.number("i", 0, 10), 7.0);
  EXPECT_EQ(f.boolean("b"), true);
  EXPECT_EQ(f.string("s"), "ten");
  EXPECT_FALSE(f.integer("n", 0, 1).has_value());        // null reads as absent
  EXPECT_FALSE(f.integer("missing", 0, 1).has_value());
  EXPECT_FALSE(f.error().has_value());

  const auto first_error = [&](auto read) {
    FieldReader g(body, "outer.");
    read(g);
    return g.error();
  };
  auto e = first_error([](FieldReader& g) { (void)g.integer("s", 0, 10); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "outer.s");
  EXPECT_EQ(e->message, "outer.s: expected an integer, found a string");
  e = first_error([](FieldReader& g) { (void)g.integer("i", 8, 10); });
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("[8, 10]"), std::string::npos) << e->message;
  e = first_error([](FieldReader& g) { (void)g.integer("f", 0, 10); });
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("expected an integer"), std::string::npos);
  e = first_error([](FieldReader& g) { (void)g.integer("big", 0, 1000); });
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("18446744073709551615"), std::string::npos) << e->message;
  e = first_error([](FieldReader& g) { (void)g.integer("neg", 0, 1000); });
  ASSERT_TRUE(e);
  e = first_error([](FieldReader& g) { (void)g.number("f", 0, 2); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "outer.f");
  e = first_error([](FieldReader& g) { (void)g.boolean("i"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "outer.i: expected a boolean, found an integer");
  e = first_error([](FieldReader& g) { (void)g.string("b"); (void)g.integer("s", 0, 1); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "outer.b");  // the first error wins
}

TEST(ApiError, JsonShape) {
  const json j = error_json(invalid_request("max_tokens", "max_tokens: bad"));
  EXPECT_EQ(j["error"]["message"], "max_tokens: bad");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "max_tokens");
  EXPECT_TRUE(j["error"]["code"].is_null());
  ApiError e;
  e.status = 429;
  e.code = "rate_limit_exceeded";
  e.message = "busy";
  const json k = error_json(e);
  EXPECT_TRUE(k["error"]["param"].is_null());
  EXPECT_EQ(k["error"]["code"], "rate_limit_exceeded");
}

}  // namespace
}  // namespace rf::server
