#include "cmd/kv/printer.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>

namespace kv::cli {
namespace {

using nlohmann::json;

client::KeyMeta SampleMeta() {
  client::KeyMeta m;
  m.key = "user:1";
  m.etag = "7";
  m.revision = 7;
  m.create_revision = 3;
  m.size = 12;
  m.content_type = "application/json";
  m.created_ms = 1'700'000'000'000;
  m.updated_ms = 1'700'000'001'000;
  return m;
}

struct Out {
  std::ostringstream stream;
  std::unique_ptr<Printer> printer;
  explicit Out(OutputMode mode, bool color = false)
      : printer(MakePrinter(mode, stream, color)) {
    printer->set_now_ms(1'700'000'000'000);
  }
  std::string str() const { return stream.str(); }
};

TEST_CASE("ParseOutputMode", "[unit]") {
  OutputMode m;
  CHECK(ParseOutputMode("raw", &m));
  CHECK(m == OutputMode::kRaw);
  CHECK(ParseOutputMode("json", &m));
  CHECK(m == OutputMode::kJson);
  CHECK(ParseOutputMode("table", &m));
  CHECK(m == OutputMode::kTable);
  CHECK_FALSE(ParseOutputMode("yaml", &m));
}

TEST_CASE("HumanTtl and RemainingTtlMs", "[unit]") {
  CHECK(HumanTtl(-1) == "none");
  CHECK(HumanTtl(250) == "250ms");
  CHECK(HumanTtl(3'598'400) == "59m58s");
  CHECK(HumanTtl(3'599'600) == "1h");
  client::KeyMeta m;
  CHECK(RemainingTtlMs(m, 1000) == -1);
  m.expire_at_ms = 5000;
  CHECK(RemainingTtlMs(m, 1000) == 4000);
  CHECK(RemainingTtlMs(m, 9000) == 0);
  m.ttl_ms = 1234;
  CHECK(RemainingTtlMs(m, 1000) == 1234);
}

TEST_CASE("get: raw is the exact bytes / table ends the line / json documents", "[unit]") {
  client::Value v;
  v.bytes = std::string("a\0b\xFF", 4);
  v.meta = SampleMeta();
  v.meta.content_type = "application/octet-stream";
  {
    Out o(OutputMode::kRaw);
    o.printer->Value("k", v);
    CHECK(o.str() == std::string("a\0b\xFF", 4));
  }
  {
    // On a terminal, bytes that are not text show escaped (raw and pipes
    // get them as they are).
    Out o(OutputMode::kTable);
    o.printer->Value("k", v);
    CHECK(o.str() == "\"a\\x00b\\xff\"\n");
    client::Value nl;
    nl.bytes = "line\n";
    Out o2(OutputMode::kTable);
    o2.printer->Value("k", nl);
    CHECK(o2.str() == "line\n");
  }
  {
    Out o(OutputMode::kJson);
    o.printer->Value("k", v);
    REQUIRE(o.str().back() == '\n');
    json j = json::parse(o.str());
    CHECK(j["key"] == "k");
    CHECK(j["value"] == "YQBi/w==");
    CHECK(j["encoding"] == "base64");
    CHECK(j["content_type"] == "application/octet-stream");
    CHECK(j["etag"] == "7");
    CHECK(j["revision"] == 7);
    CHECK(j["size"] == 4);
    CHECK(j["expire_at_ms"].is_null());
    CHECK(j["ttl_ms"].is_null());
  }
  {
    client::Value doc;
    doc.bytes = R"({"name":"Ada"})";
    doc.meta.content_type = "application/json";
    doc.meta.expire_at_ms = 1'700'000'060'000;
    Out o(OutputMode::kJson);
    o.printer->Value("u", doc);
    json j = json::parse(o.str());
    CHECK(j["value"]["name"] == "Ada");
    CHECK(j["encoding"] == "json");
    CHECK(j["ttl_ms"] == 60'000);
  }
}

TEST_CASE("get with several keys: a line per key, missing ones kept in place", "[unit]") {
  client::Value plain;
  plain.bytes = "v1";
  client::Value lines;
  lines.bytes = "two\nlines";
  client::Value binary;
  binary.bytes = "\xFF";
  {
    Out o(OutputMode::kRaw);
    o.printer->ValueOfMany("a", &plain);
    o.printer->ValueOfMany("gone", nullptr);
    o.printer->ValueOfMany("b", &lines);
    o.printer->ValueOfMany("c", &binary);
    CHECK(o.str() == "v1\n\n\"two\\nlines\"\nbase64:/w==\n");
  }
  {
    Out o(OutputMode::kTable);
    o.printer->ValueOfMany("a", &plain);
    o.printer->ValueOfMany("gone", nullptr);
    o.printer->ValueOfMany("b", &lines);
    CHECK(o.str() == "a  v1\nb  \"two\\nlines\"\n");
  }
  {
    Out o(OutputMode::kJson);
    o.printer->ValueOfMany("a", &plain);
    o.printer->ValueOfMany("gone", nullptr);
    o.printer->ValueOfMany("b", &lines);
    std::istringstream in(o.str());
    std::string first, second, third;
    REQUIRE(std::getline(in, first));
    REQUIRE(std::getline(in, second));
    CHECK_FALSE(std::getline(in, third));
    CHECK(json::parse(first)["key"] == "a");
    CHECK(json::parse(first)["value"] == "v1");
    CHECK(json::parse(second)["key"] == "b");
    CHECK(json::parse(second)["value"] == "two\nlines");
  }
}

TEST_CASE("meta in every mode", "[unit]") {
  client::KeyMeta m = SampleMeta();
  m.expire_at_ms = 1'700'000'030'000;
  {
    Out o(OutputMode::kJson);
    o.printer->Meta(m);
    json j = json::parse(o.str());
    for (const char* field : {"key", "etag", "revision", "create_revision", "size", "content_type",
                              "created_ms", "updated_ms", "expire_at_ms", "ttl_ms"}) {
      CHECK(j.contains(field));
    }
    CHECK(j["ttl_ms"] == 30'000);
    CHECK(j["created_ms"] == 1'700'000'000'000);
  }
  {
    Out o(OutputMode::kRaw);
    o.printer->Meta(m);
    CHECK(o.str().find("etag\t7\n") != std::string::npos);
    CHECK(o.str().find("ttl_ms\t30000\n") != std::string::npos);
  }
  {
    Out o(OutputMode::kTable);
    o.printer->Meta(m);
    CHECK(o.str().find("ETag:         \"7\"\n") != std::string::npos);
    CHECK(o.str().find("TTL:          30s\n") != std::string::npos);
    CHECK(o.str().find("Created:      2023-11-14T22:13:20.000Z") != std::string::npos);
  }
}

TEST_CASE("set/del/has print nothing but in JSON", "[unit]") {
  for (OutputMode mode : {OutputMode::kRaw, OutputMode::kTable}) {
    Out o(mode);
    o.printer->Written(SampleMeta());
    o.printer->Deleted("k", true);
    o.printer->Exists("k", false);
    o.printer->TokenRevoked("id");
    CHECK(o.str().empty());
  }
  Out o(OutputMode::kJson);
  o.printer->Deleted("k", false);
  o.printer->Exists("k", true);
  CHECK(o.str() == "{\"key\":\"k\",\"deleted\":false}\n{\"key\":\"k\",\"exists\":true}\n");
}

TEST_CASE("ls lines", "[unit]") {
  client::ListedKey a;
  a.meta = SampleMeta();
  client::ListedKey b = a;
  b.meta.key = "k2";
  b.value = "two\nlines";
  client::ListedKey c = a;
  c.meta.key = "k3";
  c.value = "\xFF";
  {
    Out o(OutputMode::kRaw);
    o.printer->Listed(a);
    o.printer->Listed(b);
    o.printer->Listed(c);
    CHECK(o.str() == "user:1\nk2\t\"two\\nlines\"\nk3\tbase64:/w==\n");
    CHECK_FALSE(o.printer->NextCursor("c"));
  }
  {
    Out o(OutputMode::kJson);
    o.printer->Listed(b);
    CHECK(o.printer->NextCursor("abc"));
    std::istringstream lines(o.str());
    std::string line;
    std::getline(lines, line);
    json j = json::parse(line);
    CHECK(j["key"] == "k2");
    CHECK(j["value"] == "two\nlines");
    CHECK(j["encoding"] == "text");
    CHECK(j["updated_ms"] == 1'700'000'001'000);
    std::getline(lines, line);
    CHECK(json::parse(line)["next_cursor"] == "abc");
  }
}

TEST_CASE("on a terminal, control characters in keys and values show escaped", "[unit]") {
  // An escape sequence in a key or value (anyone's bytes) must reach the
  // terminal as text, not be obeyed: clear the screen, retitle, OSC 52.
  const std::string esc_key = "esc\x1b[2Jkey";
  const std::string osc_value = "\x1b]52;c;ZXZpbA==\x07";
  const std::string c1_value = "csi\xC2\x9B" "31m";  // U+009B, CSI in 8-bit terminals
  auto no_controls = [](const std::string& out) {
    for (size_t i = 0; i < out.size(); ++i) {
      const auto c = static_cast<unsigned char>(out[i]);
      if ((c < 0x20 && c != '\n') || c == 0x7F) return false;
      if (c == 0xC2 && i + 1 < out.size() && static_cast<unsigned char>(out[i + 1]) <= 0x9F) {
        return false;
      }
    }
    return true;
  };

  client::Value v;
  v.meta = SampleMeta();
  v.bytes = osc_value;
  Out get(OutputMode::kTable);
  get.printer->Value(esc_key, v);
  CHECK(get.str() == "\"\\x1b]52;c;ZXZpbA==\\x07\"\n");
  v.bytes = c1_value;
  Out c1(OutputMode::kTable);
  c1.printer->Value(esc_key, v);
  CHECK(c1.str() == "\"csi\\u009b31m\"\n");

  // Text with line breaks, tabs and CRLF shows as it is.
  v.bytes = "line 1\r\nline\t2\n";
  Out text(OutputMode::kTable);
  text.printer->Value("k", v);
  CHECK(text.str() == "line 1\r\nline\t2\n");

  // Large binary data is a note, not a screenful of escapes.
  v.bytes = std::string(5000, '\xFF');
  Out big(OutputMode::kTable);
  big.printer->Value("k", v);
  CHECK(big.str() == "(4.9 KiB of binary data, not shown on a terminal: -o raw or a pipe gives "
                     "the bytes)\n");

  client::ListedKey k;
  k.meta = SampleMeta();
  k.meta.key = esc_key;
  k.value = osc_value;
  Out ls(OutputMode::kTable);
  ls.printer->Listed(k);
  CHECK(ls.str() == "\"esc\\x1b[2Jkey\"  \"\\x1b]52;c;ZXZpbA==\\x07\"\n");

  client::KeyMeta m = SampleMeta();
  m.key = esc_key;
  m.content_type = "text/plain\xC2\x9B";
  Out meta(OutputMode::kTable);
  meta.printer->Meta(m);
  CHECK(meta.str().find("\"esc\\x1b[2Jkey\"") != std::string::npos);
  CHECK(meta.str().find("\"text/plain\\u009b\"") != std::string::npos);

  client::Event e;
  e.revision = 3;
  e.type = "update";
  e.key = esc_key;
  e.size = osc_value.size();
  e.value = osc_value;
  Out event(OutputMode::kTable);
  event.printer->Event(e);

  Out many(OutputMode::kTable);
  client::Value one;
  one.bytes = osc_value;
  many.printer->ValueOfMany(esc_key, &one);

  Out doc(OutputMode::kTable);
  doc.printer->Document(esc_key, "{\"a\":\"csi\xC2\x9B" "31m\"}");
  CHECK(doc.str() == "{\n  \"a\": \"csi\\u009b31m\"\n}\n");

  for (const Out* o : {&get, &c1, &big, &ls, &meta, &event, &many, &doc}) {
    INFO(o->str());
    CHECK(no_controls(o->str()));
  }

  // Raw output (pipes) keeps the bytes.
  Out raw(OutputMode::kRaw);
  raw.printer->Listed(k);
  CHECK(raw.str() == esc_key + "\t" + osc_value + "\n");
}

TEST_CASE("ttl / counters / documents", "[unit]") {
  client::KeyMeta m = SampleMeta();
  {
    Out o(OutputMode::kRaw);
    o.printer->Ttl(m);
    m.ttl_ms = 3'598'000;
    o.printer->Ttl(m);
    o.printer->Counter("n", "42");
    o.printer->Document("d", R"({"a":1})");
    CHECK(o.str() == "none\n59m58s\n42\n{\"a\":1}\n");
  }
  {
    Out o(OutputMode::kJson);
    m.ttl_ms = -1;
    o.printer->Ttl(m);
    o.printer->Counter("n", "-5");
    o.printer->Document("d", "{\"a\":\n1}");
    CHECK(o.str() ==
          "{\"key\":\"user:1\",\"ttl_ms\":null,\"expire_at_ms\":null}\n"
          "{\"key\":\"n\",\"value\":-5}\n"
          "{\"key\":\"d\",\"value\":{\"a\":1}}\n");
  }
  {
    Out o(OutputMode::kTable);
    o.printer->Document("d", R"({"a":1})");
    CHECK(o.str() == "{\n  \"a\": 1\n}\n");
  }
}

TEST_CASE("events", "[unit]") {
  client::Event e;
  e.revision = 12;
  e.type = "create";
  e.key = "k";
  e.ns = "default";
  e.app = "default";
  e.time_ms = 5;
  e.size = 2;
  e.content_type = "application/json";
  e.value = "{}";
  Out raw(OutputMode::kRaw);
  raw.printer->Event(e);
  json j = json::parse(raw.str());
  CHECK(j["revision"] == 12);
  CHECK(j["type"] == "create");
  CHECK(j["value"] == json::object());
  CHECK(j["encoding"] == "json");
  CHECK(j["expire_at_ms"].is_null());
  Out json_out(OutputMode::kJson);
  json_out.printer->Event(e);
  CHECK(json_out.str() == raw.str());
  Out table(OutputMode::kTable);
  table.printer->Event(e);
  CHECK(table.str() == "12  create  k  (2 B)  {}\n");
}

TEST_CASE("stats / tokens / profiles / daemon / version", "[unit]") {
  client::NamespaceStats s{"local", "default", "default", 3, 2048, 0};
  client::NamespaceStats t{"local", "shop", "web", 10, 1 << 20, 1 << 30};
  {
    Out o(OutputMode::kTable);
    o.printer->Stats({s, t});
    CHECK(o.str() ==
          "NAMESPACE  APP      KEYS  SIZE     QUOTA    USED\n"
          "default    default  3     2.0 KiB  -        -\n"
          "shop       web      10    1.0 MiB  1.0 GiB  0.1%\n");
  }
  {
    Out o(OutputMode::kJson);
    o.printer->Stats({s});
    CHECK(o.str() ==
          "{\"tenant\":\"local\",\"namespace\":\"default\",\"app\":\"default\",\"keys\":3,"
          "\"bytes\":2048,\"quota_bytes\":null}\n");
  }
  client::TokenInfo tok{"id1", "acme", 99, "kv_secret"};
  {
    Out o(OutputMode::kRaw);
    o.printer->TokenCreated(tok);
    CHECK(o.str() == "kv_secret\n");
  }
  {
    Out o(OutputMode::kJson);
    o.printer->TokenCreated(tok);
    tok.token.clear();
    o.printer->Tokens({tok});
    CHECK(o.str() ==
          "{\"id\":\"id1\",\"tenant\":\"acme\",\"created_ms\":99,\"token\":\"kv_secret\"}\n"
          "{\"id\":\"id1\",\"tenant\":\"acme\",\"created_ms\":99}\n");
  }
  {
    Out o(OutputMode::kJson);
    Profile p{"prod", "http://h:1", "kv_x", "shop", ""};
    o.printer->Profiles({{p, true}});
    json j = json::parse(o.str());
    CHECK(j["name"] == "prod");
    CHECK(j["has_token"] == true);
    CHECK(j["current"] == true);
    CHECK(j["app"] == "default");
    CHECK(o.str().find("kv_x") == std::string::npos);  // never the secret
  }
  {
    Out o(OutputMode::kJson);
    o.printer->Daemon({true, "/s", 42, ""});
    o.printer->Version("1.2.3");
    CHECK(o.str() ==
          "{\"running\":true,\"socket\":\"/s\",\"pid\":42,\"log_file\":null}\n"
          "{\"version\":\"1.2.3\"}\n");
  }
}

TEST_CASE("colour only when asked for", "[unit]") {
  client::ListedKey k;
  k.meta.key = "k";
  Out plain(OutputMode::kTable, false);
  plain.printer->Listed(k);
  CHECK(plain.str() == "k\n");
  Out colour(OutputMode::kTable, true);
  colour.printer->Listed(k);
  CHECK(colour.str() == "\x1b[36mk\x1b[0m\n");
  Out raw(OutputMode::kRaw, true);
  raw.printer->Listed(k);
  CHECK(raw.str() == "k\n");
}

}  // namespace
}  // namespace kv::cli
