#include <chrono>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "logic/edits.hpp"
#include "logic/planner.hpp"
#include "logic/qa_rules.hpp"
#include "logic/templates.hpp"

using namespace grove::logic::builtin;

namespace {

std::string contact_form() {
  grove::messages::component_spec spec{"contact_form", "Contact form with name, email and message"};
  return component_json("contact_form", render_component(spec));
}

nlohmann::json edited(const std::string& artifact, const std::string& instruction) {
  auto out = apply_edit(artifact, instruction);
  EXPECT_TRUE(out) << instruction << ": " << (out ? "" : out.error().message);
  return out ? nlohmann::json::parse(*out) : nlohmann::json{};
}

} // namespace

TEST(edits, requests_in_english_and_korean_name_the_edit_and_its_target) {
  struct row {
    const char* request;
    edit_kind kind;
    const char* component;
    const char* value;
  };
  for (auto& r : std::vector<row>{
         {"add a phone field to the contact form", edit_kind::add_field, "contact_form", "phone"},
         {"Add a remember-me checkbox to the login form", edit_kind::add_field, "login_form", "remember-me"},
         {"문의 폼에 전화번호 필드 추가해줘", edit_kind::add_field, "contact_form", "전화번호"},
         {"remove the email field from the contact form", edit_kind::remove_field, "contact_form", "email"},
         {"로그인 폼에서 이메일 필드 삭제해줘", edit_kind::remove_field, "login_form", "이메일"},
         {"change the title of the hero to \"Welcome aboard\"", edit_kind::set_title, "hero", "Welcome aboard"},
         {"히어로 제목을 환영합니다로 바꿔줘", edit_kind::set_title, "hero", "환영합니다"},
         {"change the login form's button to Sign in", edit_kind::set_button, "login_form", "Sign in"},
         {"로그인 폼 버튼을 들어가기로 바꿔줘", edit_kind::set_button, "login_form", "들어가기"},
         {"make the navbar green", edit_kind::set_accent, "navbar", "green"},
         {"내비게이션 색을 빨간색으로 바꿔줘", edit_kind::set_accent, "navbar", "빨간색"},
       }) {
    auto e = parse_edit(r.request);
    ASSERT_TRUE(e) << r.request;
    EXPECT_EQ(e->kind, r.kind) << r.request;
    EXPECT_EQ(e->component, r.component) << r.request;
    EXPECT_EQ(e->value, r.value) << r.request;
  }
}

TEST(edits, requests_to_build_are_not_edits) {
  for (auto* request :
       {"a dashboard page and a login form", "대시보드 페이지와 로그인 폼 만들어줘", "make a pricing page",
        "차트, 테이블, 푸터 추가해줘", "make the page responsive with a navbar"}) {
    EXPECT_FALSE(parse_edit(request)) << request;
    EXPECT_EQ(edit_target(request), "") << request;
    for (auto& c : plan_components(request)) EXPECT_EQ(c.action, "create") << request;
  }
}

TEST(edits, the_planner_turns_an_edit_into_one_component_with_its_instruction) {
  auto plan = plan_components("add a company field to the contact form");
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].name, "contact_form");
  EXPECT_EQ(plan[0].action, "edit");
  EXPECT_EQ(plan[0].instruction, "add a company field to the contact form");
  // An edit the builtin provider cannot apply still reads as one: a model provider may.
  auto other = plan_components("rewrite the contact form in a friendlier tone");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].name, "contact_form");
  EXPECT_EQ(other[0].action, "edit");
  EXPECT_EQ(plan_components("문의 폼을 더 친근하게 바꿔줘")[0].action, "edit");
}

TEST(edits, a_field_is_added_on_a_line_of_its_own_before_the_buttons_line_and_passes_qa) {
  auto doc = edited(contact_form(), "add a phone field to the contact form");
  auto html = doc["html"].get<std::string>();
  auto field = html.find(
    "\n<label for=\"g-contact_form-phone\">Phone</label><input id=\"g-contact_form-phone\" name=\"phone\" "
    "type=\"tel\" autocomplete=\"tel\">\n<label for=\"g-contact_form-msg\">");
  EXPECT_NE(field, std::string::npos) << html;
  EXPECT_EQ(doc["version"], 1) << "the version is the caller's to set";
  auto both = edited(doc.dump(), "문의 폼에 회사 필드 추가해줘");
  auto h2 = both["html"].get<std::string>();
  EXPECT_NE(h2.find("name=\"phone\""), std::string::npos);
  EXPECT_NE(h2.find(">회사</label><input id=\"g-contact_form-company\" name=\"company\""), std::string::npos) << h2;
  EXPECT_TRUE(grove::logic::qa::check_artifact(both.dump(), "contact_form").empty());
  auto again = apply_edit(both.dump(), "add a phone field to the contact form");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already has a \"phone\" field"), std::string::npos);
}

TEST(edits, fields_are_removed_with_their_labels_titles_buttons_and_colours_change) {
  auto doc = edited(contact_form(), "remove the email field from the contact form");
  auto html = doc["html"].get<std::string>();
  EXPECT_EQ(html.find("name=\"email\""), std::string::npos) << html;
  EXPECT_EQ(html.find("-email\">Email</label>"), std::string::npos) << html;
  EXPECT_NE(html.find("name=\"message\""), std::string::npos);
  auto missing = apply_edit(doc.dump(), "remove the email field from the contact form");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no \"email\" field"), std::string::npos);

  auto titled = edited(contact_form(), "change the title of the contact form to \"Talk <to> us\"");
  EXPECT_EQ(titled["metadata"]["title"], "Talk <to> us");
  EXPECT_NE(titled["html"].get<std::string>().find(">Talk &lt;to&gt; us</h2>"), std::string::npos) << "escaped";
  auto button = edited(contact_form(), "change the contact form's button to Send it");
  EXPECT_NE(button["html"].get<std::string>().find(">Send it</button>"), std::string::npos);
  auto green = edited(contact_form(), "make the contact form green");
  auto red = edited(green.dump(), "문의 폼 색을 빨간색으로 바꿔줘");
  auto css = red["css"].get<std::string>();
  EXPECT_NE(css.find(".g-contact_form{--a:#dc2626}"), std::string::npos) << css;
  EXPECT_EQ(css.find("#16a34a"), std::string::npos) << "one accent rule, replaced";
  for (auto* e : {"remove the email field from the contact form", "make the contact form green"}) {
    EXPECT_TRUE(grove::logic::qa::check_artifact(edited(contact_form(), e).dump(), "contact_form").empty()) << e;
  }
}

TEST(edits, what_the_builtin_provider_cannot_do_is_a_clear_error) {
  auto unknown = apply_edit(contact_form(), "rewrite the contact form in a friendlier tone");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("model provider"), std::string::npos) << unknown.error().message;
  grove::messages::component_spec hero{"hero", "A hero"};
  auto no_form = apply_edit(component_json("hero", render_component(hero)), "add a phone field to the hero");
  ASSERT_FALSE(no_form);
  EXPECT_NE(no_form.error().message.find("no form"), std::string::npos) << no_form.error().message;
  auto garbage = apply_edit("not json", "add a phone field to the contact form");
  ASSERT_FALSE(garbage);
}

// An attacker's requests: std::regex backtracks recursively, and a run of
// spaces between the patterns' lazy groups once cost exponential time (50 s
// for "add " and 300 spaces). Requests are read with one space between words
// and only up to max_edit_request bytes as edits.
TEST(edits, padded_long_and_hostile_requests_are_read_in_bounded_time) {
  auto started = std::chrono::steady_clock::now();
  std::string padded =
    "add" + std::string(5000, ' ') + "a phone field" + std::string(3000, '\t') + "to the contact form";
  auto e = parse_edit(padded);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->component, "contact_form");
  EXPECT_EQ(e->value, "phone");
  EXPECT_EQ(edit_target(padded), "contact_form");
  for (std::string seed : {"add ", "change the ", "make the ", "remove x from ", "", "로그인 폼에 "}) {
    for (std::string fill : {" ", "a ", "to the ", "에서 ", "색을 로 ", "a's title to "}) {
      auto text = seed;
      while (text.size() < max_edit_request - 8) text += fill;
      text += "!!";
      (void)edit_target(text);
      (void)parse_edit(text);
      if (fill == " ") continue; // spaces collapse: still a short request
      // Past the bound nothing is read as an edit: planned as new work.
      while (text.size() < 8000) text += fill;
      EXPECT_EQ(edit_target(text + " to the contact form"), "") << seed << fill;
      EXPECT_FALSE(parse_edit("add a phone field " + text + " to the contact form"));
    }
  }
  // Several seconds per request before; generous for a loaded 2-core machine.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds{5});
}
