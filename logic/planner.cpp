#include "logic/planner.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "logic/edits.hpp"
#include "messages/names.hpp"

namespace grove::logic::builtin {

namespace {

struct known_component {
  const char* name;
  const char* description;
  std::vector<std::string> keywords; // ASCII lower-case words, or Korean substrings
};

const std::vector<known_component>& catalogue() {
  static const std::vector<known_component> items = {
    {"dashboard",
     "Dashboard overview with key metrics and recent activity",
     {"dashboard", "admin panel", "대시보드", "관리자 화면"}},
    {"signup_form",
     "Sign-up form with name, email, password and terms consent",
     {"signup", "sign up", "register", "registration", "회원가입", "가입"}},
    {"login_form",
     "Login form with email, password, remember-me and a forgot-password link",
     {"login", "log in", "sign in", "signin", "로그인"}},
    {"navbar",
     "Top navigation bar with brand, links and a call to action",
     {"navbar", "nav bar", "navigation", "menu bar", "top bar", "header", "내비게이션", "네비게이션", "메뉴", "헤더",
      "상단바"}},
    {"data_table",
     "Sortable-looking data table with status badges",
     {"table", "data grid", "datagrid", "spreadsheet", "테이블", "데이터 표"}},
    {"chart",
     "Bar chart drawn as inline SVG with an accessible description",
     {"chart", "graph", "plot", "차트", "그래프"}},
    {"footer", "Page footer with links and copyright", {"footer", "푸터", "바닥글", "하단"}},
    {"sidebar",
     "Sidebar navigation with sections",
     {"sidebar", "side bar", "side menu", "사이드바", "사이드 바", "사이드 메뉴"}},
    {"pricing_table",
     "Pricing plans side by side with a highlighted plan",
     {"pricing", "price", "prices", "plans", "요금", "가격", "플랜"}},
    {"contact_form", "Contact form with name, email and message", {"contact", "문의", "연락"}},
    {"search_bar", "Search bar with a labelled input and a submit button", {"search", "검색"}},
    {"modal",
     "Modal dialog with a title, text and actions",
     {"modal", "dialog", "popup", "pop-up", "모달", "팝업", "대화상자"}},
    {"hero",
     "Hero banner with headline, text and calls to action",
     {"hero", "banner", "landing", "splash", "히어로", "배너", "랜딩"}},
    {"cards", "Grid of feature cards", {"cards", "card", "카드"}},
  };
  return items;
}

const std::vector<std::pair<std::string, std::string>>& korean_words() {
  static const std::vector<std::pair<std::string, std::string>> words = {
    {"프로필", "profile"},    {"설정", "settings"}, {"갤러리", "gallery"},     {"블로그", "blog"},
    {"캘린더", "calendar"},   {"달력", "calendar"}, {"알림", "notifications"}, {"댓글", "comments"},
    {"후기", "testimonials"}, {"리뷰", "reviews"},  {"지도", "map"},           {"장바구니", "cart"},
    {"상품", "products"},     {"목록", "list"},     {"타임라인", "timeline"},  {"통계", "stats"},
    {"날씨", "weather"},      {"위젯", "widget"},   {"뉴스", "news"},          {"채팅", "chat"},
    {"업로드", "upload"},     {"파일", "files"},    {"결제", "checkout"},      {"주문", "orders"},
    {"팀", "team"},           {"소개", "about"},    {"질문", "faq"},           {"사용자", "users"},
    {"회원", "members"},      {"게시판", "board"},  {"공지", "notice"},        {"이미지", "images"},
    {"비디오", "video"},
  };
  return words;
}

const std::vector<std::string>& filler_words() {
  static const std::vector<std::string> words = {
    "a",          "an",    "the",    "some",    "simple",   "nice",      "beautiful",  "modern", "clean",
    "responsive", "page",  "pages",  "section", "sections", "component", "components", "please", "me",
    "make",       "build", "create", "i",       "want",     "need",      "would",      "like",   "to",
    "for",        "my",    "our",    "of",      "also",     "add",       "give",       "us",     "that",
    "shows",      "show",  "can",    "you",     "web",      "website",   "site",       "new",    "few",
    "small",      "big",   "large",  "in",      "on",       "it",        "is",         "be",     "let",
    "lets",       "s",     "form",   "forms",   "view",     "screen",    "ui",
  };
  return words;
}

const std::vector<std::string>& korean_fillers() {
  static const std::vector<std::string> words = {
    "만들어주세요", "만들어 주세요", "만들어줘", "만들어 줘", "만들어", "해주세요", "해 주세요", "해줘",     "주세요",
    "필요해",       "필요합니다",    "원해",     "추가해줘",  "넣어줘", "페이지",   "섹션",      "컴포넌트", "화면",
    "간단한",       "예쁜",          "멋진",     "하나",      "좀",     "폼",       "양식",
  };
  return words;
}

bool is_ascii_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// An ASCII keyword matches at a word start and ends at a word end (a plural "s" allowed).
bool ascii_match(const std::string& text, const std::string& kw, size_t pos) {
  if (pos > 0 && is_ascii_word_char(text[pos - 1])) return false;
  size_t end = pos + kw.size();
  if (end < text.size() && text[end] == 's') ++end;
  return end >= text.size() || !is_ascii_word_char(text[end]);
}

std::vector<std::string> split_segments(std::string text) {
  // Connectors between components become '|'.
  using messages::replace_all;
  for (const char* c : {",", ";", ".", "&", "+", "/", "\n", "\t", "!", "?", "、", "，"})
    text = replace_all(text, c, "|");
  text = " " + text + " ";
  for (const char* c : {" and ", " with ", " plus ", " then ", " or ", " also "}) text = replace_all(text, c, " | ");
  for (const char* c : {"와 ", "과 ", " 및 ", " 그리고 ", "하고 ", "이랑 ", "랑 ", "에 "})
    text = replace_all(text, c, " | ");
  return messages::split(text, '|');
}

bool is_ascii(const std::string& w) {
  return std::all_of(w.begin(), w.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Generic component from a segment with no known noun: its remaining words.
std::string generic_name(std::string segment) {
  for (auto& f : korean_fillers()) segment = messages::replace_all(segment, f, " ");
  std::string name;
  for (auto& w : messages::split(segment, ' ')) {
    std::string word = w;
    if (is_ascii(word)) {
      word.erase(std::remove_if(word.begin(), word.end(), [](char c) { return !is_ascii_word_char(c); }), word.end());
      if (word.empty() || std::find(filler_words().begin(), filler_words().end(), word) != filler_words().end())
        continue;
    } else {
      std::string translated;
      for (auto& [ko, en] : korean_words()) {
        if (word.find(ko) != std::string::npos) {
          translated = en;
          break;
        }
      }
      if (translated.empty()) continue;
      word = translated;
    }
    if (!name.empty()) name += '_';
    name += word;
  }
  return name;
}

// Every known component a (lower-case) text names, by where it first appears; on a tie, catalogue order.
std::vector<std::pair<size_t, const known_component*>> known_hits(const std::string& text) {
  std::vector<std::pair<size_t, const known_component*>> hits;
  for (auto& k : catalogue()) {
    for (auto& kw : k.keywords) {
      for (size_t p = text.find(kw); p != std::string::npos; p = text.find(kw, p + 1)) {
        if (is_ascii(kw) && !ascii_match(text, kw, p)) continue;
        hits.emplace_back(p, &k);
        break;
      }
    }
  }
  std::stable_sort(hits.begin(), hits.end(), [](auto& a, auto& b) { return a.first < b.first; });
  return hits;
}

std::string tidy(std::string s) {
  auto b = s.find_first_not_of(' ');
  auto e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
}

} // namespace

std::string component_for(std::string_view phrase, bool at_start) {
  std::string text = tidy(std::string{phrase});
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto hits = known_hits(text);
  if (at_start) return !hits.empty() && hits.front().first == 0 ? hits.front().second->name : std::string{};
  if (!hits.empty()) return hits.front().second->name;
  auto norm = messages::normalise_name(generic_name(text));
  return norm ? *norm : std::string{};
}

std::vector<messages::component_spec> plan_components(std::string_view request) {
  if (auto target = edit_target(request); !target.empty()) {
    messages::component_spec spec;
    spec.name = target;
    spec.action = "edit";
    spec.instruction = messages::truncate_utf8(tidy(std::string{request}), 2000);
    return {spec};
  }
  std::string text;
  for (char c : request) text += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<messages::component_spec> out;
  auto add = [&](const std::string& name, const std::string& description) {
    auto norm = messages::normalise_name(name);
    if (!norm) return;
    for (auto& c : out) {
      if (c.name == *norm) return;
    }
    out.push_back({*norm, description});
  };
  for (auto& segment : split_segments(text)) {
    // Every known noun in the segment, in the order they appear.
    auto hits = known_hits(segment);
    for (auto& [_, k] : hits) add(k->name, k->description);
    if (hits.empty()) {
      auto name = generic_name(segment);
      if (!name.empty()) add(name, messages::truncate_utf8("A " + tidy(segment) + " section", 400));
    }
  }
  return out;
}

} // namespace grove::logic::builtin
