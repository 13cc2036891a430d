#include "wikistream/source/sse_framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ws::source {
namespace {

std::vector<SseEvent> FeedAll(const std::vector<std::string>& chunks, bool finish = false, bool dispatch = true,
                              SseFramer* framer_out = nullptr) {
  SseFramer local;
  SseFramer& f = framer_out ? *framer_out : local;
  std::vector<SseEvent> out;
  for (const auto& c : chunks) f.Feed(c, &out);
  if (finish) f.Finish(dispatch, &out);
  return out;
}

// Feeds `text` split at every possible single point and one byte at a time:
// the result must not depend on where the network cut the bytes.
void ExpectSplitInvariant(const std::string& text, size_t expected_events) {
  auto whole = FeedAll({text}, true, true);
  ASSERT_EQ(whole.size(), expected_events) << text;
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    auto parts = FeedAll({text.substr(0, cut), text.substr(cut)}, true, true);
    ASSERT_EQ(parts.size(), whole.size()) << "cut at " << cut;
    for (size_t i = 0; i < parts.size(); ++i) {
      EXPECT_EQ(parts[i].data, whole[i].data) << "cut at " << cut;
      EXPECT_EQ(parts[i].id, whole[i].id);
      EXPECT_EQ(parts[i].type, whole[i].type);
    }
  }
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  auto single = FeedAll(bytes, true, true);
  ASSERT_EQ(single.size(), whole.size());
  for (size_t i = 0; i < single.size(); ++i) EXPECT_EQ(single[i].data, whole[i].data);
}

TEST(SseFramer, BasicEventWithTypeAndId) {
  auto ev = FeedAll({"event: message\nid: [{\"topic\":\"a\",\"offset\":1}]\ndata: {\"x\":1}\n\n"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, "message");
  EXPECT_EQ(ev[0].data, "{\"x\":1}");
  EXPECT_EQ(ev[0].id, "[{\"topic\":\"a\",\"offset\":1}]");
}

TEST(SseFramer, DefaultTypeIsMessageAndCustomTypeKept) {
  auto ev = FeedAll({"data: a\n\nevent: ping\ndata: b\n\ndata: c\n\n"});
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].type, "message");
  EXPECT_EQ(ev[1].type, "ping");
  EXPECT_EQ(ev[2].type, "message");  // the type does not persist across events
}

TEST(SseFramer, LineEndingsLfCrlfCr) {
  for (std::string eol : {"\n", "\r\n", "\r"}) {
    std::string text = "id: 1" + eol + "data: one" + eol + eol + "data: two" + eol + "data: more" + eol + eol;
    auto ev = FeedAll({text});
    ASSERT_EQ(ev.size(), 2u) << "eol size " << eol.size();
    EXPECT_EQ(ev[0].data, "one");
    EXPECT_EQ(ev[1].data, "two\nmore");
    EXPECT_EQ(ev[1].id, "1");
    ExpectSplitInvariant(text, 2);
  }
}

TEST(SseFramer, MixedLineEndings) {
  auto ev = FeedAll({"data: a\r\ndata: b\rdata: c\n\r\n"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "a\nb\nc");
}

TEST(SseFramer, CrAtChunkEndWaitsForNextByte) {
  SseFramer f;
  std::vector<SseEvent> out;
  f.Feed("data: x\r", &out);
  f.Feed("\n\r", &out);  // CRLF split, then a CR that ends the block
  ASSERT_EQ(out.size(), 1u);
  f.Feed("\ndata: y\r\n\r\n", &out);  // this LF belongs to the previous CR: no extra blank line
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].data, "y");
}

TEST(SseFramer, CrThenLfInNextChunkIsOneLineEnd) {
  // "data: a\r" | "\ndata: b\n\n": if the LF were taken as a blank line, "a" would dispatch alone.
  auto ev = FeedAll({"data: a\r", "\ndata: b\n\n"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "a\nb");
}

TEST(SseFramer, LeadingBomSkippedEvenWhenSplit) {
  std::string bom = "\xEF\xBB\xBF";
  auto ev = FeedAll({bom + "data: a\n\n"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "a");
  auto ev2 = FeedAll({"\xEF", "\xBB", "\xBF" "data: b\n\n"});
  ASSERT_EQ(ev2.size(), 1u);
  EXPECT_EQ(ev2[0].data, "b");
  ExpectSplitInvariant(bom + "data: c\n\n", 1);
}

TEST(SseFramer, OnlyTheFirstBomIsSkipped) {
  // A second BOM is part of the field name, so the line is an unknown field and ignored.
  auto ev = FeedAll({"\xEF\xBB\xBF\xEF\xBB\xBF" "data: a\n\ndata: b\n\n"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "b");
}

TEST(SseFramer, PartialBomPrefixIsContent) {
  // "\xEF\xBB" followed by something else is not a BOM: kept as bytes of the first line.
  auto ev = FeedAll({"\xEF\xBB", "data: a\n\ndata: b\n\n"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "b");
}

TEST(SseFramer, CommentsIgnored) {
  auto ev = FeedAll({":ok\n\n: keep-alive\ndata: a\n:inside\ndata: b\n\n"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "a\nb");
}

TEST(SseFramer, OnlyOneLeadingSpaceDropped) {
  auto ev = FeedAll({"data:no-space\n\ndata:  two\n\ndata\n\n"});
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].data, "no-space");
  EXPECT_EQ(ev[1].data, " two");
  EXPECT_EQ(ev[2].data, "");  // a field name alone: empty value, still data
}

TEST(SseFramer, ValueMayContainColons) {
  auto ev = FeedAll({"data: {\"a\":\"b:c\"}\n\n"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "{\"a\":\"b:c\"}");
}

TEST(SseFramer, MultiLineDataJoinedWithLf) {
  auto ev = FeedAll({"data: {\n", "data:  \"a\": 1\ndata: }\n\n"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "{\n \"a\": 1\n}");
}

TEST(SseFramer, EmptyDataLinesProduceNewlines) {
  auto ev = FeedAll({"data\ndata\n\n"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "\n");
}

TEST(SseFramer, BlockWithoutDataDispatchesNothingButSetsId) {
  SseFramer f;
  std::vector<SseEvent> out;
  f.Feed("id: 7\nevent: x\n\ndata: a\n\n", &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, "message");  // the data-less block's type was discarded
  EXPECT_EQ(out[0].id, "7");
  EXPECT_EQ(f.last_event_id(), "7");
}

TEST(SseFramer, IdPersistsAcrossEvents) {
  SseFramer f;
  auto ev = FeedAll({"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n"}, false, true, &f);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].id, "1");
  EXPECT_EQ(ev[1].id, "1");
  EXPECT_EQ(ev[2].id, "2");
  EXPECT_EQ(f.last_event_id(), "2");
}

TEST(SseFramer, EmptyIdClearsIt) {
  auto ev = FeedAll({"id: 1\ndata: a\n\nid\ndata: b\n\n"});
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].id, "");
}

TEST(SseFramer, IdWithNulIgnored) {
  std::string text = "id: 1\ndata: a\n\nid: 2";
  text.push_back('\0');
  text += "x\ndata: b\n\n";
  SseFramer f;
  auto ev = FeedAll({text}, false, true, &f);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].id, "1");
  EXPECT_EQ(f.last_event_id(), "1");
}

TEST(SseFramer, RetryOnlyDigits) {
  SseFramer f;
  std::vector<SseEvent> out;
  f.Feed("retry: 1500\n", &out);
  EXPECT_EQ(f.retry_ms(), 1500);
  f.Feed("retry: 12a\nretry: -5\nretry: 3.5\nretry:\nretry:  7\n", &out);
  EXPECT_EQ(f.retry_ms(), 1500);  // all rejected (" 7" keeps a space after the first is dropped)
  f.Feed("retry:250\n\n", &out);
  EXPECT_EQ(f.retry_ms(), 250);
  EXPECT_TRUE(out.empty());
  SseFramer g;
  EXPECT_FALSE(g.retry_ms().has_value());
}

TEST(SseFramer, UnknownFieldsIgnored) {
  auto ev = FeedAll({"foo: bar\nData: x\ndata: a\n\n"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "a");  // field names are case-sensitive
}

TEST(SseFramer, TrailingEventWithoutBlankLineFinishTrue) {
  SseFramer f;
  std::vector<SseEvent> out;
  f.Feed("data: a\n\nid: 9\ndata: last\n", &out);
  ASSERT_EQ(out.size(), 1u);
  f.Finish(true, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].data, "last");
  EXPECT_EQ(out[1].id, "9");
  EXPECT_EQ(f.last_event_id(), "9");
}

TEST(SseFramer, TrailingLineWithoutNewlineFinishTrue) {
  auto ev = FeedAll({"data: a\ndata: b"}, true, true);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "a\nb");
}

TEST(SseFramer, TrailingEventFinishFalseDiscarded) {
  SseFramer f;
  std::vector<SseEvent> out;
  f.Feed("id: 1\ndata: a\n\nid: 2\ndata: cut", &out);
  f.Finish(false, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(f.last_event_id(), "1");  // resuming re-delivers the cut event
}

TEST(SseFramer, TrailingIdWithoutDataDispatchesNothing) {
  for (bool dispatch : {true, false}) {
    SseFramer f;
    std::vector<SseEvent> out;
    f.Feed("id: 1\ndata: a\n\nid: 2\n", &out);
    f.Finish(dispatch, &out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(f.last_event_id(), "1");
  }
}

TEST(SseFramer, ResetKeepsLastEventIdAndDropsPartialEvent) {
  SseFramer f;
  std::vector<SseEvent> out;
  f.Feed("id: 5\ndata: a\n\nid: 6\ndata: par", &out);
  f.Reset();
  EXPECT_EQ(f.last_event_id(), "5");
  f.Feed("\xEF\xBB\xBF" "data: b\n\n", &out);  // a new connection may start with a BOM again
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].data, "b");
  EXPECT_EQ(out[1].id, "5");
}

TEST(SseFramer, LongLinesAcrossManyChunks) {
  std::string big(100000, 'x');
  std::string text = "data: " + big + "\n\n";
  std::vector<std::string> chunks;
  for (size_t i = 0; i < text.size(); i += 4096) chunks.push_back(text.substr(i, 4096));
  auto ev = FeedAll(chunks);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, big);
}

TEST(SseFramer, RealCaptureShapeSplitEverywhere) {
  std::string text =
      ":ok\n\nevent: message\nid: [{\"topic\":\"eqiad.mediawiki.recentchange\",\"partition\":0,\"timestamp\":1}]\n"
      "data: {\"meta\":{\"id\":\"a\"}}\n\nevent: message\nid: [{\"topic\":\"x\",\"offset\":-1}]\r\ndata: {}\r\n\r\n";
  ExpectSplitInvariant(text, 2);
}

}  // namespace
}  // namespace ws::source
