#include <gtest/gtest.h>

#include "logic/layout.hpp"
#include "logic/qa_rules.hpp"
#include "logic/templates.hpp"

using namespace grove::logic;

namespace {

std::string build(const std::string& name, const std::string& description = "") {
  return builtin::component_json(name, builtin::render_component({name, description}));
}

} // namespace

TEST(templates, every_builtin_component_passes_qa) {
  for (auto name : {"dashboard", "login_form", "signup_form", "navbar", "data_table", "chart", "footer", "sidebar",
                    "pricing_table", "contact_form", "search_bar", "modal", "hero", "cards", "weather_widget", "x"}) {
    auto vs = qa::check_artifact(build(name), name);
    EXPECT_TRUE(vs.empty()) << name << ": " << vs.front().message;
  }
}

TEST(templates, names_pick_templates_by_their_parts) {
  EXPECT_EQ(builtin::render_component({"user_login", ""}).role, "form");
  EXPECT_EQ(builtin::render_component({"top_navigation", ""}).role, "navigation");
  EXPECT_EQ(builtin::render_component({"weather_widget", ""}).role, "generic");
  EXPECT_EQ(builtin::render_component({"weather_widget", ""}).title, "Weather Widget");
}

TEST(templates, descriptions_are_escaped) {
  auto c = builtin::render_component({"x", "<script>alert('x')</script> & <img onerror=y>"});
  EXPECT_EQ(c.html.find("<script"), std::string::npos);
  EXPECT_NE(c.html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_TRUE(qa::check_artifact(builtin::component_json("x", c), "x").empty());
}

TEST(templates, css_is_scoped_to_the_component) {
  auto c = builtin::render_component({"login_form", ""});
  EXPECT_NE(c.css.find(".g-login_form"), std::string::npos);
  EXPECT_EQ(c.css.find("{{"), std::string::npos);
  EXPECT_EQ(c.html.find("{{"), std::string::npos);
}

TEST(layout, page_is_a_complete_document_in_plan_order) {
  std::vector<layout::part> parts;
  for (auto name : {"navbar", "dashboard", "login_form", "footer"}) {
    auto p = layout::part_from_artifact(build(name));
    ASSERT_TRUE(p);
    parts.push_back(*p);
  }
  auto page = layout::compose_page("대시보드 <b>", parts);
  EXPECT_EQ(page.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(page.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(page.find("name=\"viewport\""), std::string::npos);
  EXPECT_NE(page.find("display:grid"), std::string::npos);
  EXPECT_NE(page.find("<title>대시보드 &lt;b&gt;</title>"), std::string::npos);
  EXPECT_NE(page.find("</html>"), std::string::npos);
  size_t last = 0;
  for (auto name : {"navbar", "dashboard", "login_form", "footer"}) {
    auto at = page.find("data-component=\"" + std::string{name} + "\"");
    ASSERT_NE(at, std::string::npos) << name;
    EXPECT_GT(at, last) << name << " out of plan order";
    last = at;
  }
  EXPECT_EQ(layout::compose_page("r", parts), layout::compose_page("r", parts)); // deterministic
}

TEST(layout, wide_roles_span_the_grid) {
  auto nav = layout::part_from_artifact(build("navbar"));
  auto form = layout::part_from_artifact(build("login_form"));
  ASSERT_TRUE(nav && form);
  EXPECT_TRUE(layout::is_wide(*nav));
  EXPECT_FALSE(layout::is_wide(*form));
}

TEST(layout, invalid_artifact_is_an_error) {
  EXPECT_FALSE(layout::part_from_artifact("{}"));
  EXPECT_FALSE(layout::part_from_artifact("nope"));
}
