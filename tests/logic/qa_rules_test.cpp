#include <chrono>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "logic/qa_rules.hpp"

using namespace grove::logic::qa;

namespace {

bool has(const std::vector<violation>& vs, const std::string& code) {
  for (auto& v : vs) {
    if (v.code == code) return true;
  }
  return false;
}

std::string artifact(const std::string& html, const std::string& css = ".g-x{}", const std::string& name = "x") {
  nlohmann::json doc = {{"component", name},
                        {"version", 1},
                        {"metadata", {{"title", "X"}, {"description", "d"}, {"role", "generic"}}},
                        {"html", html},
                        {"css", css}};
  return doc.dump();
}

} // namespace

TEST(qa_document_structure, flags_every_spelling) {
  for (auto html : {"<html>", "<HTML>", "< html>", "<html lang=\"en\">", "</html>", "</ BODY >", "<body>",
                    "<Body class=x>", "<head>", "<\nhead>", "<html/>", "<!DOCTYPE html>", "<! doctype html>"}) {
    EXPECT_TRUE(has(check_document_structure(html), "document_structure")) << html;
  }
}

TEST(qa_document_structure, ignores_lookalikes) {
  for (auto html : {"<header>", "<headline>", "<bodyguard>", "<p>html body head</p>", "<htmlx>", "&lt;html&gt;"}) {
    EXPECT_TRUE(check_document_structure(html).empty()) << html;
  }
}

TEST(qa_active_elements, flags_script_in_any_spelling) {
  for (auto html : {"<script>alert(1)</script>", "<SCRIPT>", "< script src=x>", "<script\n>", "</script>",
                    "<ScRiPt/src=x>", "<svg><script>x</script></svg>"}) {
    EXPECT_TRUE(has(check_active_elements(html), "script_tag")) << html;
  }
  EXPECT_TRUE(check_active_elements("<p>description of a script</p><noscript2>").empty());
}

// A model's answer is an attacker's input: the checks once were std::regex
// searches that "<" and 10,000 spaces kept busy for 9 s and 60,000 spaces
// crashed the process with a stack overflow (the regex executor recurses per
// character). They are one pass now: a megabyte of such text is checked like any other.
TEST(qa_document_structure, whitespace_floods_are_checked_in_one_pass_and_still_caught) {
  auto started = std::chrono::steady_clock::now();
  std::string flood(1'000'001, ' ');
  flood[0] = '<';
  EXPECT_TRUE(check_document_structure(flood).empty());
  EXPECT_TRUE(check_active_elements(flood).empty());
  auto closing = flood;
  closing.append("/").append(100'000, '\n').append("BODY>");
  EXPECT_TRUE(has(check_document_structure(closing), "document_structure"));
  EXPECT_TRUE(has(check_active_elements(flood + "script>"), "script_tag"));
  std::string many;
  while (many.size() < 1'000'000) many += "< / <! ";
  EXPECT_TRUE(check_document_structure(many).empty());
  EXPECT_TRUE(check_active_elements(many).empty());
  many.append("<!").append(5000, '\t').append("doctype html>");
  EXPECT_TRUE(has(check_document_structure(many), "document_structure"));
  // Was minutes, or a crash; a bound generous for a loaded 2-core machine.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds{5});
}

TEST(qa_active_elements, flags_embedding_elements) {
  for (auto html : {"<iframe src=x>", "<IFRAME>", "<object data=x>", "<embed src=x>", "<base href=x>",
                    "<meta http-equiv=refresh content=0>", "<frameset>", "<applet>"}) {
    EXPECT_TRUE(has(check_active_elements(html), "embedded_content")) << html;
  }
}

TEST(qa_event_handlers, flags_every_separator) {
  for (auto html : {"<img src=x onerror=alert(1)>", "<a ONCLICK=\"x()\">", "<svg onload=x>",
                    "<img/src=\"x\"/onerror=y>", "<svg/onload=x>", "<div\tonmouseover='x'>", "<p\nonclick = x>",
                    "<input autofocus onfocus=x>", "<a href=\"#\"onclick=\"x\">"}) {
    EXPECT_TRUE(has(check_event_handlers(html), "event_handler")) << html;
  }
}

TEST(qa_event_handlers, ignores_text_and_other_attributes) {
  for (auto html : {"<p>turn on=off</p>", "<button type=submit>Go on</button>", "<div data-on=\"x\" data-onclick=1>",
                    "<a title=\"onclick=x\">"}) {
    EXPECT_TRUE(check_event_handlers(html).empty()) << html;
  }
}

TEST(qa_urls, flags_script_urls_through_encodings) {
  for (auto html :
       {"<a href=\"javascript:alert(1)\">", "<a href='JAVASCRIPT:x'>", "<a href=\" javascript:x\">",
        "<a href=\"java\tscript:x\">", "<a href=\"java&#x09;script:x\">", "<a href=\"&#106;avascript:x\">",
        "<a href=\"&#x6A;avascript&colon;x\">", "<a href=\"&#0000106avascript:x\">", "<a href=javascript:x>",
        "<form action=\"vbscript:x\">", "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">",
        "<img src=\"data:image/svg+xml,<svg onload=x>\">"}) {
    EXPECT_TRUE(has(check_urls(html), "javascript_url")) << html;
  }
}

TEST(qa_urls, allows_ordinary_links) {
  for (auto html : {"<a href=\"#top\">", "<a href=\"https://example.com/javascript\">", "<img src=\"/a.png\" alt=\"\">",
                    "<a href=\"mailto:a@b.c\">", "<img src=\"data:image/png;base64,AAAA\">"}) {
    EXPECT_TRUE(check_urls(html).empty()) << html;
  }
}

TEST(qa_urls, checks_inline_styles) {
  EXPECT_TRUE(has(check_urls("<div style=\"background:url(javascript:x)\">"), "javascript_url") ||
              has(check_urls("<div style=\"background:url(javascript:x)\">"), "css_injection"));
  EXPECT_TRUE(has(check_urls("<div style=\"width:expression(alert(1))\">"), "css_injection"));
  EXPECT_TRUE(check_urls("<div style=\"color:red\">").empty());
}

TEST(qa_css, flags_breakouts_and_script) {
  for (auto css : {"</style><script>x</script>", "a{width:expression(alert(1))}", "a{background:url(javascript:x)}",
                   "a{behavior:url(x.htc)}", "a{-moz-binding:url(x)}", "@import url(http://evil)",
                   "a{background:url(java\\73 cript:x)}", "a{width:exp\\ression(x)}", "a{width:expr/**/ession(x)}"}) {
    EXPECT_TRUE(has(check_css(css), "css_injection")) << css;
  }
  EXPECT_TRUE(check_css(".g-x{color:red;display:grid;grid-template-columns:1fr 1fr}").empty());
}

TEST(qa_entities, decode_like_a_browser) {
  EXPECT_EQ(decode_entities("&#106;&#x61;&#X76;a&colon;"), "java:");
  EXPECT_EQ(decode_entities("a&amp;b&lt;"), "a&b<");
  EXPECT_EQ(decode_entities("&unknown; &"), "&unknown; &");
}

TEST(qa_artifact, good_component_passes) {
  auto vs = check_artifact(artifact("<section class=\"g-x\"><h2>X</h2></section>"), "x");
  EXPECT_TRUE(vs.empty()) << vs.front().message;
}

TEST(qa_artifact, hands_the_checked_markup_and_style_to_the_reviewer) {
  grove::logic::qa::artifact_parts parts;
  auto vs = check_artifact(artifact("<section class=\"g-x\"><h2>X</h2></section>", ".g-x{color:red}"), "x", {}, &parts);
  EXPECT_TRUE(vs.empty());
  EXPECT_EQ(parts.html, "<section class=\"g-x\"><h2>X</h2></section>");
  EXPECT_EQ(parts.css, ".g-x{color:red}");
}

TEST(qa_artifact, malformed_json_and_schema_errors_are_violations) {
  EXPECT_TRUE(has(check_artifact("{not json", "x"), "invalid_json"));
  EXPECT_TRUE(has(check_artifact("[]", "x"), "schema"));
  EXPECT_TRUE(has(check_artifact(R"({"component":"x"})", "x"), "schema"));
  EXPECT_TRUE(has(check_artifact(artifact("<p>x</p>", ".g{}", "y"), "x"), "name_mismatch"));
}

TEST(qa_artifact, every_rule_reports_with_code_and_message) {
  auto vs = check_artifact(
    artifact("<html><body><script>x</script><img src=x onerror=y><a href=javascript:z>", "a{b:expression(c)}"), "x");
  for (auto code : {"document_structure", "script_tag", "event_handler", "javascript_url", "css_injection"}) {
    EXPECT_TRUE(has(vs, code)) << code;
  }
  for (auto& v : vs) EXPECT_FALSE(v.message.empty());
}

TEST(qa_artifact, nul_bytes_are_rejected) {
  EXPECT_TRUE(has(check_artifact(artifact(std::string{"<p>a\0b</p>", 10}), "x"), "control_character"));
}

TEST(qa_secrets, an_answer_carrying_the_key_in_any_spelling_is_rejected) {
  const std::vector<std::string> secrets{"sk-Live9f3KqZx27BmPw41TtRe8"};
  std::string upper = secrets[0];
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string entities;
  for (char c : secrets[0].substr(0, 10)) entities += "&#" + std::to_string(static_cast<int>(c)) + ";";
  std::string escaped;
  for (char c : secrets[0].substr(3, 12)) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
    escaped += buf;
  }
  auto raw_escaped =
    std::string{
      R"({"component":"x","version":1,"metadata":{"title":"X","description":"d","role":"generic"},"html":"<p>)"} +
    escaped + R"(</p>","css":".g-x{}"})";
  for (auto& a : {artifact("<p>key " + secrets[0] + "</p>"), artifact("<p>" + upper + "</p>"),
                  artifact("<p>" + secrets[0].substr(6, 9) + "</p>"), artifact("<p>" + entities + "</p>"),
                  artifact("<p></p>", ".g-x{content:'" + secrets[0].substr(0, 9) + "'}"), raw_escaped}) {
    auto vs = check_artifact(a, "x", secrets);
    ASSERT_TRUE(has(vs, "secret_leak")) << a;
    for (auto& v : vs) EXPECT_EQ(v.message.find(secrets[0].substr(6, 9)), std::string::npos);
  }
  EXPECT_TRUE(check_artifact(artifact("<p>no key here, sk-</p>"), "x", secrets).empty());
}
