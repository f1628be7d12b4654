#include <gtest/gtest.h>

#include "infra/http/http_client.hpp"

using grove::http::parse_url;

TEST(http_url, parses_what_providers_use) {
  auto u = parse_url("https://api.openai.com/v1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "api.openai.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/v1");
  auto local = parse_url("http://127.0.0.1:11434");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->port, "11434");
  EXPECT_EQ(local->target, "/");
  auto v6 = parse_url("http://[::1]:8080/x?y=1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "8080");
  EXPECT_EQ(v6->target, "/x?y=1");
}

TEST(http_url, rejects_what_it_cannot_serve) {
  EXPECT_FALSE(parse_url("api.openai.com"));
  EXPECT_FALSE(parse_url("ftp://x"));
  EXPECT_FALSE(parse_url("http://"));
  EXPECT_FALSE(parse_url("http://user:pass@host/"));
  EXPECT_FALSE(parse_url("http://host:port/"));
}
