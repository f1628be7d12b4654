#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "messages/codec.hpp"
#include "messages/schema.hpp"

using namespace grove::messages;
using json = nlohmann::json;

namespace {

json good_component() {
  return json::parse(R"({"component":"login_form","version":1,
    "metadata":{"title":"Log in","description":"d","role":"form"},
    "html":"<form></form>","css":".g-login_form{}"})");
}

bool mentions(const std::vector<std::string>& errs, const std::string& what) {
  for (auto& e : errs) {
    if (e.find(what) != std::string::npos) return true;
  }
  return false;
}

} // namespace

TEST(schema, embedded_text_is_the_schema_file) {
  auto doc = json::parse(schema_text(schema_id::component));
  EXPECT_EQ(doc["title"], "grove component");
  EXPECT_EQ(json::parse(schema_text(schema_id::plan))["title"], "grove plan");
}

TEST(schema, valid_component_passes) {
  EXPECT_TRUE(validate(good_component(), schema_id::component).empty());
}

TEST(schema, missing_field_is_reported_with_its_path) {
  auto doc = good_component();
  doc.erase("html");
  auto errs = validate(doc, schema_id::component);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "/: missing required property \"html\"");
  doc = good_component();
  doc["metadata"].erase("role");
  EXPECT_TRUE(mentions(validate(doc, schema_id::component), "/metadata: missing required property \"role\""));
}

TEST(schema, wrong_types_enums_patterns_and_extras_are_reported) {
  auto doc = good_component();
  doc["version"] = "1";
  EXPECT_TRUE(mentions(validate(doc, schema_id::component), "/version: expected \"integer\""));
  doc = good_component();
  doc["metadata"]["role"] = "weapon";
  EXPECT_TRUE(mentions(validate(doc, schema_id::component), "/metadata/role"));
  doc = good_component();
  doc["component"] = "../evil";
  EXPECT_TRUE(mentions(validate(doc, schema_id::component), "does not match"));
  doc = good_component();
  doc["extra"] = true;
  EXPECT_TRUE(mentions(validate(doc, schema_id::component), "/extra: property not allowed"));
  doc = good_component();
  doc["html"] = "";
  EXPECT_TRUE(mentions(validate(doc, schema_id::component), "/html: shorter than 1"));
  doc = good_component();
  doc["version"] = 0;
  EXPECT_TRUE(mentions(validate(doc, schema_id::component), "/version: less than 1"));
}

TEST(schema, non_object_documents_fail) {
  EXPECT_FALSE(validate(json::array(), schema_id::component).empty());
  EXPECT_FALSE(validate(json("text"), schema_id::plan).empty());
}

TEST(schema, lengths_count_code_points) {
  json s = {{"type", "string"}, {"maxLength", 2}};
  EXPECT_TRUE(validate(json("한글"), s).empty());
  EXPECT_FALSE(validate(json("한글a"), s).empty());
}

TEST(schema, unsupported_keyword_is_refused) {
  json s = {{"type", "string"}, {"format", "email"}};
  EXPECT_THROW(validate(json("x"), s), std::invalid_argument);
}

TEST(plan_codec, names_are_normalised_and_session_filled) {
  auto p =
    parse_plan(R"({"request":"r","components":[{"name":"Login Form"},{"name":"../nav bar","description":"top"}]})");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->components.size(), 2u);
  EXPECT_EQ(p->components[0].name, "login_form");
  EXPECT_EQ(p->components[1].name, "nav_bar");
  EXPECT_EQ(p->components[1].description, "top");
  EXPECT_EQ(p->components[0].action, "create") << "the default";
  EXPECT_EQ(p->session_id.size(), 16u);
  auto regen = parse_plan(R"({"components":[{"name":"navbar","action":"regenerate"}]})");
  ASSERT_TRUE(regen) << regen.error().message;
  EXPECT_EQ(regen->components[0].action, "regenerate");
  auto again = parse_plan(plan_to_text(*regen));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->components[0].action, "regenerate") << "the action survives the journal's round trip";
}

TEST(plan_codec, bad_plans_are_rejected_clearly) {
  auto bad_json = parse_plan("{not json");
  ASSERT_FALSE(bad_json);
  EXPECT_EQ(bad_json.error().code, errc::invalid_json);
  auto no_components = parse_plan(R"({"session_id":"s","request":"r","components":[]})");
  ASSERT_FALSE(no_components);
  EXPECT_NE(no_components.error().message.find("fewer than 1 items"), std::string::npos);
  auto unnamable = parse_plan(R"({"components":[{"name":"대시보드"}]})");
  ASSERT_FALSE(unnamable);
  EXPECT_EQ(unnamable.error().code, errc::invalid_name);
  auto dup = parse_plan(R"({"components":[{"name":"Nav Bar"},{"name":"nav-bar"}]})");
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("duplicate name"), std::string::npos);
  auto extra = parse_plan(R"({"components":[{"name":"a","code":"<script>"}]})");
  ASSERT_FALSE(extra);
  EXPECT_NE(extra.error().message.find("property not allowed"), std::string::npos);
}

TEST(plan_codec, round_trips_through_text) {
  plan p{"abc", "a login form", {{"login_form", "d"}}};
  auto back = parse_plan(plan_to_text(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->session_id, "abc");
  EXPECT_EQ(back->components[0].name, "login_form");
}

TEST(schema, numbers_out_of_range_are_a_parse_error_not_an_exception) {
  // Found by fuzz.validators: nlohmann throws out_of_range (not parse_error) for 1e999.
  for (auto text : {"999999999999999999999999e999{\"sessi9", "{\"session_id\": 1e999, \"components\": []}", "-1e400"}) {
    EXPECT_FALSE(grove::messages::parse_plan(text)) << text;
    EXPECT_FALSE(grove::messages::parse_component(text)) << text;
  }
}
