// Readable text summaries of statistics, schemas and anomalies, for
// `edgepipe stats show`, `edgepipe schema show` and `edgepipe anomalies show`.
//
// Thread safety: pure functions.
#ifndef EDGEPIPE_COMPONENTS_DATA_REPORT_H_
#define EDGEPIPE_COMPONENTS_DATA_REPORT_H_

#include <string>

#include "edgepipe/components/anomalies.pb.h"
#include "edgepipe/components/schema.pb.h"
#include "edgepipe/components/statistics.pb.h"

namespace edgepipe::components {

// One block per dataset: a table of numeric features (presence, value counts,
// mean, std_dev, zeros, min, median, max, then the histogram's counts) and one
// of string features (unique count and top values).
std::string FormatStatistics(const tfmd::DatasetFeatureStatistics& stats);

// One line per feature: name, type, presence, shape or value count, domain.
std::string FormatSchema(const tfmd::Schema& schema);

// "No anomalies." or one line per reason: feature, short and long description.
std::string FormatAnomalies(const tfmd::Anomalies& anomalies);

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_DATA_REPORT_H_
