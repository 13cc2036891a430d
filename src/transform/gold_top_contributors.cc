// gold.top_contributors: the top kTopContributorsN users per (date, domain),
// ranked as gold.h says (docs/tables.md, "gold.top_contributors").

#include "gold_internal.h"

#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform::detail {

using warehouse::kTopContributorsSchemaVersion;

void AppendTopContributors(std::vector<ContribRow> contrib, const std::vector<std::string>& targets, int64_t now_us,
                           RecordBatch* out_batch) {
  KeepTopPerGroup(&contrib, ContribBefore, SameContribGroup, kTopContributorsN);
  std::vector<int32_t> ranks = RanksWithinGroups(contrib, SameContribGroup);
  RecordBatch& out = *out_batch;
  auto& col = out.columns();
  for (size_t k = 0; k < contrib.size(); ++k) {
    const ContribRow& c = contrib[k];
    int i = 0;
    col[i++].AppendString(targets[c.date]);
    col[i++].AppendString(c.domain);
    col[i++].AppendString(c.user);
    col[i++].AppendInt64(c.edits);
    col[i++].AppendInt64(c.pages);
    col[i++].AppendInt64(c.bytes_added);
    col[i++].AppendInt64(c.bytes_removed);
    col[i++].AppendBool(c.bot);
    col[i++].AppendString(model::Name(c.type));
    col[i++].AppendInt64(c.first);
    col[i++].AppendInt64(c.last);
    col[i++].AppendInt32(ranks[k]);
    col[i++].AppendInt64(now_us);
    col[i++].AppendString(kTopContributorsSchemaVersion);
  }
}

}  // namespace ws::transform::detail
