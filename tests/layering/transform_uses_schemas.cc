// Built by the layering.transform_uses_schemas test, linked as transform is:
// transform may read the table schemas, so this compiles.
#include "wikistream/transform/silver.h"
#include "wikistream/warehouse/table_schemas.h"

namespace ws::transform {

int LayeringProbe() { return static_cast<int>(warehouse::SilverTable().partition_columns.size()); }

}  // namespace ws::transform
