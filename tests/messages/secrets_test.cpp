#include <gtest/gtest.h>

#include "messages/secrets.hpp"

using namespace grove::messages;

namespace {
const std::string key = "sk-Live9f3KqZx27BmPw41TtRe8";
}

TEST(secrets, exact_copies_are_redacted) {
  EXPECT_EQ(redact("key=" + key + " and again " + key, {key}), "key=[redacted] and again [redacted]");
}

TEST(secrets, short_secrets_are_ignored_and_short_texts_kept) {
  EXPECT_EQ(redact("short keys are ignored: ab", {"ab"}), "short keys are ignored: ab");
  EXPECT_EQ(redact("pin 1234 and PIN 1234", {"1234"}), "pin [redacted] and PIN [redacted]");
  EXPECT_EQ(redact("", {key}), "");
  EXPECT_EQ(redact("sk-", {key}), "sk-");
}

TEST(secrets, a_key_echoed_in_another_case_is_redacted) {
  std::string upper = key;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string lower = key;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& variant : {upper, lower}) {
    auto out = redact("invalid key: " + variant + ".", {key});
    EXPECT_EQ(out, "invalid key: [redacted].") << variant;
  }
}

TEST(secrets, any_long_fragment_of_a_key_is_redacted) {
  // A provider that cuts the key short, shows only its tail, or splits it.
  for (auto fragment : {key.substr(0, 12), key.substr(key.size() - 9), key.substr(5, 8)}) {
    auto out = redact("Incorrect API key provided: " + fragment + "****", {key});
    EXPECT_EQ(out.find(fragment), std::string::npos) << out;
    EXPECT_NE(out.find("[redacted]"), std::string::npos);
    EXPECT_TRUE(contains_secret(fragment, {key}));
  }
  // Seven characters are not enough to call it a leak.
  EXPECT_FALSE(contains_secret("xx" + key.substr(3, 7) + "yy", {key}));
}

TEST(secrets, texts_without_the_key_are_unchanged) {
  std::string html = R"(<form class="login"><input type="password" name="pw"></form>)";
  EXPECT_EQ(redact(html, {key}), html);
  EXPECT_FALSE(contains_secret(html, {key}));
}

TEST(secrets, registered_secrets_apply_process_wide) {
  register_secret("");
  register_secret("gw-token-0123456789abcdef");
  EXPECT_EQ(redact("Bearer GW-TOKEN-0123456789ABCDEF"), "Bearer [redacted]");
  auto all = registered_secrets();
  EXPECT_NE(std::find(all.begin(), all.end(), "gw-token-0123456789abcdef"), all.end());
}
