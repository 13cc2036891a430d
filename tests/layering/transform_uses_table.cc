// Built by the layering.transform_uses_table test, linked as transform is:
// transform may not know Iceberg tables (only table/ and warehouse/ do), so
// the include below must not be found and the build must fail.
#include "wikistream/table/table.h"
#include "wikistream/transform/silver.h"

namespace ws::transform {

int LayeringProbe() { return 0; }

}  // namespace ws::transform
